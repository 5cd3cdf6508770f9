package checker

// Failover timings: for each fault that takes a master away, how long until
// the cluster suspected it, agreed it failed, promoted a replica, went back
// to state ok, and served a write to the lost slots again.

import (
	"cmp"
	"slices"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
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
	fo := newFailoverStage()
	walk(events, fo)
	return fo.failovers(events, ops)
}

// failoverStage finds failovers (see Failovers) and measures each from its
// fault on, in the shared walk. A fault that counts only in hindsight is
// measured from the start as a candidate, kept if a Promoted confirms it.
type failoverStage struct {
	found []*measurer
	open  map[string]bool      // failed node -> awaiting promotion
	cand  map[string]*measurer // master -> the latest other fault naming it
	live  []*measurer          // found or candidate, still measuring
	start int                  // index of the first event of the current moment
}

func newFailoverStage() *failoverStage {
	return &failoverStage{open: map[string]bool{}, cand: map[string]*measurer{}}
}

func (fo *failoverStage) see(events []trace.Event, i int, w *world) {
	e := events[i]
	if i == 0 || events[i-1].At != e.At {
		fo.start = i
	}
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
			fo.cand[m] = fo.begin(m, e.At, w.owns[m], events, i)
		}
	}
	for _, v := range victims {
		if fo.open[v] {
			continue
		}
		fo.open[v] = true
		m := fo.begin(v, e.At, w.owns[v], events, i)
		m.confirmed = true
		fo.found = append(fo.found, m)
	}
	if e.Kind == trace.Promoted {
		if c, ok := fo.cand[e.Peer]; ok && !fo.open[e.Peer] {
			c.confirmed = true
			fo.found = append(fo.found, c)
		}
		delete(fo.open, e.Peer)
		delete(fo.cand, e.Peer)
	}
	kept := fo.live[:0]
	for _, m := range fo.live {
		if !m.dropped(fo) {
			m.see(e, w)
			kept = append(kept, m)
		}
	}
	clear(fo.live[len(kept):])
	fo.live = kept
}

// begin starts measuring a failover of node at the fault at events[i]. The
// steps count from every event at the fault's time, so the moment's earlier
// events are fed first.
func (fo *failoverStage) begin(node string, at time.Duration, owned []slotRange, events []trace.Event, i int) *measurer {
	m := &measurer{f: Failover{FailedNode: node, FaultAtMs: at.Milliseconds()}, at: at, owned: owned,
		elections: map[string]time.Duration{}}
	for _, e := range events[fo.start:i] {
		if e.Kind == trace.Promoted && e.Peer == node {
			// A promotion over the node before its fault in the same moment:
			// the cluster's state after each of those events is gone, so
			// measure this one on its own replay.
			m.ownReplay = true
			return m
		}
		m.see(e, nil)
	}
	fo.live = append(fo.live, m)
	return m
}

// failovers returns the failovers found, ordered by fault time, with the
// writes that resumed service taken from ops.
func (fo *failoverStage) failovers(events []trace.Event, ops []history.Op) []Failover {
	found := slices.Clone(fo.found)
	slices.SortStableFunc(found, func(a, b *measurer) int { return cmp.Compare(a.at, b.at) })
	out := make([]Failover, len(found))
	for i, m := range found {
		if m.ownReplay {
			m = replayMeasure(m, events)
		}
		out[i] = m.f
		m.resumed(&out[i], ops)
	}
	return out
}

// measurer fills one failover's steps from the events after its fault.
type measurer struct {
	f          Failover
	at         time.Duration
	owned      []slotRange
	promotedAt time.Duration
	elections  map[string]time.Duration // first ElectionStart per replica
	ownReplay  bool                     // measure on a replay of its own (see begin)
	confirmed  bool                     // a failover found, not a candidate
}

// dropped reports whether m measures nothing more: a candidate that a later
// fault replaced or a promotion discarded, or a failover whose every step
// is known.
func (m *measurer) dropped(fo *failoverStage) bool {
	if f := m.f; f.PFailMs != nil && f.FailMs != nil && f.ClusterOKMs != nil {
		return true // ClusterOKMs comes after PromotedMs and ElectionMs
	}
	return !m.confirmed && fo.cand[m.f.FailedNode] != m
}

// see applies one event at or after the fault; w is the cluster after it
// (nil while the fault's moment is fed before the fault).
func (m *measurer) see(e trace.Event, w *world) {
	f := &m.f
	ms := func(t time.Duration) *int64 { v := (t - m.at).Milliseconds(); return &v }
	switch {
	case e.Kind == trace.PFail && e.Peer == f.FailedNode && f.PFailMs == nil:
		f.PFailMs = ms(e.At)
	case e.Kind == trace.Fail && e.Peer == f.FailedNode && f.FailMs == nil:
		f.FailMs = ms(e.At)
	case e.Kind == trace.ElectionStart && f.PromotedMs == nil:
		if _, seen := m.elections[e.Node]; !seen {
			m.elections[e.Node] = e.At
		}
	case e.Kind == trace.Promoted && e.Peer == f.FailedNode && f.PromotedMs == nil:
		f.PromotedMs, f.PromotedNode, m.promotedAt = ms(e.At), e.Node, e.At
		if t, ok := m.elections[e.Node]; ok {
			f.ElectionMs = ms(t)
		}
	}
	if w != nil && f.PromotedMs != nil && f.ClusterOKMs == nil && w.allOK() {
		f.ClusterOKMs = ms(e.At)
	}
}

// replayMeasure measures m's failover on a replay of its own from the start.
func replayMeasure(m *measurer, events []trace.Event) *measurer {
	r := &measurer{f: Failover{FailedNode: m.f.FailedNode, FaultAtMs: m.f.FaultAtMs}, at: m.at, owned: m.owned,
		elections: map[string]time.Duration{}}
	w := newWorld()
	for _, e := range events {
		w.apply(e)
		if e.At >= m.at {
			r.see(e, w)
		}
	}
	return r
}

// resumed sets f.WritesResumedMs from the first ok write to the node's
// slots invoked after the fault and returned after the promotion.
func (m *measurer) resumed(f *Failover, ops []history.Op) {
	if f.PromotedMs == nil {
		return
	}
	var best *history.Op
	for i, op := range ops {
		if op.Status != history.OK || !IsWrite(op.Kind) || op.Invoke < m.at || op.Return < m.promotedAt ||
			!inRanges(m.owned, op.Slot) {
			continue
		}
		if best == nil || op.Return < best.Return {
			best = &ops[i]
		}
	}
	if best != nil {
		v := (best.Return - m.at).Milliseconds()
		f.WritesResumedMs = &v
	}
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
