package checker

// Convergence: after the last fault or admin step, when every live node is
// in state ok, all of them agree who owns each slot (each node's view built
// from Boot, Promoted, Slots, SetSlot and Role events), every slot's owner
// is alive, and all this stays so to the end of the run.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"rcsim/node/trace"
)

const numSlots = 16384 // CLUSTER_SLOTS

// views tracks each node's belief of the owner of every slot.
type views struct {
	boot []string            // owner per slot from the Boot events ("" unowned)
	of   map[string][]string // per node, created from boot at its first change
}

func newViews() *views { return &views{boot: make([]string, numSlots), of: map[string][]string{}} }

func (v *views) view(n string) []string {
	if v.of[n] == nil {
		v.of[n] = slices.Clone(v.boot)
	}
	return v.of[n]
}

func assign(view []string, rs []slotRange, owner string) {
	for _, r := range rs {
		for s := max(r.Start, 0); s <= min(r.End, numSlots-1); s++ {
			view[s] = owner
		}
	}
}

// apply updates the views with e.
func (v *views) apply(e trace.Event) {
	switch e.Kind {
	case trace.Boot:
		if bootsMaster(e) {
			assign(v.boot, slotsOf(e), e.Node)
		}
	case trace.Promoted:
		assign(v.view(e.Node), slotsOf(e), e.Node)
	case trace.Slots:
		assign(v.view(e.Node), slotsOf(e), e.Peer)
	case trace.SetSlot:
		// CLUSTER SETSLOT NODE bound the slot to Peer here
		// (clusterCommandSetSlot); no Slots event follows on this node.
		if detailOf(e).Action == "node" {
			assign(v.view(e.Node), slotsOf(e), e.Peer)
		}
	case trace.Role:
		if e.Value == "replica" && e.Peer != "" {
			view := v.view(e.Node)
			for s, o := range view {
				if o == e.Node {
					view[s] = e.Peer
				}
			}
		}
	}
}

// disagreement describes the first slot on which two live nodes disagree,
// or "" when all agree.
func (v *views) disagreement(w *world) string {
	var first string
	var ref []string
	for _, n := range w.nodes {
		if !w.member(n) {
			continue
		}
		view := v.of[n]
		if view == nil {
			view = v.boot
		}
		if ref == nil {
			first, ref = n, view
			continue
		}
		for s := range ref {
			if ref[s] != view[s] {
				return fmt.Sprintf("%s and %s disagree on slot %d (%s vs %s)", first, n, s, show(ref[s]), show(view[s]))
			}
		}
	}
	return ""
}

func show(owner string) string {
	if owner == "" {
		return "unowned"
	}
	return owner
}

// notOK lists the live nodes whose latest state is not ok, as "m1=fail".
func (w *world) notOK() string {
	var bad []string
	for _, n := range w.nodes {
		if w.member(n) && w.state[n] != "ok" {
			bad = append(bad, n+"="+w.state[n])
		}
	}
	return strings.Join(bad, " ")
}

// isFault reports whether e is a fault step (or its end).
func isFault(k trace.Kind) bool {
	switch k {
	case trace.Crash, trace.Restart, trace.Partition, trace.Heal, trace.Fault:
		return true
	}
	return false
}

// disturbs reports whether e changes the cluster on purpose: a fault step or
// the end (ok or failed) of an admin step. Convergence is judged from the
// last of them: a reshard moves slots for as long as it runs.
func disturbs(e trace.Event) bool {
	return isFault(e.Kind) || e.Kind == trace.Admin && detailOf(e).Outcome != trace.StepStart
}

// unserved describes the first slot whose agreed owner is not a live
// member of the cluster (unowned, crashed or removed), or "" when every
// slot is served. ref is the view all live nodes share.
func (w *world) unserved(ref []string) string {
	for s, o := range ref {
		switch {
		case o == "":
			return fmt.Sprintf("slot %d is unowned", s)
		case w.crashed[o]:
			return fmt.Sprintf("slot %d is served by %s, which is down", s, o)
		case w.removed[o]:
			return fmt.Sprintf("slot %d is assigned to %s, which left the cluster", s, o)
		}
	}
	return ""
}

// settled says why the cluster is not converged at this moment, or "" when
// it is: every live node in state ok, all of them agreeing on each slot's
// owner, and every slot served by a live master. A dead master the others
// have not failed yet leaves them ok and agreeing: that is not convergence.
func settled(w *world, v *views) string {
	if bad := w.notOK(); bad != "" {
		return "state not ok: " + bad
	}
	if why := v.disagreement(w); why != "" {
		return why
	}
	for _, n := range w.nodes {
		if w.member(n) {
			view := v.of[n]
			if view == nil {
				view = v.boot
			}
			return w.unserved(view)
		}
	}
	return "no live node"
}

// converger is the convergence stage: it judges each moment at or after
// the last fault or admin step's end, after all of the moment's events.
type converger struct {
	lastFault time.Duration
	v         *views
	at        time.Duration
	ok        bool
	why       string
}

func newConverger(events []trace.Event) *converger {
	return &converger{lastFault: lastDisturbance(events), v: newViews()}
}

func (c *converger) see(events []trace.Event, i int, w *world) {
	e := events[i]
	c.v.apply(e)
	if e.At < c.lastFault || i+1 < len(events) && events[i+1].At == e.At {
		return // judge a moment after all its events
	}
	switch now := settled(w, c.v); {
	case now != "":
		c.ok, c.why = false, now
	case !c.ok:
		c.ok, c.at = true, e.At
	}
}

// result returns the time of the last fault or admin step's end, the first
// moment at or after it from which the cluster stayed converged (settled)
// to the end of the trace (ok is false if it never did), and why it was not
// converged at the last moment it was not.
func (c *converger) result() (lastFault, at time.Duration, ok bool, why string) {
	switch {
	case c.ok:
		return c.lastFault, c.at, true, ""
	case c.why == "":
		return c.lastFault, 0, false, "no events after the last fault or admin step"
	}
	return c.lastFault, 0, false, c.why
}

// convergence is the converger's result over events (see result).
func convergence(events []trace.Event) (lastFault, at time.Duration, ok bool, why string) {
	c := newConverger(events)
	walk(events, c)
	return c.result()
}
