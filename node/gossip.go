// Building and receiving bus packets: clusterBuildMessageHdr, clusterSendPing
// (with its gossip section), clusterProcessPacket and
// clusterProcessGossipSection.

package node

import (
	"math/bits"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// header is clusterBuildMessageHdr: my state at queueing time.
func (n *Node) header(t MsgType) Header {
	me := n.myself
	master := me
	if me.is(FlagSlave) && me.master != nil {
		master = me.master
	}
	h := Header{
		Sender:       n.self,
		senderRef:    me.ref,
		Addr:         me.addr,
		CurrentEpoch: n.currentEpoch,
		ConfigEpoch:  master.configEpoch,
		Offset:       n.replOffsetForHeader(),
		MySlots:      master.slotSnap(),
		Flags:        me.flags,
		StateOK:      n.stateOK,
	}
	if me.is(FlagSlave) && me.master != nil {
		h.SlaveOf, h.slaveOfRef = me.master.id, me.master.ref
	}
	if me.is(FlagMaster) && n.mfEnd != 0 {
		h.MFlags |= MFlagPaused
	}
	return h
}

// buildPing is clusterSendPing's packet: header and gossip section for the
// receiver to (nil if I do not know it; reference 4.3). The draws and the
// entries read only the hot records (see peerHot).
func (n *Node) buildPing(to *peer, t MsgType) *Message {
	freshnodes := len(n.nodes) - 2
	wanted := max(len(n.nodes)/10, 3)
	wanted = min(wanted, freshnodes)
	m := n.cfg.Shared.message()
	m.Type, m.Header = t, n.header(t)
	m.holders = 1
	mark := n.nextGossipMark()
	marks := n.marks
	hot, me := n.hot, n.myself.peerHot
	var receiver *peerHot
	if to != nil {
		receiver = to.peerHot
	}
	var draws [prefetch]int32
	for maxiter := wanted * 3; freshnodes > 0 && len(m.gossip) < wanted && maxiter > 0; {
		// Every pass below draws once, whatever it finds, and k more passes
		// are certain to run (each moves freshnodes, the section and
		// maxiter by at most one): draw them at once and load their records
		// together, so that their cache misses overlap instead of queueing.
		k := min(prefetch, freshnodes, wanted-len(m.gossip), maxiter)
		for j := range draws[:k] {
			draws[j] = int32(n.rnd.IntN(len(hot)))
		}
		var seen Flags
		for _, i := range draws[:k] { // a loop of loads alone: all k in flight at once
			seen |= hot[i].flags
		}
		n.prefetched |= uint32(seen)
		for _, i := range draws[:k] {
			maxiter--
			h := &hot[i]
			if h == me || h.is(FlagPFail) || h == receiver {
				continue
			}
			if h.is(FlagHandshake|FlagNoAddr) || (!h.linked && h.numSlots == 0) {
				freshnodes--
				continue
			}
			if marks[i] == mark {
				continue // already in this section (clusterNodeIsInGossipSection)
			}
			marks[i] = mark
			m.gossip = append(m.gossip, gossipEntry(h, int(i)))
			freshnodes--
		}
	}
	pfail := n.statsPfailNodes
	for i := range hot {
		if pfail == 0 {
			break
		}
		h := &hot[i]
		if !h.is(FlagPFail) || h.is(FlagHandshake|FlagNoAddr) {
			continue
		}
		m.gossip = append(m.gossip, gossipEntry(h, i))
		pfail--
	}
	return m
}

// prefetch is how many hot records a gossip loop loads at once (see buildPing
// and processGossip): enough to keep a core's outstanding cache misses busy.
const prefetch = 16

// nextGossipMark returns a fresh mark for n.marks, which flags the nodes (by
// index in n.nodes, which a PING's build does not change) already in the
// gossip section being built: a linear search of the section, as Redis
// does, costs O(N²/100) per PING at N nodes. The marks are an array of their
// own (4 KB at 2,000 nodes, which stays in the cache during a build), as a
// mark in the hot record would dirty the cache line of every node drawn, and
// writing those lines back would double the build's memory traffic.
func (n *Node) nextGossipMark() uint16 {
	if len(n.marks) != len(n.nodes) {
		n.marks = make([]uint16, len(n.nodes)) // the dict changed: no index keeps its old meaning
	}
	n.gossipMark++
	if n.gossipMark == 0 { // wrapped: no index may keep a mark that could match
		clear(n.marks)
		n.gossipMark = 1
	}
	return n.gossipMark
}

// gossipEntry is clusterSetGossipEntry for the node at index i: pong_received
// in whole seconds, truncated to 32 bits as htonl does (ping_sent is not
// carried, see Gossip).
func gossipEntry(h *peerHot, i int) gossip {
	return gossip{pongReceived: uint32(h.pongReceived / time.Second),
		ref: h.ref, addr: h.addr, pos: uint32(i), flags: h.flags}
}

// sendPing queues a PING, PONG or MEET on my outbound link to p; a PING
// sets ping_sent.
func (n *Node) sendPing(p *peer, t MsgType) {
	if p.link == nil {
		return
	}
	if t == MsgPing {
		p.pingSent = n.stamp()
	}
	n.sendTo(p, n.buildPing(p, t))
}

// processPacket is clusterProcessPacket (reference 4.4, in its order).
func (n *Node) processPacket(conn ConnID, m *Message) {
	h := &m.Header
	if int(m.Type) < busTypes {
		n.statsReceived[m.Type]++
	}
	linkNode := n.linkPeer(conn) // nil on an inbound connection
	named := n.lookup(m.shared, h.senderRef, h.Sender)
	sender := n.packetSender(linkNode, named)
	if linkNode == nil && sender != nil && conn.Dialer != n.self {
		n.bindInbound(sender, conn)
	}
	if sender != nil {
		sender.dataReceived = n.now
		if !sender.is(FlagHandshake) {
			n.mergeHeaderEpochs(sender, h)
		}
	}
	if m.Type == MsgPing || m.Type == MsgMeet {
		if sender == nil && m.Type == MsgMeet {
			n.meetFrom(h)
			n.processGossip(nil, m)
		}
		// The PONG is built before anything in this packet is applied.
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: conn, Msg: n.buildPing(named, MsgPong)})
	}
	switch m.Type {
	case MsgPing, MsgPong, MsgMeet:
		n.processPingPong(linkNode, sender, m)
		return
	}
	if sender == nil {
		n.out.Events = append(n.out.Events, trace.Event{Kind: trace.Ignored,
			Peer: string(h.Sender), Value: "unknown_sender"})
		return
	}
	switch m.Type {
	case MsgFail:
		n.processFail(sender, m.About)
	case MsgUpdate:
		n.processUpdate(m.Update)
	case MsgAuthRequest:
		n.sendFailoverAuthIfNeeded(sender, h)
	case MsgAuthAck:
		n.processAuthAck(sender, h)
	case MsgMFStart:
		n.processMFStart(conn, sender)
	}
}

