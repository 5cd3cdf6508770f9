// Joining and leaving the cluster: CLUSTER MEET and the handshake
// (clusterStartHandshake, clusterHandshakeInProgress, clusterRenameNode and
// the handshake branch of clusterProcessPacket), NOADDR, node deletion
// (clusterDelNode, freeClusterNode) and CLUSTER FORGET with its blacklist
// (clusterBlacklistAddNode, clusterBlacklistExists).

package node

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// blacklistTTL is CLUSTER_BLACKLIST_TTL: how long a forgotten node ID may
// not be re-added from gossip. Redis stores expiries in unix seconds.
const blacklistTTL = 60 * time.Second

// blackEntry is one nodes_black_list entry: a node ID and its expiry in
// whole seconds of the node's clock.
type blackEntry struct {
	id     ID
	expire int64
}

// handshakeTimeout is clusterCron's handshake_timeout: max(T, 1000 ms).
func (n *Node) handshakeTimeout() time.Duration {
	return max(n.cfg.NodeTimeout, time.Second)
}

// randomName is createClusterNode(NULL, …)'s getRandomHexChars: a
// temporary 40-hex name for a node whose real name is not known yet.
func (n *Node) randomName() ID {
	const hex = "0123456789abcdef"
	b := make([]byte, 40)
	for i := range b {
		b[i] = hex[n.rnd.IntN(16)]
	}
	return ID(b)
}

// normalizeAddr checks "ip:port" as clusterStartHandshake does (inet_pton,
// port 1..65535 with the bus port at +10000) and returns it normalized.
func normalizeAddr(ip string, port int) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil || port <= 0 || port+10000 > 65535 {
		return "", false
	}
	return netip.AddrPortFrom(a, uint16(port)).String(), true
}

// startHandshake is clusterStartHandshake: add a HANDSHAKE|MEET node with a
// random name for addr, unless a handshake with addr is in progress
// (clusterHandshakeInProgress). The cron connects to it and sends a MEET.
func (n *Node) startHandshake(addr string) bool {
	for _, p := range n.nodes {
		if p.is(FlagHandshake) && p.addr == addr {
			return false
		}
	}
	p := n.addPeer(n.randomName(), addr)
	p.flags = FlagHandshake | FlagMeet
	n.emit(trace.Note, p, 0, "handshake "+addr)
	return true
}

// meetFrom is clusterProcessPacket's MEET from an unknown sender: add it as
// a HANDSHAKE node at the address it announces; my cron connects to it.
func (n *Node) meetFrom(h *Header) {
	if h.Addr == "" {
		return
	}
	p := n.addPeer(n.randomName(), h.Addr)
	p.flags = FlagHandshake
	n.doBeforeSleep(todoSaveConfig)
}

// handshakeReply handles a PING/PONG/MEET on my outbound link to a node in
// HANDSHAKE (clusterProcessPacket step 6a). It reports whether the packet
// is done with (the handshake node was a duplicate and is deleted).
func (n *Node) handshakeReply(p *peer, h *Header) bool {
	if known := n.byID[h.Sender]; known != nil {
		// We already know the node: update its address, drop the
		// handshake node (nodeUpdateAddressIfNeeded, clusterDelNode).
		if known != n.myself && h.Addr != "" && known.addr != h.Addr {
			n.setAddr(known, h.Addr)
			known.flags &^= FlagNoAddr
			n.freeLink(known, "address")
			n.doBeforeSleep(todoSaveConfig | todoUpdateState)
		}
		n.delNode(p, "handshake_duplicate")
		return true
	}
	n.renamePeer(p, h.Sender)
	p.flags &^= FlagHandshake
	p.flags |= h.Flags & (FlagMaster | FlagSlave)
	n.emit(trace.Note, p, 0, "handshake done")
	n.doBeforeSleep(todoSaveConfig)
	return false
}

