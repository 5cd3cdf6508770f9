package node

import (
	"testing"
)

// TestPartialResyncRule: masterTryPartialResynchronization accepts PSYNC
// when the replica's history is my current one, or my previous one up to
// second_replid_offset (a promoted replica's former siblings), and its
// offset is inside my backlog; otherwise a full resync.
func TestPartialResyncRule(t *testing.T) {
	r := replication{replID: "new", replID2: "old", secondOffset: 101, offset: 150}
	r.backlog = []backlogEntry{{end: 60, w: Write{Op: OpSet, Key: "k", Value: "v"}}}
	start := r.backlogStart()
	cases := []struct {
		name   string
		req    Repl
		refuse string
	}{
		{"current ID inside the backlog", Repl{ReplID: "new", Offset: 120}, ""},
		{"current ID at my offset (nothing to send)", Repl{ReplID: "new", Offset: 150}, ""},
		{"previous ID up to where it ended", Repl{ReplID: "old", Offset: 100}, ""},
		{"previous ID past where it ended (the old master's unreplicated writes)",
			Repl{ReplID: "old", Offset: 101}, "offset beyond the end of the previous ID's history"},
		{"unknown ID", Repl{ReplID: "other", Offset: 100}, "replication ID mismatch"},
		{"ahead of me", Repl{ReplID: "new", Offset: 151}, "offset ahead of mine"},
		{"before the backlog", Repl{ReplID: "new", Offset: start - 1}, "offset before the backlog"},
		{"at the backlog's start", Repl{ReplID: "new", Offset: start}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.partialResyncRefusal(&c.req); got != c.refuse {
				t.Errorf("refusal %q, want %q", got, c.refuse)
			}
		})
	}
}

// TestPromotionShiftsReplicationID: shiftReplicationId keeps the old ID as
// replid2, valid up to the offset at promotion, and draws a new replid.
func TestPromotionShiftsReplicationID(t *testing.T) {
	n := mk(t, testCfg(), tid(4))
	n.repl.offset = 500
	old := n.repl.replID
	n.at(0, n.replicationUnsetMaster)
	if n.repl.replID2 != old || n.repl.secondOffset != 501 || n.repl.replID == old {
		t.Fatalf("after promotion: replid %s replid2 %s second %d", n.repl.replID, n.repl.replID2, n.repl.secondOffset)
	}
}

// TestContinueWithNewIDKeepsOldAsID2: a replica told +CONTINUE with a new
// replication ID makes its old ID replid2 at its current offset.
func TestContinueWithNewIDKeepsOldAsID2(t *testing.T) {
	n := mk(t, testCfg(), tid(4))
	n.repl.offset, n.repl.state = 300, replConnecting
	n.repl.conn = ConnID{Dialer: tid(4), Peer: tid(1), N: 7, Repl: true}
	old := n.repl.replID
	w := Write{Op: OpSet, Key: "k", Value: "v"}
	n.at(0, func() {
		n.replicaReceive(n.repl.conn, &Repl{ReplID: "fresh", Offset: 300 + writeSize(w), Ops: []Write{w}})
	})
	if n.repl.replID != "fresh" || n.repl.replID2 != old || n.repl.secondOffset != 301 {
		t.Fatalf("replid %s replid2 %s second %d", n.repl.replID, n.repl.replID2, n.repl.secondOffset)
	}
	if n.repl.offset != 300+writeSize(w) {
		t.Fatalf("offset %d after the continued stream", n.repl.offset)
	}
	if v, ok := n.Get("k"); !ok || v != "v" {
		t.Fatal("continued stream not applied")
	}
}
