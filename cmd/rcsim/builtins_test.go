package main

import (
	"testing"

	"github.com/rcsim/rcsim/scenarios"
)

// TestBuiltinsHoldTheirExpectations runs every built-in scenario as a user
// would (`rcsim run NAME`, its own seed) and requires exit 0: each
// expectation it writes down holds.
func TestBuiltinsHoldTheirExpectations(t *testing.T) {
	for _, name := range scenarios.SmallBuiltinNames() {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, "run", name, "--out", t.TempDir())
			if code != exitOK {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
			}
		})
	}
}
