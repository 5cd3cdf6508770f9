package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcsim/rcsim/scenarios"
)

// defaultRules names the server rule set the nodes follow when a scenario
// does not choose one: Redis 7.0's src/cluster.c as Debian 12 ships it.
const defaultRules = "redis-7.0"

// run is the whole program, in-process for tests: it parses args, runs the
// command and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmdArgs = args
	root := &cobra.Command{
		Use:           "rcsim",
		Short:         "Deterministic simulator and failover test harness for Redis Cluster",
		Version:       versionText(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.AddCommand(newRunCmd(stdout, stderr), newScenariosCmd(stdout), newCheckCmd(stdout))
	root.AddCommand(newExploreCmd(stdout))
	root.AddCommand(newSweepCmd(stdout, stderr), newReportCmd(stdout), newMergeCmd(stdout))
	root.AddCommand(newCompareCmd(stdout, stderr))
	root.AddCommand(newCalibrateCmd(stdout, stderr), newReplayCmd(stdout, stderr))
	root.AddCommand(newCompletionCmd(stdout))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return inputError{flagSuggestion(c, err)} })
	err := root.Execute()
	if err != nil && !isTyped(err) {
		err = inputError{err} // cobra's own errors: unknown command, bad args
	}
	return exitCode(err, stderr)
}

func isTyped(err error) bool {
	switch err.(type) {
	case inputError, failedError, simBugError, childExit:
		return true
	}
	return false
}

// versionText is what --version prints: the module's version (a tag, or
// "(devel)" with the VCS revision in a checkout), the Go version and the
// default rule set.
func versionText() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(12, len(s.Value))]
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" && dirty {
			rev += "+modified"
		}
	}
	line := "rcsim " + v
	if rev != "" {
		line += " (" + rev + ")"
	}
	return fmt.Sprintf("%s %s/%s %s\ndefault rules: %s (Redis 7.0 src/cluster.c, checked against 7.0.15)",
		line, runtime.GOOS, runtime.GOARCH, runtime.Version(), defaultRules)
}

// newCompletionCmd is `rcsim completion SHELL`: cobra's generators, with
// the line to put in the shell's start-up file.
func newCompletionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. To load it in every session:
  bash:        rcsim completion bash > ~/.local/share/bash-completion/completions/rcsim
  zsh:         rcsim completion zsh > "${fpath[1]}/_rcsim"
  fish:        rcsim completion fish > ~/.config/fish/completions/rcsim.fish
  powershell:  rcsim completion powershell | Out-String | Invoke-Expression`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(stdout, true)
			case "zsh":
				return root.GenZshCompletion(stdout)
			case "fish":
				return root.GenFishCompletion(stdout, true)
			default:
				return root.GenPowerShellCompletionWithDesc(stdout)
			}
		},
	}
}

var unknownFlag = regexp.MustCompile(`^unknown flag: --([^ =]+)`)

// flagSuggestion adds the closest flag of c to pflag's "unknown flag"
// error, as cobra does for commands.
func flagSuggestion(c *cobra.Command, err error) error {
	m := unknownFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if s := scenarios.Suggest(m[1], names); s != "" {
		return fmt.Errorf("%v; did you mean --%s?\nsee 'rcsim %s --help'", err, s, strings.TrimPrefix(c.CommandPath(), "rcsim "))
	}
	return err
}
