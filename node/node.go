// Package node is one Redis Cluster node as a pure state machine: the rules of
// cluster_legacy.c (clusterCron, clusterProcessPacket, clusterBeforeSleep) and
// enough of the server around them (keyspace, replication, processCommand) to
// fail over the way Redis 7.0 does.
//
// A Node does no I/O, reads no clock, draws only from the PCG stream it was
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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios/rng"
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

// failReport is one clusterNodeFailReport: who suspects the node (by its
// number in the Shared), and when it last said so, in whole milliseconds of
// the virtual clock as Redis's mstime() stamps fr->time. After a mass
// failure every live node holds a report from every live master about
// every failed one (180 million at 1,000 + 1,000 nodes with 100 masters
// down), so a report is 8 bytes: the millisecond count is kept modulo 2³²
// and ages are taken modulo 2³² too, exact for any report younger than
// 49.7 days (a report is dropped at its first count after 2 ×
// cluster-node-timeout).
type failReport struct {
	ms       uint32
	reporter uint32
}

// link is my outbound cluster-bus connection to a peer (clusterLink).
type link struct {
	conn      ConnID
	ctime     time.Duration
	connected bool
}

// peerHot is the part of a clusterNode that a gossip entry reads or writes,
// on the sender (clusterSendPing's draws) and on the receiver
// (clusterProcessGossipSection), and that clusterCron's per-node loop tests
// first. A node keeps these records of all its peers in one array in dict
// order (Node.hot, parallel to Node.nodes): at 2,000 nodes a PING draws
// 200 of them at random and its receiver looks up 200 more, so each costs a
// memory access, and 32-byte records without pointers (two to a cache line,
// 64 KB per node, never scanned by the collector) make those accesses as
// few and as near as they can be. peer embeds a pointer to its record, so
// p.flags, p.pingSent and the rest read as before.
type peerHot struct {
	pingSent     time.Duration
	pongReceived time.Duration
	ref          uint32 // the node's number in the node's Shared
	addr         uint32 // the number of addr in the Shared (0: none)
	flags        Flags
	linked       bool   // link != nil
	reported     bool   // len(failReports) > 0
	numSlots     uint16 // slots.Count()
	_            uint16
}

// peer is one clusterNode: my local view of a node (myself included). Its
// hot fields live in the node's hot array (see peerHot); the rest is read
// for at most a few nodes per message.
type peer struct {
	*peerHot
	id   ID
	addr string
	idx  int // index in Node.nodes and Node.hot

	slotIdx uint16 // 1 + my index in the node's slotTable while I own slots, else 0

	link *link // see setLink; nil or &linkSlot
	// linkSlot is the link's object, p's own: nothing keeps a freed link,
	// and after a mass failure every node redials every dead peer every
	// 100 ms, where an object per dial was most of a run's allocations.
	linkSlot     link
	inbound      inLink       // the link p dialed to me, once bound (links.go)
	failReports  []failReport // sorted by reporter
	oldestReport uint32       // a failReport.ms: no report in failReports is older
	downReported bool         // a LinkDown was emitted and no link came up since
	dataReceived time.Duration
	ctime        time.Duration // creation time (handshake timeout)
	master       *peer         // slaveof
	replicas     []*peer       // slaves, sorted by ID
	configEpoch  uint64
	slots        *SlotSet    // never nil; shared (immutable) once handed out, see slotSnap
	ranges       []SlotRange // slots.Ranges(), cached for Disk; nil when stale
	shared       bool        // slots may be referenced elsewhere: copy before changing
	failTime     time.Duration
	votedTime    time.Duration
	replOffset   int64
	// Rule-set state (Config.Rules).
	reconnectTime time.Duration // last outbound dial by clusterCron (valkey#2154)
	shard         ID            // shard_id as rcsim keeps it: a master's own ID at creation, a replica's master's
	orphanedTime  time.Duration
}

