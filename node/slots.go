// Slot bitmaps, slot ownership and role changes that follow slot claims
// (clusterAddSlot, clusterDelSlot, clusterUpdateSlotsConfigWith,
// clusterSetNodeAsMaster, clusterSetMaster, keyHashSlot and the CLUSTER
// NODES range format).

package node

import (
	"math/bits"
	"strconv"

	"github.com/rcsim/rcsim/node/trace"
)

// NumSlots is CLUSTER_SLOTS.
const NumSlots = 16384

// SlotSet is a bitmap of the 16384 slots, as clusterMsg.myslots.
type SlotSet [NumSlots / 64]uint64

// Has reports whether slot s is in the set.
func (s *SlotSet) Has(slot int) bool { return s[slot/64]&(1<<(slot%64)) != 0 }

// Add puts slot into the set.
func (s *SlotSet) Add(slot int) { s[slot/64] |= 1 << (slot % 64) }

// Del removes slot from the set.
func (s *SlotSet) Del(slot int) { s[slot/64] &^= 1 << (slot % 64) }

// Count is the number of slots in the set.
func (s *SlotSet) Count() int {
	c := 0
	for _, w := range s {
		c += bits.OnesCount64(w)
	}
	return c
}

// Ranges returns the set as sorted inclusive ranges, found a word at a time:
// each run's ends are the trailing zeros of the word (or of its complement)
// shifted past the bits already read (Disk calls it for every node on every
// save).
func (s *SlotSet) Ranges() []SlotRange {
	var rs []SlotRange
	start := -1
	for wi, w := range s {
		for bit := 0; bit < 64; {
			if start < 0 {
				m := w >> bit // the ones left in the word
				if m == 0 {
					break
				}
				bit += bits.TrailingZeros64(m)
				start = wi*64 + bit
			} else {
				m := ^w >> bit // the zeros left: none means the run goes on
				if m == 0 {
					break
				}
				bit += bits.TrailingZeros64(m)
				rs = append(rs, SlotRange{Start: start, End: wi*64 + bit - 1})
				start = -1
			}
		}
	}
	if start >= 0 {
		rs = append(rs, SlotRange{Start: start, End: NumSlots - 1})
	}
	return rs
}

// SlotSetOf builds a set from ranges (in range, as Members' are), a word at
// a time.
func SlotSetOf(rs []SlotRange) *SlotSet {
	s := new(SlotSet)
	for _, r := range rs {
		for lo := r.Start; lo <= r.End; {
			wi, b := lo/64, lo%64
			n := min(r.End-lo+1, 64-b) // bits of this range in word wi
			s[wi] |= (^uint64(0) >> (64 - n)) << b
			lo += n
		}
	}
	return s
}

// noSlots is the empty set every peer starts with; like every shared set it
// is never written (peers copy before they change their slots).
var noSlots SlotSet

// slotSnap returns p's slots for a header or an UPDATE: the set itself,
// marked shared, so p copies it before it next changes (copy on write).
func (p *peer) slotSnap() *SlotSet {
	p.shared = true
	return p.slots
}

// ownSlots makes p's set private before a change.
func (p *peer) ownSlots() {
	if p.shared {
		c := *p.slots
		p.slots, p.shared = &c, false
	}
	p.ranges = nil
}

// adoptSlots lets p share the set claimed (a header's or an UPDATE's) when it
// holds the same slots, so that every node's view of a master ends up
// pointing at the one bitmap the master sends instead of a copy each.
func (p *peer) adoptSlots(claimed *SlotSet) {
	if p.slots != claimed && *p.slots == *claimed {
		p.slots, p.shared = claimed, true
	}
}

// slotRanges is p.slots.Ranges(), cached until the slots change.
func (p *peer) slotRanges() []SlotRange {
	if p.ranges == nil && p.numSlots > 0 {
		p.ranges = p.slots.Ranges()
	}
	return p.ranges
}

// slotTable is clusterState.slots, each slot's owner, kept as a small
// number per slot into a table of the owners rather than as 16,384
// pointers: 32 KB instead of 128 KB per node, nothing for the collector to
// scan, and no write barrier when a failover moves thousands of slots.
type slotTable struct {
	of     [NumSlots]uint16 // 0: unbound; else 1 + the owner's index in owners
	owners []*peer          // by peer.slotIdx - 1; nil where free
	free   []uint16         // free indices of owners, plus one
	bound  int              // slots with an owner
}

// covered reports whether every slot has an owner and no owner is FAIL:
// clusterUpdateState's slot loop, asked of the owners instead of the slots.
func (t *slotTable) covered() bool {
	if t.bound < NumSlots {
		return false
	}
	for _, p := range t.owners {
		if p != nil && p.is(FlagFail) {
			return false
		}
	}
	return true
}

