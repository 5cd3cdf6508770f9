package node

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/rcsim/rcsim/node/trace"
	"pgregory.net/rapid"
)

// refUpdateSlotsConfigWith is updateSlotsConfigWith as Redis writes it, one
// slot at a time through delSlot and addSlot: the reference the word-wise
// version must match.
func (n *Node) refUpdateSlotsConfigWith(sender *peer, epoch uint64, claimed *SlotSet) {
	if sender == n.myself {
		return
	}
	cur := n.myself
	if cur.is(FlagSlave) {
		cur = n.myself.master
	}
	var newMaster *peer
	migrated, senderSlots := 0, 0
	var moved, dirty SlotSet
	for s := 0; s < NumSlots; s++ {
		owner := n.slots.owner(s)
		if !claimed.Has(s) {
			if owner == sender {
				n.notClaiming.Add(s)
			}
			continue
		}
		senderSlots++
		if owner == sender {
			n.notClaiming.Del(s)
			continue
		}
		if n.importingFrom(s) != nil {
			continue
		}
		if owner == nil || owner.configEpoch < epoch || n.notClaiming.Has(s) {
			if owner == n.myself && n.db.countKeysInSlot(s) > 0 {
				dirty.Add(s)
			}
			if owner != nil && owner == cur {
				newMaster = sender
				migrated++
			}
			n.delSlot(s)
			n.addSlot(sender, s)
			moved.Add(s)
			n.doBeforeSleep(todoUpdateState | todoSaveConfig)
		}
	}
	if rs := moved.Ranges(); len(rs) > 0 {
		n.emitSlots(trace.Slots, sender, epoch, rs)
	}
	switch {
	case newMaster != nil && cur.numSlots == 0 &&
		(n.cfg.AllowReplicaMigration || senderSlots == migrated):
		n.setMaster(sender)
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	case n.myself.master != nil && n.myself.master.master != nil && n.myself.master.master != n.myself:
		n.setMaster(n.myself.master.master)
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	default:
		for s := 0; s < NumSlots; s++ {
			if dirty.Has(s) {
				n.db.delKeysInSlot(s)
			}
		}
	}
}

// TestUpdateSlotsConfigWithWordwise: on random slot tables, claims, epochs
// and not-claiming marks, the word-wise clusterUpdateSlotsConfigWith leaves
// every slot, bitmap, count and output as the slot-by-slot one does.
func TestUpdateSlotsConfigWithWordwise(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		self := rapid.IntRange(1, 6).Draw(t, "self")
		nodes := [2]*Node{}
		outs := [2]*Output{}
		seed := rapid.Uint64().Draw(t, "seed")
		// How the table departs from the cluster's even ranges: an eighth
		// of the slots rebound at random, or a quarter of the words each
		// rebound whole to one owner (the word-wise paths' case), or none.
		mode := rapid.IntRange(0, 2).Draw(t, "mode")
		for k := range nodes {
			n := New(Config{}, tid(self), members(), rand.NewPCG(1, 2))
			rnd := newSplitmix(seed)
			o := 0
			for s := 0; s < NumSlots; s++ {
				if s%64 == 0 && mode == 1 {
					o = -1
					if rnd.next()%4 == 0 {
						o = int(rnd.next() % 8)
					}
				}
				if mode == 0 && rnd.next()%8 == 0 || mode == 1 && o >= 0 {
					n.delSlot(s)
					if o := int(rnd.next() % 8); mode == 0 && o < len(n.nodes) {
						n.addSlot(n.nodes[o], s)
					}
					if mode == 1 && o < len(n.nodes) {
						n.addSlot(n.nodes[o], s)
					}
				}
				if rnd.next()%16 == 0 {
					n.notClaiming.Add(s)
				}
			}
			for _, p := range n.nodes {
				p.configEpoch = rnd.next() % 8
			}
			var claimed SlotSet
			for w := range claimed {
				switch rnd.next() % 3 {
				case 0:
					claimed[w] = rnd.next()
				case 1:
					claimed[w] = ^uint64(0)
				}
			}
			sender := n.nodes[int(rnd.next()%uint64(len(n.nodes)))]
			epoch := rnd.next() % 8
			nodes[k] = n
			if k == 0 {
				outs[k] = n.at(0, func() { n.updateSlotsConfigWith(sender, epoch, &claimed) })
			} else {
				outs[k] = n.at(0, func() { n.refUpdateSlotsConfigWith(sender, epoch, &claimed) })
			}
		}
		a, b := nodes[0], nodes[1]
		for s := 0; s < NumSlots; s++ {
			oa, ob := a.slots.owner(s), b.slots.owner(s)
			if (oa == nil) != (ob == nil) || oa != nil && oa.id != ob.id {
				t.Fatalf("slot %d: owner %v, want %v", s, oa, ob)
			}
		}
		if a.notClaiming != b.notClaiming || a.slots.bound != b.slots.bound {
			t.Fatalf("notClaiming or bound count differ")
		}
		for i := range a.nodes {
			pa, pb := a.nodes[i], b.nodes[i]
			if *pa.slots != *pb.slots || pa.numSlots != pb.numSlots || int(pa.numSlots) != pa.slots.Count() {
				t.Fatalf("%s: slots differ (%d, %d)", pa.id, pa.numSlots, pb.numSlots)
			}
		}
		if !reflect.DeepEqual(outs[0].Events, outs[1].Events) {
			t.Fatalf("events %v, want %v", outs[0].Events, outs[1].Events)
		}
	})
}

