package workload

// The client's slot map: CLUSTER SLOTS loaded into a slot → shard table, as
// go-redis's clusterState and redis-py's NodesManager.slots_cache keep it.

import (
	"slices"
	"time"

	"github.com/rcsim/rcsim/node"
)

// shard is one CLUSTER SLOTS entry's nodes, as indexes into the seeds.
type shard struct {
	master   int
	replicas []int
}

// slotMap maps each slot to a shard (index+1 into shards; 0 = unknown).
type slotMap struct {
	slots    [node.NumSlots]uint16
	shards   []shard
	loadedAt time.Duration // when the last full load happened; never: not loaded
	// last is the answer of the last load, kept while slots is exactly what
	// that load made of it (no MOVED learnt since): a reload that gets the
	// same answer, as nearly all do, then rebuilds nothing.
	last []node.SlotOwner
}

// load replaces the map with a CLUSTER SLOTS answer. Slots the answer
// leaves out become unknown; addresses the client does not know are
// skipped (a client only talks to nodes it can name). index must give an
// address the same index every time (the client's seeds only grow).
func (m *slotMap) load(now time.Duration, owners []node.SlotOwner, index func(string) int) {
	m.loadedAt = now
	if m.last != nil && sameOwners(m.last, owners) {
		return // the map this answer makes is the one already there
	}
	m.last = append(m.last[:0], owners...)
	m.slots = [node.NumSlots]uint16{}
	m.shards = m.shards[:0]
	for _, o := range owners {
		mi := index(o.Master)
		if mi < 0 {
			continue
		}
		sh := shard{master: mi}
		for _, r := range o.Replicas {
			if ri := index(r); ri >= 0 {
				sh.replicas = append(sh.replicas, ri)
			}
		}
		m.shards = append(m.shards, sh)
		if lo, hi := max(o.Start, 0), min(o.End, node.NumSlots-1); lo <= hi {
			fill := m.slots[lo : hi+1]
			for i := range fill {
				fill[i] = uint16(len(m.shards))
			}
		}
	}
}

// sameOwners reports whether two CLUSTER SLOTS answers are the same entries
// in the same order. (A node builds every answer afresh, so the kept one
// cannot change under the client.)
func sameOwners(a, b []node.SlotOwner) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].SlotRange != b[i].SlotRange || a[i].Master != b[i].Master || !slices.Equal(a[i].Replicas, b[i].Replicas) {
			return false
		}
	}
	return true
}

// learn records one MOVED answer: the slot's master is now addr (redis-py's
// _update_moved_slots; the replicas become unknown for that slot).
func (m *slotMap) learn(slot, master int) {
	m.last = nil // the map is no longer what the last answer made
	m.shards = append(m.shards, shard{master: master})
	m.slots[slot] = uint16(len(m.shards))
	if len(m.shards) >= 2*node.NumSlots { // indexes must fit a uint16
		m.compact()
	}
}

// compact drops shards no slot points at, so learn cannot grow without end.
func (m *slotMap) compact() {
	used := make([]int, len(m.shards)+1)
	var kept []shard
	for s, i := range m.slots {
		if i == 0 {
			continue
		}
		if used[i] == 0 {
			kept = append(kept, m.shards[i-1])
			used[i] = len(kept)
		}
		m.slots[s] = uint16(used[i])
	}
	m.shards = kept
}

// shardOf returns the slot's shard, or nil when unknown.
func (m *slotMap) shardOf(slot int) *shard {
	if i := m.slots[slot]; i > 0 {
		return &m.shards[i-1]
	}
	return nil
}
