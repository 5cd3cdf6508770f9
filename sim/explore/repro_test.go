package explore

import (
	"path/filepath"
	"testing"

	"github.com/rcsim/rcsim/scenarios"
)

// TestWriteRepro: the file reads back to the same scenario, and the
// command names it, its seed and --allow-bugs when it breaks a rule.
func TestWriteRepro(t *testing.T) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	s.Seed = 42
	s.Bugs.GrantTwoVotesPerEpoch = true
	dir := t.TempDir()
	r, err := WriteRepro(dir, "TestX/case #3", s)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "TestX_case_3.yaml"); r.Path != want {
		t.Errorf("path %s, want %s", r.Path, want)
	}
	if want := "rcsim run " + r.Path + " --seed 42 --allow-bugs"; r.Command != want {
		t.Errorf("command %q, want %q", r.Command, want)
	}
	back, err := scenarios.Load(r.Path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := scenarios.Marshal(s)
	b, _ := scenarios.Marshal(back)
	if string(a) != string(b) {
		t.Errorf("the file does not read back to the scenario:\n%s\nvs\n%s", a, b)
	}
	t.Setenv("RCSIM_PROP_OUT", dir)
	if ReproDir() != dir {
		t.Errorf("ReproDir %s, want $RCSIM_PROP_OUT", ReproDir())
	}
}
