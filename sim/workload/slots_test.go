package workload

import (
	"testing"

	"github.com/rcsim/rcsim/node"
)

// TestSlotMapReload checks the shortcut of a reload whose answer is the one
// already loaded: the map stays as that answer made it, a MOVED learnt
// since is overwritten by the same answer as by any other, and a changed
// answer is loaded in full.
func TestSlotMapReload(t *testing.T) {
	seeds := []string{"a:1", "b:1", "c:1"}
	index := func(addr string) int {
		for i, s := range seeds {
			if s == addr {
				return i
			}
		}
		return -1
	}
	answer := func(m0, m1 string) []node.SlotOwner {
		return []node.SlotOwner{
			{SlotRange: node.SlotRange{Start: 0, End: 8191}, Master: m0, Replicas: []string{"c:1"}},
			{SlotRange: node.SlotRange{Start: 8192, End: node.NumSlots - 1}, Master: m1},
		}
	}
	master := func(m *slotMap, slot int) int {
		if sh := m.shardOf(slot); sh != nil {
			return sh.master
		}
		return -1
	}
	var m slotMap
	m.load(1, answer("a:1", "b:1"), index)
	m.load(2, answer("a:1", "b:1"), index)
	if m.loadedAt != 2 || master(&m, 0) != 0 || master(&m, 9000) != 1 || len(m.shards) != 2 {
		t.Fatalf("same answer twice: loadedAt %v, slot 0 → %d, 9000 → %d, %d shards", m.loadedAt, master(&m, 0), master(&m, 9000), len(m.shards))
	}
	m.learn(5, 2)
	if master(&m, 5) != 2 {
		t.Fatalf("MOVED not learnt: slot 5 → %d", master(&m, 5))
	}
	m.load(3, answer("a:1", "b:1"), index)
	if master(&m, 5) != 0 || len(m.shards) != 2 {
		t.Fatalf("reload after MOVED kept the learnt slot: 5 → %d, %d shards", master(&m, 5), len(m.shards))
	}
	m.load(4, answer("b:1", "b:1"), index)
	if master(&m, 0) != 1 || master(&m, 9000) != 1 {
		t.Fatalf("changed answer not loaded: slot 0 → %d, 9000 → %d", master(&m, 0), master(&m, 9000))
	}
	m.load(5, answer("b:1", "b:1")[:1], index)
	if master(&m, 9000) != -1 {
		t.Fatalf("slot left out of the answer still known: 9000 → %d", master(&m, 9000))
	}
}
