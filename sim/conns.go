package sim

// Every TCP connection of a run: the nodes' cluster-bus and replication
// links (connections with generations, FIFO per direction, broken by a lost
// segment) and the clients' connections to node processes (which
// incarnation a client's connection reached), with what a host answers for
// its process: connects, resets, refusals.

import (
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/sim/workload"
)

// connState is the life of one TCP connection as the kernel models it.
type connState uint8

const (
	connConnecting connState = iota + 1
	connOpen
	connClosed
)

// conn is one TCP connection between two node endpoints. A connection is a
// pair of FIFO byte streams: when the network loses a message (a partition)
// the stream in that direction is broken and nothing after it arrives, until
// one side closes the connection (TCP cannot skip a lost segment).
type conn struct {
	id      node.ConnID
	gen     uint64 // unique per connection object, checked at delivery
	dialer  int
	peer    int
	state   connState
	broken  [2]bool
	due     [2]time.Duration // FIFO horizon of each direction: the Due of its last message
	pending []*node.Message  // queued by the dialer while connecting
}

// connTable holds the live connections. Lookup is by ConnID; iteration (on a
// crash) is over the creation-ordered slice, never over the map.
type connTable struct {
	byID map[node.ConnID]*conn
	all  []*conn
	gen  uint64
}

func (t *connTable) get(id node.ConnID) *conn {
	if t.byID == nil {
		return nil
	}
	return t.byID[id]
}

func (t *connTable) add(c *conn) {
	if t.byID == nil {
		t.byID = map[node.ConnID]*conn{}
	}
	t.gen++
	c.gen = t.gen
	t.byID[c.id] = c
	if len(t.all) >= 1024 && len(t.all) == cap(t.all) {
		// Before the slice grows: drop the closed connections (a node
		// redials every dead peer every 100 ms, so without this a mass
		// failure would keep millions of refused connections). Amortised
		// O(1) per add; the live ones keep their creation order.
		t.compact()
	}
	t.all = append(t.all, c)
}

func (t *connTable) remove(c *conn) {
	c.state = connClosed
	delete(t.byID, c.id)
}

// compact drops closed connections from the ordered slice when they are at
// least half of it; it is called only where no iteration over the slice is
// in progress (add is never called inside one).
func (t *connTable) compact() {
	if len(t.byID) >= len(t.all)/2 {
		return
	}
	live := t.all[:0]
	for _, x := range t.all {
		if x.state != connClosed {
			live = append(live, x)
		}
	}
	clear(t.all[len(live):])
	t.all = live
}

// dial opens a connection from h. The connect completes after a round trip if
// the peer's host answers: accepted when its process is up (or paused: the
// kernel's listen backlog accepts), refused when the process is down. Across a
// partition the SYN is lost and retransmitted (synRetry) until it gets
// through, the node gives up on the link, or the connect times out.
func (w *world) dial(h *host, id node.ConnID) {
	p, ok := w.byID[id.Peer]
	if id.Addr != "" {
		p, ok = w.hostAt(id.Addr) // a handshake: the name is temporary
	}
	if id.Dialer != h.id {
		panic("node: invariant: dial not as dialer")
	}
	if !ok {
		// Nobody listens at that address: the connect is refused.
		c := &conn{id: id, dialer: h.idx, peer: h.idx, state: connConnecting}
		w.conns.add(c)
		w.q.push(event{at: w.now + refuseDelay, kind: evLink, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, link: node.Refused})
		return
	}
	if old := w.conns.get(id); old != nil {
		panic("sim: invariant: connection name reused: " + string(id.Dialer) + "->" + string(id.Peer))
	}
	c := &conn{id: id, dialer: h.idx, peer: p.idx, state: connConnecting}
	w.conns.add(c)
	if !w.tryConnect(h, p, c) {
		w.q.push(event{at: w.now + synRTO, kind: evSyn, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, fault: 1})
	}
}

// tryConnect completes c's connect one round trip from now if the SYN and
// its answer can cross between h and p, and reports whether they can.
func (w *world) tryConnect(h, p *host, c *conn) bool {
	if !w.net.Reachable(h.idx, p.idx) || !w.net.Reachable(p.idx, h.idx) {
		return false
	}
	rtt := w.net.Latency(h.idx, p.idx) + w.net.Latency(p.idx, h.idx)
	kind := node.Connected
	if !p.up {
		kind = node.Refused
	}
	w.q.push(event{at: w.now + rtt, kind: evLink, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, link: kind})
	return true
}

// Linux's SYN retransmission: the first after TCP_TIMEOUT_INIT (1 s), each
// later one after twice the wait before it, tcp_syn_retries (6) of them; the
// connect fails (ETIMEDOUT) one more doubled wait after the last, 127 s
// after the dial.
const (
	synRTO     = time.Second
	synRetries = 6
)

