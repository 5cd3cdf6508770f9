package sim

// Clients and the kernel: every client (the workload's, the admin client,
// a Manual's hand client) is a state machine driven through one interface,
// woken when it asks, and acting through a Net the kernel implements; the
// kernel has no event kind of its own for any of them.

import (
	"slices"
	"strconv"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios/rng"
	"github.com/rcsim/rcsim/sim/admin"
	"github.com/rcsim/rcsim/sim/workload"
)

// client is what the kernel drives: a workload.Client or the admin client.
// Each call gets the virtual time and the client's Net, and returns when
// the client next wants to be woken (workload.Never: not at all).
type client interface {
	Wake(now time.Duration, net workload.Net) time.Duration
	OnReply(now time.Duration, seq uint64, r node.Reply, net workload.Net) time.Duration
	OnDial(now time.Duration, addr string, ok bool, net workload.Net) time.Duration
	Abort(now time.Duration)
}

// clientState is one client endpoint.
type clientState struct {
	name   string
	idx    int // endpoint index
	c      client
	wakeAt time.Duration // the one wake-up event that is current
	// conns is the client's connection to each host (nil: never dialed),
	// in the run's connection table like every other.
	conns []*conn
	// autoConnect: the client dials no connections (the admin client);
	// each of its commands gets an open connection to its host if it has
	// none (clientConn).
	autoConnect bool
	net         workload.Net // the client's clientNet, made once (an interface value allocates)
	// lastAddr is the address the client last sent to or dialed, and
	// lastHost its endpoint: the address its operation records, and often
	// its next one, found without hashing it (hostIndex).
	lastAddr string
	lastHost int
}

// hostIndex is the endpoint of the node host at client address addr, as
// byAddr has it, through cs's one-entry cache when cs is not nil.
func (w *world) hostIndex(cs *clientState, addr string) (int, bool) {
	if cs != nil && addr == cs.lastAddr && addr != "" {
		return cs.lastHost, true
	}
	i, ok := w.byAddr[addr]
	if ok && cs != nil {
		cs.lastAddr, cs.lastHost = addr, i
	}
	return i, ok
}

func (w *world) bootClients(n int) {
	if n == 0 {
		return
	}
	wl := w.s.Workload
	keys, err := workload.NewKeyDist(wl.Keys, wl.ZipfMilli)
	if err != nil {
		panic("sim: invariant: workload validated by scenarios: " + err.Error())
	}
	cfg := workload.Config{Kind: wl.Kind, Clients: wl.Clients, Rate: wl.Rate, Keys: keys,
		Timeout: wl.Timeout, ReadRatio: wl.ReadRatio, Wait: wl.Wait, ReadFromReplicas: wl.ReadFromReplicas,
		Record: w.record}
	// The clients start about Rate operations a second: room for them up
	// front (within reason), so the history is not regrown and copied as the
	// run goes.
	w.ops = make([]history.Op, 0, min(int64(wl.Rate)*int64(w.opt.Until/time.Second+1), 1<<19))
	// Clients are configured with the cluster's members, not the spares;
	// they reach a spare only when a MOVED or ASK names it.
	seeds := make([]string, len(w.hosts)-w.s.Cluster.Spares)
	for i := range seeds {
		seeds[i] = w.hosts[i].addr
	}
	for i := 0; i < n; i++ {
		name := "client-" + strconv.Itoa(i)
		cs := &clientState{name: name, idx: len(w.hosts) + i, wakeAt: -1, conns: make([]*conn, len(w.hosts)),
			c: workload.New(i, cfg, seeds, rng.Derive(w.seed, "client/"+strconv.Itoa(i)))}
		cs.net = clientNet{w, cs}
		w.clients = append(w.clients, cs)
		w.scheduleWake(cs, cs.c.Wake(w.now, cs.net))
	}
	w.nWork = n
}

// bootAdmin creates the admin client when the scenario has admin steps;
// like a workload client it says when it wants to be woken (its first
// step).
func (w *world) bootAdmin() {
	if len(w.s.Admin) == 0 {
		return
	}
	cfg := admin.Config{Steps: w.s.Admin, Spares: w.s.Cluster.Spares,
		Masters: w.s.Cluster.Masters, ReplicasPerMaster: w.s.Cluster.ReplicasPerMaster}
	for _, h := range w.hosts {
		cfg.Nodes = append(cfg.Nodes, admin.Node{Name: h.name, ID: h.id, Addr: h.addr})
	}
	cs := &clientState{name: admin.Name, idx: len(w.hosts) + len(w.clients), wakeAt: -1,
		conns: make([]*conn, len(w.hosts)), c: admin.New(cfg), autoConnect: true}
	cs.net = clientNet{w, cs}
	w.clients = append(w.clients, cs)
	w.scheduleWake(cs, cs.c.Wake(w.now, cs.net))
}

