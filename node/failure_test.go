package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestPFailAfterNodeTimeout: clusterCron (step 5f) flags PFAIL when a ping
// is outstanding and min(now − ping_sent, now − data_received) > T; any
// traffic from the node postpones it, and the comparison is strict.
func TestPFailAfterNodeTimeout(t *testing.T) {
	const at = 100 * time.Second
	cases := []struct {
		name         string
		pingSent     time.Duration // 0: no ping outstanding
		dataReceived time.Duration
		pfail        bool
	}{
		{"ping_unanswered_past_T", at - testT - 1, at - testT - 1, true},
		{"exactly_T_is_not_past", at - testT, at - testT, false},
		{"data_received_postpones", at - testT - 1, at - time.Second, false},
		{"no_ping_outstanding", 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(1))
			p := n.byID[tid(2)]
			n.at(at-time.Second, func() {}) // boot
			p.pingSent, p.dataReceived, p.pongReceived = c.pingSent, c.dataReceived, at-time.Second
			o := n.at(at, func() { n.cronCheckNodes() })
			if p.is(FlagPFail) != c.pfail || hasEvent(o, trace.PFail, "") != c.pfail {
				t.Fatalf("PFAIL=%v, want %v", p.is(FlagPFail), c.pfail)
			}
		})
	}
}

// TestFailureReportsFromMastersOnly: clusterProcessGossipSection records a
// report (clusterNodeAddFailureReport) only when the sender is a master,
// refreshes it on every PFAIL/FAIL entry and deletes it when the same
// master gossips the node as healthy (clusterNodeDelFailureReport).
func TestFailureReportsFromMastersOnly(t *testing.T) {
	cases := []struct {
		name    string
		sender  ID
		entries []Flags
		reports int
	}{
		{"master_pfail_entry", tid(3), []Flags{FlagMaster | FlagPFail}, 1},
		{"master_fail_entry", tid(3), []Flags{FlagMaster | FlagFail}, 1},
		{"replica_entry_ignored", tid(5), []Flags{FlagMaster | FlagPFail}, 0},
		{"refreshed_not_duplicated", tid(3), []Flags{FlagMaster | FlagPFail, FlagMaster | FlagPFail}, 1},
		{"healthy_entry_deletes", tid(3), []Flags{FlagMaster | FlagPFail, FlagMaster}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(2))
			m0 := n.byID[tid(1)]
			for i, f := range c.entries {
				n.at(time.Duration(i+1)*time.Second, func() {
					n.processGossip(n.byID[c.sender], gossipMsg(Gossip{ID: tid(1), Addr: m0.addr, Flags: f}))
				})
			}
			if got := n.failureReportsCount(m0); got != c.reports {
				t.Fatalf("%d reports, want %d", got, c.reports)
			}
		})
	}
}

// TestClearNodeFailure: clearNodeFailureIfNeeded, called on a PONG on my
// outbound link, clears FAIL at once for a replica or a slot-less master,
// and for a master that still owns slots only once now − fail_time > 2T.
func TestClearNodeFailure(t *testing.T) {
	const failAt = 10 * time.Second
	cases := []struct {
		name    string
		node    ID
		slots   bool
		pongAt  time.Duration
		cleared bool
	}{
		{"replica_at_once", tid(4), false, failAt + time.Second, true},
		{"slotless_master_at_once", tid(1), false, failAt + time.Second, true},
		{"master_with_slots_kept", tid(1), true, failAt + 2*testT, false},
		{"master_with_slots_after_2T", tid(1), true, failAt + 2*testT + time.Millisecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(2))
			p := n.byID[c.node]
			if !c.slots {
				n.at(0, func() { n.delNodeSlots(p) })
			}
			conn := linkTo(n, p, failAt)
			p.flags |= FlagFail
			p.failTime = failAt
			n.at(c.pongAt, func() { n.processPacket(conn, n.pongOf(p)) })
			if p.is(FlagFail) == c.cleared {
				t.Fatalf("FAIL=%v, want cleared=%v", p.is(FlagFail), c.cleared)
			}
		})
	}
}

// pongOf is the PONG p would send as n sees it (role and slots unchanged).
func (n *Node) pongOf(p *peer) *Message {
	h := Header{Sender: p.id, Addr: p.addr, Flags: p.flags &^ (FlagFail | FlagPFail | FlagMyself),
		ConfigEpoch: nodeEpoch(p), CurrentEpoch: n.currentEpoch}
	m := p
	if p.master != nil {
		h.SlaveOf = p.master.id
		m = p.master
	}
	h.MySlots = m.slotSnap()
	return &Message{Type: MsgPong, Header: h}
}

