package node

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestLinksBothWaysAndTheSendBufferLimit: a PING on a connection a peer
// dialed binds it as that peer's inbound link (getNodeFromLinkAndMsg); the
// PONG goes back on it; CLUSTER LINKS lists both links with their send
// buffers; a buffer whose allocation (sds's greedy doubling) exceeds
// cluster-link-sendbuf-limit is freed at the next clusterCron and counted
// in CLUSTER INFO, an outbound one dialled again in the same cron, an
// inbound one closed (the peer redials).
func TestLinksBothWaysAndTheSendBufferLimit(t *testing.T) {
	cfg := testCfg()
	cfg.ClusterLinkSendbufLimit = 3000
	n := mk(t, cfg, tid(1))
	peer := mk(t, testCfg(), tid(2))
	out := &Output{}
	n.Tick(0, out) // dials every peer
	var outbound ConnID
	for _, c := range out.Dials {
		if c.Peer == tid(2) {
			outbound = c
		}
	}
	n.Link(10*time.Millisecond, LinkEvent{Conn: outbound, Kind: Connected}, &Output{})
	in := ConnID{Dialer: tid(2), Peer: tid(1), N: 7}
	var ping *Message
	peer.at(20*time.Millisecond, func() { ping = peer.buildPing(peer.byID[tid(1)], MsgPing) })
	out = &Output{}
	n.Step(30*time.Millisecond, in, ping, out)
	if len(out.Msgs) != 1 || out.Msgs[0].Conn != in || out.Msgs[0].Msg.Type != MsgPong {
		t.Fatalf("PONG not on the inbound link: %+v", out.Msgs)
	}
	n.SendBuffer(outbound, 1000) // under the limit: allocation 2000
	n.SendBuffer(in, 1600)       // allocation 3200, over it
	links := strings.Join(n.ClusterLinks(), "\n")
	for _, want := range []string{
		"direction to node " + string(tid(2)) + " create-time 0 events rw send-buffer-allocated 2000 send-buffer-used 1000",
		"direction from node " + string(tid(2)) + " create-time 30 events rw send-buffer-allocated 3200 send-buffer-used 1600",
	} {
		if !strings.Contains(links, want) {
			t.Fatalf("CLUSTER LINKS\n%s\nlacks %q", links, want)
		}
	}
	out = &Output{}
	n.Tick(100*time.Millisecond, out)
	if len(out.Closes) != 1 || out.Closes[0] != in {
		t.Fatalf("closes %+v, want the inbound link", out.Closes)
	}
	if !strings.Contains(n.ClusterInfo(), "total_cluster_links_buffer_limit_exceeded:1\r\n") {
		t.Fatalf("CLUSTER INFO does not count the freed link:\n%s", n.ClusterInfo())
	}
	n.SendBuffer(outbound, 2500) // past the allocation of 2000: now 5000
	out = &Output{}
	n.Tick(200*time.Millisecond, out)
	var downs []string
	for _, e := range out.Events {
		if e.Kind == trace.LinkDown {
			downs = append(downs, e.Value)
		}
	}
	redialed := len(out.Dials) == 1 && out.Dials[0].Peer == tid(2) && out.Dials[0] != outbound
	if len(out.Closes) != 1 || out.Closes[0] != outbound || strings.Join(downs, ",") != "sendbuf_limit" || !redialed {
		t.Fatalf("closes %+v, link_down %q, dials %+v: want the outbound link freed and dialled again", out.Closes, downs, out.Dials)
	}
	if !strings.Contains(n.ClusterInfo(), "total_cluster_links_buffer_limit_exceeded:2\r\n") {
		t.Fatalf("CLUSTER INFO:\n%s", n.ClusterInfo())
	}
}

// TestSendBufferShrinks: a buffer that emptied keeps its allocation until
// clusterCron's resizeClusterLinkBuffer, and one under the limit is kept.
func TestSendBufferShrinks(t *testing.T) {
	cfg := testCfg()
	cfg.ClusterLinkSendbufLimit = 1 << 20
	n := mk(t, cfg, tid(1))
	out := &Output{}
	n.Tick(0, out)
	c := out.Dials[0]
	n.SendBuffer(c, 5000)
	n.SendBuffer(c, 0)
	if b := n.bufOf(c); b.alloc != 10000 || b.used != 0 {
		t.Fatalf("buffer %+v, want allocation 10000 kept", b)
	}
	n.Tick(100*time.Millisecond, &Output{})
	if b := n.bufOf(c); b.alloc != 0 || len(n.sendBufs) != 0 {
		t.Fatalf("buffer %+v after the cron, want shrunk away", b)
	}
}