// owner returns the peer that owns slot s, or nil.
func (t *slotTable) owner(s int) *peer { return t.ownerAt(t.of[s]) }

// ownerAt returns the peer of index i (one of t.of's), or nil.
func (t *slotTable) ownerAt(i uint16) *peer {
	if i != 0 {
		return t.owners[i-1]
	}
	return nil
}

// word reports whether the 64 slots of word wi of the slot space have one
// owner (or are all unbound), and that owner's index.
func (t *slotTable) word(wi int) (uint16, bool) {
	w := t.of[wi*64 : wi*64+64]
	// All 64 equal exactly when the word equals itself shifted by one: one
	// compare of two arrays (a memequal of 126 bytes).
	if *(*[63]uint16)(w[1:]) != *(*[63]uint16)(w[:63]) {
		return 0, false
	}
	return w[0], true
}

// bind makes p the owner of slot s.
func (t *slotTable) bind(s int, p *peer) {
	t.of[s] = t.index(p)
	t.bound++
}

// index returns p's index in the table plus one, giving it one if it owns
// nothing yet.
func (t *slotTable) index(p *peer) uint16 {
	if p.slotIdx == 0 {
		if n := len(t.free); n > 0 {
			p.slotIdx = t.free[n-1]
			t.free = t.free[:n-1]
			t.owners[p.slotIdx-1] = p
		} else {
			if len(t.owners) == 1<<16-1 {
				panic("node: invariant: over 65,535 slot owners")
			}
			t.owners = append(t.owners, p)
			p.slotIdx = uint16(len(t.owners))
		}
	}
	return p.slotIdx
}

// bindRange binds the unbound slots lo..hi to p, as bind does each. It
// tests and fills 64 slots at a time (an array compare and copy): every
// node binds all 16,384 slots at boot.
func (t *slotTable) bindRange(lo, hi int, p *peer) {
	if lo > hi {
		return
	}
	r := t.of[lo : hi+1]
	for s := 0; s < len(r) && t.bound > 0; { // an empty table has nothing bound
		if s+64 <= len(r) && *(*[64]uint16)(r[s : s+64]) == [64]uint16{} {
			s += 64
			continue
		}
		if r[s] != 0 {
			panic("node: invariant: two members claim slot " + strconv.Itoa(lo+s))
		}
		s++
	}
	t.bind(lo, p)
	idx := t.of[lo]
	var run [64]uint16
	for i := range run {
		run[i] = idx
	}
	s := 1
	for ; s+64 <= len(r); s += 64 {
		*(*[64]uint16)(r[s : s+64]) = run
	}
	for ; s < len(r); s++ {
		r[s] = idx
	}
	t.bound += len(r) - 1
}

// unbind leaves slot s unowned; the owner p gives its index back once it
// owns no slot (the caller has counted the slot out of p.numSlots).
func (t *slotTable) unbind(s int, p *peer) {
	t.of[s] = 0
	t.bound--
	t.release(p)
}

// release gives p's index back once p owns no slot.
func (t *slotTable) release(p *peer) {
	if p.numSlots == 0 {
		t.owners[p.slotIdx-1] = nil
		t.free = append(t.free, p.slotIdx)
		p.slotIdx = 0
	}
}

// addSlot is clusterAddSlot: bind slot to p (it must be unbound).
func (n *Node) addSlot(p *peer, slot int) {
	if n.slots.of[slot] != 0 {
		panic("node: invariant: addSlot on a bound slot")
	}
	n.slots.bind(slot, p)
	p.ownSlots()
	p.slots.Add(slot)
	p.numSlots++
}

// addUnbound is addSlot on each slot of lo..hi (clipped to the slot space)
// that has no owner yet, as clusterLoadConfig adds a nodes.conf line's
// ranges: a word at a time.
func (n *Node) addUnbound(p *peer, lo, hi int) {
	lo, hi = max(lo, 0), min(hi, NumSlots-1)
	t := &n.slots
	for wi := lo / 64; lo <= hi && wi <= hi/64; wi++ {
		var m uint64
		for s := max(lo, wi*64); s <= min(hi, wi*64+63); s++ {
			if t.of[s] == 0 {
				m |= 1 << (s % 64)
			}
		}
		if m == 0 {
			continue
		}
		idx := t.index(p)
		for b := m; b != 0; b &= b - 1 {
			t.of[wi*64+bits.TrailingZeros64(b)] = idx
		}
		k := bits.OnesCount64(m)
		t.bound += k
		p.ownSlots()
		p.slots[wi] |= m
		p.numSlots += uint16(k)
	}
}

