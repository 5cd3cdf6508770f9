package node

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// keyOf returns a key whose slot lies in [lo, hi].
func keyOf(lo, hi int) string { return keyWith("key", lo, hi) }

// keyWith returns a key starting with prefix whose slot lies in [lo, hi].
func keyWith(prefix string, lo, hi int) string {
	for i := 0; ; i++ {
		k := fmt.Sprint(prefix, i)
		if s := KeySlot(k); s >= lo && s <= hi {
			return k
		}
	}
}

// run1 runs one command at now and returns the replies it produced.
func run1(n *Node, now time.Duration, c ClientID, cmd Cmd) []ClientReply {
	return n.at(now, func() { n.processCommand(c, cmd) }).Replies
}

// okMaster returns master tid(1) (slots 0-5460) in state ok with the given
// replicas attached, each having acked offset ack at time ackAt.
func okMaster(t *testing.T, cfg Config, replicas int, ack int64, ackAt time.Duration) *Node {
	n := mk(t, cfg, tid(1))
	n.stateOK = true
	for i := 0; i < replicas; i++ {
		n.repl.replicas = append(n.repl.replicas, &replicaClient{conn: ConnID{Dialer: tid(4 + i), Peer: tid(1), N: 1, Repl: true},
			id: tid(4 + i), ackOffset: ack, ackTime: ackAt})
	}
	return n
}

// TestReadOnlyReplicaReads: getNodeByQuery lets a READONLY client read, on
// a replica, the slots of that replica's own master; everything else is
// redirected with MOVED.
func TestReadOnlyReplicaReads(t *testing.T) {
	n := mk(t, testCfg(), tid(4)) // replica of tid(1), slots 0-5460
	n.stateOK = true
	n.at(time.Second, func() { n.db.apply(Write{Op: OpSet, Key: keyOf(0, 5460), Value: "v"}) })
	mine, other := keyOf(0, 5460), keyOf(5462, 10921)
	cases := []struct {
		name string
		cmd  Cmd
		want ReplyKind
	}{
		{"READONLY read of my master's slot is served", Cmd{Op: OpGet, Key: mine, ReadOnly: true}, ReplyOK},
		{"READONLY LRANGE of my master's slot is served", Cmd{Op: OpLRange, Key: keyWith("list", 0, 5460), ReadOnly: true}, ReplyOK},
		{"read without READONLY is MOVED", Cmd{Op: OpGet, Key: mine}, ReplyMoved},
		{"READONLY write is MOVED", Cmd{Op: OpSet, Key: mine, Value: "x", ReadOnly: true}, ReplyMoved},
		{"READONLY read of another master's slot is MOVED", Cmd{Op: OpGet, Key: other, ReadOnly: true}, ReplyMoved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := run1(n, 2*time.Second, 1, c.cmd)
			if len(rs) != 1 || rs[0].Reply.Kind != c.want {
				t.Fatalf("got %+v, want kind %d", rs, c.want)
			}
			if c.want == ReplyMoved && rs[0].Reply.Addr != "127.0.0.1:7000" && KeySlot(c.cmd.Key) <= 5460 {
				t.Errorf("MOVED to %s, want my master 127.0.0.1:7000", rs[0].Reply.Addr)
			}
		})
	}
}

