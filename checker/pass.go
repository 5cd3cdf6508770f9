package checker

// The one pass over the trace that the checker's stages share: walk applies
// each event once to the running picture of the cluster (world) and hands
// it, with that picture, to every stage (an observer). Check walks the
// trace once for all its stages; the exported single-stage functions
// (Failovers, CheckInvariants, CheckConvergence, RecoveryOf, AttributeLost,
// Explain) walk it with their one stage. Two stages read the trace again,
// for detail the walk cannot keep cheaply: the converger, to word why the
// cluster was not converged at its last unsettled moment, and a failover
// whose promotion is logged before its fault in the same moment, measured
// on a replay of its own.

import (
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// observer is one checker stage fed by the shared walk.
type observer interface {
	// see is called for events[i] after w has applied it.
	see(events []trace.Event, i int, w *world)
}

// walk applies events to a fresh world one at a time, calling every
// observer after each, and returns the final world.
func walk(events []trace.Event, obs ...observer) *world {
	w := newWorld()
	for i, e := range events {
		w.apply(e)
		for _, o := range obs {
			o.see(events, i, w)
		}
	}
	return w
}

// lastDisturbance is the time of the last fault step or admin step's end
// (0 when there is none), found from the end of the trace: convergence is
// judged only from there, so the walk must know it before it starts.
func lastDisturbance(events []trace.Event) time.Duration {
	for i := len(events) - 1; i >= 0; i-- {
		if disturbs(events[i]) {
			return events[i].At
		}
	}
	return 0
}

// partitioned reports whether the last Partition is not followed by a Heal.
func partitioned(events []trace.Event) bool {
	for i := len(events) - 1; i >= 0; i-- {
		switch events[i].Kind {
		case trace.Partition:
			return true
		case trace.Heal:
			return false
		}
	}
	return false
}

// adminSteps counts the admin steps begun and lists the failed ones
// ("<time> <text>"), for expectAdmin.
type adminSteps struct {
	steps  int
	failed []string
}

func (a *adminSteps) see(events []trace.Event, i int, _ *world) {
	e := events[i]
	if e.Kind != trace.Admin {
		return
	}
	switch detailOf(e).Outcome {
	case trace.StepStart:
		a.steps++
	case trace.StepFailed:
		a.failed = append(a.failed, trace.FormatTime(e.At)+" "+e.Value)
	}
}
