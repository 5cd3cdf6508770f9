package node

import "testing"

// TestBootSlotRangeIsAddSlotPerSlot: creation's range binding leaves the
// same state as clusterAddSlot called for every slot of the range.
func TestBootSlotRangeIsAddSlotPerSlot(t *testing.T) {
	for _, r := range []SlotRange{{0, 0}, {0, 63}, {0, 64}, {1, 62}, {5, 5460}, {5461, 10922}, {10923, 16383}, {0, 16383}, {63, 128}} {
		a, b := mk(t, testCfg(), tid(1)), mk(t, testCfg(), tid(1))
		pa, pb := a.byID[tid(2)], b.byID[tid(2)]
		for s := 0; s < NumSlots; s++ {
			if a.slots[s] != nil {
				a.delSlot(s)
				b.delSlot(s)
			}
		}
		a.bootSlotRange(pa, r)
		for s := r.Start; s <= r.End; s++ {
			b.addSlot(pb, s)
		}
		if pa.slots != pb.slots || pa.numSlots != pb.numSlots {
			t.Errorf("%v: bitmap or count differs (%d vs %d slots)", r, pa.numSlots, pb.numSlots)
		}
		for s := 0; s < NumSlots; s++ {
			if (a.slots[s] == pa) != (b.slots[s] == pb) {
				t.Fatalf("%v: slot %d bound differently", r, s)
			}
		}
	}
}