func (w *world) scheduleWake(cs *clientState, at time.Duration) {
	if at == workload.Never || at == cs.wakeAt {
		return
	}
	cs.wakeAt = at
	w.wakes.push(cs.idx-len(w.hosts), w.q.key(at), w.cur)
}

func (w *world) wakeClient(idx int) {
	cs := w.clients[idx-len(w.hosts)]
	if w.now != cs.wakeAt {
		return // superseded by a later schedule
	}
	cs.wakeAt = -1
	w.scheduleWake(cs, cs.c.Wake(w.now, cs.net))
}

// clientNet is one client's view of the network: it implements
// workload.Net over the kernel's network model.
type clientNet struct {
	w  *world
	cs *clientState
}

func (n clientNet) host(addr string) *host {
	dst, ok := n.w.hostIndex(n.cs, addr)
	if !ok {
		panic("sim: invariant: client sent to unknown address " + addr)
	}
	return n.w.hosts[dst]
}

// Send writes cmd on the client's connection to addr; a command the network
// loses is never answered.
func (n clientNet) Send(addr string, cmd node.Cmd) {
	w := n.w
	w.clientSend(w.clientConn(n.cs, n.host(addr)), clientCmd{cmd: cmd})
}

// Dial opens a connection (a SYN); one lost to a partition is never
// answered, and the client's dial timeout ends the attempt (SYN
// retransmissions of clients are not modelled).
func (n clientNet) Dial(addr string) { n.w.dialClient(n.cs, n.host(addr)) }

// Trace writes e to the run's trace.
func (n clientNet) Trace(e trace.Event) { n.w.emit(e) }

// Up reports whether the node process at addr runs.
func (n clientNet) Up(addr string) bool { return n.host(addr).up }

// record adds a client's completed operation to the run's history, kept in
// invoke order (ties by client) as it grows, with the node's address turned
// into its name. Operations complete nearly in invoke order (at most one
// per client is in flight), so the insertion moves few entries; one that
// would move more than lateAfter (an operation that timed out completes a
// timeout after thousands of later ones were invoked) waits in w.late
// instead, and mergeLate puts it at its place at the end.
func (w *world) record(op history.Op) {
	var cs *clientState
	if op.Client >= 0 && op.Client < w.nWork {
		cs = w.clients[op.Client]
	}
	if i, ok := w.hostIndex(cs, op.Node); ok {
		op.Node = w.hosts[i].name
	} else {
		op.Node = "" // never sent
	}
	i := len(w.ops)
	for i > 0 && opLess(&op, &w.ops[i-1]) {
		if len(w.ops)-i == lateAfter {
			w.late = append(w.late, op)
			return
		}
		i--
	}
	w.ops = slices.Insert(w.ops, i, op)
}

// lateAfter is how many entries an insertion into the history may move.
const lateAfter = 256

// opLess is the history's order: by invoke time, then by client.
func opLess(a, b *history.Op) bool {
	return a.Invoke < b.Invoke || a.Invoke == b.Invoke && a.Client < b.Client
}

// mergeLate puts the operations record set aside at their places, as
// inserting each when it completed would have: the late ones in their
// completion order (a stable sort), after any entry of the history equal
// to them (one equal to a late operation completed before it: had it
// completed after, it would have been late too). One pass over the
// history, from its end.
func (w *world) mergeLate() {
	late := w.late
	if len(late) == 0 {
		return
	}
	slices.SortStableFunc(late, func(a, b history.Op) int {
		switch {
		case opLess(&a, &b):
			return -1
		case opLess(&b, &a):
			return 1
		}
		return 0
	})
	n := len(w.ops)
	w.ops = slices.Grow(w.ops, len(late))[:n+len(late)]
	ops := w.ops
	i, j := n-1, len(late)-1
	for k := len(ops) - 1; j >= 0; k-- {
		if i >= 0 && opLess(&late[j], &ops[i]) {
			ops[k] = ops[i]
			i--
		} else {
			ops[k] = late[j]
			j--
		}
	}
	w.late = nil
}

// finishClients ends every operation still in flight (recorded as timed out).
func (w *world) finishClients() {
	for _, cs := range w.clients {
		cs.c.Abort(w.now)
	}
}

// pool recycles the commands and replies on the wire. Each has one
// consumer (w.command, w.reply), which puts it back once it has read it; one
// that is lost, dropped or held is simply left to the collector.
type pool[T any] struct{ free []*T }

func (p *pool[T]) get() *T {
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free = p.free[:n-1]
		return x
	}
	return new(T)
}

func (p *pool[T]) put(x *T) {
	var zero T
	*x = zero // drop references for the collector
	p.free = append(p.free, x)
}