// refFailoverReplaceYourMaster is clusterFailoverReplaceYourMaster as Redis
// writes it, delSlot and addSlot on each slot the old master owns: the
// reference the word-wise version must match.
func (n *Node) refFailoverReplaceYourMaster() {
	me := n.myself
	old := me.master
	if me.is(FlagMaster) || old == nil {
		return
	}
	n.setNodeAsMaster(me)
	n.replicationUnsetMaster()
	var taken SlotSet
	for s := 0; s < NumSlots; s++ {
		if n.slots.owner(s) == old {
			n.delSlot(s)
			n.addSlot(me, s)
			taken.Add(s)
		}
	}
	n.emitSlots(trace.Promoted, old, me.configEpoch, taken.Ranges())
	n.emit(trace.Role, nil, 0, "master")
	me.flags &^= FlagMyPrimaryFail
	n.fullSyncPending = false
	n.updateState()
	n.doBeforeSleep(todoSaveConfig)
	n.broadcastPong(false)
	n.resetManualFailover()
}

// TestFailoverReplaceYourMasterWordwise: a promoted replica takes its old
// master's slots a word at a time exactly as slot by slot, on random tables
// (the master's slots scattered, in whole words, or its boot range) with
// random not-claiming marks: the same owners, bitmaps, counts and events.
func TestFailoverReplaceYourMasterWordwise(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		self := rapid.IntRange(4, 6).Draw(t, "self")
		seed := rapid.Uint64().Draw(t, "seed")
		mode := rapid.IntRange(0, 2).Draw(t, "mode")
		nodes := [2]*Node{}
		outs := [2]*Output{}
		for k := range nodes {
			n := New(testCfg(), tid(self), members(), rand.NewPCG(1, 2))
			rnd := newSplitmix(seed)
			o := -1
			for s := 0; s < NumSlots; s++ {
				if s%64 == 0 {
					o = -1
					if mode == 1 && rnd.next()%3 == 0 {
						o = int(rnd.next() % 4) // 3: unbound
					}
				}
				if mode == 0 && rnd.next()%8 == 0 {
					o = int(rnd.next() % 4)
				}
				if o >= 0 {
					n.delSlot(s)
					if o < 3 {
						n.addSlot(n.byID[tid(o+1)], s)
					}
					if mode == 0 {
						o = -1
					}
				}
				if rnd.next()%16 == 0 {
					n.notClaiming.Add(s)
				}
			}
			nodes[k] = n
			if k == 0 {
				outs[k] = n.at(0, n.failoverReplaceYourMaster)
			} else {
				outs[k] = n.at(0, n.refFailoverReplaceYourMaster)
			}
		}
		a, b := nodes[0], nodes[1]
		for s := 0; s < NumSlots; s++ {
			oa, ob := a.slots.owner(s), b.slots.owner(s)
			if (oa == nil) != (ob == nil) || oa != nil && oa.id != ob.id {
				t.Fatalf("slot %d: owner %v, want %v", s, oa, ob)
			}
		}
		if a.notClaiming != b.notClaiming || a.slots.bound != b.slots.bound {
			t.Fatalf("notClaiming or bound count differ")
		}
		for i := range a.nodes {
			pa, pb := a.nodes[i], b.nodes[i]
			if *pa.slots != *pb.slots || pa.numSlots != pb.numSlots || int(pa.numSlots) != pa.slots.Count() {
				t.Fatalf("%s: slots differ (%d, %d)", pa.id, pa.numSlots, pb.numSlots)
			}
		}
		if !reflect.DeepEqual(outs[0].Events, outs[1].Events) || len(outs[0].Msgs) != len(outs[1].Msgs) || outs[0].Save != outs[1].Save {
			t.Fatalf("events %v, want %v", outs[0].Events, outs[1].Events)
		}
	})
}