// markNoAddr is clusterProcessPacket's reaction to a PING/PONG on my
// outbound link from a node with another name than the link's: the address
// now belongs to someone else. Flag NOADDR, forget the address, free the
// link; the cron stops reconnecting until an address is learned again.
func (n *Node) markNoAddr(p *peer) {
	p.flags |= FlagNoAddr
	n.setAddr(p, "")
	n.freeLink(p, "noaddr")
	n.emit(trace.Note, p, 0, "noaddr")
	n.doBeforeSleep(todoSaveConfig)
}

// renamePeer is clusterRenameNode, keeping n.nodes sorted.
func (n *Node) renamePeer(p *peer, id ID) {
	n.unlistPeer(p)
	p.id = id
	n.listPeer(p)
}

// delNode is clusterDelNode + freeClusterNode: unbind its slots, drop the
// failure reports it filed, orphan its replicas, detach it from its
// master, forget it and free its link.
func (n *Node) delNode(p *peer, why string) {
	if p == n.myself {
		panic("node: invariant: deleting myself")
	}
	for s := 0; s < NumSlots && p.numSlots > 0; s++ {
		if n.slots.owner(s) == p {
			n.delSlot(s)
		}
	}
	n.clearOpenFor(p)
	for _, q := range n.nodes {
		if q != p {
			n.delFailureReport(q, p)
		}
	}
	for _, r := range append([]*peer(nil), p.replicas...) {
		r.master = nil
	}
	p.replicas = nil
	if p.master != nil {
		detachReplica(p)
	}
	if n.mfReplica == p {
		n.mfReplica = nil
	}
	n.freeLink(p, why)
	n.freeInbound(p)
	n.unlistPeer(p)
	n.emit(trace.Note, p, 0, "deleted "+why)
}

// blacklistCleanup is clusterBlacklistCleanup: drop expired entries.
func (n *Node) blacklistCleanup() {
	now := int64(n.now / time.Second)
	kept := n.blacklist[:0]
	for _, b := range n.blacklist {
		if b.expire >= now {
			kept = append(kept, b)
		}
	}
	n.blacklist = kept
}

// blacklistAdd is clusterBlacklistAddNode: ban id for CLUSTER_BLACKLIST_TTL.
func (n *Node) blacklistAdd(id ID) {
	n.blacklistCleanup()
	exp := int64(n.now/time.Second) + int64(blacklistTTL/time.Second)
	for i := range n.blacklist {
		if n.blacklist[i].id == id {
			n.blacklist[i].expire = exp
			return
		}
	}
	n.blacklist = append(n.blacklist, blackEntry{id, exp})
}

// blacklisted is clusterBlacklistExists.
func (n *Node) blacklisted(id ID) bool {
	n.blacklistCleanup()
	for _, b := range n.blacklist {
		if b.id == id {
			return true
		}
	}
	return false
}

// forget is CLUSTER FORGET <id>.
func (n *Node) forget(id ID) Reply {
	p := n.byID[id]
	switch {
	case p == nil:
		return errReply(ReplyError, fmt.Sprintf("ERR Unknown node %s", id))
	case p == n.myself:
		return errReply(ReplyError, "ERR I tried hard but I can't forget myself...")
	case n.myself.is(FlagSlave) && n.myself.master == p:
		return errReply(ReplyError, "ERR Can't forget my master!")
	}
	n.blacklistAdd(id)
	n.delNode(p, "forget")
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	return okReply()
}

// meet is CLUSTER MEET <ip> <port>.
func (n *Node) meet(ip, port string) Reply {
	p, err := strconv.Atoi(port)
	if err != nil {
		return errReply(ReplyError, "ERR Invalid TCP base port specified: "+port)
	}
	addr, ok := normalizeAddr(ip, p)
	if !ok {
		return errReply(ReplyError, fmt.Sprintf("ERR Invalid node address specified: %s:%s", ip, port))
	}
	n.startHandshake(addr) // EAGAIN (already in progress) still replies OK
	return okReply()
}

func okReply() Reply { return Reply{Kind: ReplyOK, Value: "OK"} }