// setLink sets p.link and its mirror on the hot line.
func (p *peer) setLink(l *link) { p.link, p.linked = l, l != nil }

func (h *peerHot) is(f Flags) bool { return h.flags&f != 0 }

// Node is one Redis Cluster node. It is not safe for concurrent use.
type Node struct {
	cfg  Config
	self ID
	rnd  rng.Stream

	myself *peer
	nodes  []*peer   // every known node, myself included, sorted by ID
	hot    []peerHot // nodes[i]'s hot fields are hot[i] (see peerHot)
	byID   map[ID]*peer
	byRef  []*peer // by peer.ref: the same nodes as byID

	gossipMark uint16   // see nextGossipMark
	marks      []uint16 // by index in nodes: gossipMark when in the section being built
	prefetched uint32   // what the gossip loops' early loads read (see prefetch), so that they are not dropped

	// clusterState.
	currentEpoch      uint64
	lastVoteEpoch     uint64
	stateOK           bool
	size              int
	slots             slotTable
	notClaiming       SlotSet       // owner_not_claiming_slot
	open              []openSlot    // migrating_slots_to and importing_slots_from, by slot
	cronloops         uint64        // server.cronloops: serverCron calls so far; clusterCron's static iteration is cronloops+1 inside it
	firstCallTime     time.Duration // clusterUpdateState's static first_call_time
	amongMinorityTime time.Duration
	statsPfailNodes   int
	failNodes         int // nodes flagged FAIL as cronReconnect counted them this cron; −1 outside it
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
	disk persistence

	// Bus links' other halves (links.go; the inbound links are the
	// peers'): send buffers the kernel reported (non-empty ones only), and
	// stat_cluster_links_buffer_limit_exceeded.
	sendBufs                 map[ConnID]*sendBuf
	linksBufferLimitExceeded uint64

	booted bool // the first entry point ran (boot)

	// The entry point being run.
	now      time.Duration
	out      *Output
	msgStart int // len(out.Msgs) when the entry point began
}

// New returns a node as `redis-cli --cluster create` leaves it: it knows
// every member of cluster, their roles, slots and configEpochs, has no links
// yet and starts in cluster_state fail, like a node just booted from such a
// nodes.conf. self must be one of the members. The node draws from a copy
// of rnd's state, held inside it (rng.Stream): rnd itself is not advanced.
func New(cfg Config, self ID, cluster []Member, rnd *rand.PCG) *Node {
	n := newNode(cfg, self, rnd)
	n.addMembers(cluster)
	if n.byID[self] == nil {
		panic("node: invariant: self is not a member")
	}
	for i, m := range cluster {
		p := n.byID[m.ID]
		if m.Master != "" {
			p.flags |= FlagSlave
			n.attachReplica(p, n.byID[m.Master])
		} else {
			p.flags |= FlagMaster
		}
		if len(m.Slots) > 0 {
			n.bootSlots(p, &cluster[i])
		}
	}
	n.finishBoot()
	n.bootReplication()
	return n
}

// bootReplication puts a node of a formed cluster where its first sync
// leaves it: `cluster create` is followed by the replicas' full sync of an
// empty dataset, which rcsim takes as done before the run starts (runs
// model a steady cluster). A master's replication ID is its node ID (for the
// random one Redis draws), and each replica shares its master's at offset
// 0, so its first PSYNC continues. Every later full sync (a restart, a new
// replica, a replica following a master of another history) is modelled
// with its delays (replication.go).
func (n *Node) bootReplication() {
	if m := n.myself.master; m != nil {
		n.repl.replID = string(m.id)
	} else {
		n.repl.replID = string(n.self)
	}
}

// bootSlots binds the member's slots to p. The bitmap is built once per
// member and kept in the caller's slice (m.set), so that every node built
// from the same slice shares it instead of holding its own 2 KB copy of
// every peer's slots: 2,000 nodes × 2,000 peers × 2 KB would be 8 GB.
func (n *Node) bootSlots(p *peer, m *Member) {
	if m.set == nil {
		m.set = SlotSetOf(m.Slots)
	}
	for _, r := range m.Slots {
		n.slots.bindRange(r.Start, r.End, p)
	}
	p.slots, p.shared, p.ranges = m.set, true, nil
	p.numSlots = uint16(m.set.Count())
}

