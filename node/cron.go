// The periodic work and the bus links it keeps alive: clusterCron,
// clusterNodeCronHandleReconnect, clusterLinkConnectHandler and freeClusterLink.

package node

import (
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// CronRules are the rule switches of clusterCron.
type CronRules struct {
	// OneShardPrimaryMarksFail: in a cluster of one shard, its primary
	// marks a timed-out node FAIL by itself, as no other primary can report
	// it (clusterCron calling markNodeAsFailingIfNeeded when size is 1,
	// redis#12824, Redis 7.4).
	OneShardPrimaryMarksFail bool
	// LimitReconnects: reconnection attempts to nodes without a link are
	// spaced: a node dialled less than node-timeout/2 ago is skipped once
	// this cron has used its budget of ceil(nodes × 100 ms / (T/2)) dials
	// (clusterNodeCronHandleReconnect, valkey#2154, Valkey 9.0). Redis dials
	// every such node every 100 ms.
	LimitReconnects bool
}

// pingInterval is cluster-ping-interval, or T/2 when unset.
func (n *Node) pingInterval() time.Duration {
	if n.cfg.PingInterval > 0 {
		return n.cfg.PingInterval
	}
	return n.cfg.NodeTimeout / 2
}

// clusterCron runs every CronPeriod (reference 3.2, in its order). Its
// static iteration counter starts with the process, as serverCron's
// cronloops does, and is incremented first: it is cronloops+1 here.
func (n *Node) clusterCron() {
	iteration := n.cronloops + 1
	n.statsPfailNodes, n.failNodes = 0, 0
	n.cronReconnect()
	if iteration%10 == 0 {
		n.randomPing()
	}
	updateState := n.cronCheckNodes()
	n.failNodes = -1
	// Step 6: a replica not yet replicating its master starts to (retries
	// of a configured link are replicationCron's, once a second).
	if m := n.myself.master; n.myself.is(FlagSlave) && m != nil && n.repl.master != m.id {
		n.replicationSetMaster(m)
	}
	n.manualFailoverCheckTimeout()
	if n.myself.is(FlagSlave) {
		n.handleManualFailover()
		n.reportElectionExpired()
		n.handleSlaveFailover()
		n.maybeMigrate()
	}
	if updateState || !n.stateOK {
		n.updateState()
	}
}

// cronReconnect is clusterCron's loop over clusterNodeCronHandleReconnect:
// count PFAIL nodes, delete handshake nodes older than the handshake
// timeout, and open a link to every node that has none.
func (n *Node) cronReconnect() {
	timeout := n.handshakeTimeout()
	dials := 0
	me := n.myself.peerHot
	for i := 0; i < len(n.hot); i++ {
		h := &n.hot[i]
		if h == me || h.is(FlagNoAddr) {
			continue
		}
		if h.is(FlagPFail) {
			n.statsPfailNodes++
		}
		if h.is(FlagFail) {
			n.failNodes++
		}
		if h.is(FlagHandshake) && n.now-n.nodes[i].ctime > timeout {
			n.delNode(n.nodes[i], "handshake_timeout")
			i-- // the next node moved to index i, and every record to a new array
			me = n.myself.peerHot
			continue
		}
		if len(n.sendBufs) > 0 {
			n.cronLinkBuffers(n.nodes[i])
		}
		if !h.linked {
			if p := n.nodes[i]; !n.reconnectDeferred(p, dials) {
				n.createLink(p)
				p.reconnectTime = n.now
				dials++
			}
		}
	}
}

// reconnectDeferred is valkey#2154's skip in clusterNodeCronHandleReconnect
// under LimitReconnects: no inbound link from p (rcsim keeps none: it reads
// "nothing heard from p for T/2"), p was dialled less than T/2 ago, and this
// cron already spent maxConnectionAttemptsPerCron dials.
func (n *Node) reconnectDeferred(p *peer, dials int) bool {
	if !n.cfg.Rules.LimitReconnects {
		return false
	}
	interval := n.cfg.NodeTimeout / 2
	if interval <= 0 {
		return false
	}
	budget := int((time.Duration(len(n.nodes))*CronPeriod + interval - 1) / interval)
	return n.now-p.dataReceived > interval && n.now-p.reconnectTime < interval && dials >= budget
}

// randomPing is clusterCron's once-a-second ping: the best of 5 random draws
// (with replacement, myself included) by oldest pong_received.
func (n *Node) randomPing() {
	var best *peer
	for j := 0; j < 5; j++ {
		p := n.nodes[n.rnd.IntN(len(n.nodes))]
		if p.link == nil || p.pingSent != 0 || p == n.myself || p.is(FlagHandshake) {
			continue
		}
		if best == nil || p.pongReceived < best.pongReceived {
			best = p
		}
	}
	if best != nil {
		n.sendPing(best, MsgPing)
	}
}

// cronCheckNodes is clusterCron's per-node loop (steps 5a–5f); it reports
// whether a node turned PFAIL.
func (n *Node) cronCheckNodes() bool {
	update := false
	n.orphaned.reset()
	orphans := n.mayMigrate()
	T := n.cfg.NodeTimeout
	me := n.myself.peerHot
	for i := range n.hot {
		h := &n.hot[i]
		if h == me || h.is(FlagNoAddr|FlagHandshake) {
			continue
		}
		if orphans && h.is(FlagMaster) {
			n.orphaned.count(n, n.nodes[i])
		}
		linked := h.linked
		if linked && h.pingSent != 0 && n.now-h.pingSent > T/2 {
			if p := n.nodes[i]; n.now-p.link.ctime > T && n.now-p.dataReceived > T/2 {
				n.freeLink(p, "timeout")
				linked = false
			}
		}
		if linked && h.pingSent == 0 && n.now-h.pongReceived > n.pingInterval() {
			n.sendPing(n.nodes[i], MsgPing)
			continue
		}
		if linked && n.mfEnd != 0 && n.myself.is(FlagMaster) && n.mfReplica == n.nodes[i] {
			n.sendPing(n.nodes[i], MsgPing)
			continue
		}
		if h.pingSent == 0 || n.now-h.pingSent <= T {
			continue // no ping outstanding, or not for long enough to matter
		}
		p := n.nodes[i]
		delay := min(n.now-h.pingSent, n.now-p.dataReceived)
		if delay > T && !h.is(FlagPFail|FlagFail) {
			h.flags |= FlagPFail
			n.emit(trace.PFail, p, 0, "")
			update = true
			if n.cfg.Rules.OneShardPrimaryMarksFail && n.size == 1 && n.reporter(n.myself) {
				n.markNodeAsFailingIfNeeded(p)
			}
		}
	}
	return update
}

// createLink opens my outbound bus link to p (createClusterLink + a
// non-blocking connect): the link object exists at once.
func (n *Node) createLink(p *peer) {
	c := ConnID{Dialer: n.self, Peer: p.id, N: n.nextConn, ref: p.ref}
	if p.is(FlagHandshake) {
		c.Addr = p.addr // the name is temporary: dial the address
	}
	n.nextConn++
	p.linkSlot = link{conn: c, ctime: n.now}
	p.setLink(&p.linkSlot)
	n.out.Dials = append(n.out.Dials, c)
}

// freeLink is freeClusterLink on my outbound link to p, closed by me.
func (n *Node) freeLink(p *peer, why string) {
	if p.link == nil {
		return
	}
	n.out.Closes = append(n.out.Closes, p.link.conn)
	n.dropLink(p, why)
}

// dropLink forgets my outbound link to p (ping_sent survives, as in Redis).
func (n *Node) dropLink(p *peer, why string) {
	wasUp := p.link.connected
	n.forgetBuf(p.link.conn)
	p.setLink(nil)
	if wasUp || !p.downReported {
		n.emit(trace.LinkDown, p, 0, why)
		p.downReported = true
	}
}

// busLinkEvent handles connect results and closes of bus connections.
func (n *Node) busLinkEvent(ev LinkEvent) {
	if ev.Conn.Dialer != n.self {
		if ev.Kind == Closed {
			n.inboundClosed(ev.Conn)
		}
		return
	}
	p := n.linkPeer(ev.Conn)
	if p == nil {
		return // a link I already freed
	}
	switch ev.Kind {
	case Connected:
		// clusterLinkConnectHandler: queue a PING (or MEET), keeping an
		// older outstanding ping_sent.
		p.link.connected = true
		p.downReported = false
		old := p.pingSent
		typ := MsgPing
		if p.is(FlagMeet) {
			typ = MsgMeet
			p.flags &^= FlagMeet
		}
		n.sendPing(p, typ)
		if old != 0 {
			p.pingSent = old
		}
	case Refused:
		n.dropLink(p, "refused")
	case Closed:
		n.dropLink(p, "closed")
	}
}

// linkPeer is the node my outbound link conn belongs to (link->node): by
// the connection, since a handshake node is renamed after it dialed.
func (n *Node) linkPeer(conn ConnID) *peer {
	if conn.Dialer != n.self {
		return nil
	}
	if int(conn.ref) < len(n.byRef) {
		if p := n.byRef[conn.ref]; p != nil && p.link != nil && p.link.conn == conn {
			return p
		}
	}
	if p := n.byID[conn.Peer]; p != nil && p.link != nil && p.link.conn == conn {
		return p
	}
	for _, p := range n.nodes {
		if p.link != nil && p.link.conn == conn {
			return p
		}
	}
	return nil
}

// sendTo queues m on my outbound link to p; without a link it is dropped,
// as clusterSendMessage on a NULL link.
func (n *Node) sendTo(p *peer, m *Message) bool {
	if p.link == nil {
		return false
	}
	n.out.Msgs = append(n.out.Msgs, Envelope{Conn: p.link.conn, Msg: m})
	return true
}

// broadcast is clusterBroadcastMessage: every node with a link but myself
// and handshake nodes.
func (n *Node) broadcast(m *Message) {
	for _, p := range n.nodes {
		if p == n.myself || p.is(FlagHandshake) {
			continue
		}
		n.sendTo(p, m)
	}
}
