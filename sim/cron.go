package sim

// When each node's serverCron runs: the phase of its 100 ms timer and of its
// once-a-second work, drawn per node at boot, and the drift of ae's timer,
// which is re-armed only after the handler ran (ae.c processTimeEvents) and
// wakes from epoll_wait with a timeout in whole milliseconds (ae_epoll.c
// aeApiPoll), so ticks come a little more than 100 ms apart.

import (
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/scenarios/rng"
)

// The time from serverCron's timer firing to ae re-arming it (retval ms
// after getMonotonicUs() once the handler returned), plus epoll's wake-up
// latency and timer slack, drawn uniformly per tick. An idle Redis 7.0.15
// cluster node on Linux (perf trace of its epoll_wait calls) ticks every
// 100.47 ms at the median, 100.34–100.56 ms from p10 to p90.
const (
	cronOverheadMin = 250 * time.Microsecond
	cronOverheadMax = 650 * time.Microsecond
)

// startCron sets up the cron of h's new process before the node is built:
// the first tick comes at a phase in [0, 100ms) drawn from the node's
// "cron/<name>" stream (each process started its event loop at its own
// moment). A process that was already running when the run began (running)
// also gets server.cronloops drawn in 0..9, so its once-a-second work falls
// anywhere in the second; a process the run starts counts from 0.
func (w *world) startCron(h *host, running bool) {
	if h.cron == nil {
		h.cron = rng.Derive(w.seed, "cron/"+h.name)
	}
	h.cfg.CronLoops = 0
	if running {
		h.cfg.CronLoops = uint64(h.cron.IntN(10))
	}
	phase := time.Duration(h.cron.IntN(int(node.CronPeriod/time.Microsecond))) * time.Microsecond
	h.cronArmed, h.cronDue = w.now, w.now+phase
	w.pushTick(h, h.cronDue)
}

// pushTick arms h's next tick, in place of any tick still pending. Ticks
// are kept apart from the event queue (world.timers), one per host, but take
// their insertion numbers from it (queue.key), so they run in exactly the
// order a queue holding them would give them. A tick superseded before it
// came due is no event at all: in the queue it would have run as a no-op.
func (w *world) pushTick(h *host, at time.Duration) {
	w.timers.set(h.idx, w.q.key(at))
}

// tick runs serverCron, unless the process is stopped (the timer fires late,
// on resume), a slow node is still busy (the cron waits its turn in the
// event loop), or the event loop is still asleep in an epoll_wait whose
// whole-millisecond timeout ends after the deadline.
func (w *world) tick(h *host) {
	if !h.up {
		return // a crash left the tick armed; a restart arms a new one
	}
	if h.paused || len(h.migrates) > 0 {
		h.tickMissed = true
		return
	}
	if w.now < h.busyUntil {
		w.pushTick(h, h.busyUntil)
		return
	}
	if wake := h.pollWake(); wake > w.now {
		w.pushTick(h, wake)
		return
	}
	w.runCron(h)
}

// runCron runs serverCron now and re-arms its timer as processTimeEvents
// does: CronPeriod after the handler returned.
func (w *world) runCron(h *host) {
	w.out.Reset()
	h.n.Tick(w.mstime(h), &w.out)
	w.apply(h)
	span := int64((cronOverheadMax - cronOverheadMin) / time.Microsecond)
	h.cronArmed = w.now + cronOverheadMin + time.Duration(h.cron.Int64N(span+1))*time.Microsecond
	h.cronDue = h.cronArmed + node.CronPeriod
	w.pushTick(h, h.cronDue)
}

// pollWake is when the event loop's last epoll_wait before the timer's
// deadline returns by itself: when input woke the loop after the timer was
// armed, it went back to sleep with the time left rounded up to whole
// milliseconds (aeApiPoll's (tv_usec+999)/1000), so the timer fires up to
// 1 ms late. Without such input the loop slept the whole period at once
// and wakes on time (its latency is in the drawn overhead).
func (h *host) pollWake() time.Duration {
	if h.lastIn <= h.cronArmed {
		return h.cronDue
	}
	left := h.cronDue - h.lastIn
	return h.lastIn + (left+time.Millisecond-1)/time.Millisecond*time.Millisecond
}

// polled is called after h's event loop handled one input: it goes back to
// epoll_wait from here, and if the timer's deadline has passed the same
// loop iteration runs it (aeProcessEvents processes time events after
// the file events). A replayed backlog (admitted) is one batch, whose
// cron the tick queued behind it runs.
func (w *world) polled(h *host, admitted bool) {
	h.lastIn = w.now
	if !admitted && w.now >= h.cronDue && h.up && !h.paused && len(h.migrates) == 0 && w.now >= h.busyUntil {
		w.runCron(h)
	}
}

// mstime is the node's clock as Redis reads it: mstime(), whole
// milliseconds (every cluster timestamp and timeout comparison is in ms).
func (w *world) mstime(h *host) time.Duration {
	c := w.clock(h)
	r := c % time.Millisecond
	if r < 0 {
		r += time.Millisecond
	}
	return c - r
}
