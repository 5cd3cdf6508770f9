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
//
// Peers live in a slice sorted by ID (Redis's dict order is random; sorted
// order is this simulator's documented stand-in), so no behaviour depends on
// Go map iteration.
package node

import (
	"math/rand/v2"
	"sort"
	"time"

	"rcsim/sim/trace"
)

// never is a timestamp far in the past: "this never happened", so that
// now − never is larger than any Redis timeout (Redis compares against a
// wall clock, where 0 is 1970).
const never = time.Duration(-1 << 62)

// todo flags (CLUSTER_TODO_*), handled by beforeSleep.
const (
	todoHandleFailover = 1 << iota
	todoUpdateState
	todoSaveConfig
	todoHandleManualFailover
)

// failReport is one clusterNodeFailReport: who suspects the node, and when
// it last said so.
type failReport struct {
	reporter ID
	time     time.Duration
}

// link is my outbound cluster-bus connection to a peer (clusterLink).
type link struct {
	conn      ConnID
	ctime     time.Duration
	connected bool
}

// peer is one clusterNode: my local view of a node (myself included).
type peer struct {
	id            ID
	addr          string
	ctime         time.Duration // creation time (handshake timeout)
	flags         Flags
	master        *peer   // slaveof
	replicas      []*peer // slaves, sorted by ID
	configEpoch   uint64
	slots         SlotSet
	numSlots      int
	snap          *SlotSet // immutable copy of slots for headers; nil when stale
	pingSent      time.Duration
	pongReceived  time.Duration
	dataReceived  time.Duration
	failTime      time.Duration
	votedTime     time.Duration
	replOffset    int64
	reconnectTime time.Duration // last outbound dial by clusterCron (valkey#2154)
	shard         ID            // shard_id as rcsim keeps it: a master's own ID at creation, a replica's master's
	orphanedTime  time.Duration
	link          *link
	failReports   []failReport
	downReported  bool // a LinkDown was emitted and no link came up since
}

func (p *peer) is(f Flags) bool { return p.flags&f != 0 }

// Node is one Redis Cluster node. It is not safe for concurrent use.
type Node struct {
	cfg  Config
	self ID
	rnd  *rand.Rand

	myself *peer
	nodes  []*peer // every known node, myself included, sorted by ID
	byID   map[ID]*peer

	// clusterState.
	currentEpoch      uint64
	lastVoteEpoch     uint64
	stateOK           bool
	size              int
	slots             [NumSlots]*peer
	notClaiming       SlotSet    // owner_not_claiming_slot
	open              []openSlot // migrating_slots_to and importing_slots_from, by slot
	iteration         uint64
	firstCallTime     time.Duration // clusterUpdateState's static first_call_time
	amongMinorityTime time.Duration
	statsPfailNodes   int
	todo              int
	nextConn          uint64
	orphaned          orphanCount
	blacklist         []blackEntry     // nodes_black_list, in insertion order
	statsSent         [busTypes]uint64 // stats_bus_messages_sent
	statsReceived     [busTypes]uint64 // stats_bus_messages_received
	restored          bool             // built by Restore: boot applies the nodes.conf time columns

	// Election (replica side).
	failoverAuthTime  time.Duration
	failoverAuthCount int
	failoverAuthSent  bool
	failoverAuthRank  int
	failoverAuthEpoch uint64
	failoverExpired   bool // ElectionExpire was emitted for this attempt
	failedPrimaryRank int  // failover_failed_primary_rank (valkey#1018)
	fullSyncPending   bool // a full sync from a new shard's primary is due (valkey#885)

	// Manual failover.
	mfEnd          time.Duration
	mfReplica      *peer // master side: mf_slave
	mfMasterOffset int64 // replica side; −1 = not received
	mfCanStart     bool
	pausedUntil    time.Duration // client writes paused (pauseClients)
	paused         []pendingCmd

	db   keyspace
	repl replication

	booted bool // the first entry point ran (boot)

	// The entry point being run.
	now      time.Duration
	out      *Output
	msgStart int // len(out.Msgs) when the entry point began
}