// delSlot is clusterDelSlot: unbind slot from its owner.
func (n *Node) delSlot(slot int) {
	p := n.slots.owner(slot)
	if p == nil {
		return
	}
	p.ownSlots()
	p.slots.Del(slot)
	p.numSlots--
	n.slots.unbind(slot, p)
	n.notClaiming.Del(slot)
}

// moveSlots rebinds to p the slots of mask in word wi of the slot space,
// each bound to another peer or to none: delSlot then addSlot on each, done
// a word at a time (a failover moves thousands of slots on every node).
func (n *Node) moveSlots(wi int, mask uint64, p *peer) {
	t := &n.slots
	idx := t.index(p)
	if mask == ^uint64(0) {
		if i, ok := t.word(wi); ok {
			// The whole word from one owner (or none): what the loop
			// below does, with one takeSlots.
			w := t.of[wi*64 : wi*64+64]
			w[0] = idx
			for k := 1; k < len(w); k *= 2 { // doubling copies
				copy(w[k:], w[:k])
			}
			n.takeSlots(t.ownerAt(i), wi, mask)
			p.ownSlots()
			p.slots[wi] |= mask
			p.numSlots += 64
			return
		}
	}
	var from *peer
	var fm uint64
	for m := mask; m != 0; m &= m - 1 {
		s := wi*64 + bits.TrailingZeros64(m)
		if o := t.owner(s); o != from {
			n.takeSlots(from, wi, fm)
			from, fm = o, 0
		}
		fm |= 1 << (s % 64)
		t.of[s] = idx
	}
	n.takeSlots(from, wi, fm)
	p.ownSlots()
	p.slots[wi] |= mask
	p.numSlots += uint16(bits.OnesCount64(mask))
}

// takeSlots is the delSlot half of moveSlots for the slots fm of word wi,
// which p owned (none: they were unbound, and delSlot leaves those alone).
func (n *Node) takeSlots(p *peer, wi int, fm uint64) {
	if p == nil {
		n.slots.bound += bits.OnesCount64(fm)
		return
	}
	p.ownSlots()
	p.slots[wi] &^= fm
	p.numSlots -= uint16(bits.OnesCount64(fm))
	n.slots.release(p)
	n.notClaiming[wi] &^= fm
}

// delNodeSlots is clusterDelNodeSlots.
func (n *Node) delNodeSlots(p *peer) {
	for s := 0; s < NumSlots && p.numSlots > 0; s++ {
		if n.slots.owner(s) == p {
			n.delSlot(s)
		}
	}
}

// attachReplica is clusterNodeAddSlave (plus setting slaveof).
func (n *Node) attachReplica(r, m *peer) {
	if r.master != nil {
		detachReplica(r)
	}
	r.master = m
	r.shard = m.shard // a replica adopts its primary's shard_id
	i := 0
	for i < len(m.replicas) && m.replicas[i].id < r.id {
		i++
	}
	if i < len(m.replicas) && m.replicas[i] == r {
		return
	}
	m.replicas = append(m.replicas, nil)
	copy(m.replicas[i+1:], m.replicas[i:])
	m.replicas[i] = r
	m.flags |= FlagMigrateTo
}

// detachReplica is clusterNodeRemoveSlave (plus clearing slaveof).
func detachReplica(r *peer) {
	m := r.master
	r.master = nil
	if m == nil {
		return
	}
	for i, x := range m.replicas {
		if x == r {
			m.replicas = append(m.replicas[:i], m.replicas[i+1:]...)
			break
		}
	}
	if len(m.replicas) == 0 {
		m.flags &^= FlagMigrateTo
	}
}

// setNodeAsMaster is clusterSetNodeAsMaster.
func (n *Node) setNodeAsMaster(p *peer) {
	if p.is(FlagMaster) {
		return
	}
	if p.master != nil {
		detachReplica(p)
		if p != n.myself {
			p.flags |= FlagMigrateTo
		}
	}
	p.flags &^= FlagSlave
	p.flags |= FlagMaster
	n.doBeforeSleep(todoSaveConfig | todoUpdateState)
}

// SlotRules are the rule switches of slot ownership and role changes.
type SlotRules struct {
	// SetPrimaryResetsElection: becoming a replica of a new primary forgets
	// the previous election's failover_auth_time, so a replica whose new
	// primary fails soon after elects with a fresh delay instead of
	// waiting out the old attempt's retry time (clusterSetPrimary,
	// valkey#782, Valkey 8.0).
	SetPrimaryResetsElection bool
}