// synRetry is retransmission number ev.fault of a dial's SYN: it gets
// through if the network now lets it (a partition healed while the connect
// hung), else the next one is scheduled; after the last the connect fails,
// which the node sees as a refused connect. A dial the node already gave up
// (freed the link) or a crashed dialer ends the retries.
func (w *world) synRetry(ev *event) {
	c, h := ev.conn, w.hosts[ev.dst]
	if c.gen != ev.gen || c.state != connConnecting || !h.up || ev.inc != h.inc {
		return
	}
	if ev.fault > synRetries {
		w.q.push(event{at: w.now, kind: evLink, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, link: node.Refused})
		return
	}
	if !w.tryConnect(h, w.hosts[c.peer], c) {
		wait := synRTO << ev.fault // each wait twice the one before
		w.q.push(event{at: w.now + wait, kind: evSyn, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, fault: ev.fault + 1})
	}
}

// refuseDelay is how long a connect to an address nobody serves takes
// to be refused.
const refuseDelay = node.CronPeriod / 2

// hostAt is the node host serving client address addr ("ip:port").
func (w *world) hostAt(addr string) (*host, bool) {
	for _, h := range w.hosts {
		if h.addr == addr {
			return h, true
		}
	}
	return nil, false
}

// linkEvent delivers a connection event to a node.
func (w *world) linkEvent(ev *event) {
	h := w.hosts[ev.dst]
	c := ev.conn
	if !h.up || ev.inc != h.inc || c.gen != ev.gen || w.hold(h, ev) {
		return
	}
	switch ev.link {
	case node.Connected:
		if c.state != connConnecting {
			return
		}
		p := w.hosts[c.peer]
		if !p.up {
			// The peer died during the handshake: the connect is refused.
			ev.link = node.Refused
			w.conns.remove(c)
			break
		}
		c.state = connOpen
		pending := c.pending
		c.pending = nil
		for _, m := range pending {
			w.transmit(c, 0, m)
		}
	case node.Refused:
		if c.state != connConnecting {
			return
		}
		w.conns.remove(c)
	case node.Closed:
		// The connection was already removed when its other side closed it.
	}
	w.out.Reset()
	h.n.Link(w.clock(h), node.LinkEvent{Conn: c.id, Kind: ev.link}, &w.out)
	w.apply(h)
}

// closeConn is a node closing one of its connections: later messages on it
// are dropped, and the other side learns of it one latency later if the FIN
// can reach it.
func (w *world) closeConn(h *host, id node.ConnID) {
	c := w.conns.get(id)
	if c == nil {
		return
	}
	wasOpen := c.state == connOpen
	w.conns.remove(c)
	other := c.peer
	if h.idx == c.peer {
		other = c.dialer
	}
	if wasOpen {
		w.notifyClosed(c, h.idx, other)
	}
}

// notifyClosed schedules the Closed event for the side `to` of c, sent by
// `from`, if the network lets the FIN through.
func (w *world) notifyClosed(c *conn, from, to int) {
	o := w.hosts[to]
	if !o.up || !w.net.Reachable(from, to) {
		return
	}
	w.q.push(event{at: w.now + w.net.Latency(from, to), kind: evLink, dst: to, inc: o.inc,
		conn: c, gen: c.gen, link: node.Closed})
}

// send queues a node's message on its connection.
func (w *world) send(h *host, env node.Envelope) {
	c := w.conns.get(env.Conn)
	if c == nil {
		return // the link is gone: Redis drops messages queued on a freed link
	}
	dir := uint8(0)
	if h.idx == c.peer {
		dir = 1
	} else if h.idx != c.dialer {
		panic("node: invariant: message on a connection the node is not part of")
	}
	if c.state == connConnecting {
		if dir == 0 {
			c.pending = append(c.pending, env.Msg)
		}
		return
	}
	w.transmit(c, dir, env.Msg)
}

func (w *world) transmit(c *conn, dir uint8, m *node.Message) {
	if c.broken[dir] {
		return
	}
	from, to := c.dialer, c.peer
	if dir == 1 {
		from, to = to, from
	}
	v := w.net.SendOn(w.now, from, to, wireSize(m), &c.due[dir])
	if v.Lost {
		c.broken[dir] = true
		return
	}
	if m.Repl == nil {
		w.bus++
	}
	w.q.push(event{at: v.Due, kind: evDeliver, dst: to, conn: c, gen: c.gen, dir: dir, msg: m})
}

// deliver hands a message to its destination if the connection still carries
// it and the network still lets it through at arrival.
func (w *world) deliver(ev *event) {
	c := ev.conn
	if c.gen != ev.gen || c.state != connOpen || c.broken[ev.dir] {
		w.shared.Recycle(ev.msg)
		return
	}
	from := c.dialer
	if ev.dir == 1 {
		from = c.peer
	}
	if !ev.admitted && !w.net.Deliverable(w.now, from, ev.dst) {
		c.broken[ev.dir] = true
		w.shared.Recycle(ev.msg)
		return
	}
	h := w.hosts[ev.dst]
	if !h.up {
		w.shared.Recycle(ev.msg)
		return
	}
	if w.hold(h, ev) {
		return // the event, message included, waits in the host's backlog
	}
	w.out.Reset()
	h.n.Step(w.clock(h), c.id, ev.msg, &w.out)
	w.apply(h)
	w.shared.Recycle(ev.msg) // Step keeps nothing of a PING or PONG
}