// New returns a node as `redis-cli --cluster create` leaves it: it knows
// every member of cluster, their roles, slots and configEpochs, has no links
// yet and starts in cluster_state fail, like a node just booted from such a
// nodes.conf. self must be one of the members.
func New(cfg Config, self ID, cluster []Member, rnd *rand.Rand) *Node {
	n := newNode(cfg, self, rnd)
	for _, m := range cluster {
		p := n.addPeer(m.ID, m.Addr)
		p.configEpoch = m.ConfigEpoch
		if m.ConfigEpoch > n.currentEpoch {
			n.currentEpoch = m.ConfigEpoch
		}
	}
	if n.byID[self] == nil {
		panic("node: invariant: self is not a member")
	}
	for _, m := range cluster {
		p := n.byID[m.ID]
		if m.Master != "" {
			p.flags |= FlagSlave
			n.attachReplica(p, n.byID[m.Master])
		} else {
			p.flags |= FlagMaster
		}
		for _, r := range m.Slots {
			for s := r.Start; s <= r.End; s++ {
				n.addSlot(p, s)
			}
		}
	}
	n.finishBoot()
	return n
}

// newNode returns an empty node: myself is added by the caller.
func newNode(cfg Config, self ID, rnd *rand.Rand) *Node {
	n := &Node{cfg: cfg, self: self, rnd: rnd, byID: map[ID]*peer{},
		failoverAuthTime: never, amongMinorityTime: never, firstCallTime: never,
		size: 1, mfMasterOffset: -1, nextConn: cfg.Incarnation<<32 + 1}
	n.db.init()
	n.repl.init(n)
	return n
}

// finishBoot sets the myself flags and starts replication for a replica.
func (n *Node) finishBoot() {
	n.myself = n.byID[n.self]
	n.myself.flags |= FlagMyself
	if n.cfg.Addr != "" {
		n.myself.addr = n.cfg.Addr
	}
	if n.cfg.ReplicaNoFailover {
		n.myself.flags |= FlagNoFailover
	}
	if n.myself.is(FlagSlave) && n.myself.master == nil {
		panic("node: invariant: replica without a known master")
	}
}

// addPeer creates a node object (createClusterNode + clusterAddNode),
// keeping n.nodes sorted.
func (n *Node) addPeer(id ID, addr string) *peer {
	if p := n.byID[id]; p != nil {
		return p
	}
	p := &peer{id: id, addr: addr, votedTime: never, reconnectTime: never, ctime: n.now, shard: id}
	n.byID[id] = p
	i := sort.Search(len(n.nodes), func(i int) bool { return n.nodes[i].id >= id })
	n.nodes = append(n.nodes, nil)
	copy(n.nodes[i+1:], n.nodes[i:])
	n.nodes[i] = p
	return p
}

// ID is the node's name.
func (n *Node) ID() ID { return n.self }

// begin and end bracket every entry point: end runs beforeSleep.
func (n *Node) begin(now time.Duration, out *Output) {
	n.now, n.out, n.msgStart = now, out, len(out.Msgs)
	if !n.booted {
		n.boot()
	}
}

// boot runs at the first entry point, the first time the node reads its
// clock: clusterLoadConfig's "set to load time" for fail_time and
// pong_received.
func (n *Node) boot() {
	n.booted = true
	n.doBeforeSleep(todoSaveConfig) // clusterInit saves the config at boot
	for _, p := range n.nodes {
		if p == n.myself {
			continue
		}
		switch {
		case !n.restored:
			p.pongReceived = n.now // `cluster create` leaves every node just ponged
		case p.pongReceived != 0:
			p.pongReceived = n.now // clusterLoadConfig: a non-zero column is "now"
		}
		if p.pingSent != 0 {
			p.pingSent = n.stamp()
		}
		if p.is(FlagFail) {
			p.failTime = n.now
		}
	}
}

