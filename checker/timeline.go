package checker

// The cluster's history as the checker reads it from the trace, indexed for
// questions about one moment: what role and configEpoch a node had, whether
// a partition had cut it off, which failovers took which slots. Loss
// attribution and explanations both ask these questions.

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// forever is the end of a span that never closed.
const forever = time.Duration(math.MaxInt64)

// span is a partition in force from from to to, with the nodes it left
// without a majority of the masters.
type span struct {
	from, to time.Duration
	minority []string
	value    string
}

// promotion is one replica taking its master's slots (Promoted).
type promotion struct {
	at       time.Duration
	node     string // the new master
	from     string // the old master
	epoch    uint64
	ranges   []slotRange
	takeover bool // configEpoch bumped without agreement (CLUSTER FAILOVER TAKEOVER)
}

// stamped is a value a node held from at on.
type stamped struct {
	at    time.Duration
	value string
	epoch uint64
}

// timeline is the trace indexed by node and time.
type timeline struct {
	parts    []span
	promos   []promotion
	roles    map[string][]stamped // "master", "replica of X", "down"
	epochs   map[string][]stamped // configEpoch per node (ConfigEpoch, Promoted)
	crashes  map[string][]stamped // value: persist | wipe
	restarts map[string][]time.Duration
	loads    map[string][]trace.Detail  // by restart: the dataset it loaded (Source "" none)
	fails    map[string][]time.Duration // State fail of the node itself
	// takeoverAt is when each node last bumped its configEpoch by TAKEOVER.
	takeoverAt map[string]time.Duration
}

func newTimeline(events []trace.Event) *timeline {
	tl := newTimelineStage()
	walk(events, tl)
	return tl
}

// newTimelineStage returns an empty timeline to fill as a stage of the walk.
func newTimelineStage() *timeline {
	return &timeline{roles: map[string][]stamped{}, epochs: map[string][]stamped{}, crashes: map[string][]stamped{},
		restarts: map[string][]time.Duration{}, loads: map[string][]trace.Detail{}, fails: map[string][]time.Duration{}, takeoverAt: map[string]time.Duration{}}
}

// see indexes events[i] (the timeline stage of the walk).
func (tl *timeline) see(events []trace.Event, i int, w *world) {
	e := events[i]
	switch e.Kind {
	case trace.Boot:
		role := "master"
		if !bootsMaster(e) {
			role = "replica of " + e.Peer
		}
		tl.roles[e.Node] = append(tl.roles[e.Node], stamped{at: e.At, value: role})
		if e.Epoch != 0 {
			tl.epochs[e.Node] = append(tl.epochs[e.Node], stamped{at: e.At, epoch: e.Epoch})
		}
	case trace.Partition:
		tl.closePartition(e.At)
		tl.parts = append(tl.parts, span{from: e.At, to: forever, minority: w.minority(detailOf(e).Groups), value: e.Value})
	case trace.Heal:
		tl.closePartition(e.At)
	case trace.Crash:
		tl.crashes[e.Node] = append(tl.crashes[e.Node], stamped{at: e.At, value: e.Value})
		tl.roles[e.Node] = append(tl.roles[e.Node], stamped{at: e.At, value: "down"})
	case trace.Restart:
		tl.restarts[e.Node] = append(tl.restarts[e.Node], e.At)
		tl.loads[e.Node] = append(tl.loads[e.Node], detailOf(e))
		if rs := tl.roles[e.Node]; len(rs) >= 2 {
			tl.roles[e.Node] = append(rs, stamped{at: e.At, value: rs[len(rs)-2].value})
		}
	case trace.ConfigEpoch:
		tl.epochs[e.Node] = append(tl.epochs[e.Node], stamped{at: e.At, epoch: e.Epoch, value: e.Value})
		if e.Value == "takeover" {
			tl.takeoverAt[e.Node] = e.At
		}
	case trace.Promoted:
		tl.epochs[e.Node] = append(tl.epochs[e.Node], stamped{at: e.At, epoch: e.Epoch, value: "promoted"})
		t, ok := tl.takeoverAt[e.Node]
		tl.promos = append(tl.promos, promotion{at: e.At, node: e.Node, from: e.Peer, epoch: e.Epoch,
			ranges: slotsOf(e), takeover: ok && t == e.At})
		tl.roles[e.Node] = append(tl.roles[e.Node], stamped{at: e.At, value: "master"})
	case trace.Role:
		role := "master"
		if e.Value == "replica" {
			role = "replica of " + e.Peer
		}
		tl.roles[e.Node] = append(tl.roles[e.Node], stamped{at: e.At, value: role})
	case trace.State:
		if e.Value == "fail" {
			tl.fails[e.Node] = append(tl.fails[e.Node], e.At)
		}
	}
}

