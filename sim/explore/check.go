// Package explore runs scenarios and judges them as one step (sim.Run, then
// checker.Check with the scenario's expectations and the trace invariants),
// names how a run failed (its failure classes), shrinks a failing scenario
// to a minimal one that fails the same way, and explores nemesis schedules
// around a base scenario. It is the Go API behind `rcsim explore` and the
// property tests, usable from another module's `go test`.
package explore

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// Failure classes: how a run failed. A class is the unit "fails the same
// way" is judged by when shrinking.
const (
	ClassPanic           = "panic"            // the simulator itself failed
	ClassInvariant       = "invariant:"       // prefix: a trace invariant broke, e.g. invariant:one_vote_per_epoch
	ClassNotConverged    = "not-converged"    // converged-within failed
	ClassClusterNotOK    = "cluster-not-ok"   // cluster-ok failed
	ClassLostWrite       = "lost-write"       // an acknowledged write was lost
	ClassNotLinearizable = "not-linearizable" // the history has no linearization, and no write was lost
	ClassExpect          = "expect:"          // prefix: another expectation failed, e.g. expect:failover_within
)

// Options tune Run.
type Options struct {
	AllowBugs bool          // permit the scenario's x-bugs switches
	Budget    time.Duration // wall-clock budget of each run's whole check, Porcupine included (0: 10 s)
	// Stop, if set, is asked during a run whether to give it up (sim's
	// Options.Abort): Run then returns ErrStopped.
	Stop func() bool
	// MaxEvents bounds each run (sim's Options.MaxEvents; 0:
	// sim.DefaultMaxEvents). A run that reaches it is not judged: Run
	// returns ErrEventLimit.
	MaxEvents int
}

// ErrStopped is Run's error for a run given up because Options.Stop said
// so; it has no outcome.
var ErrStopped = errors.New("explore: stopped")

// ErrEventLimit is Run's error for a run that reached Options.MaxEvents
// before its end: its trace covers only part of the scenario, so a verdict
// on it would judge faults it never saw end (`rcsim run` refuses the same
// way, exit 2).
var ErrEventLimit = errors.New("stopped at the event limit")

// Outcome is one run judged.
type Outcome struct {
	Seed        uint64
	TraceSHA256 string
	Summary     checker.Summary
	Panic       string   // the panic and stack, when the simulator failed
	Classes     []string // how it failed, most severe first; empty when it passed
}

// Failed reports whether the run failed in any way.
func (o Outcome) Failed() bool { return len(o.Classes) > 0 }

// Has reports whether the run failed with class.
func (o Outcome) Has(class string) bool { return slices.Contains(o.Classes, class) }

// String is one line: "seed 7 FAILED lost-write, not-linearizable" or
// "seed 7 ok".
func (o Outcome) String() string {
	if !o.Failed() {
		return fmt.Sprintf("seed %d ok", o.Seed)
	}
	return fmt.Sprintf("seed %d FAILED %s", o.Seed, strings.Join(o.Classes, ", "))
}

// Run simulates s at its own seed and judges the run. A panic inside the
// simulator is caught and becomes ClassPanic; an error is bad input (a
// scenario sim or the checker refuses).
func Run(s *scenarios.Scenario, opt Options) (out Outcome, err error) {
	out.Seed = s.Seed
	defer func() {
		if r := recover(); r != nil {
			out.Panic = fmt.Sprintf("%v\n%s", r, debug.Stack())
			out.Classes = []string{ClassPanic}
			err = nil
		}
	}()
	res, err := sim.Run(s, sim.Options{KeepTrace: true, AllowBugs: opt.AllowBugs, Abort: opt.Stop, MaxEvents: opt.MaxEvents})
	if err != nil {
		return out, err
	}
	switch res.StopReason {
	case "aborted":
		return out, ErrStopped
	case "event limit":
		return out, fmt.Errorf("%s seed %d: %w (%d kernel events) at virtual %s of %s: the verdict would cover only that part; raise the event limit or shorten the run",
			s.Name, res.Seed, ErrEventLimit, res.Steps, trace.FormatTime(res.VirtualEnd), trace.FormatTime(s.Duration))
	}
	out.Seed, out.TraceSHA256 = res.Seed, res.TraceSHA256
	if out.Summary, err = Check(s, res, opt.Budget); err != nil {
		return out, err
	}
	out.Classes = Classify(out.Summary)
	return out, nil
}

// Check judges a finished run the way `rcsim run` does: linearizability,
// lost writes, failovers, the scenario's expectations and the trace
// invariants (convergence bounded by the scenario's converged-within).
func Check(s *scenarios.Scenario, res *sim.Result, budget time.Duration) (checker.Summary, error) {
	if budget == 0 {
		budget = 10 * time.Second
	}
	model := s.Workload.Kind
	if model == "none" {
		model = ""
	}
	e := s.Expect
	in := checker.Input{
		Scenario: s.Name, Seed: res.Seed, VirtualMs: res.VirtualEnd.Milliseconds(), Events: res.Events,
		TraceSHA256: res.TraceSHA256, Trace: res.Trace, History: res.History, Model: model,
		Expect: checker.Expect{FailoverWithin: e.FailoverWithin, Linearizable: e.Linearizable,
			ConvergedWithin: e.ConvergedWithin, MaxLostWrites: e.MaxLostWrites, ClusterOK: e.ClusterOK,
			AdminOK: e.AdminOK},
		Budget: budget, EndMs: res.VirtualEnd.Milliseconds(),
	}
	return checker.Check(in)
}

// Classify names how a judged run failed, most severe first: broken
// invariants, then convergence and cluster state, lost writes, a
// non-linearizable history, then other failed expectations. Lost writes and
// a non-linearizable history are classes whatever the expectations say:
// they are findings even where Redis is known to allow them.
func Classify(sum checker.Summary) []string {
	var out []string
	add := func(c string) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, v := range sum.Invariants {
		if v.Rule != checker.RuleConverged {
			add(ClassInvariant + v.Rule)
		}
	}
	slices.Sort(out)
	for _, v := range sum.Invariants {
		if v.Rule == checker.RuleConverged {
			add(ClassNotConverged) // the same finding as converged-within
		}
	}
	failed := map[string]bool{}
	for _, e := range sum.Expectations {
		failed[e.Name] = !e.OK
	}
	if failed["converged_within"] {
		add(ClassNotConverged)
	}
	if failed["cluster_ok"] {
		add(ClassClusterNotOK)
	}
	if sum.Check.LostWrites > 0 {
		add(ClassLostWrite)
	}
	if sum.Check.Verdict == checker.VerdictIllegal && sum.Check.LostWrites == 0 {
		add(ClassNotLinearizable) // a lost write already makes the history illegal
	}
	for _, e := range sum.Expectations {
		switch {
		case e.OK, e.Name == "converged_within", e.Name == "cluster_ok":
		case e.Name == "max_lost_writes":
			add(ClassLostWrite)
		case e.Name == "linearizable" && e.Want == "true":
			if !slices.Contains(out, ClassLostWrite) {
				add(ClassNotLinearizable)
			}
		default:
			add(ClassExpect + e.Name)
		}
	}
	return out
}