func (n *Node) end() {
	n.beforeSleep()
	n.countSent(n.msgStart)
	n.out = nil
}

// Tick runs one clusterCron (and the replication and client crons that share
// its period). now is the node's own clock.
func (n *Node) Tick(now time.Duration, out *Output) {
	n.begin(now, out)
	n.clusterCron()
	if n.iteration%10 == 0 {
		n.replicationCron()
	}
	n.clientsCron()
	n.end()
}

// Step handles one message that arrived on conn (clusterProcessPacket, or the
// replication stream for Repl connections).
func (n *Node) Step(now time.Duration, conn ConnID, m *Message, out *Output) {
	n.begin(now, out)
	if m != nil {
		if conn.Repl {
			n.processReplMessage(conn, m)
		} else {
			n.processPacket(conn, m)
		}
	}
	n.end()
}

// Link tells the node what became of one of its connections.
func (n *Node) Link(now time.Duration, ev LinkEvent, out *Output) {
	n.begin(now, out)
	if ev.Conn.Repl {
		n.replLinkEvent(ev)
	} else {
		n.busLinkEvent(ev)
	}
	n.end()
}

// Command runs one client command (processCommand with the cluster
// redirection of getNodeByQuery). The reply is appended to out.Replies, now
// or from a later call (WAIT).
func (n *Node) Command(now time.Duration, c ClientID, cmd Cmd, out *Output) {
	n.begin(now, out)
	n.processCommand(c, cmd)
	n.end()
}

// beforeSleep is clusterBeforeSleep: pending failover work, then
// clusterUpdateState, then SAVE_CONFIG.
func (n *Node) beforeSleep() {
	flags := n.todo
	n.todo = 0
	if flags&todoHandleManualFailover != 0 {
		if n.myself.is(FlagSlave) {
			n.handleManualFailover()
			n.handleSlaveFailover()
		}
	} else if flags&todoHandleFailover != 0 {
		n.handleSlaveFailover()
	}
	// Flags raised by the handlers above are applied now rather than in the
	// next event-loop iteration: saving earlier is never less safe, and the
	// kernel persists before anything of this Output leaves.
	flags |= n.todo &^ (todoHandleFailover | todoHandleManualFailover)
	n.todo &= todoHandleFailover | todoHandleManualFailover
	if flags&todoUpdateState != 0 {
		n.updateState()
	}
	if flags&todoSaveConfig != 0 || n.todo&todoSaveConfig != 0 {
		n.out.Save = true
		n.todo &^= todoSaveConfig | todoUpdateState
	}
}

// doBeforeSleep is clusterDoBeforeSleep.
func (n *Node) doBeforeSleep(flags int) { n.todo |= flags }

// emit appends a trace event about peer p (may be nil).
func (n *Node) emit(kind trace.Kind, p *peer, epoch uint64, value string) {
	e := trace.Event{Kind: kind, Epoch: epoch, Value: value}
	if p != nil {
		e.Peer = string(p.id)
	}
	n.out.Events = append(n.out.Events, e)
}

// stamp returns now as a timestamp that is never the "none" value 0.
func (n *Node) stamp() time.Duration {
	if n.now == 0 {
		return 1
	}
	return n.now
}

// quorum is size/2 + 1, the majority every quorum computation uses.
func (n *Node) quorum() int { return n.size/2 + 1 }

// nodeEpoch is a node's configEpoch as headers and CLUSTER NODES show it: a
// replica shows its master's (clusterGetNodeEpoch... nodeEpoch in cluster.c).
func nodeEpoch(p *peer) uint64 {
	if p.is(FlagSlave) && p.master != nil {
		return p.master.configEpoch
	}
	return p.configEpoch
}

// setCurrentEpoch raises currentEpoch and reports it.
func (n *Node) setCurrentEpoch(e uint64, why string) {
	if e <= n.currentEpoch {
		return
	}
	n.currentEpoch = e
	n.emit(trace.Epoch, nil, e, why)
}
