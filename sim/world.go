package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"rcsim/checker/history"
	"rcsim/netmodel"
	"rcsim/node"
	"rcsim/scenarios"
	"rcsim/sim/rng"
	"rcsim/sim/trace"
	"rcsim/sim/workload"
)

// evKind is what a queued event asks the kernel to do.
type evKind uint8

const (
	evTick         evKind = iota + 1 // clusterCron of node dst
	evDeliver                        // a bus or replication message arrives over a connection
	evLink                           // a connection event reaches node dst
	evFault                          // scenario fault number `fault`
	evClient                         // client dst wakes up (next op or a timeout)
	evCommand                        // a client command arrives at node dst
	evReply                          // a reply arrives at client dst
	evDump                           // dump every node's state
	evAdminStep                      // admin step number `fault` is due
	evAdminSend                      // the admin client sends call number `gen` (after its pace)
	evAdminTimeout                   // the admin client gives up on call number `gen`
	evFaultEnd                       // the For of scenario fault number `fault` is over
	evFlap                           // a flapping link (fault number `fault`) goes down or up
	evSyn                            // retransmission number `fault` of a dial's SYN
)

// event is one entry of the queue. Small payloads inline, large ones by
// pointer, so the heap moves few bytes.
type event struct {
	at    time.Duration
	seq   uint64
	kind  evKind
	dst   int    // endpoint index (node or client)
	inc   uint32 // incarnation of node dst the event belongs to (ticks, links)
	fault int
	dir   uint8 // evDeliver: 0 dialer→peer, 1 peer→dialer
	// admitted: the message already reached the destination host (it sat in
	// a paused process's socket buffer, or in a slow one's queue), so the
	// network is not asked again. charged: a slow node already spent its
	// processing delay on it.
	admitted, charged bool
	gen               uint64
	link              node.LinkEventKind
	conn              *conn
	msg               *node.Message
	cmd               *clientCmd
	reply             *clientReply
}

// host is one node endpoint: the process (maybe down) and what its disk kept.
type host struct {
	name    string
	id      node.ID
	addr    string
	idx     int
	cfg     node.Config
	n       *node.Node // nil while crashed
	up      bool
	inc     uint32 // incarnation: bumped on every restart
	disk    node.NodesConf
	hasDisk bool
	crashes int

	// Node-level faults (sim/nodefaults.go).
	skew       time.Duration // the node's clock is now + skew (+ drift since driftSince)
	driftPct   int           // percent the node's clock runs fast (negative: slow)
	driftSince time.Duration
	paused     bool          // SIGSTOP: nothing runs, input waits in backlog
	backlog    []event       // input that arrived while paused, in arrival order
	tickMissed bool          // a cron tick came due while paused
	slow       time.Duration // processing time of every message, command and link event
	busyUntil  time.Duration // a slow node is busy with earlier input until then
}

// world is the state of one run.
type world struct {
	s     *scenarios.Scenario
	opt   Options
	seed  uint64
	now   time.Duration
	q     queue
	steps int
	stop  string
	bus   int // cluster-bus messages sent (Result.BusMessages)

	hosts   []*host
	byID    map[node.ID]*host
	byAddr  map[string]int // client address → endpoint index
	names   map[string]int // endpoint name → index
	clients []*clientState
	cmds    pool[clientCmd]   // commands on their way to a node
	replies pool[clientReply] // replies on their way to a client
	net     *netmodel.Net
	phase   *rand.Rand
	conns   connTable
	shared  *node.Shared // every node's Config.Shared

	out       node.Output
	tw        *trace.Writer
	events    []trace.Event
	ops       []history.Op
	crashed   []int        // crash order of hosts still down, for `restart: crashed`
	admin     *adminClient // nil without admin steps
	openSlots []string     // filled when the run ends (reportOpenSlots)
	paused    []int        // pause order of hosts still paused, for `resume: paused`

	active   []activeFault // by scenario fault number
	cuts     []int         // by from*n+to: one-way and flap faults cutting the link now
	partGen  int           // bumped by every partition, so ending one leaves a later one alone
	faultRnd *rand.Rand    // the "faults" stream: random and any_master targets; nil until drawn
}

