package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/scenarios"
)

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios [NAME]",
		Short: "List the built-in scenarios, or print one's YAML",
		Long: `Without NAME, list the built-in scenarios with their descriptions. With NAME,
print that scenario's YAML exactly as built in, to copy into a file and edit:
  rcsim scenarios master-crash > my-crash.yaml`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return scenarios.BuiltinNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				data, err := scenarios.BuiltinYAML(args[0])
				if err != nil {
					return inputError{err}
				}
				_, err = stdout.Write(data)
				return err
			}
			for _, name := range scenarios.BuiltinNames() {
				s, err := scenarios.Builtin(name)
				if err != nil {
					return simBugError{fmt.Sprintf("rcsim: built-in scenario %s does not load: %v", name, err)}
				}
				fmt.Fprintf(stdout, "%-24s %s\n", name, s.Description)
			}
			return nil
		},
	}
}
