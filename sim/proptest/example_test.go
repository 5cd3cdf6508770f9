package proptest_test

// README: begin example
import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/scenarios/gen"
	"github.com/rcsim/rcsim/sim/explore"
)

// TestMySettingsSurviveAnySchedule: with my node timeout and topology, under
// any fault schedule, no safety invariant breaks and the cluster comes back.
func TestMySettingsSurviveAnySchedule(t *testing.T) {
	opts := gen.Defaults()
	opts.MinMasters, opts.MaxMasters = 3, 3   // 3 masters
	opts.MinReplicas, opts.MaxReplicas = 1, 1 // × 1 replica each
	opts.NodeTimeouts = []int{2000}
	opts.WorkloadKinds = []string{"counter"}
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Scenario(opts).Draw(t, "scenario")   // topology, settings, workload, faults
		out, err := explore.Run(s, explore.Options{}) // sim.Run, then checker.Check
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Classes {
			if strings.HasPrefix(c, explore.ClassInvariant) || c == explore.ClassNotConverged {
				// The scenario as a YAML file and the `rcsim run` line that replays it.
				r, err := explore.WriteRepro("", t.Name(), s)
				if err != nil {
					t.Fatal(err)
				}
				t.Fatalf("seed %d: %s\n%s", s.Seed, c, r)
			}
		}
	})
}

// README: end example
