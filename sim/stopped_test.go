package sim

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim/workload"
)

// TestStoppedProcessAcceptsConnections: the kernel completes TCP handshakes
// for a SIGSTOPped Redis (its listen backlog), so the clients that give up
// on the stopped master and dial it again get a connection, not a dial
// timeout, and each command they write waits in its socket buffer: on
// SIGCONT the process reads them all, in arrival order.
func TestStoppedProcessAcceptsConnections(t *testing.T) {
	s := builtin(t, "paused-master-long")
	queued := 0 // commands in m0's socket buffers just before it resumes
	res := runObserved(t, s, 1, func(w *world, ev *event) {
		h := w.hosts[0]
		if !h.paused {
			return
		}
		n := 0
		for _, e := range h.backlog {
			if e.kind == evCommand {
				n++
			}
		}
		queued = n
	})
	var paused, resumed time.Duration
	for _, e := range res.Trace {
		if e.Kind == trace.Fault && e.Node == "m0" && e.Detail != nil {
			switch e.Detail.Fault {
			case "pause":
				paused = e.At
			case "resume":
				resumed = e.At
			}
		}
	}
	waited := 0
	for _, op := range res.History {
		if op.Node != "m0" || op.Invoke < paused || op.Invoke >= resumed {
			continue
		}
		if op.Err == workload.ErrDialTimeout {
			t.Errorf("a dial to the stopped m0 timed out: %+v", op)
		}
		if op.Status == history.Unknown {
			waited++
		}
	}
	if waited == 0 || queued < waited {
		t.Errorf("%d operations on the stopped m0 timed out, %d commands waited in its buffers; want some, all of them queued", waited, queued)
	}
}
