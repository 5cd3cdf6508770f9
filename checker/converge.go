package checker

// Convergence: after the last fault, when every live node is in state ok and
// all of them agree who owns each slot (each node's view built from Boot,
// Promoted, Slots and Role events).

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"rcsim/sim/trace"
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
		for s := max(r.lo, 0); s <= min(r.hi, numSlots-1); s++ {
			view[s] = owner
		}
	}
}

// apply updates the views with e.
func (v *views) apply(e trace.Event) {
	switch e.Kind {
	case trace.Boot:
		if rest, ok := strings.CutPrefix(e.Value, "master"); ok {
			assign(v.boot, parseRanges(rest), e.Node)
		}
	case trace.Promoted:
		assign(v.view(e.Node), parseRanges(e.Value), e.Node)
	case trace.Slots:
		assign(v.view(e.Node), parseRanges(e.Value), e.Peer)
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

// convergence returns the time of the last fault, the first moment at or
// after it when the cluster converged (ok is false if it never did), and
// why it had not converged by the end.
func convergence(events []trace.Event) (lastFault, at time.Duration, ok bool, why string) {
	for _, e := range events {
		if isFault(e.Kind) {
			lastFault = e.At
		}
	}
	w, v := newWorld(), newViews()
	for i, e := range events {
		w.apply(e)
		v.apply(e)
		if e.At < lastFault || i+1 < len(events) && events[i+1].At == e.At {
			continue // judge a moment after all its events
		}
		why = w.notOK()
		if why != "" {
			why = "state not ok: " + why
		} else {
			why = v.disagreement(w)
		}
		if why == "" {
			return lastFault, e.At, true, ""
		}
	}
	if why == "" {
		why = "no events after the last fault"
	}
	return lastFault, 0, false, why
}
