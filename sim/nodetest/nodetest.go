// Package nodetest is a hand-driven cluster for the node's message-level
// tests (the rafttest equivalent): a few nodes run by the kernel itself,
// through sim.Manual, so every message, connection, fault and MIGRATE goes
// through the same apply, delivery and connection model as a real run,
// while a test decides when time advances, when a node crashes or a link
// is cut, and what commands a client sends. It sits above sim, so node
// never imports it; the scripts under node/testdata are run by its tests.
package nodetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// Client is the endpoint name of the test's client, for a partition that
// puts it on one side.
const Client = sim.HandClient

// Conf is redis.conf settings of every node, by their redis.conf names
// ("cluster-node-timeout": "5000").
type Conf map[string]string

// Host is one node of the test cluster, refreshed after every call.
type Host struct {
	Name    string
	ID      node.ID
	Addr    string
	N       *node.Node      // nil while crashed
	Replies []sim.HandReply // the replies the client got from this node
}

// Alive reports whether the host's process runs.
func (h *Host) Alive() bool { return h.N != nil }

// Cluster is a test cluster on a virtual clock.
type Cluster struct {
	Now    time.Duration
	Hosts  []*Host
	Events []trace.Event // the run's trace so far, Peer as a node name
	m      *sim.Manual
	seen   int // replies already handed to Hosts
	seq    uint64
}

// latency is the network's one-way delay: fixed, so scripts read easily.
const latency = "1ms"

// New builds masters×(1+replicas) nodes as `redis-cli --cluster create`
// leaves them (m0…, m0r0…), with conf for every node.
func New(masters, replicas int, conf Conf, seed uint64) *Cluster {
	return build(masters, replicas, true, conf, seed)
}

// NewEmpty starts masters×(1+replicas) nodes (named as New names them)
// that know only themselves and own no slots, as freshly booted nodes
// with an empty nodes.conf; a test forms the cluster with CLUSTER MEET,
// ADDSLOTS and REPLICATE.
func NewEmpty(masters, replicas int, conf Conf, seed uint64) *Cluster {
	return build(masters, replicas, false, conf, seed)
}

func build(masters, replicas int, formed bool, conf Conf, seed uint64) *Cluster {
	var b strings.Builder
	fmt.Fprintf(&b, "name: nodetest\ndescription: a hand-driven cluster\nduration: 24h\n")
	fmt.Fprintf(&b, "cluster:\n  masters: %d\n  replicas-per-master: %d\n  formed: %v\n  config:\n", masters, replicas, formed)
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s: %s\n", k, conf[k])
	}
	if len(keys) == 0 {
		b.WriteString("    cluster-node-timeout: 15000\n")
	}
	fmt.Fprintf(&b, "network:\n  latency: {dist: constant, value: %s}\n", latency)
	s, err := scenarios.Parse("nodetest.yaml", []byte(b.String()))
	if err != nil {
		panic("nodetest: " + err.Error())
	}
	m, err := sim.NewManual(s, seed)
	if err != nil {
		panic("nodetest: " + err.Error())
	}
	c := &Cluster{m: m}
	for _, name := range m.Nodes() {
		c.Hosts = append(c.Hosts, &Host{Name: name, ID: m.ID(name), Addr: m.Addr(name)})
	}
	c.sync()
	return c
}

