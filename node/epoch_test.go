package node

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestHeaderEpochs: clusterProcessPacket raises currentEpoch and the
// sender's configEpoch to the header's, never lowers them, and saves on a
// change.
func TestHeaderEpochs(t *testing.T) {
	cases := []struct {
		name                 string
		current, config      uint64
		wantCurrent, wantCfg uint64
		wantSave             bool
	}{
		{"raised", 9, 8, 9, 8, true},
		{"never_lowered", 1, 1, 6, 3, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(1))
			s := n.byID[tid(3)]
			n.at(0, func() {}) // boot (which saves)
			o := n.at(time.Second, func() {
				n.mergeHeaderEpochs(s, &Header{Sender: tid(3), CurrentEpoch: c.current, ConfigEpoch: c.config})
			})
			if n.currentEpoch != c.wantCurrent || s.configEpoch != c.wantCfg || o.Save != c.wantSave {
				t.Fatalf("current %d config %d save %v", n.currentEpoch, s.configEpoch, o.Save)
			}
		})
	}
}

// TestStaleClaimGetsUpdate: a PING claiming slots whose owner in my view
// has a larger configEpoch is answered with one UPDATE about that owner
// (clusterProcessPacket step 6f, clusterSendUpdate).
func TestStaleClaimGetsUpdate(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	old, succ := n.byID[tid(1)], n.byID[tid(4)]
	n.at(time.Second, func() {
		succ.configEpoch = 7
		n.setNodeAsMaster(succ)
		for s := 0; s < NumSlots/3; s++ {
			n.delSlot(s)
			n.addSlot(succ, s)
		}
	})
	conn := ConnID{Dialer: tid(1), Peer: tid(2), N: 1}
	linkTo(n, old, time.Second)
	var claim SlotSet
	for s := 0; s < NumSlots/3; s++ {
		claim.Add(s)
	}
	o := n.at(2*time.Second, func() {
		n.processPacket(conn, &Message{Type: MsgPing, Header: Header{Sender: tid(1), Addr: old.addr,
			Flags: FlagMaster, ConfigEpoch: 1, CurrentEpoch: 7, MySlots: &claim}})
	})
	updates := 0
	for _, e := range o.Msgs {
		if e.Msg.Type == MsgUpdate && e.Msg.Update.Node == tid(4) && e.Msg.Update.ConfigEpoch == 7 {
			updates++
		}
	}
	if updates != 1 || n.slots.owner(0) != succ {
		t.Fatalf("%d UPDATEs, slot 0 owner %s", updates, n.slots.owner(0).id)
	}
}

// TestUpdateIgnoredWhenNotNewer: the UPDATE handler ignores a message
// whose configEpoch is not larger than the subject's in my view, or whose
// subject is unknown.
func TestUpdateIgnoredWhenNotNewer(t *testing.T) {
	for _, u := range []Update{{ConfigEpoch: 1, Node: tid(4)}, {ConfigEpoch: 9, Node: tid(9)}} {
		n := mk(t, testCfg(), tid(1))
		n.byID[tid(4)].configEpoch = 1
		u.Slots = n.myself.slotSnap()
		n.at(time.Second, func() { n.processUpdate(&u) })
		if n.Master() != "" || n.myself.numSlots == 0 {
			t.Fatalf("UPDATE %+v applied", u)
		}
	}
}

// TestBumpEpochWithoutConsensus: clusterBumpConfigEpochWithoutConsensus
// takes currentEpoch+1 unless my configEpoch is already the largest.
func TestBumpEpochWithoutConsensus(t *testing.T) {
	n := mk(t, testCfg(), tid(6)) // a replica, configEpoch 6 = max
	n.myself.configEpoch = 6
	n.at(time.Second, func() {
		if n.bumpConfigEpochWithoutConsensus("test") {
			t.Fatal("bumped while holding the largest epoch")
		}
	})
	n.byID[tid(1)].configEpoch = 9
	o := n.at(time.Second, func() {
		if !n.bumpConfigEpochWithoutConsensus("test") {
			t.Fatal("did not bump")
		}
	})
	if n.myself.configEpoch != n.currentEpoch || !hasEvent(o, trace.ConfigEpoch, "test") {
		t.Fatalf("configEpoch %d currentEpoch %d", n.myself.configEpoch, n.currentEpoch)
	}
}