func newWorld(s *scenarios.Scenario, opt Options) (*world, error) {
	w := &world{s: s, opt: opt, seed: opt.Seed, byID: map[node.ID]*host{},
		byAddr: map[string]int{}, names: map[string]int{}, shared: node.NewShared()}
	w.tw = trace.NewWriter(opt.Trace)
	if opt.HashEvery > 0 && opt.HashOut != nil {
		w.tw.HashEvery(opt.HashEvery, opt.HashOut)
	}
	w.phase = rng.Derive(w.seed, "phase")
	members := w.buildHosts()
	nClients := 0
	if s.Workload.Kind != "" && s.Workload.Kind != "none" {
		nClients = s.Workload.Clients
	}
	endpoints := len(w.hosts) + nClients
	seed := w.seed
	names := w.endpointNames(nClients)
	if len(s.Admin) > 0 {
		w.names["admin"] = endpoints
		names = append(names, "admin")
		endpoints++
	}
	net, err := netmodel.New(netConfig(s.Network), endpoints, func(from, to int) *rand.Rand {
		return rng.Derive(seed, "net/"+names[from]+"->"+names[to])
	})
	if err != nil {
		return nil, fmt.Errorf("%s: network: %v", s.File, err)
	}
	w.net = net
	if err := w.applyLinks(s.Network.Links, names); err != nil {
		return nil, fmt.Errorf("%s: network.links: %v", s.File, err)
	}
	w.cuts = make([]int, endpoints*endpoints)
	w.active = make([]activeFault, len(s.Faults))
	w.bootNodes(members)
	w.bootClients(nClients)
	w.bootAdmin(len(w.hosts) + nClients)
	for i := range s.Faults {
		w.q.push(event{at: s.Faults[i].At, kind: evFault, fault: i})
	}
	for _, at := range opt.DumpAt {
		w.q.push(event{at: at, kind: evDump})
	}
	return w, nil
}

func (w *world) endpointNames(nClients int) []string {
	names := make([]string, 0, len(w.hosts)+nClients)
	for _, h := range w.hosts {
		names = append(names, h.name)
	}
	for i := 0; i < nClients; i++ {
		names = append(names, "client-"+strconv.Itoa(i))
	}
	for i, n := range names {
		w.names[n] = i
	}
	return names
}

// buildHosts lays the cluster out as `redis-cli --cluster create
// --cluster-replicas R` does: masters take even slot ranges in order, every
// node gets a distinct configEpoch (CLUSTER SET-CONFIG-EPOCH 1..N) and IDs are
// 40 hex characters drawn from the run's "ids" stream.
func (w *world) buildHosts() []node.Member {
	c := w.s.Cluster
	ids := rng.Derive(w.seed, "ids")
	names := c.NodeNames()
	members := make([]node.Member, len(names)-c.Spares)
	for i, name := range names {
		h := &host{name: name, idx: i, id: randomID(ids), addr: "127.0.0.1:" + strconv.Itoa(30001+i)}
		h.cfg = nodeConfig(c.Config, h.addr, w.s)
		h.cfg.Shared = w.shared
		w.hosts = append(w.hosts, h)
		w.byID[h.id] = h
		w.byAddr[h.addr] = i
		if i < len(members) {
			members[i] = node.Member{ID: h.id, Addr: h.addr, ConfigEpoch: uint64(i + 1)}
		}
	}
	if !c.Formed {
		return nil // every node boots alone; a create step forms the cluster
	}
	for m := 0; m < c.Masters; m++ {
		lo, hi := slotRange(m, c.Masters)
		members[m].Slots = []node.SlotRange{{Start: lo, End: hi}}
		for r := 0; r < c.ReplicasPerMaster; r++ {
			members[c.Masters+m*c.ReplicasPerMaster+r].Master = members[m].ID
		}
	}
	return members
}

// slotRange is redis-cli's allocation: master m of n gets
// [m*16384/n, (m+1)*16384/n - 1] (clusterManagerCommandCreate).
func slotRange(m, n int) (int, int) {
	per := float64(node.NumSlots) / float64(n)
	first := 0
	if m > 0 {
		first = int(float64(m)*per + 0.5)
	}
	last := int(float64(m+1)*per+0.5) - 1
	if m == n-1 {
		last = node.NumSlots - 1
	}
	return first, last
}

func randomID(r *rand.Rand) node.ID {
	const hex = "0123456789abcdef"
	var b [40]byte
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return node.ID(b[:])
}

func (w *world) bootNodes(members []node.Member) {
	for i, h := range w.hosts {
		h.up = true
		if i >= len(members) {
			// A spare, or any node of a cluster not formed yet: a fresh
			// node that knows only itself (configEpoch 0).
			alone := []node.Member{{ID: h.id, Addr: h.addr}}
			h.n = node.New(h.cfg, h.id, alone, rng.Derive(w.seed, "node/"+h.name))
			w.emit(trace.Event{Node: h.name, Kind: trace.Boot, Value: "alone"})
			w.scheduleFirstTick(h)
			continue
		}
		h.n = node.New(h.cfg, h.id, members, rng.Derive(w.seed, "node/"+h.name))
		w.emit(trace.Event{Node: h.name, Kind: trace.Boot, Value: bootValue(members[i]), Peer: w.nameOf(members[i].Master),
			Epoch: members[i].ConfigEpoch})
		w.scheduleFirstTick(h)
	}
}

func bootValue(m node.Member) string {
	if m.Master != "" {
		return "replica"
	}
	return "master " + ranges(m.Slots)
}

func ranges(rs []node.SlotRange) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(r.Start)
		if r.End != r.Start {
			s += "-" + strconv.Itoa(r.End)
		}
	}
	return s
}

