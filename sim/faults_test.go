package sim

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestFaultTimelines runs the scripts in testdata/faults: each `run` takes a
// scenario inline and prints its trace hash and a filtered timeline, so each
// fault kind and its end are pinned on the trace.
//
//	run seed=7 until=20s only=fault,pfail,promoted
//	<scenario yaml>
func TestFaultTimelines(t *testing.T) {
	datadriven.Walk(t, "testdata/faults", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runTimeline(t, path, d, 7)
		})
	})
}