// addMembers adds the members' nodes to an empty node, in ID order, from
// one slab: a node's peers are then contiguous in memory in the order the
// cron walks them, and building the list costs O(N log N), not the O(N²) of
// one sorted insertion each.
func (n *Node) addMembers(cluster []Member) {
	order := make([]int, len(cluster))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(string(cluster[a].ID), string(cluster[b].ID)) })
	slab := make([]peer, len(cluster))
	n.nodes = make([]*peer, 0, len(cluster))
	n.hot = make([]peerHot, len(cluster))
	for k, i := range order {
		m := &cluster[i]
		p := n.byID[m.ID]
		if p == nil {
			p = &slab[k]
			*p = peer{id: m.ID, votedTime: never, reconnectTime: never, ctime: n.now, slots: &noSlots,
				shared: true, shard: m.ID}
			p.idx, p.peerHot = len(n.nodes), &n.hot[len(n.nodes)]
			n.setAddr(p, m.Addr)
			n.register(p)
			n.nodes = append(n.nodes, p)
		}
		p.configEpoch = m.ConfigEpoch // as addPeer then the assignment: the last duplicate wins
	}
	n.hot = n.hot[:len(n.nodes)]
	for _, m := range cluster {
		n.currentEpoch = max(n.currentEpoch, m.ConfigEpoch)
	}
}

// newNode returns an empty node: myself is added by the caller. Without a
// Shared of the run the node numbers what it learns in one of its own.
func newNode(cfg Config, self ID, src *rand.PCG) *Node {
	if cfg.ReplBacklogSize <= 0 {
		cfg.ReplBacklogSize = DefaultReplBacklogSize
	}
	if cfg.Shared == nil {
		cfg.Shared = NewShared()
	}
	n := &Node{cfg: cfg, self: self, rnd: rng.StreamOf(src), byID: map[ID]*peer{},
		failoverAuthTime: never, amongMinorityTime: never, firstCallTime: never,
		size: 1, mfMasterOffset: -1, failNodes: -1, nextConn: cfg.ConnSpace<<48 + cfg.Incarnation<<32 + 1,
		cronloops: cfg.CronLoops}
	n.db.init()
	n.repl.init(n)
	n.disk.init(n)
	return n
}

