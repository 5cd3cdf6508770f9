// Package nodetest wires a handful of nodes together with an in-memory,
// fixed-latency, FIFO network on a virtual clock, so node behaviour can be
// tested end to end without the kernel (the rafttest equivalent). It never
// imports sim.
package nodetest

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
)

// Host is one node process of the test cluster.
type Host struct {
	Name    string
	ID      node.ID
	Cfg     node.Config
	N       *node.Node // nil while crashed
	Disk    node.NodesConf
	Replies []node.ClientReply
	phase   time.Duration
	inc     uint64
	ticking uint64 // generation of the tick chain, so a restart starts a new one
}

// Alive reports whether the host's process runs.
func (h *Host) Alive() bool { return h.N != nil }

type connState uint8

const (
	connConnecting connState = iota
	connOpen
	connClosed
)

type conn struct {
	id      node.ConnID
	peer    node.ID // the host dialed: id.Peer, or the one at id.Addr for a handshake
	state   connState
	pending []*node.Message
	dead    bool // a partition dropped something: nothing more is delivered
}

type evKind uint8

const (
	evTick evKind = iota
	evConnect
	evDeliver
	evClosed
)

type event struct {
	at   time.Duration
	seq  uint64
	kind evKind
	host *Host
	gen  uint64
	c    *conn
	to   node.ID
	msg  *node.Message
}

type queue []*event

// Len, Less, Swap, Push and Pop make queue a heap ordered by (at, seq).
func (q queue) Len() int { return len(q) }

// Less orders by time, then by scheduling order.
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

// Swap is heap.Interface's.
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push is heap.Interface's.
func (q *queue) Push(x any) { *q = append(*q, x.(*event)) }

// Pop is heap.Interface's.
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// Cluster is a test cluster on a virtual clock.
type Cluster struct {
	Now     time.Duration
	Latency time.Duration
	Hosts   []*Host
	Events  []trace.Event // every node event, Node and At filled in, Peer as a host name
	byID    map[node.ID]*Host
	conns   map[node.ConnID]*conn
	q       queue
	seq     uint64
	cut     map[[2]node.ID]bool
	rnd     *rand.Rand
	out     node.Output
}

// New builds masters×(1+replicas) nodes as `redis-cli --cluster create`
// would (m0…, m0r0…), with cfg for every node, and starts their ticks.
func New(masters, replicas int, cfg node.Config, seed uint64) *Cluster {
	c := &Cluster{Latency: time.Millisecond, byID: map[node.ID]*Host{},
		conns: map[node.ConnID]*conn{}, cut: map[[2]node.ID]bool{},
		rnd: rand.New(rand.NewPCG(seed, 1))}
	var members []node.Member
	epoch := uint64(0)
	per := node.NumSlots / masters
	for i := 0; i < masters; i++ {
		epoch++
		end := (i+1)*per - 1
		if i == masters-1 {
			end = node.NumSlots - 1
		}
		m := node.Member{ID: c.newID(), Addr: fmt.Sprintf("127.0.0.1:%d", 7000+i),
			Slots: []node.SlotRange{{Start: i * per, End: end}}, ConfigEpoch: epoch}
		members = append(members, m)
		c.addHost(fmt.Sprintf("m%d", i), m, cfg)
	}
	for i := 0; i < masters; i++ {
		for r := 0; r < replicas; r++ {
			epoch++
			m := node.Member{ID: c.newID(), Addr: fmt.Sprintf("127.0.0.1:%d", 7100+i*10+r),
				Master: members[i].ID, ConfigEpoch: epoch}
			members = append(members, m)
			c.addHost(fmt.Sprintf("m%dr%d", i, r), m, cfg)
		}
	}
	for i, h := range c.Hosts {
		h.N = node.New(h.Cfg, h.ID, members, rand.New(rand.NewPCG(seed, uint64(100+i))))
		c.startTicks(h)
	}
	return c
}