// setMaster is clusterSetMaster: myself becomes a replica of m.
func (n *Node) setMaster(m *peer) {
	me := n.myself
	if m == me || me.numSlots != 0 {
		panic("node: invariant: clusterSetMaster with own slots or to myself")
	}
	if n.cfg.Rules.SetPrimaryResetsElection {
		n.failoverAuthTime = never
		n.failoverExpired = true // an abandoned attempt, not one that timed out
	}
	if n.cfg.Rules.FullSyncRanksZero && m.shard != me.shard {
		n.fullSyncPending = true // clusterSetPrimary(n, closeSlots, full_sync_required)
	}
	if me.is(FlagMaster) {
		me.flags &^= FlagMaster | FlagMigrateTo
		me.flags |= FlagSlave
		n.open = nil // clusterCloseAllSlots
	}
	n.attachReplica(me, m)
	n.emit(trace.Role, m, 0, "replica")
	n.replicationSetMaster(m)
	n.resetManualFailover()
}

// updateSlotsConfigWith is clusterUpdateSlotsConfigWith: rebind the slots
// sender claims with configEpoch epoch wherever the claim wins, then follow
// the slots of my master (or mine) if they all moved.
func (n *Node) updateSlotsConfigWith(sender *peer, epoch uint64, claimed *SlotSet) {
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
	// Redis walks the slots one by one; this walks 64 at a time, as the
	// sender's own slots (sender.slots: exactly those it owns in my table)
	// settle the slots it does not claim and the ones it already owns, and
	// only the others need a look each.
	for wi, cw := range claimed {
		own := sender.slots[wi]
		n.notClaiming[wi] |= own &^ cw // mine for sender, no longer claimed
		n.notClaiming[wi] &^= own & cw // claimed and bound to it already
		senderSlots += bits.OnesCount64(cw)
		var mv uint64 // the slots of this word that move to sender
		if rest := cw &^ own; rest == ^uint64(0) && len(n.open) == 0 {
			// A whole word claimed, none of it open: when one owner holds
			// all of it (a failover's claim: thousands of slots, every
			// word from the failed master), its slots all take the same
			// turn below, the owner's test made once.
			if i, ok := n.slots.word(wi); ok {
				owner := n.slots.ownerAt(i)
				mv = rest
				if owner != nil && owner.configEpoch >= epoch {
					mv &= n.notClaiming[wi]
				}
				if owner == n.myself {
					for m := mv; m != 0; m &= m - 1 {
						if s := wi*64 + bits.TrailingZeros64(m); n.db.countKeysInSlot(s) > 0 {
							dirty.Add(s)
						}
					}
				}
				if owner != nil && owner == cur && mv != 0 {
					newMaster = sender
					migrated += bits.OnesCount64(mv)
				}
				if mv != 0 {
					n.moveSlots(wi, mv, sender)
					moved[wi] |= mv
					n.doBeforeSleep(todoUpdateState | todoSaveConfig)
				}
				continue
			}
		}
		for rest := cw &^ own; rest != 0; rest &= rest - 1 {
			s := wi*64 + bits.TrailingZeros64(rest)
			if n.importingFrom(s) != nil {
				continue // only redis-cli closes a slot I am importing
			}
			owner := n.slots.owner(s)
			if owner == nil || owner.configEpoch < epoch || n.notClaiming.Has(s) {
				if owner == n.myself && n.db.countKeysInSlot(s) > 0 {
					dirty.Add(s)
				}
				if owner != nil && owner == cur {
					newMaster = sender
					migrated++
				}
				mv |= 1 << (s % 64)
			}
		}
		if mv != 0 {
			n.moveSlots(wi, mv, sender) // delSlot and addSlot of each
			moved[wi] |= mv
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
		for wi, dw := range dirty {
			for ; dw != 0; dw &= dw - 1 {
				n.db.delKeysInSlot(wi*64 + bits.TrailingZeros64(dw))
			}
		}
	}
}

// KeySlot is keyHashSlot: CRC16 (XMODEM) of the key, or of its hash tag, mod
// 16384.
func KeySlot(key string) int {
	s := -1
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			s = i
			break
		}
	}
	if s >= 0 {
		for e := s + 1; e < len(key); e++ {
			if key[e] == '}' {
				if e > s+1 {
					key = key[s+1 : e]
				}
				break
			}
		}
	}
	return int(crc16(key) & 0x3FFF)
}

// crc16 is crc16.c: CRC16-CCITT (XMODEM), poly 0x1021, init 0, a byte at
// a time from a table as crc16.c does (every command hashes its key).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^s[i]]
	}
	return crc
}

// crc16Table holds the CRC of every byte value, computed bit by bit.
var crc16Table = func() (t [256]uint16) {
	for b := range t {
		crc := uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[b] = crc
	}
	return t
}()
