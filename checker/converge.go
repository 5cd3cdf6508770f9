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

	"github.com/rcsim/rcsim/node/trace"
)

const numSlots = 16384 // CLUSTER_SLOTS

// views tracks each node's belief of the owner of every slot, with a hash
// of each view kept as slots move, so that "do all live nodes agree" costs
// one comparison per node instead of 16384 (at 2,000 nodes a trace has
// hundreds of thousands of moments to judge). A view holds owners by
// number (owners, 0 being unowned): a quarter of the memory of names, and
// a move hashes each owner once instead of once per slot.
type views struct {
	boot     []owner            // owner per slot from the Boot events
	of       map[string][]owner // per node, created from boot at its first change
	bootHash uint64
	hash     map[string]uint64 // per node with its own view
	owners   ownerNames
	hashes   []uint64 // ownerHash of each owner's name, by number
}

// owner is a slot owner's number in an ownerNames (views, invState), 0
// being none: a slot table of them is a quarter of the size of one of names.
type owner int32

// ownerNames numbers the nodes that own slots, by first use; 0 is ""
// (none).
type ownerNames struct {
	names  []string // by number
	number map[string]owner
}

func newOwnerNames() ownerNames {
	return ownerNames{names: []string{""}, number: map[string]owner{"": 0}}
}

// of is name's number, given one at its first use.
func (t *ownerNames) of(name string) owner {
	o, ok := t.number[name]
	if !ok {
		o = owner(len(t.names))
		t.number[name] = o
		t.names = append(t.names, name)
	}
	return o
}

func newViews() *views {
	return &views{boot: make([]owner, numSlots), of: map[string][]owner{}, hash: map[string]uint64{},
		owners: newOwnerNames(), hashes: []uint64{ownerHash("")}}
}

func (v *views) view(n string) []owner {
	if v.of[n] == nil {
		v.of[n] = slices.Clone(v.boot)
		v.hash[n] = v.bootHash
	}
	return v.of[n]
}

// numberOf is name's owner number, given one at its first use.
func (v *views) numberOf(name string) owner {
	o := v.owners.of(name)
	if int(o) == len(v.hashes) {
		v.hashes = append(v.hashes, ownerHash(name))
	}
	return o
}

// nameOf is the node a view's slot names ("" unowned).
func (v *views) nameOf(o owner) string { return v.owners.names[o] }

// viewOf is n's view, the boot view until its first change.
func (v *views) viewOf(n string) []owner {
	if view := v.of[n]; view != nil {
		return view
	}
	return v.boot
}

// hashOf is the hash of n's view.
func (v *views) hashOf(n string) uint64 {
	if h, ok := v.hash[n]; ok {
		return h
	}
	return v.bootHash
}

// assign binds the slots rs to the node named to in n's view ("" for the
// boot view).
func (v *views) assign(n string, rs []slotRange, to string) {
	view, h := v.boot, &v.bootHash
	if n != "" {
		view = v.view(n)
		x := v.hash[n]
		h = &x
		defer func() { v.hash[n] = x }()
	}
	o := v.numberOf(to)
	oh := v.hashes[o]
	for _, r := range rs {
		for s := max(r.Start, 0); s <= min(r.End, numSlots-1); s++ {
			*h += slotHash(s, oh) - slotHash(s, v.hashes[view[s]])
			view[s] = o
		}
	}
}

// ownerHash is FNV-1a of an owner's name.
func ownerHash(owner string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(owner); i++ {
		h = (h ^ uint64(owner[i])) * 1099511628211
	}
	return h
}