// TestWaitRepliesAckCount: waitCommand replies at once with
// replicationCountAcksByOffset when enough replicas acked, else blocks,
// asks for ACKs (replicationRequestAckFromSlaves) and on timeout replies
// with the count reached (replyToBlockedClientTimedOut).
func TestWaitRepliesAckCount(t *testing.T) {
	key := keyOf(0, 5460)
	write := func(n *Node) int64 {
		run1(n, time.Second, 1, Cmd{Seq: 1, Op: OpSet, Key: key, Value: "v"})
		return n.repl.woff[1]
	}
	t.Run("enough acks: immediate reply with the count, not numreplicas", func(t *testing.T) {
		n := okMaster(t, testCfg(), 2, 0, 0)
		off := write(n)
		for _, r := range n.repl.replicas {
			r.ackOffset = off
		}
		rs := run1(n, time.Second, 1, Cmd{Seq: 2, Op: OpWait, Replicas: 1, Timeout: time.Second})
		if len(rs) != 1 || rs[0].Reply.Int != 2 {
			t.Fatalf("WAIT 1 with 2 acked: %+v, want 2", rs)
		}
	})
	t.Run("WAIT 0 replies at once", func(t *testing.T) {
		n := okMaster(t, testCfg(), 1, 0, 0)
		write(n)
		if rs := run1(n, time.Second, 1, Cmd{Seq: 2, Op: OpWait, Replicas: 0}); len(rs) != 1 || rs[0].Reply.Int != 0 {
			t.Fatalf("WAIT 0: %+v", rs)
		}
	})
	t.Run("blocks, sends GETACK, unblocks on ACK", func(t *testing.T) {
		n := okMaster(t, testCfg(), 2, 0, 0)
		off := write(n)
		o := n.at(time.Second, func() { n.processCommand(1, Cmd{Seq: 2, Op: OpWait, Replicas: 1, Timeout: time.Second}) })
		if len(o.Replies) != 0 {
			t.Fatalf("WAIT answered before any ACK: %+v", o.Replies)
		}
		getacks := 0
		for _, m := range o.Msgs {
			if m.Msg.Repl != nil && m.Msg.Repl.GetAck {
				getacks++
			}
		}
		if getacks != 2 {
			t.Fatalf("GETACK sent to %d replicas, want 2", getacks)
		}
		ack := &Message{Type: MsgReplAck, Repl: &Repl{Offset: off}}
		o = n.at(time.Second+time.Millisecond, func() { n.processReplMessage(n.repl.replicas[0].conn, ack) })
		if len(o.Replies) != 1 || o.Replies[0].Reply.Int != 1 || o.Replies[0].Seq != 2 {
			t.Fatalf("after one ACK: %+v", o.Replies)
		}
	})
	t.Run("timeout replies with the count reached", func(t *testing.T) {
		n := okMaster(t, testCfg(), 2, 0, 0)
		off := write(n)
		n.repl.replicas[1].ackOffset = off
		run1(n, time.Second, 1, Cmd{Seq: 2, Op: OpWait, Replicas: 2, Timeout: 500 * time.Millisecond})
		if o := n.at(1400*time.Millisecond, n.checkWaiters); len(o.Replies) != 0 {
			t.Fatalf("answered before the timeout: %+v", o.Replies)
		}
		o := n.at(1500*time.Millisecond, n.checkWaiters)
		if len(o.Replies) != 1 || o.Replies[0].Reply.Kind != ReplyOK || o.Replies[0].Reply.Int != 1 {
			t.Fatalf("timeout reply %+v, want 1", o.Replies)
		}
	})
	t.Run("on a replica WAIT is an error", func(t *testing.T) {
		n := mk(t, testCfg(), tid(4))
		rs := run1(n, time.Second, 1, Cmd{Seq: 1, Op: OpWait, Replicas: 1})
		if len(rs) != 1 || rs[0].Reply.Kind != ReplyError {
			t.Fatalf("WAIT on a replica: %+v", rs)
		}
	})
	t.Run("a master turned replica unblocks WAIT with UNBLOCKED", func(t *testing.T) {
		n := okMaster(t, testCfg(), 1, 0, 0)
		write(n)
		run1(n, time.Second, 1, Cmd{Seq: 2, Op: OpWait, Replicas: 1})
		o := n.at(2*time.Second, func() { n.replicationSetMaster(n.byID[tid(2)]) })
		if len(o.Replies) != 1 || o.Replies[0].Reply.Kind != ReplyError ||
			o.Replies[0].Reply.Err[:9] != "UNBLOCKED" || len(n.repl.waiters) != 0 {
			t.Fatalf("disconnectAllBlockedClients: %+v", o.Replies)
		}
	})
}

