package main

// The side-by-side print of a real run and the simulated run of the same
// scenario (`rcsim replay --real --compare`).

import (
	"fmt"
	"io"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/calibrate"
	"github.com/rcsim/rcsim/sim/realredis"
)

// compareSim simulates s at seed and prints real against simulated:
// verdicts, lost writes and each failover's phases.
func compareSim(w io.Writer, s *scenarios.Scenario, seed uint64, real checker.Summary, realRes *realredis.Result) error {
	res, err := sim.Run(s, sim.Options{Seed: seed, KeepTrace: true})
	if err != nil {
		return inputError{err}
	}
	simSum, err := checkRun(s, res, nil, 0)
	if err != nil {
		return err
	}
	row := func(name, a, b string) { fmt.Fprintf(w, "%-26s %-22s %s\n", name, a, b) }
	row(s.Name, "real", fmt.Sprintf("simulated (seed %d)", seed))
	rc, sc := real.Check, simSum.Check
	row("verdict", string(rc.Verdict), string(sc.Verdict))
	row("ops (unknown, failed)", fmt.Sprintf("%d (%d, %d)", rc.Ops, rc.Unknown, rc.Failed), fmt.Sprintf("%d (%d, %d)", sc.Ops, sc.Unknown, sc.Failed))
	row("acknowledged writes lost", fmt.Sprint(rc.LostWrites), fmt.Sprint(sc.LostWrites))
	row("stale reads", fmt.Sprint(rc.StaleReads), fmt.Sprint(sc.StaleReads))
	n := max(len(real.Failovers), len(simSum.Failovers))
	for i := 0; i < n; i++ {
		var a, b checker.Failover
		if i < len(real.Failovers) {
			a = real.Failovers[i]
		}
		if i < len(simSum.Failovers) {
			b = simSum.Failovers[i]
		}
		row(fmt.Sprintf("failover %d", i+1), fmt.Sprintf("%s at %s", a.FailedNode, msAt(a.FaultAtMs)), fmt.Sprintf("%s at %s", b.FailedNode, msAt(b.FaultAtMs)))
		for _, p := range []struct {
			name string
			a, b *int64
		}{{"  pfail", a.PFailMs, b.PFailMs}, {"  fail", a.FailMs, b.FailMs}, {"  election", a.ElectionMs, b.ElectionMs},
			{"  promotion", a.PromotedMs, b.PromotedMs}, {"  cluster ok", a.ClusterOKMs, b.ClusterOKMs},
			{"  writes resumed", a.WritesResumedMs, b.WritesResumedMs}} {
			row(p.name, ms(p.a), ms(p.b))
		}
	}
	row("minority write window", window(realRes.Events, real.Failovers, realRes.History), window(res.Trace, simSum.Failovers, res.History))
	for _, e := range real.Expectations {
		got := ""
		for _, x := range simSum.Expectations {
			if x.Name == e.Name {
				got = x.Got
			}
		}
		row("expect "+e.Name+" "+e.Want, e.Got, got)
	}
	return nil
}

// window is the first failover's minority write window (calibrate's
// definition), or "-".
func window(events []trace.Event, fs []checker.Failover, ops []history.Op) string {
	if len(fs) == 0 {
		return "-"
	}
	return ms(calibrate.MinorityWindow(events, fs[0], ops))
}

func msAt(v int64) string { return trace.FormatTime(time.Duration(v) * time.Millisecond) }
