// Package admin is the redis-cli client of a run: a state machine that runs
// a scenario's admin steps the way redis-cli --cluster does, sending the same
// cluster commands one at a time over the simulated network, each after the
// previous reply, so a fault can land between any two of them.
//
// It has the shape of the workload's clients: the kernel calls Wake, OnReply
// and OnDial with the virtual time, the client acts through the workload.Net
// it is given (commands out, admin events into the trace) and says through
// its return value when it wants to be woken next: the moment its next
// step comes due among them, so the kernel drives it exactly as it drives
// a workload client.
package admin

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/workload"
)

// Name is the admin client's endpoint and trace name.
const Name = "admin"

// Timeout is how long the admin client waits for one reply before it
// abandons the step. redis-cli has no command timeout (it would wait until
// TCP gives up); a bounded wait lets later steps run.
const Timeout = 10 * time.Second

// migrateTimeout is redis-cli's CLUSTER_MANAGER_MIGRATE_TIMEOUT, passed to
// MIGRATE.
const migrateTimeout = 60 * time.Second

// Node is one node of the run as the operator knows it.
type Node struct {
	Name string
	ID   node.ID
	Addr string
}

// Config is what the admin client knows before it starts: its steps and the
// machines of the run.
type Config struct {
	Steps []scenarios.AdminStep
	// Nodes lists every node in endpoint order: the cluster's members
	// (masters m0…, then replicas m0r0…), then the spares.
	Nodes             []Node
	Spares            int // how many of Nodes are spares (never an entry node)
	Masters           int // create: how many members take slots
	ReplicasPerMaster int
}

// Client is the admin client: at most one command in flight, steps run one
// after the other in the order they came due.
type Client struct {
	cfg    Config
	byName map[string]*Node
	byID   map[node.ID]*Node

	order []int // step indices by (At, index): the order they come due
	due   int   // steps of order already due (queued or run)
	queue []int // steps due while another one runs, in order
	run   *run  // the step being run, or nil
	seq   uint64
	call  *call // the command in flight or waiting for its pace, or a sleep

	// Set on entry to every kernel call: the step code acts through them.
	now time.Duration
	net workload.Net
}

// call is one command of a step (or, with to nil, a sleep).
type call struct {
	seq    uint64
	to     *Node
	cmd    node.Cmd
	sendAt time.Duration // when it goes on the wire (or the sleep ends)
	sent   bool
	until  time.Duration // sent: when the client gives up on the reply
	then   func(node.Reply)
}

// run is one step in progress.
type run struct {
	step scenarios.AdminStep
	desc string
}

// New returns the admin client for cfg. The scenario's loader has checked
// that every node the steps name exists.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, byName: map[string]*Node{}, byID: map[node.ID]*Node{}}
	for i := range cfg.Nodes {
		n := &c.cfg.Nodes[i]
		c.byName[n.Name], c.byID[n.ID] = n, n
	}
	for i := range cfg.Steps {
		c.order = append(c.order, i)
	}
	sort.SliceStable(c.order, func(a, b int) bool { return cfg.Steps[c.order[a]].At < cfg.Steps[c.order[b]].At })
	return c
}

// Wake lets the client act at now: send the command whose pace ran out,
// end a sleep, give up on a reply that did not come, or start a step that
// came due. It returns when it next wants to be woken.
func (c *Client) Wake(now time.Duration, net workload.Net) time.Duration {
	c.now, c.net = now, net
	if k := c.call; k != nil {
		switch {
		case !k.sent && now >= k.sendAt && k.to == nil: // a sleep ends
			c.call = nil
			k.then(node.Reply{})
		case !k.sent && now >= k.sendAt:
			k.sent, k.until = true, now+Timeout
			net.Send(k.to.Addr, k.cmd)
		case k.sent && now >= k.until:
			c.done(fmt.Sprintf("failed: no reply from %s within %s", k.to.Name, Timeout))
		}
	}
	for c.due < len(c.order) && c.cfg.Steps[c.order[c.due]].At <= now {
		c.stepDue(c.order[c.due])
		c.due++
	}
	return c.wakeAt()
}

// OnReply hands a reply to the call waiting for it; a reply to an abandoned
// call is ignored.
func (c *Client) OnReply(now time.Duration, seq uint64, r node.Reply, net workload.Net) time.Duration {
	c.now, c.net = now, net
	if k := c.call; k != nil && k.sent && k.seq == seq {
		c.call = nil
		k.then(r)
	}
	return c.wakeAt()
}

// OnDial is never called: the admin client dials no connections (the
// kernel lets each of its commands reach the process that is up).
func (c *Client) OnDial(time.Duration, string, bool, workload.Net) time.Duration {
	return c.wakeAt()
}

// Abort does nothing: the admin client records no history (its commands
// are not part of the checked history).
func (c *Client) Abort(time.Duration) {}

// wakeAt is the next moment the client must act: its call's send time or
// reply deadline, or the moment the next step comes due, whichever is
// first.
func (c *Client) wakeAt() time.Duration {
	t := workload.Never
	switch k := c.call; {
	case k == nil:
	case k.sent:
		t = k.until
	default:
		t = k.sendAt
	}
	if c.due < len(c.order) {
		t = min(t, c.cfg.Steps[c.order[c.due]].At)
	}
	return t
}