// NewEmpty starts n masters that know only themselves and own no slots,
// as freshly booted nodes with an empty nodes.conf (n0, n1, …); a test
// forms the cluster with CLUSTER MEET, ADDSLOTS and REPLICATE.
func NewEmpty(n int, cfg node.Config, seed uint64) *Cluster {
	c := &Cluster{Latency: time.Millisecond, byID: map[node.ID]*Host{},
		conns: map[node.ConnID]*conn{}, cut: map[[2]node.ID]bool{},
		rnd: rand.New(rand.NewPCG(seed, 1))}
	for i := 0; i < n; i++ {
		m := node.Member{ID: c.newID(), Addr: fmt.Sprintf("127.0.0.1:%d", 7000+i)}
		c.addHost(fmt.Sprintf("n%d", i), m, cfg)
	}
	for i, h := range c.Hosts {
		disk := node.NodesConf{Myself: h.ID, Nodes: []node.ConfNode{{ID: h.ID, Addr: h.Cfg.Addr,
			Flags: node.FlagMaster | node.FlagMyself}}}
		n, err := node.Restore(h.Cfg, disk, rand.New(rand.NewPCG(seed, uint64(100+i))))
		if err != nil {
			panic(err)
		}
		h.N = n
		c.startTicks(h)
	}
	return c
}

// Cluster runs "CLUSTER <args>" on a host and returns the reply.
func (c *Cluster) Cluster(name, args string) node.Reply {
	rs := c.Command(name, 0, node.Cmd{Op: node.OpCluster, Value: args})
	if len(rs) != 1 {
		panic("nodetest: CLUSTER " + args + ": no reply")
	}
	return rs[0].Reply
}

func (c *Cluster) newID() node.ID {
	return node.ID(fmt.Sprintf("%016x%016x%08x", c.rnd.Uint64(), c.rnd.Uint64(), c.rnd.Uint32()))
}

func (c *Cluster) addHost(name string, m node.Member, cfg node.Config) {
	cfg.Addr = m.Addr
	h := &Host{Name: name, ID: m.ID, Cfg: cfg, phase: time.Duration(c.rnd.IntN(100)) * time.Millisecond}
	c.Hosts = append(c.Hosts, h)
	c.byID[m.ID] = h
}

// dialTarget is the host a dial reaches: by address for a handshake
// (the name is temporary), else by ID. "" when nobody listens there.
func (c *Cluster) dialTarget(id node.ConnID) node.ID {
	if id.Addr == "" {
		return id.Peer
	}
	for _, h := range c.Hosts {
		if h.Cfg.Addr == id.Addr {
			return h.ID
		}
	}
	return ""
}

// Host returns the host with a name.
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	panic("nodetest: no host " + name)
}

// Name returns the host name of an ID ("" if unknown).
func (c *Cluster) Name(id node.ID) string {
	if h := c.byID[id]; h != nil {
		return h.Name
	}
	return string(id)
}

func (c *Cluster) push(e *event) {
	c.seq++
	e.seq = c.seq
	heap.Push(&c.q, e)
}

func (c *Cluster) startTicks(h *Host) {
	h.ticking++
	first := c.Now - c.Now%node.CronPeriod + h.phase
	if first <= c.Now {
		first += node.CronPeriod
	}
	c.push(&event{at: first, kind: evTick, host: h, gen: h.ticking})
}

// RunFor advances the clock by d, processing everything due.
func (c *Cluster) RunFor(d time.Duration) { c.RunUntil(c.Now + d) }

// RunUntil processes events up to and including time t.
func (c *Cluster) RunUntil(t time.Duration) {
	for len(c.q) > 0 && c.q[0].at <= t {
		e := heap.Pop(&c.q).(*event)
		c.Now = e.at
		c.handle(e)
	}
	c.Now = t
}

// RunUntilCond runs until cond holds (checked after every event) or the
// deadline passes; it reports whether cond held.
func (c *Cluster) RunUntilCond(deadline time.Duration, cond func() bool) bool {
	for len(c.q) > 0 && c.q[0].at <= deadline {
		e := heap.Pop(&c.q).(*event)
		c.Now = e.at
		c.handle(e)
		if cond() {
			return true
		}
	}
	c.Now = deadline
	return cond()
}