// TestGossipPongTime: clusterProcessGossipSection raises my pong_received
// for a node to the gossiped one when the entry is healthy, I have no ping
// pending and no failure reports about it, and the time is not more than
// 500 ms in my future; it never lowers it.
func TestGossipPongTime(t *testing.T) {
	const now = 100 * time.Second
	cases := []struct {
		name     string
		gossiped uint32 // seconds
		flags    Flags
		pingSent time.Duration
		report   bool
		want     time.Duration
	}{
		{"raised", 99, FlagMaster, 0, false, 99 * time.Second},
		{"never_lowered", 10, FlagMaster, 0, false, 50 * time.Second},
		{"not_in_the_future", 100, FlagMaster, 0, false, 100 * time.Second},
		{"future_beyond_500ms", 101, FlagMaster, 0, false, 50 * time.Second},
		{"ping_pending", 99, FlagMaster, now - time.Second, false, 50 * time.Second},
		{"failure_reports", 99, FlagMaster, 0, true, 50 * time.Second},
		{"failing_entry", 99, FlagMaster | FlagPFail, 0, false, 50 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(2))
			p := n.byID[tid(1)]
			n.at(now-time.Second, func() {
				if c.report {
					n.addFailureReport(p, n.byID[tid(3)])
				}
			})
			p.pongReceived, p.pingSent = 50*time.Second, c.pingSent
			n.at(now, func() {
				n.processGossip(n.byID[tid(6)], gossipMsg(Gossip{ID: tid(1), Addr: p.addr, PongReceived: c.gossiped, Flags: c.flags}))
			})
			if p.pongReceived != c.want {
				t.Fatalf("pong_received %v, want %v", p.pongReceived, c.want)
			}
		})
	}
}

// TestFailMessage: a FAIL message from a known sender sets FAIL with no
// check of its own; one from an unknown sender or about myself is ignored
// (clusterProcessPacket's FAIL branch).
func TestFailMessage(t *testing.T) {
	cases := []struct {
		name   string
		sender ID
		about  ID
		fail   bool
	}{
		{"known_sender", tid(3), tid(1), true},
		{"unknown_sender", tid(9), tid(1), false},
		{"about_myself", tid(3), tid(2), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(2))
			in := ConnID{Dialer: c.sender, Peer: tid(2), N: 1}
			n.at(time.Second, func() {
				n.processPacket(in, &Message{Type: MsgFail, Header: Header{Sender: c.sender}, About: c.about})
			})
			if got := n.byID[c.about].is(FlagFail); got != c.fail {
				t.Fatalf("FAIL=%v, want %v", got, c.fail)
			}
		})
	}
}

// TestReconnectKeepsPingSent: clusterLinkConnectHandler queues a PING on a
// new link but keeps an older outstanding ping_sent, so a reconnect does
// not postpone PFAIL.
func TestReconnectKeepsPingSent(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	p := n.byID[tid(2)]
	conn := linkTo(n, p, time.Second)
	p.pingSent = 500 * time.Millisecond
	o := &Output{}
	n.Link(2*time.Second, LinkEvent{Conn: conn, Kind: Connected}, o)
	if len(o.Msgs) != 1 || o.Msgs[0].Msg.Type != MsgPing || p.pingSent != 500*time.Millisecond {
		t.Fatalf("ping_sent %v, msgs %d", p.pingSent, len(o.Msgs))
	}
}

// TestRestartTimeColumns: clusterLoadConfig sets a non-zero ping_sent or
// pong_received column to the load time and leaves zero ones at zero.
func TestRestartTimeColumns(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	d := n.Disk()
	for i := range d.Nodes {
		d.Nodes[i].PingSent, d.Nodes[i].PongReceived = 0, 0
		if d.Nodes[i].ID == tid(2) {
			d.Nodes[i].PingSent, d.Nodes[i].PongReceived = 3*time.Second, 4*time.Second
		}
	}
	r, err := Restore(testCfg(), d, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	r.at(90*time.Second, func() {})
	p, q := r.byID[tid(2)], r.byID[tid(3)]
	if p.pingSent != 90*time.Second || p.pongReceived != 90*time.Second || q.pingSent != 0 || q.pongReceived != 0 {
		t.Fatalf("columns after load: %v %v / %v %v", p.pingSent, p.pongReceived, q.pingSent, q.pongReceived)
	}
}
