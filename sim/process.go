package sim

// Faults of a node's process and the admission of its input: crash and
// restart, pause and resume (SIGSTOP/SIGCONT), a slow node, the node's own
// clock (jumps and drift). The node never knows: the kernel holds its input
// back, or hands it a different clock.

import (
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios/rng"
)

// hold keeps input away from a node that cannot take it now, and reports
// whether it did. A paused process, or one blocked in MIGRATE, reads
// nothing: the input waits in its socket buffers (the backlog) until it
// resumes or the MIGRATE is answered. A slow node spends its
// processing delay on every input, one at a time, so the input is handled
// when the node has finished everything before it and then this.
func (w *world) hold(h *host, ev *event) bool {
	if h.paused || len(h.migrates) > 0 {
		e := *ev
		e.admitted = true
		h.backlog = append(h.backlog, e)
		return true
	}
	if h.slow > 0 && !ev.charged {
		e := *ev
		e.admitted, e.charged, e.inc = true, true, h.inc
		e.at = max(w.now, h.busyUntil) + h.slow
		h.busyUntil = e.at
		w.q.push(e)
		return true
	}
	return false
}

// admitCommand checks a client command at its arrival at a node, and holds
// it for a paused or slow node; false means command must not run now.
func (w *world) admitCommand(ev *event) bool {
	if !ev.admitted && !w.net.Deliverable(w.now, ev.conn.dialer, ev.dst) {
		return false
	}
	if ev.cmd.dial {
		// The kernel completes the handshake for the process (the listen
		// backlog): a stopped, busy or MIGRATE-blocked Redis still accepts
		// connections, and what clients write on them waits in the socket
		// buffer until it reads again.
		return true
	}
	h := w.hosts[ev.dst]
	if ev.charged && (!h.up || ev.inc != h.inc) {
		return false // the process that was working on it died: no reply
	}
	return !h.up || !w.hold(h, ev)
}

// crash kills h's process: its connections are reset, its memory is gone, and
// its disk keeps nodes.conf as last saved and the dataset as the node's
// persistence left it (node.DataOnDisk), or nothing, without persist. With
// powerLoss the machine goes down too and the page cache with it: only
// what was fsynced survives.
func (w *world) crash(h *host, persist, powerLoss bool) bool {
	if !h.up {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "crash ignored: already down"})
		return false
	}
	h.data = node.Data{}
	if persist {
		h.data = h.n.DataOnDisk(powerLoss)
		h.data.Through -= w.clock(h) - w.now // the node's clock, as virtual time
	}
	w.forgetProcess(h)
	h.up = false
	h.n = nil
	h.crashes++
	if !persist {
		h.hasDisk = false
	}
	w.crashed = append(w.crashed, h.idx)
	w.closeAllOf(h)
	v := "persist"
	if !persist {
		v = "wipe"
	} else if powerLoss {
		v = "persist power-loss"
	}
	w.emit(trace.Event{Kind: trace.Crash, Node: h.name, Value: v})
	return true
}

// restart starts h's process again from its nodes.conf (clusterLoadConfig),
// with a fresh random stream and a new cron phase, its cronloops from 0.
func (w *world) restart(h *host) {
	if h.up {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart ignored: already up"})
		return
	}
	for i, x := range w.crashed {
		if x == h.idx {
			w.crashed = append(w.crashed[:i], w.crashed[i+1:]...)
			break
		}
	}
	if !h.hasDisk {
		// A node without nodes.conf boots as a new, empty master that no
		// one has met; joining it again is an admin step not modelled yet.
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart without nodes.conf: not modelled, node stays down"})
		return
	}
	h.inc++
	h.cfg.Incarnation = uint64(h.inc)
	stream := "node/" + h.name + "#" + itoa(int(h.inc)+1)
	w.startCron(h, false)
	n, err := node.Restore(h.cfg, h.disk, rng.Source(w.seed, stream))
	if err != nil {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart failed: " + err.Error()})
		return
	}
	skew := w.clock(h) - w.now
	d := h.data
	d.Through += skew
	n.LoadData(d)
	h.n, h.up = n, true
	w.emit(trace.RestartEvent(h.name, h.data.Source, h.data.Through, len(h.data.Keys)))
}