func (c *Cluster) handle(e *event) {
	switch e.kind {
	case evTick:
		h := e.host
		if !h.Alive() || e.gen != h.ticking {
			return
		}
		h.N.Tick(c.Now, &c.out)
		c.apply(h)
		c.push(&event{at: c.Now + node.CronPeriod, kind: evTick, host: h, gen: e.gen})
	case evConnect:
		c.connect(e.c)
	case evDeliver:
		c.deliver(e)
	case evClosed:
		h := c.byID[e.to]
		if h.Alive() {
			h.N.Link(c.Now, node.LinkEvent{Conn: e.c.id, Kind: node.Closed}, &c.out)
			c.apply(h)
		}
	}
}

func (c *Cluster) isCut(a, b node.ID) bool { return c.cut[[2]node.ID{a, b}] }

func (c *Cluster) connect(cn *conn) {
	if cn.state != connConnecting {
		return
	}
	d, p := c.byID[cn.id.Dialer], c.byID[cn.peer]
	if c.isCut(cn.id.Dialer, cn.peer) {
		return // never answered
	}
	if !d.Alive() {
		cn.state = connClosed
		return
	}
	if p == nil || !p.Alive() {
		cn.state = connClosed
		d.N.Link(c.Now, node.LinkEvent{Conn: cn.id, Kind: node.Refused}, &c.out)
		c.apply(d)
		return
	}
	cn.state = connOpen
	for _, m := range cn.pending {
		c.push(&event{at: c.Now + c.Latency, kind: evDeliver, c: cn, to: cn.peer, msg: m})
	}
	cn.pending = nil
	d.N.Link(c.Now, node.LinkEvent{Conn: cn.id, Kind: node.Connected}, &c.out)
	c.apply(d)
}

func (c *Cluster) deliver(e *event) {
	cn := e.c
	h := c.byID[e.to]
	if cn.state != connOpen || cn.dead || h == nil || !h.Alive() {
		return
	}
	if c.isCut(cn.id.Dialer, cn.peer) {
		cn.dead = true
		return
	}
	h.N.Step(c.Now, cn.id, e.msg, &c.out)
	c.apply(h)
}

// apply drains the output of h's last call.
func (c *Cluster) apply(h *Host) {
	o := &c.out
	if o.Save {
		h.Disk = h.N.Disk()
	}
	for _, id := range o.Dials {
		cn := &conn{id: id, peer: c.dialTarget(id)}
		c.conns[id] = cn
		c.push(&event{at: c.Now + c.Latency, kind: evConnect, c: cn})
	}
	for _, id := range o.Closes {
		cn := c.conns[id]
		if cn == nil || cn.state == connClosed {
			continue
		}
		cn.state = connClosed
		other := cn.peer
		if h.ID == cn.peer {
			other = id.Dialer
		}
		c.push(&event{at: c.Now + c.Latency, kind: evClosed, c: cn, to: other})
	}
	for _, env := range o.Msgs {
		cn := c.conns[env.Conn]
		if cn == nil {
			continue
		}
		to := cn.peer
		if h.ID == cn.peer {
			to = env.Conn.Dialer
		}
		switch {
		case cn.state == connConnecting && h.ID == env.Conn.Dialer:
			cn.pending = append(cn.pending, env.Msg)
		case cn.state == connOpen:
			c.push(&event{at: c.Now + c.Latency, kind: evDeliver, c: cn, to: to, msg: env.Msg})
		}
	}
	h.Replies = append(h.Replies, o.Replies...)
	for _, ev := range o.Events {
		ev.Node, ev.At = h.Name, c.Now
		if ev.Peer != "" {
			ev.Peer = c.Name(node.ID(ev.Peer))
		}
		c.Events = append(c.Events, ev)
	}
	migrates := append([]node.MigrateRequest(nil), o.Migrates...)
	answers := append([]node.MigrateReply(nil), o.MigrateReplies...)
	o.Reset()
	for _, rep := range answers {
		src := c.byID[rep.Req.From]
		src.N.MigrateDone(c.Now, rep, &c.out)
		c.apply(src)
	}
	for _, req := range migrates {
		c.migrate(h, req)
	}
}

