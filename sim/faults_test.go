package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"rcsim/scenarios"
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
			if d.Cmd != "run" {
				d.Fatalf(t, "unknown command %q", d.Cmd)
			}
			var only, until, grep string
			var seed uint64 = 7
			d.MaybeScanArgs(t, "seed", &seed)
			d.MaybeScanArgs(t, "only", &only)
			d.MaybeScanArgs(t, "until", &until)
			d.MaybeScanArgs(t, "grep", &grep)
			s, err := scenarios.Parse(path, []byte(d.Input))
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			opt := Options{Seed: seed, KeepTrace: true}
			if until != "" {
				if opt.Until, err = time.ParseDuration(until); err != nil {
					d.Fatalf(t, "until: %v", err)
				}
			}
			res, err := Run(s, opt)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			out := describeFiltered(res, only)
			if grep == "" {
				return out
			}
			var keep []string
			for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if strings.HasPrefix(l, "trace_sha256") || strings.Contains(l, grep) {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n") + "\n"
		})
	})
}