// sync refreshes the exported view after the run moved.
func (c *Cluster) sync() {
	c.Now, c.Events = c.m.Now(), c.m.Events()
	for _, h := range c.Hosts {
		h.N = c.m.Node(h.Name)
	}
	rs := c.m.Replies()
	for _, r := range rs[c.seen:] {
		h := c.Host(r.Node)
		h.Replies = append(h.Replies, r)
	}
	c.seen = len(rs)
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

// Name returns the host name of an ID (the ID itself if unknown).
func (c *Cluster) Name(id node.ID) string {
	for _, h := range c.Hosts {
		if h.ID == id {
			return h.Name
		}
	}
	return string(id)
}

// RunFor advances the clock by d, processing everything due.
func (c *Cluster) RunFor(d time.Duration) { c.RunUntil(c.Now + d) }

// RunUntil processes events up to and including time t.
func (c *Cluster) RunUntil(t time.Duration) {
	c.m.RunUntil(t, nil)
	c.sync()
}

// RunUntilCond runs until cond holds (checked after every event) or the
// deadline passes; it reports whether cond held.
func (c *Cluster) RunUntilCond(deadline time.Duration, cond func() bool) bool {
	ok := c.m.RunUntil(deadline, func() bool { c.sync(); return cond() })
	c.sync()
	return ok
}

// SetLatency makes every link's one-way delay d from now on.
func (c *Cluster) SetLatency(d time.Duration) { c.m.SetLatency(d) }

// commandWait bounds how long Command waits for its reply.
const commandWait = 5 * time.Second

// Send writes cmd to the node now, from the test's client; the reply,
// when it comes, is appended to the host's Replies. A zero Seq gets a
// fresh one.
func (c *Cluster) Send(name string, cmd node.Cmd) uint64 {
	if cmd.Seq == 0 {
		c.seq++
		cmd.Seq = 1<<32 + c.seq // clear of the Seqs tests choose
	}
	c.m.Send(name, cmd)
	c.sync()
	return cmd.Seq
}

// Command writes cmd to the node and runs the cluster until its reply
// is back (at most commandWait); it returns the reply, or nil if none came.
func (c *Cluster) Command(name string, cmd node.Cmd) *node.Reply {
	h := c.Host(name)
	from := len(h.Replies)
	seq := c.Send(name, cmd)
	var got *node.Reply
	c.RunUntilCond(c.Now+commandWait, func() bool {
		for _, r := range h.Replies[from:] {
			if r.Seq == seq {
				got = &r.Reply
				return true
			}
		}
		return false
	})
	return got
}

// Cluster runs "CLUSTER <args>" on a host and returns the reply.
func (c *Cluster) Cluster(name, args string) node.Reply {
	cmd := node.Cmd{Op: node.OpCluster, Value: args}
	if sub, rest, _ := strings.Cut(args, " "); strings.EqualFold(sub, "FAILOVER") {
		cmd = node.Cmd{Op: node.OpClusterFailover, Value: rest}
	}
	r := c.Command(name, cmd)
	if r == nil {
		panic("nodetest: CLUSTER " + args + ": no reply from " + name)
	}
	return *r
}

// Crash kills the node's process (nodes.conf kept), as a crash fault does.
func (c *Cluster) Crash(name string) {
	c.fault(scenarios.Fault{Kind: scenarios.Crash, Target: target(name), Persist: true})
}

// Restart starts the node again from its nodes.conf.
func (c *Cluster) Restart(name string) {
	c.fault(scenarios.Fault{Kind: scenarios.Restart, Target: target(name)})
}

// Pause stops the node's process (SIGSTOP).
func (c *Cluster) Pause(name string) {
	c.fault(scenarios.Fault{Kind: scenarios.Pause, Target: target(name)})
}

// Resume continues a paused node (SIGCONT).
func (c *Cluster) Resume(name string) {
	c.fault(scenarios.Fault{Kind: scenarios.Resume, Target: target(name)})
}

// Partition cuts every link between the group (node names, or Client) and
// the rest.
func (c *Cluster) Partition(group ...string) {
	var g []scenarios.Target
	for _, n := range group {
		g = append(g, target(n))
	}
	c.fault(scenarios.Fault{Kind: scenarios.Partition, Groups: [][]scenarios.Target{g, {{Rest: true}}}})
}

// Cut blocks the network between two nodes only, both directions.
func (c *Cluster) Cut(a, b string) {
	c.OneWay(a, b)
	c.OneWay(b, a)
}

// OneWay blocks what a sends to b; b still reaches a.
func (c *Cluster) OneWay(a, b string) {
	c.fault(scenarios.Fault{Kind: scenarios.OneWay, From: []scenarios.Target{target(a)}, To: []scenarios.Target{target(b)}})
}

// Heal ends every network fault.
func (c *Cluster) Heal() { c.fault(scenarios.Fault{Kind: scenarios.Heal}) }

func (c *Cluster) fault(f scenarios.Fault) {
	if f.Target.Name != "" {
		c.Host(f.Target.Name) // a typo in a test's node name panics here, not in the kernel
	}
	c.m.Fault(f)
	c.sync()
}

func target(name string) scenarios.Target { return scenarios.Target{Name: name} }

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
