package main

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "rcsim ") || !strings.Contains(out, "default rules: redis-7.0") {
		t.Errorf("exit %d: %q", code, out)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "# bash completion V2 for rcsim", "zsh": "#compdef rcsim",
		"fish": "# fish completion for rcsim", "powershell": "Register-ArgumentCompleter"} {
		code, out, errs := runCLI(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, %q…, stderr %q", shell, code, out[:min(len(out), 80)], errs)
		}
	}
	if code, _, _ := runCLI(t, "completion", "tcsh"); code != exitBadInput {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
}

// TestSuggestions: a mistyped flag, --set key or command names the one
// meant.
func TestSuggestions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "master-crash", "--sed", "3"}, "unknown flag: --sed; did you mean --seed?"},
		{[]string{"sweep", "master-crash", "--set", "cluster-node-timout=1000", "--out", "x"}, `did you mean "cluster-node-timeout"?`},
		{[]string{"sweep", "master-crash", "--set", "workload.clents=1", "--out", "x"}, `did you mean "clients"?`},
		{[]string{"rn"}, "Did you mean this?\n\trun"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != exitBadInput || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestScenariosPrintsYAML(t *testing.T) {
	code, out, _ := runCLI(t, "scenarios", "master-crash")
	if code != exitOK || !strings.HasPrefix(out, "name: master-crash\n") || !strings.Contains(out, "faults:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "scenarios", "nope"); code != exitBadInput || !strings.Contains(errs, "not a built-in") {
		t.Errorf("scenarios nope: exit %d, %q", code, errs)
	}
}
