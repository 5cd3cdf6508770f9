package node

import (
	"testing"
	"time"
)

// TestManualFailoverErrors: CLUSTER FAILOVER's refusals, in clusterCommand's
// order: to a master; a replica of an unknown master; without FORCE when
// the master is FAIL or I have no link to it; a bad option.
func TestManualFailoverErrors(t *testing.T) {
	cases := []struct {
		name  string
		self  ID
		mode  string
		setup func(n *Node)
		want  string
	}{
		{"to_master", tid(1), "", func(n *Node) {}, "ERR You should send CLUSTER FAILOVER to a replica"},
		{"master_failed", tid(4), "", func(n *Node) { n.byID[tid(1)].flags |= FlagFail },
			"ERR Master is down or failed, please use CLUSTER FAILOVER FORCE"},
		{"no_link_to_master", tid(4), "", func(n *Node) {},
			"ERR Master is down or failed, please use CLUSTER FAILOVER FORCE"},
		{"force_without_link", tid(4), "FORCE", func(n *Node) {}, ""},
		{"force_lower_case", tid(4), "force", func(n *Node) {}, ""},
		{"takeover_mixed_case", tid(4), "TakeOver", func(n *Node) {}, ""},
		{"syntax", tid(4), "NOW", func(n *Node) {}, "ERR syntax error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), c.self)
			var r Reply
			n.at(time.Second, func() {
				c.setup(n)
				r = n.clusterFailoverCommand(c.mode)
			})
			if r.Err != c.want {
				t.Fatalf("reply %q, want %q", r.Err, c.want)
			}
		})
	}
}

// TestManualFailoverWaitsForOffset: in a default manual failover the
// replica may start the election only once it processed exactly the offset
// its paused master announced (clusterHandleManualFailover), and gives up
// when mf_end passes (manualFailoverCheckTimeout, CLUSTER_MF_TIMEOUT).
func TestManualFailoverWaitsForOffset(t *testing.T) {
	n := mk(t, testCfg(), tid(4))
	m := n.byID[tid(1)]
	conn := linkTo(n, m, time.Second)
	n.at(time.Second, func() { n.clusterFailoverCommand("") })
	n.repl.offset = 40
	n.at(time.Second+time.Millisecond, func() {
		n.processPacket(conn, &Message{Type: MsgPong, Header: Header{Sender: tid(1), Addr: m.addr,
			Flags: FlagMaster, ConfigEpoch: 1, Offset: 50, MFlags: MFlagPaused, MySlots: m.slotSnap()}})
	})
	if n.mfMasterOffset != 50 || n.mfCanStart {
		t.Fatalf("mf_master_offset %d can_start %v", n.mfMasterOffset, n.mfCanStart)
	}
	n.repl.offset = 50
	n.at(time.Second+2*time.Millisecond, func() { n.handleManualFailover() })
	if !n.mfCanStart {
		t.Fatal("offsets match but the election may not start")
	}
	n.at(time.Second+mfTimeout+time.Millisecond, func() { n.manualFailoverCheckTimeout() })
	if n.mfEnd != 0 || n.mfCanStart {
		t.Fatal("manual failover not abandoned after CLUSTER_MF_TIMEOUT")
	}
}

// TestMFStartPausesMaster: the MFSTART handler on a master pauses client
// writes for CLUSTER_MF_TIMEOUT·CLUSTER_MF_PAUSE_MULT, answers with a PING
// on the same connection, flags PAUSED in its headers, and unpauses when
// its own mf_end passes; MFSTART from a node that is not my replica is
// ignored.
func TestMFStartPausesMaster(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	in := ConnID{Dialer: tid(5), Peer: tid(1), N: 1}
	n.at(time.Second, func() { n.processMFStart(in, n.byID[tid(5)]) })
	if n.mfEnd != 0 {
		t.Fatal("MFSTART from another master's replica accepted")
	}
	in.Dialer = tid(4)
	o := n.at(time.Second, func() { n.processMFStart(in, n.byID[tid(4)]) })
	if n.pausedUntil != time.Second+mfTimeout*mfPauseMult || len(o.Msgs) != 1 || o.Msgs[0].Conn != in {
		t.Fatalf("paused until %v, msgs %+v", n.pausedUntil, o.Msgs)
	}
	if n.header(MsgPing).MFlags&MFlagPaused == 0 {
		t.Fatal("headers do not carry PAUSED")
	}
	n.at(time.Second+mfTimeout+time.Millisecond, func() { n.manualFailoverCheckTimeout() })
	if n.pausedUntil != 0 || n.mfEnd != 0 {
		t.Fatal("master still paused after its mf_end")
	}
}
