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
		h.SlaveOf = me.master.id
	}
	if me.is(FlagMaster) && n.mfEnd != 0 {
		h.MFlags |= MFlagPaused
	}
	return h
}

// buildPing is clusterSendPing's packet: header and gossip section for the
// receiver to (reference 4.3).
func (n *Node) buildPing(to ID, t MsgType) *Message {
	freshnodes := len(n.nodes) - 2
	wanted := max(len(n.nodes)/10, 3)
	wanted = min(wanted, freshnodes)
	m := n.cfg.Shared.message()
	m.Type, m.Header = t, n.header(t)
	if n.cfg.Shared != nil {
		m.holders = 1
	}
	mark := n.nextGossipMark()
	receiver := n.byID[to] // compared by pointer: p.id would cost a second cache line per draw
	for maxiter := wanted * 3; freshnodes > 0 && len(m.Gossip) < wanted && maxiter > 0; maxiter-- {
		i := n.rnd.IntN(len(n.nodes))
		p := n.nodes[i]
		if p == n.myself || p.is(FlagPFail) || p == receiver {
			continue
		}
		if p.is(FlagHandshake|FlagNoAddr) || (!p.linked && p.numSlots == 0) {
			freshnodes--
			continue
		}
		if n.marks[i] == mark {
			continue // already in this section (clusterNodeIsInGossipSection)
		}
		n.marks[i] = mark
		m.Gossip = append(m.Gossip, gossipEntry(p))
		freshnodes--
	}
	pfail := n.statsPfailNodes
	for _, p := range n.nodes {
		if pfail == 0 {
			break
		}
		if !p.is(FlagPFail) || p.is(FlagHandshake|FlagNoAddr) {
			continue
		}
		m.Gossip = append(m.Gossip, gossipEntry(p))
		pfail--
	}
	return m
}

// nextGossipMark returns a fresh mark for n.marks, which flags the nodes
// (by index in n.nodes, which a PING's build does not change) already in the
// gossip section being built: a linear search of the section, as Redis
// does, costs O(N²/100) per PING at N nodes, and a mark in the peer itself
// would dirty a cache line per draw.
func (n *Node) nextGossipMark() uint32 {
	if len(n.marks) < len(n.nodes) {
		n.marks = append(n.marks, make([]uint32, len(n.nodes)-len(n.marks))...)
	}
	n.gossipMark++
	if n.gossipMark == 0 { // wrapped: no index may keep a mark that could match
		clear(n.marks)
		n.gossipMark = 1
	}
	return n.gossipMark
}

// gossipEntry is clusterSetGossipEntry: times in whole seconds.
func gossipEntry(p *peer) Gossip {
	return Gossip{ID: p.id, ref: p.ref, PingSent: int64(p.pingSent / time.Second),
		PongReceived: int64(p.pongReceived / time.Second), Addr: p.addr, Flags: p.flags}
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
	n.sendTo(p, n.buildPing(p.id, t))
}

// processPacket is clusterProcessPacket (reference 4.4, in its order).
func (n *Node) processPacket(conn ConnID, m *Message) {
	h := &m.Header
	if int(m.Type) < busTypes {
		n.statsReceived[m.Type]++
	}
	linkNode := n.linkPeer(conn) // nil on an inbound connection
	sender := n.packetSender(linkNode, h)
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
			n.processGossip(nil, m.Gossip)
		}
		// The PONG is built before anything in this packet is applied.
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: conn, Msg: n.buildPing(h.Sender, MsgPong)})
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
func (n *Node) packetSender(linkNode *peer, h *Header) *peer {
	if linkNode != nil && !linkNode.is(FlagHandshake) {
		return linkNode
	}
	if s := n.lookup(h.senderRef, h.Sender); s != nil && s != n.myself {
		return s
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
		sender.addr = h.Addr
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
	n.roleSwitch(sender, h)
	n.checkSlotClaims(sender, h)
	if sender.is(FlagMaster) && n.myself.is(FlagMaster) && h.ConfigEpoch == n.myself.configEpoch {
		n.handleConfigEpochCollision(sender)
	}
	n.processGossip(sender, m.Gossip)
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
func (n *Node) roleSwitch(sender *peer, h *Header) {
	if h.SlaveOf == "" {
		n.setNodeAsMaster(sender)
		return
	}
	master := n.byID[h.SlaveOf]
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

// processGossip is clusterProcessGossipSection (reference 4.5).
func (n *Node) processGossip(sender *peer, gs []Gossip) {
	fromMaster := sender != nil && n.reporter(sender) // a master (Valkey: one with slots)
	for i := range gs {
		g := &gs[i]
		p := n.lookup(g.ref, g.ID)
		if p == nil {
			n.gossipNewNode(sender, *g)
			continue
		}
		failing := g.Flags&(FlagPFail|FlagFail) != 0
		if fromMaster && p != n.myself {
			if failing {
				n.addFailureReport(p, sender)
				n.markNodeAsFailingIfNeeded(p)
			} else {
				n.delFailureReport(p, sender)
			}
		}
		if !failing && p.pingSent == 0 && n.failureReportsCount(p) == 0 {
			pong := time.Duration(g.PongReceived) * time.Second
			if pong <= n.now+500*time.Millisecond && pong > p.pongReceived {
				p.pongReceived = pong
			}
		}
		if p.is(FlagPFail|FlagFail) && g.Flags&FlagNoAddr == 0 && !failing && g.Addr != "" && g.Addr != p.addr {
			// A node I cannot reach, seen healthy at another address by
			// a node that can: adopt the address and reconnect.
			p.addr = g.Addr
			p.flags &^= FlagNoAddr
			n.freeLink(p, "address")
		}
	}
}

// gossipNewNode is clusterProcessGossipSection's unknown-node branch as
// Redis 7.0 has it: a known sender's entry that is neither NOADDR nor
// blacklisted adds the node with its exact ID and the entry's flags (no
// handshake: the ID is trusted because the sender is).
func (n *Node) gossipNewNode(sender *peer, g Gossip) {
	if sender == nil || g.Flags&FlagNoAddr != 0 || g.ID == "" || n.blacklisted(g.ID) {
		return
	}
	q := n.addPeer(g.ID, g.Addr)
	q.flags = g.Flags &^ (FlagMyself | FlagMigrateTo | FlagMeet | FlagMyPrimaryFail)
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
