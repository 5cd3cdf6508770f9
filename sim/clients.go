// Clients and the kernel: client commands, TCP connects and replies cross
// the network model like any message; a node's host answers a connect (or
// resets a connection) for its process.
package sim

import (
	"slices"
	"strconv"
	"time"

	"rcsim/checker/history"
	"rcsim/node"
	"rcsim/sim/rng"
	"rcsim/sim/workload"
)

// clientState is one client endpoint.
type clientState struct {
	name   string
	idx    int // endpoint index
	c      *workload.Client
	wakeAt time.Duration // the one wake-up event that is current
	// connInc is, per host, the incarnation of the process the client's
	// connection reached (-1: none): a connection to an earlier process is
	// reset by the host.
	connInc []int64
	net     workload.Net // the client's clientNet, made once (an interface value allocates)
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
	w.ops = make([]history.Op, 0, min(int64(wl.Rate)*int64(w.opt.Until/time.Second+1), 1<<18))
	// Clients are configured with the cluster's members, not the spares;
	// they reach a spare only when a MOVED or ASK names it.
	seeds := make([]string, len(w.hosts)-w.s.Cluster.Spares)
	for i := range seeds {
		seeds[i] = w.hosts[i].addr
	}
	for i := 0; i < n; i++ {
		name := "client-" + strconv.Itoa(i)
		cs := &clientState{name: name, idx: len(w.hosts) + i, wakeAt: -1, connInc: make([]int64, len(w.hosts)),
			c: workload.New(i, cfg, seeds, rng.Derive(w.seed, "client/"+strconv.Itoa(i)))}
		for j := range cs.connInc {
			cs.connInc[j] = -1
		}
		cs.net = clientNet{w, cs}
		w.clients = append(w.clients, cs)
		w.scheduleWake(cs, cs.c.Wake(w.now, cs.net))
	}
}

func (w *world) scheduleWake(cs *clientState, at time.Duration) {
	if at == workload.Never || at == cs.wakeAt {
		return
	}
	cs.wakeAt = at
	w.q.push(event{at: at, kind: evClient, dst: cs.idx})
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

func (n clientNet) dst(addr string) int {
	dst, ok := n.w.byAddr[addr]
	if !ok {
		panic("sim: invariant: client sent to unknown address " + addr)
	}
	return dst
}

// Send puts a command on the wire; a lost one is never answered.
func (n clientNet) Send(addr string, cmd node.Cmd) { n.push(addr, clientCmd{cmd: cmd}) }

// Dial sends a SYN; one lost to a partition is never answered, and the
// client's dial timeout ends the attempt (SYN retransmissions are not
// modelled).
func (n clientNet) Dial(addr string) { n.push(addr, clientCmd{dial: true}) }

func (n clientNet) push(addr string, cc clientCmd) {
	w, dst := n.w, n.dst(addr)
	v := w.net.Send(w.now, n.cs.idx, dst)
	if v.Lost {
		return
	}
	p := w.cmds.get()
	*p = cc
	p.client = n.cs.idx - len(w.hosts)
	w.q.push(event{at: v.Due, kind: evCommand, dst: dst, cmd: p})
}

// command hands a client's command to its node. The host answers for a
// process that is down, or that is not the one the client's connection
// reached (it restarted): the connection is reset and the command never
// ran. A SYN is answered by the host: accepted while the process is up,
// refused otherwise.
func (w *world) command(ev *event) {
	cc := ev.cmd
	defer w.cmds.put(cc)
	src := len(w.hosts) + cc.client
	if !ev.admitted && !w.net.Deliverable(w.now, src, ev.dst) {
		return
	}
	if w.admin != nil && src == w.admin.idx {
		w.adminCommand(w.hosts[ev.dst], cc.cmd)
		return
	}
	h, cs := w.hosts[ev.dst], w.clients[cc.client]
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
	if w.admin != nil && ev.dst == w.admin.idx {
		w.adminReply(r.seq, r.reply)
		return
	}
	cs := w.clients[ev.dst-len(w.hosts)]
	if r.dial {
		w.scheduleWake(cs, cs.c.OnDial(w.now, r.from, r.dialOK, cs.net))
		return
	}
	w.scheduleWake(cs, cs.c.OnReply(w.now, r.seq, r.reply, cs.net))
}

// record adds a client's completed operation to the run's history, kept in
// invoke order (ties by client) as it grows, with the node's address turned
// into its name. Operations complete nearly in invoke order (at most one
// per client is in flight), so the insertion moves few entries.
func (w *world) record(op history.Op) {
	if i, ok := w.byAddr[op.Node]; ok {
		op.Node = w.hosts[i].name
	} else {
		op.Node = "" // never sent
	}
	i := len(w.ops)
	for i > 0 && (w.ops[i-1].Invoke > op.Invoke || w.ops[i-1].Invoke == op.Invoke && w.ops[i-1].Client > op.Client) {
		i--
	}
	w.ops = slices.Insert(w.ops, i, op)
}

// finishClients ends every operation still in flight (recorded as timed out).
func (w *world) finishClients() {
	for _, cs := range w.clients {
		cs.c.Abort(w.now)
	}
}