// slotHash mixes a slot and its owner's hash (splitmix64's finalizer); a
// view's hash is the sum over its slots, so a move updates it in O(1).
func slotHash(s int, owner uint64) uint64 {
	z := owner ^ (uint64(s)+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// apply updates the views with e.
func (v *views) apply(e trace.Event) {
	switch e.Kind {
	case trace.Boot:
		if bootsMaster(e) {
			v.assign("", slotsOf(e), e.Node)
		}
	case trace.Promoted:
		v.assign(e.Node, slotsOf(e), e.Node)
	case trace.Slots:
		v.assign(e.Node, slotsOf(e), e.Peer)
	case trace.SetSlot:
		// CLUSTER SETSLOT NODE bound the slot to Peer here
		// (clusterCommandSetSlot); no Slots event follows on this node.
		if detailOf(e).Action == "node" {
			v.assign(e.Node, slotsOf(e), e.Peer)
		}
	case trace.Role:
		if e.Value == "replica" && e.Peer != "" {
			var mine []slotRange
			me := v.numberOf(e.Node)
			for s, o := range v.view(e.Node) {
				if o == me {
					mine = append(mine, slotRange{Start: s, End: s})
				}
			}
			v.assign(e.Node, mine, e.Peer)
		}
	}
}

// disagreement describes the first slot on which two live nodes disagree,
// or "" when all agree.
func (v *views) disagreement(w *world) string {
	var first string
	var ref []owner
	for _, n := range w.nodes {
		if !w.member(n) {
			continue
		}
		view := v.viewOf(n)
		if ref == nil {
			first, ref = n, view
			continue
		}
		for s := range ref {
			if ref[s] != view[s] {
				return fmt.Sprintf("%s and %s disagree on slot %d (%s vs %s)", first, n, s,
					show(v.nameOf(ref[s])), show(v.nameOf(view[s])))
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
// slot is served. ref is the view all live nodes share, its owners named
// by v.
func (w *world) unserved(v *views, ref []owner) string {
	for s, n := range ref {
		switch o := v.nameOf(n); {
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
			return w.unserved(v, v.viewOf(n))
		}
	}
	return "no live node"
}

// converger is the convergence stage: it judges each moment at or after
// the last fault or admin step's end, after all of the moment's events.
// A moment is judged again only after an event that can change the answer
// (a state, role or slot change, a crash, restart or admin step), and with
// the cheap test quickSettled; the reason is worked out once, at the end, by
// replaying the trace to the last moment that was not settled.
type converger struct {
	lastFault time.Duration
	v         *views
	q         quick
	at        time.Duration
	ok        bool
	lastBad   int // index of the last event of the last unsettled moment, or -1
	dirty     bool
	now       bool
	why       string // the reason at lastBad, once result worked it out
}

func newConverger(events []trace.Event) *converger {
	return &converger{lastFault: lastDisturbance(events), v: newViews(), lastBad: -1, dirty: true}
}

func (c *converger) see(events []trace.Event, i int, w *world) {
	e := events[i]
	c.v.apply(e)
	c.dirty = c.dirty || changesSettled(e.Kind)
	if e.Kind == trace.Crash || e.Kind == trace.Restart || e.Kind == trace.Admin {
		c.q.gen++ // the live set may have changed: check the served slots again
	}
	if e.At < c.lastFault || i+1 < len(events) && events[i+1].At == e.At {
		return // judge a moment after all its events
	}
	if c.dirty {
		c.now, c.dirty = c.q.settled(w, c.v), false
	}
	switch {
	case !c.now:
		c.ok, c.lastBad = false, i
	case !c.ok:
		c.ok, c.at = true, e.At
	}
}

// result returns the time of the last fault or admin step's end, the first
// moment at or after it from which the cluster stayed converged (settled)
// to the end of the trace (ok is false if it never did), and why it was not
// converged at the last moment it was not.
func (c *converger) result(events []trace.Event) (lastFault, at time.Duration, ok bool, why string) {
	if c.ok {
		return c.lastFault, c.at, true, ""
	}
	if c.lastBad < 0 {
		return c.lastFault, 0, false, "no events after the last fault or admin step"
	}
	if c.why == "" {
		w, v := newWorld(), newViews()
		for _, e := range events[:c.lastBad+1] {
			w.apply(e)
			v.apply(e)
		}
		if c.why = settled(w, v); c.why == "" {
			c.why = "no events after the last fault or admin step" // only on a hash collision (see quick)
		}
	}
	return c.lastFault, 0, false, c.why
}

// convergence is the converger's result over events (see result).
func convergence(events []trace.Event) (lastFault, at time.Duration, ok bool, why string) {
	c := newConverger(events)
	walk(events, c)
	return c.result(events)
}

// changesSettled reports whether an event of kind k can change settled.
func changesSettled(k trace.Kind) bool {
	switch k {
	case trace.Boot, trace.Crash, trace.Restart, trace.State, trace.Admin,
		trace.Promoted, trace.Slots, trace.SetSlot, trace.Role:
		return true
	}
	return false
}

// quick is settled without its explanation: view hashes instead of slot
// by slot comparisons, and the served check redone only when the shared
// view or the set of live nodes changed. Two views with the same hash are
// taken as equal (a 64-bit sum of mixed slot hashes: a false match is
// astronomically unlikely, and the explanation, worked out slot by slot,
// would still name a real disagreement).
type quick struct {
	refHash  uint64
	gen      int // bumped by every crash, restart and admin step
	checked  bool
	served   bool
	checkGen int
}

func (q *quick) settled(w *world, v *views) bool {
	ref := ""
	for _, n := range w.nodes {
		if !w.member(n) {
			continue
		}
		if w.state[n] != "ok" {
			return false
		}
		if ref == "" {
			ref = n
		} else if v.hashOf(n) != v.hashOf(ref) {
			return false
		}
	}
	if ref == "" {
		return false
	}
	if h := v.hashOf(ref); !q.checked || h != q.refHash || q.gen != q.checkGen {
		q.refHash, q.checkGen, q.checked, q.served = h, q.gen, true, w.unserved(v, v.viewOf(ref)) == ""
	}
	return q.served
}
