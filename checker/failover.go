package checker

// Failover timings: for each fault that takes a master away, how long until
// the cluster suspected it, agreed it failed, promoted a replica, went back
// to state ok, and served a write to the lost slots again.

import (
	"cmp"
	"slices"
	"time"

	"rcsim/checker/history"
	"rcsim/node/trace"
)

// Failover is the timeline of one master's failure. Durations are whole
// milliseconds after the fault; nil when the step never happened.
type Failover struct {
	FailedNode string `json:"failed_node"`
	FaultAtMs  int64  `json:"fault_at_ms"` // virtual time of the crash or partition
	// PFailMs: the first PFail about the node, by any observer.
	PFailMs *int64 `json:"pfail_ms"`
	// FailMs: the first Fail about the node.
	FailMs *int64 `json:"fail_ms"`
	// ElectionMs: the first ElectionStart, after the fault, of the replica
	// that was promoted (its failed attempts count as election time).
	ElectionMs *int64 `json:"election_ms"`
	// PromotedMs: the first Promoted whose Peer is the node.
	PromotedMs *int64 `json:"promoted_ms"`
	// ClusterOKMs: the first moment at or after the promotion when every live
	// node's latest State is "ok".
	ClusterOKMs *int64 `json:"cluster_ok_ms"`
	// WritesResumedMs: the return of the first ok write to a slot the node
	// owned, invoked after the fault and returned after the promotion.
	WritesResumedMs *int64 `json:"writes_resumed_ms"`
	PromotedNode    string `json:"promoted_node"` // "" when no promotion
}

// slotRange is an inclusive range of hash slots.
type slotRange = trace.SlotRange

// detailOf is e's typed detail (zero when the event carries none, as one
// built by hand without trace.Decode).
func detailOf(e trace.Event) trace.Detail {
	if e.Detail == nil {
		return trace.Detail{}
	}
	return *e.Detail
}

// slotsOf is the slot ranges an event carries (Boot of a master, Promoted,
// Slots, SetSlot), from its typed detail.
func slotsOf(e trace.Event) []slotRange { return detailOf(e).Slots }

// bootsMaster reports whether a Boot event starts a master (its detail
// carries the master's slots).
func bootsMaster(e trace.Event) bool { return e.Kind == trace.Boot && e.Detail != nil }

func inRanges(rs []slotRange, slot int) bool {
	for _, r := range rs {
		if slot >= r.Start && slot <= r.End {
			return true
		}
	}
	return false
}

// world is the checker's running picture of the cluster, built from the
// trace one event at a time.
type world struct {
	nodes   []string // from Boot, in order
	master  map[string]bool
	owns    map[string][]slotRange // slots each master owns (Boot, Promoted)
	crashed map[string]bool
	state   map[string]string // latest State per node; "fail" at boot
	cut     map[string]bool   // nodes a partition left without a majority of masters
	removed map[string]bool   // nodes a del_node admin step took out of the cluster
}

func newWorld() *world {
	return &world{master: map[string]bool{}, owns: map[string][]slotRange{},
		crashed: map[string]bool{}, state: map[string]string{}, cut: map[string]bool{}, removed: map[string]bool{}}
}

// apply updates the picture with e.
func (w *world) apply(e trace.Event) {
	switch e.Kind {
	case trace.Boot:
		w.nodes = append(w.nodes, e.Node)
		w.state[e.Node] = "fail"
		if bootsMaster(e) {
			w.master[e.Node] = true
			w.owns[e.Node] = slotsOf(e)
		}
	case trace.Crash:
		w.crashed[e.Node] = true
	case trace.Restart:
		w.crashed[e.Node] = false
		w.state[e.Node] = "fail"
	case trace.State:
		w.state[e.Node] = e.Value
	case trace.Partition:
		clear(w.cut)
		for _, n := range w.minority(detailOf(e).Groups) {
			w.cut[n] = true
		}
	case trace.Heal:
		clear(w.cut)
	case trace.Admin:
		// del_node s0 ended ok: s0 left the cluster; after its CLUSTER RESET
		// it is a lone master in state fail, which says nothing of the cluster.
		if d := detailOf(e); d.Step == "del_node" && d.Outcome == trace.StepOK && len(d.Names) == 1 {
			w.removed[d.Names[0]] = true
		}
	case trace.Role:
		w.master[e.Node] = e.Value == "master"
	case trace.Promoted:
		w.master[e.Node] = true
		w.owns[e.Node] = slotsOf(e)
		delete(w.owns, e.Peer)
	}
}

// member reports whether n is running and still part of the cluster.
func (w *world) member(n string) bool { return !w.crashed[n] && !w.removed[n] }

// allOK reports whether every live booted node's latest state is ok, leaving
// out nodes a partition cut off from the majority: Redis keeps those in state
// fail on purpose until the partition heals.
func (w *world) allOK() bool {
	for _, n := range w.nodes {
		if w.member(n) && !w.cut[n] && w.state[n] != "ok" {
			return false
		}
	}
	return true
}

// isolated returns the live masters that a partition's groups leave in a
// group without a majority of the masters.
func (w *world) isolated(groups [][]string) []string {
	var out []string
	for _, n := range w.minority(groups) {
		if w.master[n] && !w.crashed[n] {
			out = append(out, n)
		}
	}
	return out
}

