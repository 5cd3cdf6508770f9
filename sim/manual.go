package sim

// A run driven by hand, for the node's message-level tests (sim/nodetest):
// the kernel Run uses (boot, queue, delivery, connections, faults, apply),
// with the caller choosing when virtual time advances, when a fault strikes
// and what a hand client sends.

import (
	"time"

	"github.com/rcsim/rcsim/netmodel"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/workload"
)

// HandClient is the endpoint name of a Manual's hand client.
const HandClient = "hand"

// Manual is a run driven by hand. Its hand client is one more client
// endpoint, named HandClient, that sends what the caller gives it and keeps
// every reply; like the admin client it opens a connection to a node when
// it first writes to it.
type Manual struct {
	w    *world
	hand *handClient
}

// HandReply is one reply the hand client received.
type HandReply struct {
	At    time.Duration // when it arrived
	Node  string        // the node that answered
	Seq   uint64        // the command's Seq
	Reply node.Reply
}

// NewManual boots s at seed as Run does, plus the hand client, and keeps
// the trace. Nothing runs until RunUntil.
func NewManual(s *scenarios.Scenario, seed uint64) (*Manual, error) {
	cp := *s
	cp.Faults = append([]scenarios.Fault(nil), s.Faults...)
	w, err := newWorld(&cp, Options{Seed: seed, Until: 1<<63 - 1, KeepTrace: true, handClient: true})
	if err != nil {
		return nil, err
	}
	m := &Manual{w: w, hand: &handClient{}}
	cs := &clientState{name: HandClient, idx: w.names[HandClient], wakeAt: -1,
		conns: make([]*conn, len(w.hosts)), c: m.hand, autoConnect: true}
	cs.net = clientNet{w, cs}
	m.hand.cs = cs
	w.clients = append(w.clients, cs)
	return m, nil
}

// Now is the run's virtual time.
func (m *Manual) Now() time.Duration { return m.w.now }

// RunUntil carries out every event due up to t, in the kernel's order,
// and stops early, reporting true, as soon as stop (if not nil) holds
// after an event. Time then stands at t, or at the event that stopped it.
func (m *Manual) RunUntil(t time.Duration, stop func() bool) bool {
	w := m.w
	for {
		k, timer, ok := w.peekNext()
		if !ok || k.at > t {
			break
		}
		w.step(k, timer)
		if stop != nil && stop() {
			return true
		}
	}
	// Every event due by t has run: a wake-up asked for from outside the
	// loop now comes after all of them (sim/wakes.go).
	w.now, w.cur = max(w.now, t), qkey{at: max(w.now, t), seq: w.q.seq}
	return stop != nil && stop()
}

// Nodes lists the nodes' names in endpoint order.
func (m *Manual) Nodes() []string {
	out := make([]string, len(m.w.hosts))
	for i, h := range m.w.hosts {
		out[i] = h.name
	}
	return out
}

// Node is the state machine of the node named name, nil while its process
// is down; a restart makes a new one.
func (m *Manual) Node(name string) *node.Node { return m.host(name).n }

// ID is the node ID of the node named name.
func (m *Manual) ID(name string) node.ID { return m.host(name).id }

// Addr is the client address ("ip:port") of the node named name.
func (m *Manual) Addr(name string) string { return m.host(name).addr }

func (m *Manual) host(name string) *host {
	i, ok := m.w.names[name]
	if !ok || i >= len(m.w.hosts) {
		panic("sim: Manual: no node " + name)
	}
	return m.w.hosts[i]
}

// Fault carries out f now, as a scenario step would (its At is ignored; a
// For schedules its end as usual).
func (m *Manual) Fault(f scenarios.Fault) {
	w := m.w
	f.At = w.now
	w.s.Faults = append(w.s.Faults, f)
	w.active = append(w.active, activeFault{})
	w.applyFault(len(w.s.Faults) - 1)
	w.drainInstant()
}

// Send has the hand client write cmd to the node named name now; its reply
// comes back over the network like any client's.
func (m *Manual) Send(name string, cmd node.Cmd) {
	h := m.host(name)
	m.hand.sent = append(m.hand.sent, handSent{seq: cmd.Seq, node: h.name})
	m.hand.cs.net.Send(h.addr, cmd)
	m.w.drainInstant()
}

// SetLatency makes every link's one-way delay d from now on, as a
// network.links entry over all endpoints would.
func (m *Manual) SetLatency(d time.Duration) {
	all := m.w.allEndpoints()
	o := netmodel.LinkOverride{Latency: netmodel.Dist{Kind: netmodel.KindConstant, Value: d}}
	if err := m.w.net.SetLinks(all, all, o); err != nil {
		panic("sim: Manual: " + err.Error())
	}
}

// Replies lists every reply the hand client received, in arrival order.
func (m *Manual) Replies() []HandReply { return m.hand.replies }

// Events is the trace so far.
func (m *Manual) Events() []trace.Event { return m.w.events }

// handClient is the Manual's client: it acts only when the caller says,
// and keeps what comes back.
type handClient struct {
	cs      *clientState
	sent    []handSent // commands not answered yet, in sending order
	replies []HandReply
}

type handSent struct {
	seq  uint64
	node string
}

func (c *handClient) Wake(time.Duration, workload.Net) time.Duration { return workload.Never }

func (c *handClient) OnReply(now time.Duration, seq uint64, r node.Reply, _ workload.Net) time.Duration {
	for i, s := range c.sent {
		if s.seq == seq {
			c.sent = append(c.sent[:i], c.sent[i+1:]...)
			c.replies = append(c.replies, HandReply{At: now, Node: s.node, Seq: seq, Reply: r})
			break
		}
	}
	return workload.Never
}

func (c *handClient) OnDial(time.Duration, string, bool, workload.Net) time.Duration {
	return workload.Never
}

func (c *handClient) Abort(time.Duration) {}
