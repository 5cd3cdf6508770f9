package node

import (
	"strings"
	"testing"
	"time"
)

// linkTo opens n's outbound link to p at now and returns its ConnID.
func linkTo(n *Node, p *peer, now time.Duration) ConnID {
	n.at(now, func() {
		if p.link == nil {
			n.createLink(p)
		}
	})
	return p.link.conn
}

// pongFrom is a PONG as the node with id (and addr) would send it.
func pongFrom(id ID, addr string, flags Flags) *Message {
	return &Message{Type: MsgPong, Header: Header{Sender: id, Addr: addr, Flags: flags}}
}

// TestMeetHandshake: CLUSTER MEET adds a HANDSHAKE|MEET node with a random
// name (clusterStartHandshake); the first PONG on its link renames it to the
// real ID and copies the role (clusterRenameNode in clusterProcessPacket); a
// PONG from a node already known drops the duplicate; an unanswered
// handshake is deleted after max(T, 1000 ms) (clusterNodeCronHandleReconnect).
func TestMeetHandshake(t *testing.T) {
	cases := []struct {
		name    string
		reply   func(n *Node) *Message // nil: no reply at all
		wantIDs int                    // nodes known afterwards
		check   func(t *testing.T, n *Node)
	}{
		{"renamed_to_real_id", func(n *Node) *Message { return pongFrom(tid(9), "127.0.0.1:7009", FlagMaster) }, 7,
			func(t *testing.T, n *Node) {
				p := n.byID[tid(9)]
				if p == nil || p.is(FlagHandshake) || !p.is(FlagMaster) {
					t.Fatalf("handshake node not renamed: %+v", p)
				}
			}},
		{"known_node_duplicate_dropped", func(n *Node) *Message { return pongFrom(tid(3), "127.0.0.1:7002", FlagMaster) }, 6,
			func(t *testing.T, n *Node) {}},
		{"known_node_new_address_adopted", func(n *Node) *Message { return pongFrom(tid(3), "127.0.0.1:7999", FlagMaster) }, 6,
			func(t *testing.T, n *Node) {
				if a := n.byID[tid(3)].addr; a != "127.0.0.1:7999" {
					t.Fatalf("address %q not updated", a)
				}
			}},
		{"timed_out", nil, 6, func(t *testing.T, n *Node) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(1))
			var r Reply
			n.at(time.Second, func() { r = n.clusterCommand("MEET 127.0.0.1 7009") })
			if r.Kind != ReplyOK || len(n.nodes) != 7 {
				t.Fatalf("MEET: %+v, %d nodes", r, len(n.nodes))
			}
			var hs *peer
			for _, p := range n.nodes {
				if p.is(FlagHandshake) {
					hs = p
				}
			}
			if hs == nil || !hs.is(FlagMeet) || hs.addr != "127.0.0.1:7009" {
				t.Fatalf("no HANDSHAKE|MEET node: %+v", hs)
			}
			conn := linkTo(n, hs, time.Second)
			if conn.Addr != "127.0.0.1:7009" {
				t.Fatalf("handshake dial without the address: %+v", conn)
			}
			if c.reply != nil {
				n.at(time.Second+time.Millisecond, func() { n.processPacket(conn, c.reply(n)) })
			} else {
				n.at(time.Second+testT+CronPeriod, func() { n.clusterCron() })
			}
			if len(n.nodes) != c.wantIDs {
				t.Fatalf("%d nodes known, want %d:\n%s", len(n.nodes), c.wantIDs, n.ClusterNodes())
			}
			c.check(t, n)
		})
	}
}

// TestMeetFromUnknownSender: a MEET from an unknown node adds it as a
// HANDSHAKE node at its announced address and is answered with a PONG;
// a PING from an unknown node is answered but adds nothing
// (clusterProcessPacket).
func TestMeetFromUnknownSender(t *testing.T) {
	for _, typ := range []MsgType{MsgMeet, MsgPing} {
		n := mk(t, testCfg(), tid(1))
		in := ConnID{Dialer: tid(9), Peer: tid(1), N: 1}
		o := n.at(time.Second, func() {
			n.processPacket(in, &Message{Type: typ, Header: Header{Sender: tid(9), Addr: "127.0.0.1:7009"}})
		})
		added := len(n.nodes) == 7
		if added != (typ == MsgMeet) {
			t.Errorf("%s: node added=%v", typ, added)
		}
		if len(o.Msgs) != 1 || o.Msgs[0].Msg.Type != MsgPong || o.Msgs[0].Conn != in {
			t.Errorf("%s: want one PONG on the same connection, got %+v", typ, o.Msgs)
		}
	}
}

// TestNoAddrOnNameMismatch: a PONG on my outbound link to X signed by
// another node means X's address now belongs to someone else: X gets
// NOADDR, loses its address and link, and the cron stops reconnecting
// (clusterProcessPacket, clusterNodeCronHandleReconnect).
func TestNoAddrOnNameMismatch(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	p := n.byID[tid(2)]
	conn := linkTo(n, p, time.Second)
	n.at(time.Second+time.Millisecond, func() {
		n.processPacket(conn, pongFrom(tid(9), "127.0.0.1:7001", FlagMaster))
	})
	if !p.is(FlagNoAddr) || p.addr != "" || p.link != nil {
		t.Fatalf("no NOADDR: flags %s addr %q", flagNames(p.flags), p.addr)
	}
	o := n.at(2*time.Second, func() { n.clusterCron() })
	for _, d := range o.Dials {
		if d.Peer == tid(2) {
			t.Fatal("cron reconnected to a NOADDR node")
		}
	}
	if !strings.Contains(n.ClusterNodes(), string(tid(2))+" :0@0 master,noaddr") {
		t.Fatalf("CLUSTER NODES line:\n%s", n.ClusterNodes())
	}
}