// scheduleFirstTick gives the node's cron a phase in [0, 100ms): each Redis
// process starts its event loop at its own moment.
func (w *world) scheduleFirstTick(h *host) {
	phase := time.Duration(w.phase.IntN(int(node.CronPeriod/time.Microsecond))) * time.Microsecond
	w.q.push(event{at: w.now + phase, kind: evTick, dst: h.idx, inc: h.inc})
}

func (w *world) nameOf(id node.ID) string {
	if id == "" {
		return ""
	}
	if h, ok := w.byID[id]; ok {
		return h.name
	}
	return string(id)
}

// clock is the node's own clock: virtual time plus its skew, plus what a
// drifting clock gained (or lost) since the drift began.
func (w *world) clock(h *host) time.Duration {
	c := w.now + h.skew
	if h.driftPct != 0 {
		c += (w.now - h.driftSince) * time.Duration(h.driftPct) / 100
	}
	return c
}

func (w *world) run() {
	for {
		at, ok := w.q.peekAt()
		if !ok || at > w.opt.Until {
			w.stop = "duration"
			break
		}
		if w.steps >= w.opt.MaxEvents {
			w.stop = "event limit"
			break
		}
		if w.opt.Abort != nil && w.steps%AbortEvery == 0 && w.opt.Abort() {
			w.stop = "aborted"
			break
		}
		ev, _ := w.q.pop()
		w.now = ev.at
		w.steps++
		w.dispatch(&ev)
	}
	if w.now < w.opt.Until && w.stop == "duration" {
		w.now = w.opt.Until
	}
	w.finishClients()
	w.reportOpenSlots()
	w.emit(trace.Event{Kind: trace.Finish, Value: w.stop})
}

func (w *world) dispatch(ev *event) {
	switch ev.kind {
	case evTick:
		w.tick(ev)
	case evDeliver:
		w.deliver(ev)
	case evLink:
		w.linkEvent(ev)
	case evFault:
		w.applyFault(ev.fault)
	case evClient:
		w.wakeClient(ev.dst)
	case evCommand:
		if w.admitCommand(ev) {
			w.command(ev)
		}
	case evReply:
		w.reply(ev)
	case evDump:
		w.dump()
	case evAdminStep:
		w.adminStepDue(ev.fault)
	case evAdminSend:
		w.adminSend(ev.gen)
	case evAdminTimeout:
		w.adminTimedOut(ev.gen)
	case evFaultEnd:
		w.endFault(ev.fault, "for")
	case evFlap:
		w.flap(ev.fault)
	case evSyn:
		w.synRetry(ev)
	}
}

// tick runs clusterCron, unless the process is stopped (the timer fires late,
// on resume) or a slow node is still busy (the cron waits its turn in the
// event loop).
func (w *world) tick(ev *event) {
	h := w.hosts[ev.dst]
	if !h.up || ev.inc != h.inc {
		return
	}
	if h.paused {
		h.tickMissed = true
		return
	}
	if w.now < h.busyUntil {
		w.q.push(event{at: h.busyUntil, kind: evTick, dst: h.idx, inc: h.inc})
		return
	}
	w.out.Reset()
	h.n.Tick(w.clock(h), &w.out)
	w.apply(h)
	w.q.push(event{at: w.now + node.CronPeriod, kind: evTick, dst: h.idx, inc: h.inc})
}

// apply carries out a node's Output in the order the node contract fixes:
// persist, connections, messages, replies, trace.
func (w *world) apply(h *host) {
	o := &w.out
	if o.Save {
		h.disk, h.hasDisk = h.n.Disk(), true
	}
	for _, c := range o.Dials {
		w.dial(h, c)
	}
	for _, c := range o.Closes {
		w.closeConn(h, c)
	}
	for i := range o.Msgs {
		w.send(h, o.Msgs[i])
	}
	for _, r := range o.Replies {
		w.sendReply(h, r)
	}
	for _, e := range o.Events {
		e.Node = h.name
		e.Peer = w.nameOf(node.ID(e.Peer))
		w.emit(e)
	}
	if len(o.Migrates) > 0 {
		// w.migrate reuses w.out: take the requests first.
		reqs := append([]node.MigrateRequest(nil), o.Migrates...)
		for _, req := range reqs {
			w.migrate(h, req)
		}
	}
}

// emit stamps e with the virtual time and writes it to the trace.
func (w *world) emit(e trace.Event) {
	e.At = w.now
	if err := w.tw.Write(e); err != nil {
		panic(fmt.Sprintf("sim: writing trace: %v", err))
	}
	if w.opt.KeepTrace {
		w.events = append(w.events, e)
	}
}

func (w *world) result() *Result {
	r := &Result{Seed: w.seed, Trace: w.events, History: w.ops, TraceSHA256: w.tw.Sum(),
		Events: w.tw.Count(), Steps: w.steps, BusMessages: w.bus, VirtualEnd: w.now, StopReason: w.stop, OpenSlots: w.openSlots}
	for _, h := range w.hosts {
		r.Nodes = append(r.Nodes, NodeInfo{Name: h.name, ID: string(h.id), Addr: h.addr})
	}
	return r
}

var _ = workload.Config{}
