// Bus links both ways and their send buffers (Redis 7.0 cluster.c):
// an inbound link per peer, bound when a packet on a connection the peer
// dialed names it (getNodeFromLinkAndMsg, setClusterNodeToInboundClusterLink),
// freed with its connection or its node; the send buffer the kernel reports
// for each link (what clusterSendMessage appended and the socket did not
// take), shrunk and checked against cluster-link-sendbuf-limit in clusterCron
// (clusterNodeCronResizeBuffers, clusterNodeCronFreeLinkOnBufferLimitReached);
// CLUSTER LINKS (addReplyClusterLinkDescription).
//
// Redis 7.0.15 applies the limit to both links of a node, though its
// comment says outbound: the code (freeClusterLinkOnBufferLimitReached on
// node->link and node->inbound_link) is what is modelled.

package node

import (
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// inLink is an inbound bus link: the connection a peer dialed to me, once
// bound to that peer (peer.inbound; conn.N is 0 while there is none). It
// is the peer's own field rather than a map entry: at 2,000 nodes the
// 4 million entries of a map by peer took twice the memory, and every
// inbound packet hashed into it.
type inLink struct {
	conn  ConnID
	ctime time.Duration
}

// bound is whether l is a link (connection numbers start at 1).
func (l *inLink) bound() bool { return l.conn.N != 0 }

// sendBuf is one link's send buffer as sds keeps it: used bytes (sdslen)
// and the allocation (sdsalloc), which sdsMakeRoomFor grows greedily and
// resizeClusterLinkBuffer shrinks.
type sendBuf struct {
	used, alloc int64
}

// sdsMaxPrealloc is SDS_MAX_PREALLOC: below it a growing sds doubles.
const sdsMaxPrealloc = 1 << 20

// SendBuffer tells the node how many bytes of what it queued on conn (a
// bus link of its own, either way) the socket has not taken: the kernel
// calls it whenever that changes from or to a non-zero value and while it
// is non-zero. It is not an entry point: it only records the figure, which
// clusterCron and CLUSTER LINKS read.
func (n *Node) SendBuffer(conn ConnID, used int64) {
	b := n.sendBufs[conn]
	if b == nil {
		if used == 0 {
			return
		}
		if n.sendBufs == nil {
			n.sendBufs = map[ConnID]*sendBuf{}
		}
		b = &sendBuf{}
		n.sendBufs[conn] = b
	}
	b.used = used
	if used > b.alloc { // sdsMakeRoomFor's greedy growth
		b.alloc = used * 2
		if used >= sdsMaxPrealloc {
			b.alloc = used + sdsMaxPrealloc
		}
	}
}

// bufOf is conn's send buffer (zero when empty).
func (n *Node) bufOf(conn ConnID) sendBuf {
	if b := n.sendBufs[conn]; b != nil {
		return *b
	}
	return sendBuf{}
}

// forgetBuf drops a freed link's send buffer.
func (n *Node) forgetBuf(conn ConnID) {
	if n.sendBufs != nil {
		delete(n.sendBufs, conn)
	}
}

// bindInbound is setClusterNodeToInboundClusterLink for a packet from
// sender on conn, a connection sender dialed: the link becomes sender's
// inbound link; an older one is freed (closed), as a peer that reconnects
// may be seen on its new connection before the old one's close.
func (n *Node) bindInbound(sender *peer, conn ConnID) {
	old := &sender.inbound
	if old.bound() && old.conn.N == conn.N && old.conn == conn {
		return
	}
	if old.bound() {
		n.freeInbound(sender)
	}
	sender.inbound = inLink{conn: conn, ctime: n.now}
}

// freeInbound is freeClusterLink on p's inbound link, closed by me.
func (n *Node) freeInbound(p *peer) {
	l := p.inbound
	if !l.bound() {
		return
	}
	p.inbound = inLink{}
	n.forgetBuf(l.conn)
	n.out.Closes = append(n.out.Closes, l.conn)
}

// inboundClosed forgets the inbound link on conn, which its peer closed.
func (n *Node) inboundClosed(conn ConnID) {
	if p := n.byID[conn.Dialer]; p != nil && p.inbound.bound() && p.inbound.conn == conn {
		p.inbound = inLink{}
		n.forgetBuf(conn)
	}
}

// cronLinkBuffers is clusterCron's first two steps for p: shrink each of
// its links' buffers when a quarter of the unused space exceeds the used
// part (resizeClusterLinkBuffer), then free a link whose allocation is
// still above cluster-link-sendbuf-limit and count it
// (stat_cluster_links_buffer_limit_exceeded). The reconnect step after it
// dials a new outbound link at once.
func (n *Node) cronLinkBuffers(p *peer) {
	if p.link != nil {
		if n.shrinkOverLimit(p.link.conn) {
			n.freeLink(p, "sendbuf_limit")
			n.linksBufferLimitExceeded++
		}
	}
	if l := p.inbound; l.bound() && n.shrinkOverLimit(l.conn) {
		n.freeInbound(p)
		n.emit(trace.Note, p, 0, "inbound link freed: sendbuf_limit")
		n.linksBufferLimitExceeded++
	}
}

// shrinkOverLimit shrinks conn's buffer if it wastes space and reports
// whether its allocation exceeds the limit.
func (n *Node) shrinkOverLimit(conn ConnID) bool {
	b := n.sendBufs[conn]
	if b == nil {
		return false
	}
	if (b.alloc-b.used)/4 > b.used {
		b.alloc = b.used // sdsRemoveFreeSpace
	}
	if b.alloc == 0 {
		delete(n.sendBufs, conn)
		return false
	}
	limit := n.cfg.ClusterLinkSendbufLimit
	return limit > 0 && b.alloc > limit
}

// ClusterLinks is CLUSTER LINKS, one line per link in node order, the
// outbound link before the inbound one: "direction to node <id>
// create-time <ms> events rw send-buffer-allocated <n> send-buffer-used
// <n>", the fields of addReplyClusterLinkDescription. events has r once a
// link reads (an outbound link after its connect completed) and w while
// its buffer holds data.
func (n *Node) ClusterLinks() []string {
	out := []string{}
	line := func(dir string, p *peer, conn ConnID, ctime time.Duration, reading bool) {
		b := n.bufOf(conn)
		ev := ""
		if reading {
			ev = "r"
		}
		if b.used > 0 {
			ev += "w"
		}
		out = append(out, strings.Join([]string{"direction", dir, "node", string(p.id),
			"create-time", strconv.FormatInt(ctime.Milliseconds(), 10), "events", ev,
			"send-buffer-allocated", strconv.FormatInt(b.alloc, 10),
			"send-buffer-used", strconv.FormatInt(b.used, 10)}, " "))
	}
	for _, p := range n.nodes {
		if p.link != nil {
			line("to", p, p.link.conn, p.link.ctime, p.link.connected)
		}
		if l := p.inbound; l.bound() {
			line("from", p, l.conn, l.ctime, true)
		}
	}
	return out
}