// packetSender is getNodeFromLinkAndMsg: the node of my outbound link if it
// is known and out of handshake, else the node the header names.
func (n *Node) packetSender(linkNode, named *peer) *peer {
	if linkNode != nil && !linkNode.is(FlagHandshake) {
		return linkNode
	}
	if named != n.myself {
		return named
	}
	return nil
}

// mergeHeaderEpochs is clusterProcessPacket's step 4: epochs and offset
// from the header of a known sender.
func (n *Node) mergeHeaderEpochs(sender *peer, h *Header) {
	if h.CurrentEpoch > n.currentEpoch {
		n.setCurrentEpoch(h.CurrentEpoch, "header")
		n.doBeforeSleep(todoSaveConfig)
	}
	if h.ConfigEpoch > sender.configEpoch {
		sender.configEpoch = h.ConfigEpoch
		n.doBeforeSleep(todoSaveConfig)
		if n.cfg.Rules.CancelElectionOnEpochClaim && h.SlaveOf == "" && n.myself.is(FlagSlave) && n.failoverAuthSent &&
			n.failoverAuthTime != never && sender.configEpoch >= n.failoverAuthEpoch {
			// Someone won an election at or after mine: mine cannot win,
			// so retry at once rather than after auth_retry_time.
			n.failoverAuthTime = never
			n.failoverExpired = true // reported here, once
			n.emit(trace.ElectionExpire, sender, n.failoverAuthEpoch, "epoch_claimed")
			n.doBeforeSleep(todoHandleFailover)
		}
	}
	sender.replOffset = h.Offset
	if n.mfEnd != 0 && n.myself.is(FlagSlave) && n.myself.master == sender &&
		h.MFlags&MFlagPaused != 0 && n.mfMasterOffset == -1 {
		n.mfMasterOffset = sender.replOffset
		n.doBeforeSleep(todoHandleManualFailover)
	}
}

