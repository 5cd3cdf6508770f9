package sim

// Every TCP connection of a run, one model for all of them: the nodes'
// cluster-bus and replication links and the clients' connections to node
// processes are conns in one table, with one life (connecting, open,
// closed), a generation checked at delivery and a FIFO horizon per
// direction; a crash, a reset or a close acts on every one of them alike.
// What a host answers for its process lives here too: connects, resets,
// refusals.

import (
	"strconv"
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

// conn is one TCP connection: a pair of FIFO byte streams between a dialer
// and a peer, both endpoint indices (for a client's connection, the dialer
// is the client and the peer a node host).
//
// Between two nodes, when the network loses a message (a partition) the
// stream in that direction is broken and nothing after it arrives, until one
// side closes the connection (TCP cannot skip a lost segment; Redis frees a
// silent link after half the node timeout anyway). On a client's connection
// only that message is lost (a simplification: the client's timeout ends
// its wait, and a client that drops the connection then dials a new one).
type conn struct {
	id      node.ConnID // between nodes: the name both nodes use; zero for a client's
	gen     uint64      // unique per connection object, checked at delivery
	born    uint64      // gen when added: creation order, which a reset keeps (see refusal)
	dialer  int
	peer    int
	state   connState
	opened  bool  // it was open once (see connTable.free)
	slot    int32 // its index in connTable.dialing while connecting
	broken  [2]bool
	due     [2]time.Duration // FIFO horizon of each direction: the Due of its last message
	pending []*node.Message  // queued by the dialer while connecting
	// unread is, per direction of a bus link, the bytes the receiving
	// process is not reading: arrived while it is paused, slow or blocked
	// in MIGRATE, or stuck behind a lost segment (bytes merely in flight
	// are not counted); what exceeds the socket buffers is in the sender's
	// own send buffer, last reported to it as reported (see reportBuf).
	unread, reported [2]int64
	nagle            nagle // the dialer's side of a bus connection (sim/nagle.go)

	// A client's connection (client nil between nodes): the node knows it
	// as cid (a Redis client is one connection), accepted by incarnation
	// inc of the host's process. fin: the client closed it (it dialed
	// anew): what it wrote before still arrives and runs, as data ahead of
	// a FIN does, and the host's answers are dropped at the client.
	client *clientState
	cid    node.ClientID
	inc    uint32
	fin    bool
}

// connTable holds the connections. Lookup of the nodes' connections is by
// ConnID.N, which names a connection in the whole run (every host has its
// own Config.ConnSpace); a client's is found through its clientState.
// Iteration (on a crash or a reset) is over the creation-ordered slice,
// never over the map.
type connTable struct {
	byID map[uint64]*conn // the nodes' open connections
	// dialing holds the nodes' connections still connecting, by the
	// dialer's host (ConnID.N>>48, its ConnSpace), each at its conn.slot:
	// after a mass failure every node redials every dead peer every
	// 100 ms and each dial is refused a round trip later, so a map entry
	// per dial (an insert and a delete in a map of millions of entries,
	// each a cache miss) was an eighth of a 2,000-node run. A host's
	// dials in flight are few, and are rarely looked up (a message queued
	// or a close before the connect completes).
	dialing [][]*conn
	all     []*conn
	live    int // connections of all not closed
	gen     uint64
	// young is where the connections added since the last compaction
	// begin in all. Most bus connections that close, close young: after a
	// mass failure every node redials every dead peer every 100 ms (2
	// million refused connects a virtual second at 2,000 nodes), each
	// refused within a round trip. So the young end is compacted every
	// youngWindow additions (amortised O(1) per add whatever the window),
	// and the whole slice only when half of it is closed: the refused
	// connections held are at most youngWindow, not the millions a
	// whole-slice rule lets pile up beside 4 million live ones.
	young int
	// free holds bus connections that closed without ever opening (refused
	// or given up while connecting), dropped from all by compaction, for
	// newBus to reuse (at most youngMax): a connection object per dial was
	// most of a mass failure's allocations, and, with a window of 16,384
	// additions, 40% of the bytes a small cluster's run allocates (its
	// nodes redial a crashed peer every 100 ms, a few thousand dials
	// before the first compaction). Only its SYN and connect
	// events can still name such a connection, and on a reused object they
	// fail the generation check where on the closed one they failed the
	// state check. One that opened may still owe a FIN (a Closed event,
	// delivered after the close), so it is never reused.
	free []*conn
}

// youngWindow is how many additions the young end of connTable.all holds
// before it is compacted; youngMax is how many refused connections
// connTable.free keeps for reuse.
const (
	youngWindow = 64
	youngMax    = 1 << 14
)

// newBus returns a connecting bus connection named id from dialer to peer,
// not yet added.
func (t *connTable) newBus(id node.ConnID, dialer, peer int) *conn {
	var c *conn
	if n := len(t.free); n > 0 {
		c, t.free = t.free[n-1], t.free[:n-1]
	} else {
		c = new(conn)
	}
	*c = conn{id: id, dialer: dialer, peer: peer, state: connConnecting}
	return c
}

func (t *connTable) get(id node.ConnID) *conn {
	c := t.byID[id.N]
	if c == nil {
		if d := id.N >> 48; d < uint64(len(t.dialing)) {
			for _, x := range t.dialing[d] {
				if x.id.N == id.N {
					c = x
					break
				}
			}
		}
	}
	if c != nil && c.id != id {
		panic("sim: invariant: two connections numbered " + strconv.FormatUint(id.N, 10))
	}
	return c
}

// add adds c, compacting first where due (see young); add is never called
// inside an iteration over all.
func (t *connTable) add(c *conn) {
	if t.byID == nil {
		t.byID = map[uint64]*conn{}
	}
	t.gen++
	c.gen, c.born = t.gen, t.gen
	switch {
	case c.client != nil:
	case c.state == connConnecting:
		d := int(c.id.N >> 48)
		for d >= len(t.dialing) {
			t.dialing = append(t.dialing, nil)
		}
		c.slot = int32(len(t.dialing[d]))
		t.dialing[d] = append(t.dialing[d], c)
	default:
		t.byID[c.id.N] = c
	}
	t.live++
	if len(t.all) >= 1024 && len(t.all) == cap(t.all) {
		t.tidy() // before the slice grows
	}
	if len(t.all)-t.young >= youngWindow {
		t.compact(t.young)
	}
	t.all = append(t.all, c)
}

// tidy compacts all when at least half of it is closed; it is called only
// where no iteration over all is in progress.
func (t *connTable) tidy() {
	if t.live < len(t.all)/2 {
		t.compact(0)
	}
}

func (t *connTable) remove(c *conn) {
	if c.state == connClosed {
		return
	}
	was := c.state
	c.state = connClosed
	t.live--
	switch {
	case c.client != nil:
	case was == connConnecting:
		t.undial(c)
	default:
		delete(t.byID, c.id.N)
	}
}

// open marks the connecting bus connection c open.
func (t *connTable) open(c *conn) {
	t.undial(c)
	c.state, c.opened = connOpen, true
	t.byID[c.id.N] = c
}

// undial takes c out of its dialer's dials in flight.
func (t *connTable) undial(c *conn) {
	ds := t.dialing[c.id.N>>48]
	last := ds[len(ds)-1]
	ds[c.slot], last.slot = last, c.slot
	ds[len(ds)-1] = nil
	t.dialing[c.id.N>>48] = ds[:len(ds)-1]
}

// compact drops the closed connections of all[from:]; the others keep
// their creation order. Amortised O(1) per add.
func (t *connTable) compact(from int) {
	kept := t.all[:from]
	for _, x := range t.all[from:] {
		if x.state != connClosed {
			kept = append(kept, x)
		} else if x.client == nil && !x.opened && len(t.free) < youngMax {
			t.free = append(t.free, x)
		}
	}
	clear(t.all[len(kept):])
	t.all = kept
	t.young = len(kept)
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
		c := w.conns.newBus(id, h.idx, h.idx)
		w.conns.add(c)
		w.q.push(event{at: w.now + refuseDelay, kind: evLink, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, link: node.Refused})
		return
	}
	if !p.up && !w.noRefusals && w.net.Reachable(h.idx, p.idx) && w.net.Reachable(p.idx, h.idx) {
		w.refuse(h, p, id)
		return
	}
	c := w.conns.newBus(id, h.idx, p.idx)
	w.conns.add(c)
	if !w.tryConnect(h, p, c) {
		w.q.push(event{at: w.now + synRTO, kind: evSyn, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, syn: 1})
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

// synRetry is retransmission number ev.syn of a dial's SYN: it gets
// through if the network now lets it (a partition healed while the connect
// hung), else the next one is scheduled; after the last the connect fails,
// which the node sees as a refused connect. A dial the node already gave up
// (freed the link) or a crashed dialer ends the retries.
func (w *world) synRetry(ev *event) {
	c, h := ev.conn, w.hosts[ev.dst]
	if c.gen != ev.gen || c.state != connConnecting || !h.up || ev.inc != h.inc {
		return
	}
	if ev.syn > synRetries {
		w.q.push(event{at: w.now, kind: evLink, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, link: node.Refused})
		return
	}
	if !w.tryConnect(h, w.hosts[c.peer], c) {
		wait := synRTO << ev.syn // each wait twice the one before
		w.q.push(event{at: w.now + wait, kind: evSyn, dst: h.idx, inc: h.inc, conn: c, gen: c.gen, syn: ev.syn + 1})
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
	if ev.conn == nil {
		w.refused(ev)
		return
	}
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
		w.conns.open(c)
		pending := c.pending
		c.pending = nil
		for _, m := range pending {
			w.write(c, 0, m)
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
	h.n.Link(w.mstime(h), node.LinkEvent{Conn: c.id, Kind: ev.link}, &w.out)
	w.apply(h)
	w.polled(h, ev.admitted)
}

// closeConn is a node closing one of its connections: later messages on it
// are dropped, and the other side learns of it one latency later if the FIN
// can reach it.
func (w *world) closeConn(h *host, id node.ConnID) {
	c := w.conns.get(id)
	if c == nil {
		if i := h.refusal(id.N); i >= 0 {
			h.refusing[i].closed = true
		}
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
	w.write(c, dir, env.Msg)
}

// write puts m on c in direction dir: a node's outbound bus link runs
// Nagle's algorithm (sim/nagle.go), everything else is sent at once.
func (w *world) write(c *conn, dir uint8, m *node.Message) {
	if dir == 0 && !c.id.Repl {
		w.sendOutbound(c, m)
		return
	}
	w.transmit(c, dir, m)
}

func (w *world) transmit(c *conn, dir uint8, m *node.Message) {
	size := wireSize(m)
	if c.broken[dir] {
		// A segment lost to a partition is retransmitted, not dropped:
		// what follows waits in the buffers.
		w.unreadAdd(c, dir, m, size)
		return
	}
	from, to := c.dialer, c.peer
	if dir == 1 {
		from, to = to, from
	}
	v := w.net.SendOn(w.now, from, to, size, &c.due[dir])
	if v.Lost {
		c.broken[dir] = true
		w.unreadAdd(c, dir, m, size)
		return
	}
	if m.Repl == nil {
		w.bus++
	}
	if dir == 1 {
		c.nagle.replies++
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
		w.unreadAdd(c, ev.dir, ev.msg, wireSize(ev.msg))
		w.shared.Recycle(ev.msg)
		return
	}
	h := w.hosts[ev.dst]
	if !h.up {
		w.shared.Recycle(ev.msg)
		return
	}
	outbound := ev.dir == 0 && !c.id.Repl && !ev.admitted
	replies := c.nagle.replies
	if w.hold(h, ev) {
		if outbound {
			w.outboundArrived(c, replies) // the kernel acknowledges for a stopped process
		}
		if !ev.admitted { // the first hold: the process is not reading it
			w.unreadAdd(c, ev.dir, ev.msg, wireSize(ev.msg))
		}
		return // the event, message included, waits in the host's backlog
	}
	if ev.admitted {
		w.unreadAdd(c, ev.dir, ev.msg, -wireSize(ev.msg))
	}
	w.out.Reset()
	h.n.Step(w.mstime(h), c.id, ev.msg, &w.out)
	w.apply(h)
	if outbound {
		w.outboundArrived(c, replies)
	}
	w.polled(h, ev.admitted)
	w.shared.Recycle(ev.msg) // Step keeps nothing of a PING or PONG
}

// unreadAdd adds size bytes of m (negative: read at last) to c's unread
// count in direction dir, for bus links only, and reports the change.
func (w *world) unreadAdd(c *conn, dir uint8, m *node.Message, size int) {
	if m.Repl != nil {
		return
	}
	c.unread[dir] += int64(size)
	w.reportBuf(c, dir)
}

// reportBuf tells the sending node of c's direction dir how much of what
// it sent is in its own send buffer: what the receiver has not read beyond
// what the two kernels' socket buffers hold (network.socket-buffer). It
// calls the node only when that changes, so an unsaturated link costs an
// addition and a comparison per message.
func (w *world) reportBuf(c *conn, dir uint8) {
	used := max(c.unread[dir]-w.sockBuf, 0)
	if used == c.reported[dir] {
		return
	}
	c.reported[dir] = used
	s := w.hosts[c.dialer]
	if dir == 1 {
		s = w.hosts[c.peer]
	}
	if s.n != nil {
		s.n.SendBuffer(c.id, used)
	}
}

// closeAllOf closes every connection of a crashed host; the surviving nodes
// see the reset one latency later, a client when it next writes on the
// connection (the host answers with a reset) or by its own timeout. A dial
// to the host still in progress is left alone: its connect finds the
// process down and is refused.
func (w *world) closeAllOf(h *host) {
	h.clearRefusals() // their refusals find no dial: the process that dialled is gone
	w.conns.tidy()
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
		if wasOpen && c.client == nil {
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

// clientCmd is a command (or, with dial, a SYN) on its way to a node, on
// the connection its event names.
type clientCmd struct {
	cmd  node.Cmd
	dial bool
}

// clientReply is a reply (or, with dial, a SYN-ACK or RST) on its way to a
// client, on the connection its event names.
type clientReply struct {
	seq    uint64
	reply  node.Reply
	dial   bool
	dialOK bool
	from   string // dial: the address that answered
}

// dialClient opens a connection from client cs to host h: the SYN travels
// as the client's first segment, and the host answers it when it arrives
// (clientDialed). A dial replaces the client's previous connection to h,
// which it gave up (a dial that timed out, or a connection it dropped after
// an operation's timeout): what it wrote on that one still runs (fin), and
// answers on it no longer reach the client.
func (w *world) dialClient(cs *clientState, h *host) {
	if old := cs.conns[h.idx]; old != nil && old.state != connClosed {
		old.fin = old.state == connOpen
		w.conns.remove(old)
	}
	c := w.newClientConn(cs, h, connConnecting)
	w.clientSend(c, clientCmd{dial: true})
}

// clientConn is the connection client cs writes to h on. A client that opens
// no connections of its own (the admin client: redis-cli connects to every
// node as it loads the cluster, which rcsim gives no time) gets an open one
// whenever it has none.
func (w *world) clientConn(cs *clientState, h *host) *conn {
	c := cs.conns[h.idx]
	if cs.autoConnect && (c == nil || c.state == connClosed) {
		c = w.newClientConn(cs, h, connOpen)
	}
	if c == nil {
		panic("sim: invariant: client " + cs.name + " wrote to " + h.name + " without dialing it")
	}
	return c
}

// newClientConn adds a connection from client cs to host h, in state st,
// as the client's connection to h.
func (w *world) newClientConn(cs *clientState, h *host, st connState) *conn {
	c := &conn{dialer: cs.idx, peer: h.idx, state: st, client: cs, cid: node.ClientID(len(w.clientConns)), inc: h.inc}
	w.conns.add(c)
	w.clientConns = append(w.clientConns, c)
	cs.conns[h.idx] = c
	return c
}

// clientSend puts a client's segment on its connection; one the network
// loses is never answered (the client's timeouts end the wait).
func (w *world) clientSend(c *conn, cc clientCmd) {
	v := w.net.SendOn(w.now, c.dialer, c.peer, 0, &c.due[0])
	if v.Lost {
		return
	}
	p := w.cmds.get()
	*p = cc
	w.q.push(event{at: v.Due, kind: evCommand, dst: c.peer, conn: c, gen: c.gen, cmd: p})
}

// command hands a client's command to its node. The host answers for a
// process that is down, or that the client's connection does not reach (the
// process died, or the connection was reset, since): it resets the
// connection and the command never ran. A SYN is answered by the host.
func (w *world) command(ev *event) {
	cc, c, h := ev.cmd, ev.conn, w.hosts[ev.dst]
	defer w.cmds.put(cc)
	if cc.dial {
		w.clientDialed(h, c, ev.gen)
		return
	}
	run := h.up && (c.state == connOpen && c.gen == ev.gen || c.fin && c.inc == h.inc)
	if !run && h.up && c.client.autoConnect {
		// The process restarted while the command was on its way: a client
		// that connects as it needs reaches the new one.
		c, run = w.newClientConn(c.client, h, connOpen), true
	}
	if !run {
		w.conns.remove(c)
		w.replyOn(c, c.gen, &node.Reply{Kind: node.ReplyError, Err: workload.ErrRefused}, cc.cmd.Seq)
		return
	}
	w.out.Reset()
	h.n.Command(w.mstime(h), c.cid, cc.cmd, &w.out)
	w.apply(h)
	w.polled(h, ev.admitted)
}

// clientDialed answers a client's SYN that reached host h: accepted while the
// process is up, refused (RST) otherwise. A SYN of a connection the client
// has since given up is answered too, and the answer is dropped at the
// client.
func (w *world) clientDialed(h *host, c *conn, gen uint64) {
	if c.state == connConnecting && c.gen == gen {
		if h.up {
			c.state, c.inc = connOpen, h.inc
		} else {
			w.conns.remove(c)
		}
	}
	cr := w.replies.get()
	cr.dial, cr.dialOK, cr.from = true, h.up, h.addr
	w.sendToClient(c, gen, cr)
}

// sendReply carries a node's reply on the client connection it names; a
// connection the host closed since the command (a reset) takes nothing.
func (w *world) sendReply(h *host, r *node.ClientReply) {
	c := w.clientConns[r.Client]
	if c.state != connOpen && !c.fin {
		return
	}
	w.replyOn(c, c.gen, &r.Reply, r.Seq)
}

func (w *world) replyOn(c *conn, gen uint64, r *node.Reply, seq uint64) {
	cr := w.replies.get()
	cr.seq, cr.reply = seq, *r
	w.sendToClient(c, gen, cr)
}

func (w *world) sendToClient(c *conn, gen uint64, cr *clientReply) {
	v := w.net.SendOn(w.now, c.peer, c.dialer, 0, &c.due[1])
	if v.Lost {
		w.replies.put(cr)
		return
	}
	w.q.push(event{at: v.Due, kind: evReply, dst: c.dialer, conn: c, gen: gen, reply: cr})
}

// reply hands a reply to its client, unless a partition formed while it was
// on its way or the client has given the connection up and replaced it.
// Segments the host sent before its process died or the connection was
// reset still arrive.
func (w *world) reply(ev *event) {
	r, c := ev.reply, ev.conn
	defer w.replies.put(r)
	cs := c.client
	if cs.conns[c.peer] != c || c.gen != ev.gen || !w.net.Deliverable(w.now, c.peer, c.dialer) {
		return
	}
	if r.dial {
		w.scheduleWake(cs, cs.c.OnDial(w.now, r.from, r.dialOK, cs.net))
		return
	}
	w.scheduleWake(cs, cs.c.OnReply(w.now, r.seq, r.reply, cs.net))
}

// A dial to a host whose process is down, across a network that lets the
// SYN and the RST through, is refused one round trip later whatever happens
// meanwhile (tryConnect decides it at the dial). After a mass failure every
// live node redials every dead one every 100 ms (clusterCron): at 2,000
// nodes with 100 dead that is 95 million dials in a minute, most of a run's
// events. Such a dial is not a conn in the table but a refusal, a record in
// its dialer's host, with the same generation number, the same latency
// draws and the same Refused event (an evLink without a conn) that a conn
// would have had: the trace is the same, without a connection object
// written, indexed and compacted per dial.
type refusal struct {
	id     node.ConnID
	gen    uint64 // the Refused event's; also the creation order (conn.born)
	born   uint64
	dialer int
	peer   int
	slot   int  // its index in the dialer's refusing, which its events carry
	closed bool // the node closed the link first: its refusal is dropped
}

// refuse starts dial id from h to p, whose process is down: refused one
// round trip from now (tryConnect's draws).
func (w *world) refuse(h, p *host, id node.ConnID) {
	rtt := w.net.Latency(h.idx, p.idx) + w.net.Latency(p.idx, h.idx)
	w.conns.gen++
	g := w.conns.gen
	r := refusal{id: id, gen: g, born: g, dialer: h.idx, peer: p.idx, slot: len(h.refusing)}
	if k := len(h.refFree); k > 0 {
		r.slot = h.refFree[k-1]
		h.refFree = h.refFree[:k-1]
		h.refusing[r.slot] = r
	} else {
		h.refusing = append(h.refusing, r)
	}
	w.q.push(event{at: w.now + rtt, kind: evLink, dst: h.idx, inc: h.inc, gen: g, link: node.Refused, num: r.slot})
}

// refusal is the slot of h's refusal numbered n, or −1.
func (h *host) refusal(n uint64) int {
	for i := range h.refusing {
		if h.refusing[i].gen != 0 && h.refusing[i].id.N == n {
			return i
		}
	}
	return -1
}

// clearRefusals forgets every refusal of h: the process that dialled is gone.
func (h *host) clearRefusals() {
	h.refusing, h.refFree = h.refusing[:0], h.refFree[:0]
}

// refused delivers a refusal's Refused event, with linkEvent's checks in
// its order: the dialer's incarnation, the generation (a reset renews it),
// a paused or slow dialer, then a link the node closed meanwhile.
func (w *world) refused(ev *event) {
	h := w.hosts[ev.dst]
	if !h.up || ev.inc != h.inc {
		return
	}
	// The event names the slot (its num): the host's list is as long
	// as the peers it is redialing, a hundred after a mass failure at 2,000
	// nodes, and a search of it per refusal cost 1.5% of such a run.
	i := ev.num
	if i >= len(h.refusing) || h.refusing[i].gen != ev.gen || w.hold(h, ev) {
		return
	}
	r := h.refusing[i]
	h.refusing[i] = refusal{}
	h.refFree = append(h.refFree, i)
	if r.closed {
		return
	}
	w.out.Reset()
	h.n.Link(w.mstime(h), node.LinkEvent{Conn: r.id, Kind: node.Refused}, &w.out)
	w.apply(h)
	w.polled(h, ev.admitted)
}
