package sim

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/simtest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *simtest.Update {
		_ = flag.Set("rewrite", "true")
	}
	os.Exit(m.Run())
}

// TestTimelines runs the scripts in testdata/timeline: each `run` prints the
// trace hash and a filtered, readable timeline of a scenario, a built-in one
// or the YAML given as the command's input.
//
//	run scenario=master-crash seed=7 until=20s only=crash,promoted
func TestTimelines(t *testing.T) {
	datadriven.Walk(t, "testdata/timeline", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runTimeline(t, path, d, 1)
		})
	})
}

// runTimeline is the `run` command of the timeline scripts (testdata/timeline
// and testdata/faults): scenario= (a built-in; else the command's YAML
// input), seed= (default defaultSeed), until=, only= (trace kinds) and grep=
// (keep only lines containing the text).
func runTimeline(t *testing.T, path string, d *datadriven.TestData, defaultSeed uint64) string {
	if d.Cmd != "run" {
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	var name, only, until, grep string
	seed := defaultSeed
	d.MaybeScanArgs(t, "scenario", &name)
	d.MaybeScanArgs(t, "seed", &seed)
	d.MaybeScanArgs(t, "only", &only)
	d.MaybeScanArgs(t, "until", &until)
	d.MaybeScanArgs(t, "grep", &grep)
	s, err := timelineScenario(path, name, d.Input)
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
}

// timelineScenario is the built-in scenario name, or the inline YAML when
// name is empty.
func timelineScenario(path, name, input string) (*scenarios.Scenario, error) {
	if name != "" {
		return scenarios.Builtin(name)
	}
	return scenarios.Parse(path, []byte(input))
}

func describeFiltered(res *Result, only string) string {
	keep := map[trace.Kind]bool{}
	for _, k := range strings.Split(only, ",") {
		if k != "" {
			keep[trace.Kind(k)] = true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trace_sha256 %s\n", res.TraceSHA256)
	for _, e := range res.Trace {
		if len(keep) == 0 || keep[e.Kind] {
			b.WriteString(trace.Describe(e))
			b.WriteByte('\n')
		}
	}
	return b.String()
}