// migrate carries a MIGRATE as the kernel does, at this instant: the
// target's RESTORE-ASKING, then its answer to the source; a target that is
// down or cut off answers nothing and the source reports a connection error.
func (c *Cluster) migrate(src *Host, req node.MigrateRequest) {
	for _, dst := range c.Hosts {
		if dst.Cfg.Addr == req.Target && dst.Alive() && !c.isCut(src.ID, dst.ID) && !c.isCut(dst.ID, src.ID) {
			dst.N.RestoreAsking(c.Now, req, &c.out)
			c.apply(dst)
			return
		}
	}
	src.N.MigrateDone(c.Now, node.MigrateReply{Req: req, ConnErr: node.ErrMigrateConnect}, &c.out)
	c.apply(src)
}

// Crash kills h's process: every connection it has is closed and the other
// sides are told.
func (c *Cluster) Crash(name string) {
	h := c.Host(name)
	h.N = nil
	for _, cn := range c.sortedConns() {
		if cn.state == connClosed || (cn.id.Dialer != h.ID && cn.peer != h.ID) {
			continue
		}
		cn.state = connClosed
		other := cn.peer
		if other == h.ID {
			other = cn.id.Dialer
		}
		c.push(&event{at: c.Now + c.Latency, kind: evClosed, c: cn, to: other})
	}
}

// sortedConns lists connections in a stable order.
func (c *Cluster) sortedConns() []*conn {
	out := make([]*conn, 0, len(c.conns))
	for _, cn := range c.conns {
		out = append(out, cn)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && connLess(out[j].id, out[j-1].id); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func connLess(a, b node.ConnID) bool {
	if a.Dialer != b.Dialer {
		return a.Dialer < b.Dialer
	}
	if a.Peer != b.Peer {
		return a.Peer < b.Peer
	}
	return a.N < b.N
}

// Restart starts h again from its nodes.conf (persisted restart).
func (c *Cluster) Restart(name string) {
	h := c.Host(name)
	h.inc++
	cfg := h.Cfg
	cfg.Incarnation = h.inc
	n, err := node.Restore(cfg, h.Disk, rand.New(rand.NewPCG(h.inc, uint64(len(h.Name)))))
	if err != nil {
		panic(err)
	}
	h.N = n
	c.startTicks(h)
}

// Partition cuts every link between the group and the rest.
func (c *Cluster) Partition(group ...string) {
	in := map[node.ID]bool{}
	for _, g := range group {
		in[c.Host(g).ID] = true
	}
	for _, a := range c.Hosts {
		for _, b := range c.Hosts {
			if in[a.ID] != in[b.ID] {
				c.cut[[2]node.ID{a.ID, b.ID}] = true
			}
		}
	}
}

// Cut blocks the network between two hosts only (both directions).
func (c *Cluster) Cut(a, b string) {
	x, y := c.Host(a).ID, c.Host(b).ID
	c.cut[[2]node.ID{x, y}] = true
	c.cut[[2]node.ID{y, x}] = true
}

// Heal removes every partition.
func (c *Cluster) Heal() { c.cut = map[[2]node.ID]bool{} }

// Command runs a client command on a host now and returns the replies it
// produced at once.
func (c *Cluster) Command(name string, client node.ClientID, cmd node.Cmd) []node.ClientReply {
	h := c.Host(name)
	before := len(h.Replies)
	h.N.Command(c.Now, client, cmd, &c.out)
	c.apply(h)
	return h.Replies[before:]
}

// Find returns the events of a kind (optionally by one node).
func (c *Cluster) Find(kind trace.Kind, nodeName string) []trace.Event {
	var out []trace.Event
	for _, e := range c.Events {
		if e.Kind == kind && (nodeName == "" || e.Node == nodeName) {
			out = append(out, e)
		}
	}
	return out
}