// pause stops h's process: its cron stops and everything sent to it waits.
// Its peers' connections stay open (the kernel still ACKs), so only timeouts
// tell them something is wrong.
func (w *world) pause(h *host) bool {
	if !h.up || h.paused {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "pause ignored: not running"})
		return false
	}
	h.paused = true
	w.paused = append(w.paused, h.idx)
	w.emitFault(h.name, "pause", trace.Detail{Fault: "pause"})
	return true
}

// resume continues h's process. As after SIGCONT, the event loop first reads
// what queued up, in arrival order, then runs the cron that came due while it
// was stopped: timers fire late, not skipped and not early.
func (w *world) resume(h *host) {
	if !h.up || !h.paused {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "resume ignored: not paused"})
		return
	}
	h.paused = false
	w.paused = removeIdx(w.paused, h.idx)
	w.emitFault(h.name, "resume backlog="+itoa(len(h.backlog)), trace.Detail{Fault: "resume", End: true})
	w.release(h)
}

// release hands h the input that waited while it could not read (paused,
// or blocked in MIGRATE), in arrival order, then the cron that came due.
func (w *world) release(h *host) {
	for _, e := range h.backlog {
		e.at = w.now
		w.q.push(e)
	}
	h.backlog = nil
	if h.tickMissed {
		h.tickMissed = false
		w.pushTick(h, w.now)
	}
}

// forgetProcess drops what only a running process holds: a crash ends a pause
// and its backlog with the process, and the queue of a slow node.
func (w *world) forgetProcess(h *host) {
	if h.paused {
		w.paused = removeIdx(w.paused, h.idx)
	}
	h.paused, h.backlog, h.tickMissed, h.busyUntil, h.migrates = false, nil, false, 0, nil
}

// setSlow gives h a processing delay per input (0: normal speed again). The
// delay belongs to the machine, so it outlives a crash and restart.
func (w *world) setSlow(h *host, d time.Duration) {
	h.slow = d
	v := "slow " + fmtDur(d)
	if d == 0 {
		v = "slow end"
	}
	w.emitFault(h.name, v, trace.Detail{Fault: "slow", End: d == 0})
}

// jumpClock moves h's clock by d at once, as a step of NTP or an operator
// does; Redis's mstime() follows it, its event loop's monotonic timers do not.
func (w *world) jumpClock(h *host, d time.Duration) {
	h.skew += d
	w.emitFault(h.name, "clock jump "+signed(d), trace.Detail{Fault: "clock"})
}

// setDrift makes h's clock run pct percent fast (negative: slow) from now;
// what it gained so far stays in its skew.
func (w *world) setDrift(h *host, pct int) {
	h.skew = w.clock(h) - w.now
	h.driftPct, h.driftSince = pct, w.now
	v := "clock drift " + itoa(pct) + "%"
	if pct == 0 {
		v = "clock drift end skew=" + signed(h.skew)
	}
	w.emitFault(h.name, v, trace.Detail{Fault: "clock", End: pct == 0})
}

func signed(d time.Duration) string {
	if d >= 0 {
		return "+" + fmtDur(d)
	}
	return fmtDur(d)
}

// fmtDur prints a duration with ASCII units, as scenario files write them.
func fmtDur(d time.Duration) string {
	s := d.String()
	if len(s) > 2 && s[len(s)-3:] == "µs" {
		s = s[:len(s)-3] + "us"
	}
	return s
}

func removeIdx(xs []int, x int) []int {
	for i, v := range xs {
		if v == x {
			return append(xs[:i], xs[i+1:]...)
		}
	}
	return xs
}