func (tl *timeline) closePartition(at time.Duration) {
	if n := len(tl.parts); n > 0 && tl.parts[n-1].to == forever {
		tl.parts[n-1].to = at
	}
}

// at returns the last stamped value at or before t.
func at(ss []stamped, t time.Duration) (stamped, bool) {
	var last stamped
	ok := false
	for _, s := range ss {
		if s.at > t {
			break
		}
		last, ok = s, true
	}
	return last, ok
}

// cutOff returns the partition that had n in a minority at t.
func (tl *timeline) cutOff(n string, t time.Duration) (span, bool) {
	for _, p := range tl.parts {
		if p.from <= t && t < p.to && contains(p.minority, n) {
			return p, true
		}
	}
	return span{}, false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// covers reports whether a promotion took slot (any slot when slot < 0).
func (p promotion) covers(slot int) bool { return slot < 0 || inRanges(p.ranges, slot) }

// nextPromotion returns the first promotion after t that took slot from n.
func (tl *timeline) nextPromotion(n string, slot int, t time.Duration) (promotion, bool) {
	for _, p := range tl.promos {
		if p.at > t && p.from == n && p.covers(slot) {
			return p, true
		}
	}
	return promotion{}, false
}

// firstAfter returns the first time in ts after t (and at or before until).
func firstAfter(ts []time.Duration, t, until time.Duration) (time.Duration, bool) {
	for _, x := range ts {
		if x > t && x <= until {
			return x, true
		}
	}
	return 0, false
}

// firstIndexAfter is firstAfter's index, without a bound.
func firstIndexAfter(ts []time.Duration, t time.Duration) (int, bool) {
	for i, x := range ts {
		if x > t {
			return i, true
		}
	}
	return 0, false
}

func crashTimes(ss []stamped) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = s.at
	}
	return out
}

// describe says what n was at t: role, configEpoch and partition.
func (tl *timeline) describe(n string, t time.Duration) string {
	if n == "" {
		return "no node recorded"
	}
	var parts []string
	if r, ok := at(tl.roles[n], t); ok {
		parts = append(parts, n+" "+r.value)
	} else {
		parts = append(parts, n+" (not in the trace)")
	}
	if e, ok := at(tl.epochs[n], t); ok {
		parts = append(parts, fmt.Sprintf("configEpoch %d", e.epoch))
	} else {
		parts = append(parts, "boot configEpoch")
	}
	if p, ok := tl.cutOff(n, t); ok {
		parts = append(parts, "cut off in a minority since "+trace.FormatTime(p.from))
	}
	return strings.Join(parts, ", ")
}

// describePromotion renders a failover for explanations.
func describePromotion(p promotion) string {
	how := "elected"
	if p.takeover {
		how = "TAKEOVER, no agreement"
	}
	return fmt.Sprintf("%s promoted over %s at %s, configEpoch %d (%s), slots %s",
		p.node, p.from, trace.FormatTime(p.at), p.epoch, how, formatRanges(p.ranges))
}