// minority returns the booted nodes, masters or not, in the groups of a
// partition that hold no majority of the masters.
func (w *world) minority(groups [][]string) []string {
	total := 0
	for _, n := range w.nodes {
		if w.master[n] {
			total++
		}
	}
	var out []string
	for _, group := range groups {
		var masters []string
		for _, n := range group {
			if w.master[n] && !w.crashed[n] {
				masters = append(masters, n)
			}
		}
		if len(masters) < total/2+1 {
			for _, n := range group {
				if slices.Contains(w.nodes, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// Failovers finds every failover in a run: a Crash of a node that is a master
// at that moment, or a Partition that leaves a master in a group without a
// majority of the masters (roles tracked through Boot, Role and Promoted).
// A master already being failed over starts no second failover until it is
// promoted away. Other faults (pause, one-way, flap, loss, slow, clock,
// reset) may or may not cost a master its slots, so they count only in
// hindsight: a Promoted over a master with no failover open is a failover
// that started at the latest such fault naming that master. Steps are
// measured as documented on Failover; ops supply the write that resumed
// service.
func Failovers(events []trace.Event, ops []history.Op) []Failover {
	type started struct {
		f     Failover
		at    time.Duration
		owned []slotRange
	}
	w := newWorld()
	var found []started
	open := map[string]bool{}    // failed node -> awaiting promotion
	cand := map[string]started{} // master -> the latest other fault naming it
	for _, e := range events {
		w.apply(e)
		var victims []string
		switch e.Kind {
		case trace.Crash:
			if w.master[e.Node] {
				victims = []string{e.Node}
			}
		case trace.Partition:
			victims = w.isolated(detailOf(e).Groups)
		case trace.Fault:
			for _, m := range w.faultMasters(e) {
				cand[m] = started{Failover{FailedNode: m, FaultAtMs: e.At.Milliseconds()}, e.At, w.owns[m]}
			}
		}
		for _, v := range victims {
			if open[v] {
				continue
			}
			open[v] = true
			found = append(found, started{Failover{FailedNode: v, FaultAtMs: e.At.Milliseconds()}, e.At, w.owns[v]})
		}
		if e.Kind == trace.Promoted {
			if c, ok := cand[e.Peer]; ok && !open[e.Peer] {
				found = append(found, c)
			}
			delete(open, e.Peer)
			delete(cand, e.Peer)
		}
	}
	slices.SortStableFunc(found, func(a, b started) int { return cmp.Compare(a.at, b.at) })
	out := make([]Failover, len(found))
	for i := range found {
		out[i] = found[i].f
		measure(&out[i], found[i].at, found[i].owned, events, ops)
	}
	return out
}

// faultMasters returns the live masters a Fault event names that could lose
// their slots over it: the node of a node fault (pause, slow, clock), the
// endpoints of a link fault (one-way, flap, loss, reset). Ends (resume, an
// end, a flapping link coming up) name nobody.
func (w *world) faultMasters(e trace.Event) []string {
	if detailOf(e).End {
		return nil
	}
	names := detailOf(e).Names
	if e.Node != "" {
		names = []string{e.Node}
	}
	var out []string
	for _, n := range names {
		if w.master[n] && !w.crashed[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// measure fills f's steps from the events after the fault.
func measure(f *Failover, at time.Duration, owned []slotRange, events []trace.Event, ops []history.Op) {
	ms := func(t time.Duration) *int64 { v := (t - at).Milliseconds(); return &v }
	w := newWorld()
	var promotedAt time.Duration
	elections := map[string]time.Duration{} // first ElectionStart per replica
	for _, e := range events {
		w.apply(e)
		if e.At < at {
			continue
		}
		switch {
		case e.Kind == trace.PFail && e.Peer == f.FailedNode && f.PFailMs == nil:
			f.PFailMs = ms(e.At)
		case e.Kind == trace.Fail && e.Peer == f.FailedNode && f.FailMs == nil:
			f.FailMs = ms(e.At)
		case e.Kind == trace.ElectionStart && f.PromotedMs == nil:
			if _, seen := elections[e.Node]; !seen {
				elections[e.Node] = e.At
			}
		case e.Kind == trace.Promoted && e.Peer == f.FailedNode && f.PromotedMs == nil:
			f.PromotedMs, f.PromotedNode, promotedAt = ms(e.At), e.Node, e.At
			if t, ok := elections[e.Node]; ok {
				f.ElectionMs = ms(t)
			}
		}
		if f.PromotedMs != nil && f.ClusterOKMs == nil && w.allOK() {
			f.ClusterOKMs = ms(e.At)
		}
	}
	if f.PromotedMs == nil {
		return
	}
	var best *history.Op
	for i, op := range ops {
		if op.Status != history.OK || !IsWrite(op.Kind) || op.Invoke < at || op.Return < promotedAt ||
			!inRanges(owned, op.Slot) {
			continue
		}
		if best == nil || op.Return < best.Return {
			best = &ops[i]
		}
	}
	if best != nil {
		f.WritesResumedMs = ms(best.Return)
	}
}
