package node

import (
	"slices"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestPartialResyncRule: masterTryPartialResynchronization accepts PSYNC
// when the replica's history is my current one, or my previous one up to
// second_replid_offset (a promoted replica's former siblings), and its
// offset is inside my backlog; otherwise a full resync.
func TestPartialResyncRule(t *testing.T) {
	r := replication{replID: "new", replID2: "old", secondOffset: 101, offset: 150}
	r.backlog.first = 33 // the backlog holds the stream from offset 34 on
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

// TestBacklogTrimsLikeRedis70: the backlog keeps Redis 7.0's history
// (incrementalTrimReplicationBacklog over 20440-byte blocks, from
// beforeSleep). The expected
// first byte offsets were measured on Debian's redis-server 7.0.15 with
// repl-backlog-size 100000 and one replica, sending "SET k v" (27 bytes) in
// batches of 100 and reading INFO replication's master_repl_offset and
// repl_backlog_first_byte_offset. The stream began with two 23-byte SELECTs
// (one before the first write, one after the replica's sync); a 23-byte DEL
// stands in for each.
func TestBacklogTrimsLikeRedis70(t *testing.T) {
	measured := []struct{ offset, firstByte int64 }{
		{5423, 1}, {37823, 1}, {113446, 1},
		{224146, 122641}, {243046, 122641}, {245746, 143081}, {261946, 143081},
		{264646, 163521}, {286246, 183961}, {305146, 204401}, {326746, 224841}, {329446, 224841},
	}
	var b backlog
	b.reset(0)
	select23, set := Write{Op: OpDel, Key: "abcd"}, Write{Op: OpSet, Key: "k", Value: "v"}
	if writeSize(select23) != 23 || writeSize(set) != 27 {
		t.Fatal("the stand-in writes have the wrong size")
	}
	offset := int64(0)
	add := func(w Write) {
		offset += writeSize(w)
		b.add(w, offset, 100000)
	}
	add(select23)
	for _, m := range measured {
		for offset < m.offset {
			if offset == 23+1400*27 {
				add(select23)
			}
			add(set)
		}
		if offset != m.offset {
			t.Fatalf("stream at %d, want %d", offset, m.offset)
		}
		if got := b.first + 1; got != m.firstByte {
			t.Errorf("at offset %d: first byte %d, Redis had %d", offset, got, m.firstByte)
		}
		if hist := offset - b.first; m.firstByte > 1 && (hist <= 100000 || hist > 100000+replBufBlockSize) {
			t.Errorf("at offset %d: history %d bytes, want (size, size+block]", offset, hist)
		}
	}
}

// TestBacklogAfterReturnsTheStreamTail: after(offset) is every write past
// offset in order, across the blocks of entries and their reuse (and a
// reset), and the entries held are exactly those with a byte in the
// history.
func TestBacklogAfterReturnsTheStreamTail(t *testing.T) {
	var b backlog
	b.reset(0)
	for i := 0; i < 700; i++ {
		b.add(Write{Op: OpSet, Key: "old"}, int64(10*i+10), 16*1024)
	}
	b.reset(1000)
	var ends []int64
	offset := int64(1000)
	for i := 0; i < 5000; i++ {
		w := Write{Op: OpSet, Key: "k", Value: itoa64(int64(i))}
		offset += writeSize(w)
		ends = append(ends, offset)
		b.add(w, offset, 16*1024)
	}
	if hist := offset - b.first; hist <= 16*1024 || hist > 16*1024+replBufBlockSize {
		t.Fatalf("history %d bytes", hist)
	}
	for _, from := range []int64{b.first, ends[4800], ends[4998], offset} {
		got := b.after(from)
		want := 0
		for _, e := range ends {
			if e > from {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("after(%d): %d writes, want %d", from, len(got), want)
		}
		if want > 0 && got[len(got)-1].Value != "4999" {
			t.Fatalf("after(%d) ends with %q", from, got[len(got)-1].Value)
		}
	}
	held := 0
	for _, e := range ends {
		if e > b.first {
			held++
		}
	}
	if b.n != held {
		t.Fatalf("%d entries held, %d writes have a byte in the history", b.n, held)
	}
	if e := b.at(0); e.end-writeSize(e.w) > b.first {
		// The oldest entry held must be the one the first byte falls in.
		t.Fatalf("oldest entry starts at %d, after the history's first byte %d", e.end-writeSize(e.w), b.first+1)
	}
}

// TestReplConnectTimesOut: replicationCron cancels a connect or handshake
// that heard nothing for more than repl-timeout whole seconds ("Timeout
// connecting to the MASTER...") and dials again in the same cron; one that
// heard from the master within it is left alone.
func TestReplConnectTimesOut(t *testing.T) {
	for _, c := range []struct {
		name      string
		connected time.Duration // when the connect completed (-1: never)
		cron      time.Duration
		cancel    bool
	}{
		{"SYN unanswered for 60 s", -1, 60500 * time.Millisecond, false},
		{"SYN unanswered for 61 s", -1, 61 * time.Second, true},
		{"connected, PSYNC unanswered for 61 s", 30 * time.Second, 61 * time.Second, false},
		{"connected, PSYNC unanswered past repl-timeout", 30 * time.Second, 91 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(4)) // a replica of tid(1)
			n.at(0, n.replicationCron)
			if n.repl.state != replConnecting {
				t.Fatalf("state %d after the first cron, want connecting", n.repl.state)
			}
			first := n.repl.conn
			if c.connected >= 0 {
				n.at(c.connected, func() { n.replLinkEvent(LinkEvent{Conn: first, Kind: Connected}) })
			}
			out := n.at(c.cron, n.replicationCron)
			closed := slices.Contains(out.Closes, first)
			redialed := len(out.Dials) == 1 && out.Dials[0] != first && n.repl.conn == out.Dials[0]
			if closed != c.cancel || redialed != c.cancel || hasEvent(out, trace.Note, "timeout connecting to the master") != c.cancel {
				t.Fatalf("closed %v, redialed %v (dials %v); want both %v", closed, redialed, out.Dials, c.cancel)
			}
		})
	}
}
