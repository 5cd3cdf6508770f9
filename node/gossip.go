// Building and receiving bus packets: clusterBuildMessageHdr, clusterSendPing
// (with its gossip section), clusterProcessPacket and
// clusterProcessGossipSection.
package node

import (
	"time"

	"rcsim/sim/trace"
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
	m := &Message{Type: t, Header: n.header(t)}
	for maxiter := wanted * 3; freshnodes > 0 && len(m.Gossip) < wanted && maxiter > 0; maxiter-- {
		p := n.nodes[n.rnd.IntN(len(n.nodes))]
		if p == n.myself || p.id == to || p.is(FlagPFail) {
			continue
		}
		if p.is(FlagHandshake|FlagNoAddr) || (p.link == nil && p.numSlots == 0) {
			freshnodes--
			continue
		}
		if hasGossip(m.Gossip, p.id) {
			continue
		}
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

func hasGossip(gs []Gossip, id ID) bool {
	for _, g := range gs {
		if g.ID == id {
			return true
		}
	}
	return false
}

// gossipEntry is clusterSetGossipEntry: times in whole seconds.
func gossipEntry(p *peer) Gossip {
	return Gossip{ID: p.id, PingSent: int64(p.pingSent / time.Second),
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
	sender := n.byID[h.Sender]
	if sender == n.myself {
		sender = nil
	}
	outbound := conn.Dialer == n.self
	if outbound && conn.Peer != h.Sender {
		n.emit(trace.Ignored, n.byID[conn.Peer], 0, "sender_mismatch")
		return
	}
	if sender != nil {
		sender.dataReceived = n.now
		n.mergeHeaderEpochs(sender, h)
	}
	if m.Type == MsgPing || m.Type == MsgMeet {
		// The PONG is built before anything in this packet is applied.
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: conn, Msg: n.buildPing(h.Sender, MsgPong)})
	}
	if sender == nil {
		if m.Type != MsgPing && m.Type != MsgMeet && m.Type != MsgPong {
			n.out.Events = append(n.out.Events, trace.Event{Kind: trace.Ignored,
				Peer: string(h.Sender), Value: "unknown_sender"})
		}
		return
	}
	switch m.Type {
	case MsgPing, MsgPong, MsgMeet:
		n.processPingPong(conn, sender, m)
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
	}
	sender.replOffset = h.Offset
	if n.mfEnd != 0 && n.myself.is(FlagSlave) && n.myself.master == sender &&
		h.MFlags&MFlagPaused != 0 && n.mfMasterOffset == -1 {
		n.mfMasterOffset = sender.replOffset
		n.doBeforeSleep(todoHandleManualFailover)
	}
}

// processPingPong is clusterProcessPacket's PING/PONG/MEET part (steps 6b–6h).
func (n *Node) processPingPong(conn ConnID, sender *peer, m *Message) {
	h := &m.Header
	if h.Flags&FlagNoFailover != 0 {
		sender.flags |= FlagNoFailover
	} else {
		sender.flags &^= FlagNoFailover
	}
	if m.Type == MsgPong && sender.link != nil && sender.link.conn == conn {
		sender.pongReceived = n.now
		sender.pingSent = 0
		if sender.is(FlagPFail) {
			sender.flags &^= FlagPFail
			n.emit(trace.PFailCleared, sender, 0, "")
			n.doBeforeSleep(todoSaveConfig | todoUpdateState)
		} else if sender.is(FlagFail) {
			n.clearNodeFailureIfNeeded(sender)
		}
	}
	n.roleSwitch(sender, h)
	n.checkSlotClaims(sender, h)
	if sender.is(FlagMaster) && n.myself.is(FlagMaster) && h.ConfigEpoch == n.myself.configEpoch {
		n.handleConfigEpochCollision(sender)
	}
	n.processGossip(sender, m.Gossip)
}

// roleSwitch is step 6e as Redis 7.0 has it: a master that names a master
// loses its slots and becomes a replica; a replica follows the named master.
func (n *Node) roleSwitch(sender *peer, h *Header) {
	if h.SlaveOf == "" {
		n.setNodeAsMaster(sender)
		return
	}
	master := n.byID[h.SlaveOf]
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

// checkSlotClaims is step 6f: apply a master's changed claim, and tell a
// sender with a stale claim about the newer owner (one UPDATE per packet).
func (n *Node) checkSlotClaims(sender *peer, h *Header) {
	sm := sender
	if sender.is(FlagSlave) {
		sm = sender.master
	}
	if sm == nil || h.MySlots == nil || sm.slots == *h.MySlots {
		return
	}
	if sender.is(FlagMaster) {
		n.updateSlotsConfigWith(sender, h.ConfigEpoch, h.MySlots)
	}
	for s := 0; s < NumSlots; s++ {
		if !h.MySlots.Has(s) {
			continue
		}
		owner := n.slots[s]
		if owner == nil || owner == sender || n.notClaiming.Has(s) {
			continue
		}
		if owner.configEpoch > h.ConfigEpoch {
			n.sendUpdate(sender, owner)
			break
		}
	}
}

// processGossip is clusterProcessGossipSection (reference 4.5).
func (n *Node) processGossip(sender *peer, gs []Gossip) {
	for _, g := range gs {
		p := n.byID[g.ID]
		if p == nil {
			// Redis 7.0 starts a handshake with the address; knowing the
			// ID already, this simulator adds the node directly (7.4 style).
			if g.Flags&FlagNoAddr == 0 && g.ID != "" {
				q := n.addPeer(g.ID, g.Addr)
				q.flags = g.Flags &^ (FlagMyself | FlagPFail | FlagFail | FlagMigrateTo)
				n.doBeforeSleep(todoSaveConfig)
			}
			continue
		}
		failing := g.Flags&(FlagPFail|FlagFail) != 0
		if sender.is(FlagMaster) && p != n.myself {
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
	}
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