// processPingPong is clusterProcessPacket's PING/PONG/MEET part (steps
// 6a–6h). linkNode is the node of my outbound link the packet came on (nil
// if inbound).
func (n *Node) processPingPong(linkNode, sender *peer, m *Message) {
	h := &m.Header
	if linkNode != nil {
		if linkNode.is(FlagHandshake) {
			if n.handshakeReply(linkNode, h) {
				return
			}
		} else if linkNode.id != h.Sender {
			n.markNoAddr(linkNode)
			return
		}
	}
	if sender != nil {
		// clusterProcessPacket copies these two flags from every header
		// (MY_PRIMARY_FAIL only in Valkey 9.0, where it exists).
		sender.flags = sender.flags&^(FlagNoFailover|FlagMyPrimaryFail) |
			h.Flags&(FlagNoFailover|FlagMyPrimaryFail)
	}
	if m.Type == MsgPing && sender != nil && linkNode != sender && h.Addr != "" && sender.addr != h.Addr {
		// nodeUpdateAddressIfNeeded on a PING from a known node (not on
		// my own link to it): adopt the address and reconnect.
		n.setAddr(sender, h.Addr)
		sender.flags &^= FlagNoAddr
		n.freeLink(sender, "address")
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	}
	if m.Type == MsgPong && linkNode != nil {
		n.pongReceived(linkNode)
	}
	if sender == nil {
		return
	}
	n.roleSwitch(sender, m)
	n.checkSlotClaims(sender, h)
	if sender.is(FlagMaster) && n.myself.is(FlagMaster) && h.ConfigEpoch == n.myself.configEpoch {
		n.handleConfigEpochCollision(sender)
	}
	n.processGossip(sender, m)
}

// pongReceived is step 6d: a PONG on my outbound link proves p alive.
func (n *Node) pongReceived(p *peer) {
	p.pongReceived = n.now
	p.pingSent = 0
	if p.is(FlagPFail) {
		p.flags &^= FlagPFail
		n.emit(trace.PFailCleared, p, 0, "")
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	} else if p.is(FlagFail) {
		n.clearNodeFailureIfNeeded(p)
	}
}

// GossipRules are the rule switches of PING/PONG processing.
type GossipRules struct {
	// DemotionMovesSlots: a PONG from a master that now names a master of
	// its own shard (it was failed over) moves its slots to that node and
	// makes it a master with the header's config epoch, unless the header's
	// epoch is older than the sender's (clusterProcessPacket's role switch,
	// clusterMoveNodeSlots, redis#13055, Redis 7.4). Redis 7.0 only drops
	// the slots, leaving them unserved until the new master's own PING.
	DemotionMovesSlots bool
	// CancelElectionOnEpochClaim: a replica whose vote request is out
	// resets its election on seeing a master claim a config epoch ≥ the
	// election's, and retries at once (clusterProcessPacket, valkey#1009
	// with valkey#1339, Valkey 8.1).
	CancelElectionOnEpochClaim bool
}

// roleSwitch is step 6e: a master that names a master loses its slots and
// becomes a replica; a replica follows the named master.
func (n *Node) roleSwitch(sender *peer, m *Message) {
	h := &m.Header
	if h.SlaveOf == "" {
		n.setNodeAsMaster(sender)
		return
	}
	master := n.lookup(m.shared, h.slaveOfRef, h.SlaveOf)
	if sender.is(FlagMaster) && n.cfg.Rules.DemotionMovesSlots && master != nil &&
		master != n.myself && master.shard == sender.shard {
		n.demoted(sender, master, h.ConfigEpoch)
	}
	if sender.is(FlagMaster) {
		n.delNodeSlots(sender)
		sender.flags &^= FlagMaster | FlagMigrateTo
		sender.flags |= FlagSlave
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	}
	if master != nil && sender.master != master && master != sender {
		n.attachReplica(sender, master)
		n.doBeforeSleep(todoSaveConfig)
	}
}

// demoted is redis#13055's branch: sender, failed over, names master of
// its own shard; move its slots there unless the header is stale.
func (n *Node) demoted(sender, master *peer, epoch uint64) {
	if sender.configEpoch > epoch {
		n.emit(trace.Ignored, sender, epoch, "stale_demotion")
		return
	}
	var moved SlotSet
	for s := 0; s < NumSlots; s++ {
		if n.slots.owner(s) == sender {
			n.delSlot(s)
			n.addSlot(master, s)
			moved.Add(s)
		}
	}
	n.setNodeAsMaster(master)
	master.configEpoch = epoch
	if rs := moved.Ranges(); len(rs) > 0 {
		n.emitSlots(trace.Slots, master, epoch, rs)
	}
}

// checkSlotClaims is step 6f: apply a master's changed claim, and tell a
// sender with a stale claim about the newer owner (one UPDATE per packet).
func (n *Node) checkSlotClaims(sender *peer, h *Header) {
	sm := sender
	if sender.is(FlagSlave) {
		sm = sender.master
	}
	if sm == nil || h.MySlots == nil || sm.slots == h.MySlots {
		return
	}
	if *sm.slots == *h.MySlots {
		sm.adoptSlots(h.MySlots)
		return
	}
	if sender.is(FlagMaster) {
		n.updateSlotsConfigWith(sender, h.ConfigEpoch, h.MySlots)
		sender.adoptSlots(h.MySlots)
	}
claims:
	for wi, cw := range h.MySlots {
		for ; cw != 0; cw &= cw - 1 {
			s := wi*64 + bits.TrailingZeros64(cw)
			owner := n.slots.owner(s)
			if owner == nil || owner == sender || n.notClaiming.Has(s) {
				continue
			}
			if owner.configEpoch > h.ConfigEpoch {
				n.sendUpdate(sender, owner)
				break claims
			}
		}
	}
}