// finishBoot sets the myself flags and starts replication for a replica.
func (n *Node) finishBoot() {
	n.myself = n.byID[n.self]
	n.myself.flags |= FlagMyself
	if n.cfg.Addr != "" {
		n.setAddr(n.myself, n.cfg.Addr)
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
	p := &peer{peerHot: &peerHot{}, id: id, votedTime: never, reconnectTime: never, ctime: n.now, slots: &noSlots,
		shared: true, shard: id}
	n.setAddr(p, addr)
	n.listPeer(p)
	return p
}

// setAddr sets p's address and its number on the hot record.
func (n *Node) setAddr(p *peer, addr string) {
	p.addr = addr
	p.peerHot.addr = n.cfg.Shared.addrRef(addr)
}

// listPeer puts p into the dict under p.id, keeping n.nodes sorted.
func (n *Node) listPeer(p *peer) {
	n.register(p)
	i := sort.Search(len(n.nodes), func(i int) bool { return n.nodes[i].id >= p.id })
	n.nodes = slices.Insert(n.nodes, i, p)
	n.rehome(i, true)
}

// unlistPeer removes p from the dict. p keeps its hot record, now its own.
func (n *Node) unlistPeer(p *peer) {
	delete(n.byID, p.id)
	n.byRef[p.ref] = nil
	i := p.idx
	n.nodes = slices.Delete(n.nodes, i, i+1)
	own := *p.peerHot
	p.peerHot = &own
	n.rehome(i, false)
}

// rehome rebuilds n.hot after n.nodes gained (grew) or lost a node at
// index i: every node's record moves to its new index. Appending within the
// array's capacity moves nobody; otherwise the records go to a new array,
// so a pointer into the old one (a node just removed) stays valid.
func (n *Node) rehome(i int, grew bool) {
	if grew && i == len(n.hot) && len(n.hot) < cap(n.hot) {
		p := n.nodes[i]
		n.hot = append(n.hot, *p.peerHot)
		p.idx, p.peerHot = i, &n.hot[i]
		return
	}
	hot := make([]peerHot, len(n.nodes), max(len(n.nodes), cap(n.hot)))
	for j, p := range n.nodes {
		hot[j] = *p.peerHot
		p.idx, p.peerHot = j, &hot[j]
	}
	n.hot = hot
}

// register makes p findable by its ID and its number.
func (n *Node) register(p *peer) {
	n.byID[p.id] = p
	p.ref = n.cfg.Shared.ref(p.id)
	for int(p.ref) >= len(n.byRef) {
		n.byRef = append(n.byRef, nil)
	}
	n.byRef[p.ref] = p
}

// lookup is the dict lookup of a node a message names: by its number when
// the message was numbered in my Shared, else by its ID.
func (n *Node) lookup(s *Shared, ref uint32, id ID) *peer {
	if s != n.cfg.Shared || ref == 0 {
		return n.byID[id]
	}
	if int(ref) < len(n.byRef) {
		return n.byRef[ref]
	}
	return nil
}

// ID is the node's name.
func (n *Node) ID() ID { return n.self }

// begin and end bracket every entry point: end runs beforeSleep.
func (n *Node) begin(now time.Duration, out *Output) {
	n.now, n.out, n.msgStart = now, out, len(out.Msgs)
	if !n.booted {
		n.boot()
	}
	if n.repl.state == replLoading && now >= n.repl.loadedAt {
		n.syncLoaded()
	}
}

// boot runs at the first entry point, the first time the node reads its
// clock: clusterLoadConfig's "set to load time" for fail_time and
// pong_received.
func (n *Node) boot() {
	n.booted = true
	n.disk.lastSave, n.disk.lastFsync = n.now, n.now
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
	if n.cfg.AppendOnly {
		n.flushAOF()
	}
	n.countSent(n.msgStart)
	n.out = nil
}

// Tick runs one clusterCron (and the replication and client crons that share
// its period). now is the node's own clock.
func (n *Node) Tick(now time.Duration, out *Output) {
	n.begin(now, out)
	// serverCron's order: the children and save points first
	// (checkChildrenDone), then replicationCron under run_with_period(1000),
	// so on the calls where cronloops%10 == 0 (the first one included), then
	// clusterCron, whose random PING comes at its own iteration%10 == 0,
	// one call earlier; cronloops++ last.
	n.serverCronPersistence()
	if n.cronloops%10 == 0 {
		n.replicationCron()
	}
	n.clusterCron()
	n.clientsCron()
	n.cronloops++
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

// emitSetSlot appends a SetSlot event: CLUSTER SETSLOT slot action (naming p).
func (n *Node) emitSetSlot(p *peer, slot int, action string) {
	n.emit(trace.SetSlot, p, 0, strconv.Itoa(slot)+" "+action)
	n.out.Events[len(n.out.Events)-1].Detail = &trace.Detail{Slots: []SlotRange{{Start: slot, End: slot}}, Action: action}
}

// emitSlots appends a Promoted or Slots event about p carrying ranges rs.
func (n *Node) emitSlots(kind trace.Kind, p *peer, epoch uint64, rs []SlotRange) {
	n.emit(kind, p, epoch, trace.FormatRanges(rs, " "))
	n.out.Events[len(n.out.Events)-1].Detail = &trace.Detail{Slots: rs}
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
