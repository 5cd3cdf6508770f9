package explore

// Saving a failing scenario for a person: the YAML file and the one
// command that replays it, instead of a Go struct dump in a test log.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/rcsim/rcsim/scenarios"
)

// Repro is a failing scenario saved as a file, with the command that
// replays it.
type Repro struct {
	Path    string // the scenario file written
	Command string // "rcsim run PATH --seed N", with --allow-bugs when the scenario needs it
}

// String is the line a failing test prints: "scenario written to PATH;
// reproduce with: rcsim run PATH --seed N".
func (r Repro) String() string {
	return fmt.Sprintf("scenario written to %s; reproduce with: %s", r.Path, r.Command)
}

// ReproDir is where property tests write failing scenarios:
// $RCSIM_PROP_OUT, else rcsim-props under the system's temp directory
// (never the test's own module, where rapid already leaves
// testdata/rapid/*.fail files).
func ReproDir() string {
	if d := os.Getenv("RCSIM_PROP_OUT"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "rcsim-props")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// WriteRepro writes s (a generated or shrunk scenario) as YAML to
// dir/<name>.yaml and returns it with its `rcsim run` line. name is
// typically the test's name (t.Name()); characters other than letters,
// digits, '-' and '_' become '_'. dir "" means ReproDir(). Rewriting the
// same name keeps the last scenario: under rapid that is the shrunk case,
// which rapid replays last.
//
// The file is scenarios.Marshal's, which Parse reads back to the same
// scenario, so the command replays the same trace as s run in memory.
func WriteRepro(dir, name string, s *scenarios.Scenario) (Repro, error) {
	if dir == "" {
		dir = ReproDir()
	}
	data, err := scenarios.Marshal(s)
	if err != nil {
		return Repro{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Repro{}, err
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return Repro{}, err
	}
	cmd := fmt.Sprintf("rcsim run %s --seed %d", path, s.Seed)
	if s.Bugs.Any() {
		cmd += " --allow-bugs"
	}
	return Repro{Path: path, Command: cmd}, nil
}