// processGossip is clusterProcessGossipSection (reference 4.5). Each entry
// reads and writes only my hot record of its node unless the node is
// failing or unknown.
func (n *Node) processGossip(sender *peer, m *Message) {
	fromMaster := sender != nil && n.reporter(sender) // a master (Valkey: one with slots)
	me := n.myself.peerHot
	gs := m.gossip
	for k := range gs {
		if k%prefetch == 0 && m.shared == n.cfg.Shared {
			// Load the next entries' records at once, so that their cache
			// misses overlap (see buildPing); the loop below finds them
			// in the cache, or looks them up again if a new node moved them.
			var seen uint32
			hot := n.hot
			for j := k; j < min(k+prefetch, len(gs)); j++ {
				if pos := int(gs[j].pos); pos < len(hot) {
					seen |= hot[pos].ref
				}
			}
			n.prefetched |= seen
		}
		g := &gs[k]
		i := n.gossipIndex(m.shared, g)
		if i < 0 {
			n.gossipNewNode(sender, m.shared, g)
			me = n.myself.peerHot // a new node moves every record to a new array
			continue
		}
		h := &n.hot[i]
		failing := g.flags&(FlagPFail|FlagFail) != 0
		if fromMaster && h != me {
			if failing {
				p := n.nodes[i]
				n.addFailureReport(p, sender)
				n.markNodeAsFailingIfNeeded(p)
			} else if h.reported {
				n.delFailureReport(n.nodes[i], sender)
			}
		}
		if !failing && h.pingSent == 0 && (!h.reported || n.failureReportsCount(n.nodes[i]) == 0) {
			pong := time.Duration(g.pongReceived) * time.Second
			if pong <= n.now+500*time.Millisecond && pong > h.pongReceived {
				h.pongReceived = pong
			}
		}
		if h.is(FlagPFail|FlagFail) && g.flags&FlagNoAddr == 0 && !failing && g.addr != 0 {
			if p, addr := n.nodes[i], m.shared.addrOf(g.addr); addr != p.addr {
				// A node I cannot reach, seen healthy at another address by
				// a node that can: adopt the address and reconnect.
				n.setAddr(p, addr)
				p.flags &^= FlagNoAddr
				n.freeLink(p, "address")
			}
		}
	}
}

// gossipIndex is the index in n.nodes of the node entry g of a message
// numbered in s names, or −1 if I do not know it: the sender's index when it
// holds the same node (the common case: both know the same nodes), else a
// lookup by number or, from another Shared, by ID.
func (n *Node) gossipIndex(s *Shared, g *gossip) int {
	if s == n.cfg.Shared {
		if int(g.pos) < len(n.hot) && n.hot[g.pos].ref == g.ref {
			return int(g.pos)
		}
		if int(g.ref) < len(n.byRef) {
			if p := n.byRef[g.ref]; p != nil {
				return p.idx
			}
		}
		return -1
	}
	if p := n.byID[s.id(g.ref)]; p != nil {
		return p.idx
	}
	return -1
}

// gossipNewNode is clusterProcessGossipSection's unknown-node branch as
// Redis 7.0 has it: a known sender's entry that is neither NOADDR nor
// blacklisted adds the node with its exact ID and the entry's flags (no
// handshake: the ID is trusted because the sender is).
func (n *Node) gossipNewNode(sender *peer, s *Shared, g *gossip) {
	id := s.id(g.ref)
	if sender == nil || g.flags&FlagNoAddr != 0 || id == "" || n.blacklisted(id) {
		return
	}
	q := n.addPeer(id, s.addrOf(g.addr))
	q.flags = g.flags &^ (FlagMyself | FlagMigrateTo | FlagMeet | FlagMyPrimaryFail)
	if q.is(FlagFail) {
		q.failTime = never // createClusterNode leaves fail_time 0 (1970)
	}
	n.emit(trace.Note, q, 0, "learned from gossip")
	n.doBeforeSleep(todoSaveConfig)
}

// broadcastPong is clusterBroadcastPong: to all nodes, or only to the
// replicas of my master (localReplicas).
func (n *Node) broadcastPong(localReplicas bool) {
	for _, p := range n.nodes {
		if p == n.myself || p.is(FlagHandshake) || p.link == nil {
			continue
		}
		if localReplicas {
			me := n.myself
			local := p.is(FlagSlave) && p.master != nil && (p.master == me.master || p.master == me)
			if !local {
				continue
			}
		}
		n.sendPing(p, MsgPong)
	}
}
