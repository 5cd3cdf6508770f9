// Package node is one Redis Cluster node as a pure state machine: the rules of
// cluster_legacy.c (clusterCron, clusterProcessPacket, clusterBeforeSleep) and
// enough of the server around them (keyspace, replication, processCommand) to
// fail over the way Redis 7.0 does.
//
// A Node does no I/O, reads no clock, draws only from the *rand.Rand it was
// given and starts no goroutines. The kernel calls one entry point at a time
// with the node's own clock; each call appends what the node did to an Output
// and ends in beforeSleep (clusterBeforeSleep), so a vote that completes a
// quorum promotes at once.
package node

import (
	"math/rand/v2"
	"time"
)

// Node is one Redis Cluster node. It is not safe for concurrent use.
type Node struct {
	cfg  Config
	self ID
	rnd  *rand.Rand
	// The state of cluster_legacy.c's clusterState lives in the files named
	// for the Redis code that owns it.
}

// New returns a node as `redis-cli --cluster create` leaves it: it knows
// every member of cluster, their roles, slots and configEpochs, has no links
// yet and starts in cluster_state fail, like a node just booted from such a
// nodes.conf. self must be one of the members.
func New(cfg Config, self ID, cluster []Member, rnd *rand.Rand) *Node {
	panic("node: New not implemented")
}

// Restore returns a node restarted from what its nodes.conf kept (a crash
// with persistence): clusterLoadConfig. The keyspace starts empty.
func Restore(cfg Config, disk NodesConf, rnd *rand.Rand) (*Node, error) {
	panic("node: Restore not implemented")
}

// ID is the node's name.
func (n *Node) ID() ID { return n.self }

// Tick runs one clusterCron (and the replication and client crons that share
// its period). now is the node's own clock.
func (n *Node) Tick(now time.Duration, out *Output) { panic("node: Tick not implemented") }

// Step handles one message that arrived on conn (clusterProcessPacket, or the
// replication stream for Repl connections).
func (n *Node) Step(now time.Duration, conn ConnID, m *Message, out *Output) {
	panic("node: Step not implemented")
}

// Link tells the node what became of one of its connections.
func (n *Node) Link(now time.Duration, ev LinkEvent, out *Output) {
	panic("node: Link not implemented")
}

// Command runs one client command (processCommand with the cluster
// redirection of getNodeByQuery). The reply is appended to out.Replies, now
// or from a later call (WAIT).
func (n *Node) Command(now time.Duration, c ClientID, cmd Cmd, out *Output) {
	panic("node: Command not implemented")
}

// Disk returns what nodes.conf holds now: what survives a crash.
func (n *Node) Disk() NodesConf { panic("node: Disk not implemented") }

// View returns a read-only snapshot of the node's state for tests, the
// kernel's checks and dumps.
func (n *Node) View() View { panic("node: View not implemented") }
