// What nodes.conf keeps and how a node comes back from it
// (clusterSaveConfig, clusterLoadConfig), and the CLUSTER NODES text
// (clusterGenNodesDescription).

package node

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// NodesConf is the content of a node's nodes.conf: one line per known node
// (as CLUSTER NODES, without handshake nodes) and the vars line.
type NodesConf struct {
	Myself        ID
	CurrentEpoch  uint64
	LastVoteEpoch uint64
	Nodes         []ConfNode
	Open          []OpenSlot // the markers on the myself line
}

// ConfNode is one line of nodes.conf.
type ConfNode struct {
	ID          ID
	Addr        string
	Flags       Flags
	Master      ID
	ConfigEpoch uint64
	Slots       []SlotRange
	// PingSent and PongReceived are the ping_sent and pong_received
	// columns (0: none). A restarted node only asks whether they are
	// non-zero: clusterLoadConfig sets non-zero ones to the load time.
	PingSent     time.Duration
	PongReceived time.Duration
	Connected    bool // the link column as written: I had a link to it (always true for myself)
}

// persistedFlags are the flags nodes.conf keeps (MIGRATE_TO and MEET are
// not written).
const persistedFlags = FlagMaster | FlagSlave | FlagPFail | FlagFail | FlagMyself |
	FlagHandshake | FlagNoAddr | FlagNoFailover

// Disk returns what nodes.conf holds now: what survives a crash.
func (n *Node) Disk() NodesConf {
	d := NodesConf{Myself: n.self, CurrentEpoch: n.currentEpoch, LastVoteEpoch: n.lastVoteEpoch,
		Open: n.OpenSlots(), Nodes: make([]ConfNode, 0, len(n.nodes))}
	for _, p := range n.nodes {
		if p.is(FlagHandshake) {
			continue
		}
		c := ConfNode{ID: p.id, Addr: p.addr, Flags: p.flags & persistedFlags,
			ConfigEpoch: nodeEpoch(p), Slots: p.slotRanges(),
			PingSent: p.pingSent, PongReceived: p.pongReceived,
			Connected: p.link != nil || p == n.myself}
		if p.master != nil {
			c.Master = p.master.id
		}
		d.Nodes = append(d.Nodes, c)
	}
	return d
}

// Restore returns a node restarted from what its nodes.conf kept (a crash
// with persistence): clusterLoadConfig. The keyspace starts empty; state
// starts FAIL; replicas load with configEpoch 0; currentEpoch is raised to
// the largest configEpoch. It draws from a copy of rnd's state, as New does.
func Restore(cfg Config, disk NodesConf, rnd *rand.PCG) (*Node, error) {
	n := newNode(cfg, disk.Myself, rnd)
	n.restored = true
	n.currentEpoch = disk.CurrentEpoch
	n.lastVoteEpoch = disk.LastVoteEpoch
	for _, c := range disk.Nodes {
		if n.byID[c.ID] != nil {
			return nil, fmt.Errorf("node: nodes.conf: duplicate node %s", c.ID)
		}
		p := n.addPeer(c.ID, c.Addr)
		p.flags = c.Flags &^ FlagMyself
		p.configEpoch = c.ConfigEpoch
		p.pingSent, p.pongReceived = min(c.PingSent, 1), min(c.PongReceived, 1) // boot sets them to now
		if p.is(FlagSlave) {
			p.configEpoch = 0
		}
	}
	if n.byID[disk.Myself] == nil {
		return nil, errors.New("node: nodes.conf: no myself line")
	}
	for _, c := range disk.Nodes {
		p := n.byID[c.ID]
		if c.Master != "" {
			m := n.byID[c.Master]
			if m == nil {
				m = n.addPeer(c.Master, "")
				m.flags |= FlagNoAddr
			}
			n.attachReplica(p, m)
		}
		for _, r := range c.Slots {
			n.addUnbound(p, r.Start, r.End)
		}
	}
	n.restoreOpen(disk.Open)
	n.currentEpoch = max(n.currentEpoch, n.maxEpoch())
	n.finishBoot()
	if n.myself.is(FlagSlave) && n.myself.master == nil {
		return nil, errors.New("node: nodes.conf: replica without master")
	}
	return n, nil
}

// flagNames is representClusterNodeFlags, in Redis's order.
func flagNames(f Flags) string {
	var parts []string
	for _, x := range []struct {
		f    Flags
		name string
	}{{FlagMyself, "myself"}, {FlagMaster, "master"}, {FlagSlave, "slave"},
		{FlagPFail, "fail?"}, {FlagFail, "fail"}, {FlagHandshake, "handshake"},
		{FlagNoAddr, "noaddr"}, {FlagNoFailover, "nofailover"}} {
		if f&x.f != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "noflags"
	}
	return strings.Join(parts, ",")
}

// ClusterNodes is CLUSTER NODES (clusterGenNodesDescription with no
// filter: handshake nodes included): one line per node, sorted by
// ID (Redis prints dict order).
func (n *Node) ClusterNodes() string { return n.genNodes(0) }

// genNodes is clusterGenNodesDescription: every node without a flag of
// filter (nodes.conf filters out HANDSHAKE).
func (n *Node) genNodes(filter Flags) string {
	var b strings.Builder
	for _, p := range n.nodes {
		if p.flags&filter != 0 {
			continue
		}
		b.WriteString(n.nodeLine(p))
		b.WriteByte('\n')
	}
	return b.String()
}

// nodeLine is clusterGenNodeDescription for one node.
func (n *Node) nodeLine(p *peer) string {
	c := ConfNode{ID: p.id, Addr: p.addr, Flags: p.flags, ConfigEpoch: nodeEpoch(p),
		Slots: p.slotRanges(), PingSent: p.pingSent, PongReceived: p.pongReceived,
		Connected: p.link != nil || p == n.myself}
	if p.master != nil {
		c.Master = p.master.id
	}
	if p == n.myself {
		return c.line() + formatOpenSlots(n.OpenSlots())
	}
	return c.line()
}

// line is the CLUSTER NODES / nodes.conf line of c (Redis 7.0 has no aux
// fields): id ip:port@cport flags master ping_sent pong_received
// configEpoch link-state slots.
func (c ConfNode) line() string {
	addr := c.Addr
	if addr == "" {
		addr = ":0@0" // NOADDR: ip wiped, ports 0
	} else if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		if port, err := strconv.Atoi(addr[i+1:]); err == nil {
			addr = fmt.Sprintf("%s@%d", addr, port+10000)
		}
	}
	master := "-"
	if c.Master != "" {
		master = string(c.Master)
	}
	state := "disconnected"
	if c.Connected {
		state = "connected"
	}
	line := fmt.Sprintf("%s %s %s %s %d %d %d %s", c.ID, addr, flagNames(c.Flags), master,
		c.PingSent.Milliseconds(), c.PongReceived.Milliseconds(), c.ConfigEpoch, state)
	if len(c.Slots) > 0 {
		line += " " + trace.FormatRanges(c.Slots, " ")
	}
	return line
}

// Text is the nodes.conf file as clusterSaveConfig wrote it (Redis 7.0):
// one CLUSTER NODES line per node but those in handshake, then the vars
// line. Times are virtual milliseconds.
func (d NodesConf) Text() string {
	var b strings.Builder
	for _, c := range d.Nodes {
		b.WriteString(c.line())
		if c.ID == d.Myself {
			b.WriteString(formatOpenSlots(d.Open))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "vars currentEpoch %d lastVoteEpoch %d\n", d.CurrentEpoch, d.LastVoteEpoch)
	return b.String()
}