// stepDue starts step i, or queues it behind the one running.
func (c *Client) stepDue(i int) {
	if c.run != nil {
		c.queue = append(c.queue, i)
		return
	}
	st := c.cfg.Steps[i]
	c.run = &run{step: st, desc: describeStep(st)}
	c.trace(trace.StepStart, c.run.desc+": start")
	c.start(c.run.step)
}

// done ends the running step with outcome ("ok" or "failed: …") and starts
// the next queued one.
func (c *Client) done(outcome string) {
	c.trace(outcomeOf(outcome), c.run.desc+": "+outcome)
	c.run, c.call = nil, nil
	if len(c.queue) > 0 {
		next := c.queue[0]
		c.queue = c.queue[1:]
		c.stepDue(next)
	}
}

// trace writes an Admin event: the running step's text v and its fields.
func (c *Client) trace(o trace.Outcome, v string) {
	st := c.run.step
	d := &trace.Detail{Step: string(st.Kind), Outcome: o}
	switch st.Kind {
	case scenarios.Reshard:
		d.Names = []string{st.From, st.To}
	case scenarios.Failover, scenarios.DelNode:
		d.Names = []string{st.Node}
	case scenarios.AddNode:
		d.Names = []string{st.Node}
		if st.Master != "" {
			d.Names = append(d.Names, st.Master)
		}
	}
	c.net.Trace(trace.Event{Kind: trace.Admin, Node: Name, Value: v, Detail: d})
}

// outcomeOf classifies a step's ending text.
func outcomeOf(text string) trace.Outcome {
	switch {
	case strings.HasPrefix(text, "failed"):
		return trace.StepFailed
	case strings.HasPrefix(text, "ok, but"):
		return trace.StepPartial
	}
	return trace.StepOK
}

// fail ends the running step because a command failed.
func (c *Client) fail(n *Node, what string, r node.Reply) {
	c.done(fmt.Sprintf("failed: %s on %s: %s", what, n.Name, r.Err))
}

// command sends cmd to n after the step's pace; then runs on the reply.
func (c *Client) command(n *Node, cmd node.Cmd, then func(node.Reply)) {
	c.seq++
	cmd.Seq = c.seq
	c.call = &call{seq: c.seq, to: n, cmd: cmd, sendAt: c.now + c.run.step.Pace, then: then}
}

// cluster sends "CLUSTER <line>" to n.
func (c *Client) cluster(n *Node, line string, then func(node.Reply)) {
	c.command(n, node.Cmd{Op: node.OpCluster, Value: line}, then)
}

// sleepThen runs f after d, as the step's next action.
func (c *Client) sleepThen(d time.Duration, f func()) {
	c.seq++
	c.call = &call{seq: c.seq, sendAt: c.now + d, then: func(node.Reply) { f() }}
}

// ok wraps then: an error reply fails the step instead.
func (c *Client) ok(n *Node, what string, then func(node.Reply)) func(node.Reply) {
	return func(r node.Reply) {
		if isErr(r) {
			c.fail(n, what, r)
			return
		}
		then(r)
	}
}

func isErr(r node.Reply) bool { return r.Kind != node.ReplyOK && r.Kind != node.ReplyNil }

// start runs the first command of a step.
func (c *Client) start(st scenarios.AdminStep) {
	switch st.Kind {
	case scenarios.Reshard:
		c.reshard(c.node(st.From), c.node(st.To), st.Slots)
	case scenarios.Rebalance:
		c.rebalance(st)
	case scenarios.Failover:
		n := c.node(st.Node)
		c.command(n, node.Cmd{Op: node.OpClusterFailover, Value: st.Mode},
			c.ok(n, "CLUSTER FAILOVER", func(node.Reply) { c.done("ok") }))
	case scenarios.AddNode:
		c.addNode(c.node(st.Node), st.Master)
	case scenarios.DelNode:
		c.delNode(c.node(st.Node))
	case scenarios.Create:
		c.create()
	default:
		panic("admin: invariant: step of unknown kind " + string(st.Kind))
	}
}

// node is the node a step names (the scenario checked it exists).
func (c *Client) node(name string) *Node {
	n, ok := c.byName[name]
	if !ok {
		panic("admin: invariant: step names unknown node " + name)
	}
	return n
}

// describeStep is the trace's name for a step.
func describeStep(st scenarios.AdminStep) string {
	switch st.Kind {
	case scenarios.Reshard:
		return fmt.Sprintf("reshard %d slots %s->%s", st.Slots, st.From, st.To)
	case scenarios.Failover:
		if st.Mode != "" {
			return "failover " + st.Node + " " + st.Mode
		}
		return "failover " + st.Node
	case scenarios.AddNode:
		if st.Master != "" {
			return "add_node " + st.Node + " replica of " + st.Master
		}
		return "add_node " + st.Node
	case scenarios.DelNode:
		return "del_node " + st.Node
	}
	return string(st.Kind)
}