// TestForgetBlacklist: CLUSTER FORGET deletes the node and bans its ID
// from gossip for CLUSTER_BLACKLIST_TTL (clusterBlacklistAddNode,
// clusterBlacklistExists in clusterProcessGossipSection), and refuses to
// forget myself or my master.
func TestForgetBlacklist(t *testing.T) {
	errs := []struct {
		self ID
		arg  string
		want string
	}{
		{tid(1), string(tid(1)), "ERR I tried hard but I can't forget myself..."},
		{tid(4), string(tid(1)), "ERR Can't forget my master!"},
		{tid(1), string(tid(9)), "ERR Unknown node " + string(tid(9))},
	}
	for _, c := range errs {
		n := mk(t, testCfg(), c.self)
		var r Reply
		n.at(time.Second, func() { r = n.clusterCommand("FORGET " + c.arg) })
		if r.Err != c.want {
			t.Errorf("FORGET %s on %s: %q, want %q", c.arg[38:], c.self[38:], r.Err, c.want)
		}
	}
	n := mk(t, testCfg(), tid(1))
	gossip := func(at time.Duration) {
		n.at(at, func() {
			n.processGossip(n.byID[tid(2)], gossipMsg(Gossip{ID: tid(6), Addr: "127.0.0.1:7005", Flags: FlagSlave}))
		})
	}
	var r Reply
	n.at(10*time.Second, func() { r = n.clusterCommand("FORGET " + string(tid(6))) })
	if r.Kind != ReplyOK || n.byID[tid(6)] != nil || len(n.byID[tid(3)].replicas) != 0 {
		t.Fatalf("FORGET: %+v", r)
	}
	gossip(10*time.Second + blacklistTTL)
	if n.byID[tid(6)] != nil {
		t.Fatal("re-added from gossip while blacklisted")
	}
	gossip(10*time.Second + blacklistTTL + time.Second)
	if p := n.byID[tid(6)]; p == nil || !p.is(FlagSlave) {
		t.Fatal("not re-added after the blacklist expired")
	}
}

// TestGossipUnknownNode: Redis 7.0's clusterProcessGossipSection adds an
// unknown node with its exact ID and the entry's flags when the sender is
// known and the entry is not NOADDR; an unknown sender teaches nothing.
func TestGossipUnknownNode(t *testing.T) {
	cases := []struct {
		name   string
		sender ID
		flags  Flags
		added  bool
	}{
		{"known_sender", tid(2), FlagMaster, true},
		{"flags_kept", tid(2), FlagMaster | FlagPFail, true},
		{"noaddr_entry", tid(2), FlagMaster | FlagNoAddr, false},
		{"unknown_sender", "", FlagMaster, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), tid(1))
			n.at(time.Second, func() {
				n.processGossip(n.byID[c.sender], gossipMsg(Gossip{ID: tid(9), Addr: "127.0.0.1:7009", Flags: c.flags}))
			})
			p := n.byID[tid(9)]
			if (p != nil) != c.added {
				t.Fatalf("added=%v, want %v", p != nil, c.added)
			}
			if p != nil && p.flags != c.flags {
				t.Fatalf("flags %s, want %s", flagNames(p.flags), flagNames(c.flags))
			}
		})
	}
}

// TestClusterResetSoft: CLUSTER RESET refuses a master holding keys, and
// otherwise (clusterReset(0)) leaves an empty master that owns no slot and
// knows only itself, keeping its ID and epochs; a replica turns master and
// drops its data first. HARD is refused: it is not modelled.
func TestClusterResetSoft(t *testing.T) {
	cases := []struct {
		name string
		self ID
		arg  string
		keys bool
		want string // error; "" for OK
	}{
		{"empty_master", tid(1), "", false, ""},
		{"soft_replica_with_data", tid(4), "SOFT", true, ""},
		{"master_with_keys", tid(1), "SOFT", true, "ERR CLUSTER RESET can't be called with master nodes containing keys"},
		{"hard_not_modelled", tid(1), "HARD", false, "ERR CLUSTER RESET HARD is not modelled by rcsim"},
		{"bad_mode", tid(1), "MEDIUM", false, "ERR syntax error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := mk(t, testCfg(), c.self)
			if c.keys {
				n.db.put("k", &value{str: "v"})
			}
			epoch := n.currentEpoch
			var r Reply
			n.at(time.Second, func() { r = n.clusterCommand(strings.TrimSpace("RESET " + c.arg)) })
			if r.Err != c.want {
				t.Fatalf("RESET %s: %q, want %q", c.arg, r.Err, c.want)
			}
			if c.want != "" {
				return
			}
			if len(n.nodes) != 1 || n.myself.numSlots != 0 || !n.myself.is(FlagMaster) ||
				len(n.db.m) != 0 || n.self != c.self || n.currentEpoch != epoch {
				t.Errorf("after reset: %d nodes, %d slots, flags %v, %d keys, epoch %d (was %d)",
					len(n.nodes), n.myself.numSlots, n.myself.flags, len(n.db.m), n.currentEpoch, epoch)
			}
		})
	}
}