// TestMinReplicasToWrite: processCommand refuses writes with NOREPLICAS
// when fewer than min-replicas-to-write replicas acked within
// min-replicas-max-lag seconds (checkGoodReplicasStatus over the count
// refreshGoodSlavesCount keeps, in whole seconds).
func TestMinReplicasToWrite(t *testing.T) {
	cfg := testCfg()
	cfg.MinReplicasToWrite, cfg.MinReplicasMaxLag = 1, 10*time.Second
	key := keyOf(0, 5460)
	set := Cmd{Op: OpSet, Key: key, Value: "v"}
	cases := []struct {
		name     string
		replicas int
		ackAt    time.Duration
		refresh  time.Duration // when refreshGoodSlavesCount last ran
		now      time.Duration
		want     ReplyKind
	}{
		{"fresh ack: write accepted", 1, 5 * time.Second, 6 * time.Second, 6 * time.Second, ReplyOK},
		{"lag of exactly max-lag seconds still counts", 1, 5 * time.Second, 15*time.Second + 900*time.Millisecond, 16 * time.Second, ReplyOK},
		{"lag beyond max-lag: NOREPLICAS", 1, 5 * time.Second, 16 * time.Second, 16 * time.Second, ReplyError},
		{"count is stale until the next refresh", 1, 5 * time.Second, 6 * time.Second, 30 * time.Second, ReplyOK},
		{"no replica at all: NOREPLICAS", 0, 0, time.Second, time.Second, ReplyError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := okMaster(t, cfg, c.replicas, 0, c.ackAt)
			n.at(c.refresh, n.refreshGoodSlavesCount)
			rs := run1(n, c.now, 1, set)
			if len(rs) != 1 || rs[0].Reply.Kind != c.want {
				t.Fatalf("got %+v, want kind %d", rs, c.want)
			}
			if c.want == ReplyError && rs[0].Reply.Err != "NOREPLICAS Not enough good replicas to write." {
				t.Fatalf("error %q", rs[0].Reply.Err)
			}
		})
	}
	t.Run("reads are never refused", func(t *testing.T) {
		n := okMaster(t, cfg, 0, 0, 0)
		if rs := run1(n, time.Second, 1, Cmd{Op: OpGet, Key: key}); rs[0].Reply.Kind != ReplyNil {
			t.Fatalf("GET: %+v", rs)
		}
	})
	t.Run("checked before a pause postpones the client", func(t *testing.T) {
		n := okMaster(t, cfg, 0, 0, 0)
		n.pausedUntil = 10 * time.Second
		if rs := run1(n, time.Second, 1, set); len(rs) != 1 || rs[0].Reply.Kind != ReplyError {
			t.Fatalf("paused master without replicas: %+v", rs)
		}
	})
}

// TestTryAgainAndAskNotProduced: with single-key commands and no slot
// migration modelled, getNodeByQuery never returns TRYAGAIN or ASK (they need
// a multi-key command or a MIGRATING/IMPORTING slot); the owner serves.
func TestTryAgainAndAskNotProduced(t *testing.T) {
	n := okMaster(t, testCfg(), 0, 0, 0)
	for i, op := range []Op{OpSet, OpGet, OpIncr, OpRPush, OpLRange, OpDel} {
		key := keyWith(fmt.Sprint("op", i, "-"), 0, 5460)
		rs := run1(n, time.Second, 1, Cmd{Op: op, Key: key, Value: "v", Asking: true})
		if k := rs[0].Reply.Kind; k == ReplyAsk || k == ReplyTryAgain || k == ReplyMoved {
			t.Errorf("op %d on my own slot: %+v", op, rs[0].Reply)
		}
	}
}

// TestClusterSlotsMatchesSlotWalk: CLUSTER SLOTS built from the owners'
// ranges equals the walk over the slot table (one entry per maximal run of
// one owner, in slot order), whatever the layout.
func TestClusterSlotsMatchesSlotWalk(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	rnd := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 200; round++ {
		for k := 0; k < 20; k++ {
			s := rnd.IntN(NumSlots)
			n.delSlot(s)
			if p := n.nodes[rnd.IntN(len(n.nodes))]; !p.is(FlagSlave) && rnd.IntN(4) > 0 {
				n.addSlot(p, s)
			}
		}
		var want []SlotOwner
		for s := 0; s < NumSlots; s++ {
			o := n.slots.owner(s)
			if o == nil {
				continue
			}
			if l := len(want) - 1; l >= 0 && want[l].End == s-1 && want[l].Master == o.addr {
				want[l].End = s
				continue
			}
			so := SlotOwner{SlotRange: SlotRange{Start: s, End: s}, Master: o.addr}
			for _, r := range o.replicas {
				if !r.is(FlagFail) {
					so.Replicas = append(so.Replicas, r.addr)
				}
			}
			want = append(want, so)
		}
		if got := n.clusterSlots(); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: CLUSTER SLOTS\n%v\nwant\n%v", round, got, want)
		}
	}
}