// TestAddUnboundWordwise: addUnbound binds to p exactly the slots of its
// range that addSlot on each unbound slot would, with the same counts,
// whatever the range (clipped to the slot space) and the slots bound before.
func TestAddUnboundWordwise(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		lo := rapid.IntRange(-100, NumSlots+100).Draw(t, "lo")
		hi := rapid.IntRange(-100, NumSlots+100).Draw(t, "hi")
		if rapid.Bool().Draw(t, "whole") {
			lo, hi = 0, NumSlots-1
		}
		nodes := [2]*Node{}
		for k := range nodes {
			n := newNode(Config{}, tid(1), rand.NewPCG(1, 2))
			for i := 1; i <= 3; i++ {
				n.addPeer(tid(i), "")
			}
			rnd := newSplitmix(seed)
			for s := 0; s < NumSlots; s++ {
				if rnd.next()%4 == 0 {
					n.addSlot(n.nodes[rnd.next()%2], s)
				}
			}
			p := n.nodes[2]
			if k == 0 {
				n.addUnbound(p, lo, hi)
			} else {
				for s := lo; s <= hi && s < NumSlots; s++ {
					if s >= 0 && n.slots.owner(s) == nil {
						n.addSlot(p, s)
					}
				}
			}
			nodes[k] = n
		}
		a, b := nodes[0], nodes[1]
		for s := 0; s < NumSlots; s++ {
			oa, ob := a.slots.owner(s), b.slots.owner(s)
			if (oa == nil) != (ob == nil) || oa != nil && oa.id != ob.id {
				t.Fatalf("slot %d: owner %v, want %v", s, oa, ob)
			}
		}
		if a.slots.bound != b.slots.bound {
			t.Fatalf("bound %d, want %d", a.slots.bound, b.slots.bound)
		}
		for i := range a.nodes {
			pa, pb := a.nodes[i], b.nodes[i]
			if *pa.slots != *pb.slots || pa.numSlots != pb.numSlots {
				t.Fatalf("%s: slots differ (%d, %d)", pa.id, pa.numSlots, pb.numSlots)
			}
		}
	})
}

// splitmix is a tiny deterministic generator for the test's bulk draws.
type splitmix struct{ s uint64 }

func newSplitmix(seed uint64) *splitmix { return &splitmix{seed} }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// TestSlotSetWordwise: Count, Ranges and SlotSetOf, which work a word at a
// time, agree with a walk over the 16,384 slots, on sets made of random
// ranges (runs across word boundaries, single slots, the whole space).
func TestSlotSetWordwise(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var want SlotSet
		var rs []SlotRange
		for n := rapid.IntRange(0, 12).Draw(t, "ranges"); n > 0; n-- {
			lo := rapid.IntRange(0, NumSlots-1).Draw(t, "lo")
			hi := min(lo+rapid.IntRange(0, 300).Draw(t, "len"), NumSlots-1)
			if rapid.IntRange(0, 20).Draw(t, "whole") == 0 {
				lo, hi = 0, NumSlots-1
			}
			rs = append(rs, SlotRange{Start: lo, End: hi})
			for i := lo; i <= hi; i++ {
				want.Add(i)
			}
		}
		got := SlotSetOf(rs)
		if *got != want {
			t.Fatalf("SlotSetOf(%v) differs from adding each slot", rs)
		}
		count := 0
		var ranges []SlotRange
		start := -1
		for i := 0; i <= NumSlots; i++ {
			in := i < NumSlots && want.Has(i)
			if in {
				count++
			}
			if in && start < 0 {
				start = i
			} else if !in && start >= 0 {
				ranges = append(ranges, SlotRange{Start: start, End: i - 1})
				start = -1
			}
		}
		if c := got.Count(); c != count {
			t.Fatalf("Count = %d, want %d", c, count)
		}
		if r := got.Ranges(); !reflect.DeepEqual(r, ranges) {
			t.Fatalf("Ranges = %v, want %v", r, ranges)
		}
	})
}