// closeAllOf closes every connection of a crashed host; the surviving sides
// see the reset one latency later. A dial to the host still in progress is
// left alone: its connect event finds the process down and is refused.
func (w *world) closeAllOf(h *host) {
	w.conns.compact()
	for _, c := range w.conns.all {
		if c.state == connClosed || (c.dialer != h.idx && c.peer != h.idx) {
			continue
		}
		if c.state == connConnecting && c.peer == h.idx {
			continue
		}
		wasOpen := c.state == connOpen
		w.conns.remove(c)
		other := c.peer
		if other == h.idx {
			other = c.dialer
		}
		if wasOpen {
			w.notifyClosed(c, h.idx, other)
		}
	}
}

// Wire sizes of cluster-bus messages (cluster.h, Redis 7.0), used only when a
// link has a bandwidth limit.
const (
	busHeaderBytes = 2256 // sizeof(clusterMsg) up to the data union: the header carries a 2048-byte slot bitmap
	gossipBytes    = 104  // sizeof(clusterMsgDataGossip)
	failBytes      = 40   // clusterMsgDataFail: a node name
	updateBytes    = 2104 // clusterMsgDataUpdate: configEpoch, node name, slot bitmap
	respOverhead   = 32   // RESP framing of one replicated command, roughly
)

// wireSize estimates the bytes a message puts on the wire, so that a
// bandwidth limit charges a big replication batch more than a PING.
func wireSize(m *node.Message) int {
	if m.Repl != nil {
		n := respOverhead
		for _, op := range m.Repl.Ops {
			n += respOverhead + len(op.Key) + len(op.Value)
		}
		for _, kv := range m.Repl.Snap {
			n += respOverhead + len(kv.Key) + len(kv.Str)
			for _, e := range kv.List {
				n += len(e) + 8
			}
		}
		return n
	}
	n := busHeaderBytes + gossipBytes*m.GossipLen()
	if m.About != "" {
		n += failBytes
	}
	if m.Update != nil {
		n += updateBytes
	}
	return n
}

// clientCmd is a command (or, with dial, a SYN) on its way to a node.
type clientCmd struct {
	client int
	cmd    node.Cmd
	dial   bool
}

// clientReply is a reply (or, with dial, a SYN-ACK or RST) on its way to a
// client.
type clientReply struct {
	seq    uint64
	reply  node.Reply
	dial   bool
	dialOK bool
	from   string // dial: the address that answered
	src    int    // endpoint index of the sender, to re-check at arrival
}

// command hands a client's command to its node. The host answers for a
// process that is down, or that is not the one the client's connection
// reached (it restarted): the connection is reset and the command never
// ran. A SYN is answered by the host: accepted while the process is up,
// refused otherwise.
func (w *world) command(ev *event) {
	cc := ev.cmd
	defer w.cmds.put(cc)
	h, cs := w.hosts[ev.dst], w.clients[cc.client]
	if cs.connless && h.up {
		cs.connInc[h.idx] = int64(h.inc)
	}
	if cc.dial {
		if h.up {
			cs.connInc[h.idx] = int64(h.inc)
		}
		cr := w.replies.get()
		cr.dial, cr.dialOK, cr.from = true, h.up, h.addr
		w.sendToClient(h.idx, cc.client, cr)
		return
	}
	if !h.up || cs.connInc[h.idx] != int64(h.inc) {
		cs.connInc[h.idx] = -1
		w.replyTo(h.idx, cc.client, cc.cmd.Seq, node.Reply{Kind: node.ReplyError, Err: workload.ErrRefused})
		return
	}
	w.out.Reset()
	h.n.Command(w.clock(h), node.ClientID(cc.client), cc.cmd, &w.out)
	w.apply(h)
}

func (w *world) sendReply(h *host, r node.ClientReply) {
	w.replyTo(h.idx, int(r.Client), r.Seq, r.Reply)
}

func (w *world) replyTo(from, client int, seq uint64, r node.Reply) {
	cr := w.replies.get()
	cr.seq, cr.reply = seq, r
	w.sendToClient(from, client, cr)
}

func (w *world) sendToClient(from, client int, cr *clientReply) {
	dst := len(w.hosts) + client
	v := w.net.Send(w.now, from, dst)
	if v.Lost {
		w.replies.put(cr)
		return
	}
	cr.src = from
	w.q.push(event{at: v.Due, kind: evReply, dst: dst, reply: cr})
}

func (w *world) reply(ev *event) {
	r := ev.reply
	defer w.replies.put(r)
	if !w.net.Deliverable(w.now, r.src, ev.dst) {
		return // a partition formed while the reply was on its way
	}
	cs := w.clients[ev.dst-len(w.hosts)]
	if r.dial {
		w.scheduleWake(cs, cs.c.OnDial(w.now, r.from, r.dialOK, cs.net))
		return
	}
	w.scheduleWake(cs, cs.c.OnReply(w.now, r.seq, r.reply, cs.net))
}
