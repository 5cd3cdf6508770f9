package sim

import (
	"sort"
	"strconv"
	"time"

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
}

// clientCmd is a command on its way to a node.
type clientCmd struct {
	client int
	cmd    node.Cmd
}

// clientReply is a reply on its way to a client.
type clientReply struct {
	seq   uint64
	reply node.Reply
}

func (w *world) bootClients(n int) {
	if n == 0 {
		return
	}
	wl := w.s.Workload
	cfg := workload.Config{Kind: wl.Kind, Clients: wl.Clients, Rate: wl.Rate, Keys: wl.Keys,
		Timeout: wl.Timeout, ReadRatio: wl.ReadRatio}
	seeds := make([]string, len(w.hosts))
	for i, h := range w.hosts {
		seeds[i] = h.addr
		w.byAddr[h.addr] = i
	}
	for i := 0; i < n; i++ {
		name := "client-" + strconv.Itoa(i)
		cs := &clientState{name: name, idx: len(w.hosts) + i, wakeAt: -1,
			c: workload.New(i, cfg, seeds, rng.Derive(w.seed, "client/"+strconv.Itoa(i)))}
		w.clients = append(w.clients, cs)
		w.scheduleWake(cs, cs.c.Wake(w.now, w.sender(cs)))
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
	w.scheduleWake(cs, cs.c.Wake(w.now, w.sender(cs)))
}

// sender returns the client's send function: a command crosses the network
// like any message; a lost one is simply never answered.
func (w *world) sender(cs *clientState) workload.Send {
	return func(addr string, cmd node.Cmd) {
		dst, ok := w.byAddr[addr]
		if !ok {
			panic("sim: invariant: client sent to unknown address " + addr)
		}
		v := w.net.Send(w.now, cs.idx, dst)
		if v.Lost {
			return
		}
		w.q.push(event{at: v.Due, kind: evCommand, dst: dst, cmd: &clientCmd{client: cs.idx - len(w.hosts), cmd: cmd}})
	}
}

// command hands a client's command to its node, or answers for the host when
// the process is down (the connection is refused).
func (w *world) command(ev *event) {
	cc := ev.cmd
	src := len(w.hosts) + cc.client
	if !ev.admitted && !w.net.Deliverable(w.now, src, ev.dst) {
		return
	}
	h := w.hosts[ev.dst]
	if !h.up {
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
	dst := len(w.hosts) + client
	v := w.net.Send(w.now, from, dst)
	if v.Lost {
		return
	}
	w.q.push(event{at: v.Due, kind: evReply, dst: dst, reply: &clientReply{seq: seq, reply: r}})
}

func (w *world) reply(ev *event) {
	cs := w.clients[ev.dst-len(w.hosts)]
	w.scheduleWake(cs, cs.c.OnReply(w.now, ev.reply.seq, ev.reply.reply, w.sender(cs)))
}

// finishClients ends every operation still in flight and gathers the history
// in invoke order, with node addresses turned into names.
func (w *world) finishClients() {
	nameOfAddr := map[string]string{}
	for _, h := range w.hosts {
		nameOfAddr[h.addr] = h.name
	}
	for _, cs := range w.clients {
		cs.c.Abort(w.now)
		for _, op := range cs.c.History() {
			op.Node = nameOfAddr[op.Node]
			w.ops = append(w.ops, op)
		}
	}
	sort.SliceStable(w.ops, func(i, j int) bool {
		if w.ops[i].Invoke != w.ops[j].Invoke {
			return w.ops[i].Invoke < w.ops[j].Invoke
		}
		return w.ops[i].Client < w.ops[j].Client
	})
}
