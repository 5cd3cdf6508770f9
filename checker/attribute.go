package checker

// Loss attribution: for each lost acknowledged write, the Redis Cluster
// mechanism that undid it, read from the trace around the node that
// acknowledged the write (history Op.Node). Redis replicates asynchronously
// (the master answers before replicas have the write), so every mechanism is
// some way for a node without the write to end up serving the slot.

import (
	"fmt"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// Mechanism names how an acknowledged write was lost.
type Mechanism string

// Mechanisms. What the trace can tell apart, and what it cannot, is stated on
// each; the trace records no replication offsets and no resyncs, so the
// attribution rests on faults, promotions, roles and the acknowledging node.
const (
	// MinorityMaster: the node acknowledged the write while a partition had
	// cut it off in a minority (before it stopped taking writes: Redis keeps
	// a minority master serving until it marks the cluster fail, about one
	// node timeout); the majority promoted a replica that never saw it.
	MinorityMaster Mechanism = "minority_master"
	// UnreplicatedAtCrash: the node acknowledged the write, crashed, and a
	// replica without it was promoted. Includes "a lower-offset replica won":
	// without offsets in the trace the two are indistinguishable.
	UnreplicatedAtCrash Mechanism = "unreplicated_at_crash"
	// UnreplicatedAtPartition: acknowledged before a partition cut the node
	// off (so not a minority write), not yet replicated when it did; a
	// replica without it was promoted. Same lower-offset caveat.
	UnreplicatedAtPartition Mechanism = "unreplicated_at_partition"
	// UnreplicatedAtFailover: a replica without the write was elected with
	// no crash or partition of the acknowledging node in between (a FORCE
	// manual failover, or a failover after a slow or paused master).
	UnreplicatedAtFailover Mechanism = "unreplicated_at_failover"
	// TakeoverWithoutAgreement: the slot's new master took it with CLUSTER
	// FAILOVER TAKEOVER (configEpoch bumped without a vote), before it had
	// the write.
	TakeoverWithoutAgreement Mechanism = "takeover_without_agreement"
	// ResyncDiscarded: the node crashed and restarted still master, with an
	// empty keyspace (nothing on its disk: no snapshot taken yet, or no
	// persistence), and its replicas resynced from it, discarding their copy.
	ResyncDiscarded Mechanism = "resync_discarded"
	// NotFsynced: as ResyncDiscarded, but the node restarted from its AOF
	// (appendonly yes), whose last fsync came before the write: a power
	// loss took the page cache with the rest.
	NotFsynced Mechanism = "not_fsynced"
	// AfterLastSnapshot: as ResyncDiscarded, but the node restarted from
	// its last RDB snapshot (the save points, or a full sync's file),
	// forked before the write.
	AfterLastSnapshot Mechanism = "after_last_snapshot"
	// Unexplained: the trace shows none of the above around the write (or
	// the op names no node). A checker or simulator bug is possible.
	Unexplained Mechanism = "unexplained"
	// NoTrace: the history came without a trace, so nothing is attributed.
	NoTrace Mechanism = "no_trace"
)

// LostWrite is a lost acknowledged write with its mechanism and the cluster
// events that show it.
type LostWrite struct {
	Op        history.Op `json:"op"`
	Mechanism Mechanism  `json:"mechanism"`
	Detail    string     `json:"detail"`
}

// AttributeLost attributes each lost write (from LostWrites) to a mechanism
// using the trace; with no trace every write is NoTrace.
func AttributeLost(lost []history.Op, events []trace.Event) []LostWrite {
	var tl *timeline
	if len(events) > 0 {
		tl = newTimeline(events)
	}
	return tl.attributeLost(lost)
}

// attributeLost is AttributeLost on the trace's timeline (nil: no trace).
func (tl *timeline) attributeLost(lost []history.Op) []LostWrite {
	out := make([]LostWrite, len(lost))
	if tl == nil {
		for i, op := range lost {
			out[i] = LostWrite{Op: op, Mechanism: NoTrace, Detail: "no trace given: mechanism not known"}
		}
		return out
	}
	for i, op := range lost {
		m, d := tl.attribute(op)
		out[i] = LostWrite{Op: op, Mechanism: m, Detail: d}
	}
	return out
}

// attribute decides one write's mechanism; the order of the checks is the
// order in which one mechanism excludes the next.
func (tl *timeline) attribute(op history.Op) (Mechanism, string) {
	n, ack := op.Node, op.Return
	if n == "" {
		return Unexplained, "the op names no acknowledging node"
	}
	ackd := fmt.Sprintf("acknowledged by %s at %s", n, trace.FormatTime(ack))
	p, promoted := tl.nextPromotion(n, op.Slot, ack)
	if cut, ok := tl.cutOff(n, ack); ok {
		d := fmt.Sprintf("%s while a partition at %s had cut it off in a minority (%s)", ackd, trace.FormatTime(cut.from), cut.value)
		if f, ok := firstAfter(tl.fails[n], cut.from, cut.to); ok {
			d += fmt.Sprintf("; %s stopped taking writes at %s (cluster_state fail)", n, trace.FormatTime(f))
		}
		if promoted {
			d += "; " + describePromotion(p)
		}
		if cut.to != forever {
			d += "; partition healed at " + trace.FormatTime(cut.to)
		}
		return MinorityMaster, d
	}
	if promoted {
		fo := describePromotion(p)
		if p.takeover {
			return TakeoverWithoutAgreement, ackd + "; " + fo
		}
		if c, ok := firstAfter(crashTimes(tl.crashes[n]), ack, p.at); ok {
			return UnreplicatedAtCrash, fmt.Sprintf("%s; %s crashed at %s; %s", ackd, n, trace.FormatTime(c), fo)
		}
		for _, s := range tl.parts {
			if s.from > ack && s.from <= p.at && contains(s.minority, n) {
				return UnreplicatedAtPartition, fmt.Sprintf("%s; a partition at %s cut %s off (%s); %s",
					ackd, trace.FormatTime(s.from), n, s.value, fo)
			}
		}
		return UnreplicatedAtFailover, ackd + "; no crash or partition of " + n + " before " + fo
	}
	if c, ok := firstAfter(crashTimes(tl.crashes[n]), ack, forever); ok {
		if i, ok := firstIndexAfter(tl.restarts[n], c); ok {
			return restartLoss(ackd, n, ack, c, tl.restarts[n][i], tl.loads[n][i])
		}
		return UnreplicatedAtCrash, fmt.Sprintf("%s; %s crashed at %s and no replica took its slot", ackd, n, trace.FormatTime(c))
	}
	return Unexplained, ackd + "; no crash, partition or failover of " + n + " after it"
}

// restartLoss names what a crash at c and a restart at r (loading d) lost
// of a write acknowledged at ack.
func restartLoss(ackd, n string, ack, c, r time.Duration, d trace.Detail) (Mechanism, string) {
	const tail = ", still master, and its replicas resynced from it"
	switch {
	case d.Source == "aof" && d.Through < ack:
		return NotFsynced, fmt.Sprintf("%s; %s crashed at %s and restarted at %s from its AOF, not yet fsynced after %s%s",
			ackd, n, trace.FormatTime(c), trace.FormatTime(r), trace.FormatTime(d.Through), tail)
	case d.Source == "rdb" && d.Through < ack:
		return AfterLastSnapshot, fmt.Sprintf("%s; %s crashed at %s and restarted at %s from its last snapshot, taken at %s "+
			"(after the last snapshot)%s", ackd, n, trace.FormatTime(c), trace.FormatTime(r), trace.FormatTime(d.Through), tail)
	case d.Source != "":
		return ResyncDiscarded, fmt.Sprintf("%s; %s crashed at %s and restarted at %s from its %s of %s%s",
			ackd, n, trace.FormatTime(c), trace.FormatTime(r), d.Source, trace.FormatTime(d.Through), tail)
	}
	return ResyncDiscarded, fmt.Sprintf("%s; %s crashed at %s and restarted at %s with an empty keyspace%s",
		ackd, n, trace.FormatTime(c), trace.FormatTime(r), tail)
}

// CountByMechanism counts lost writes per mechanism.
func CountByMechanism(lost []LostWrite) map[Mechanism]int {
	out := map[Mechanism]int{}
	for _, l := range lost {
		out[l.Mechanism]++
	}
	return out
}
