package sim

// The kernel's loop: the world of one run (clock, queue, hosts, clients),
// the dispatch of each event to its handler, and apply, which carries out
// what a node's entry point put in its Output.

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/netmodel"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// evKind is what a queued event asks the kernel to do.
type evKind uint8

const (
	evTick     evKind = iota + 1 // serverCron of node dst: never queued (world.timers holds those), only observed
	evDeliver                    // a bus or replication message arrives over a connection
	evLink                       // a connection event reaches node dst
	evFault                      // scenario fault number `fault`
	evClient                     // client dst wakes up: never queued (world.timers holds those), only observed
	evCommand                    // a client command arrives at node dst
	evReply                      // a reply arrives at client dst
	evDump                       // dump every node's state
	evFaultEnd                   // the For of scenario fault number `fault` is over
	evFlap                       // a flapping link (fault number `fault`) goes down or up
	evRestore                    // a MIGRATE request reaches its target, node dst (an instant event)
	evMigrated                   // a MIGRATE reply reaches its source, node dst (an instant event)
	evSyn                        // retransmission number `syn` of a dial's SYN
	evAck                        // the peer's ACK of the dialer's segments on a bus connection reaches the dialer
)

// event is one entry of the queue. Small payloads inline, large ones by
// pointer, so the heap moves few bytes.
type event struct {
	at   time.Duration
	seq  uint64
	kind evKind
	dst  int    // endpoint index (node or client)
	inc  uint32 // incarnation of node dst the event belongs to (links)
	num  int    // evFault, evFaultEnd, evFlap: the scenario fault's number; a refusal's evLink: its slot in the dialer's host.refusing
	dir  uint8  // evDeliver: 0 dialer→peer, 1 peer→dialer
	syn  uint8  // evSyn: which retransmission of the SYN this is (1, 2, …)
	// admitted: the message already reached the destination host (it sat in
	// a paused process's socket buffer, or in a slow one's queue), so the
	// network is not asked again. charged: a slow node already spent its
	// processing delay on it.
	admitted, charged bool
	// conn is the connection the event travels on (evDeliver, evLink,
	// evSyn, evCommand, evReply), gen its generation when the event was
	// queued: a connection closed or renewed since does not carry it.
	conn  *conn
	gen   uint64
	link  node.LinkEventKind // evLink: connected, refused or closed
	msg   *node.Message
	cmd   *clientCmd
	reply *clientReply
	mig   *node.MigrateReply // evRestore: the request (no answers yet); evMigrated: the reply
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
	data    node.Data // the dataset the disk kept at the last crash (RDB or AOF), for the restart
	crashes int

	// Node-level faults (sim/nodefaults.go).
	skew       time.Duration // the node's clock is now + skew (+ drift since driftSince)
	driftPct   int           // percent the node's clock runs fast (negative: slow)
	driftSince time.Duration
	paused     bool          // SIGSTOP: nothing runs, input waits in backlog
	backlog    []event       // input that arrived while paused, in arrival order
	refusing   []refusal     // dials to a down process, refused in flight, by slot (sim/conns.go); gen 0: a free slot
	refFree    []int         // the free slots of refusing
	tickMissed bool          // a cron tick came due while paused
	slow       time.Duration // processing time of every message, command and link event

	// serverCron's timer (sim/cron.go).
	cron      *rand.Rand    // the "cron/<name>" stream: phase at boot, each tick's overhead
	cronArmed time.Duration // when ae last armed the timer
	cronDue   time.Duration // when it expires (ae's te->when)
	lastIn    time.Duration // when the event loop last handled input and slept again
	busyUntil time.Duration // a slow node is busy with earlier input until then

	// migrates are the MIGRATEs the node started and the kernel has not
	// answered yet, the first one in flight: the node is blocked in
	// MIGRATE, and its input waits in backlog, until the last answer.
	migrates []node.MigrateRequest
}

// world is the state of one run.
type world struct {
	s    *scenarios.Scenario
	opt  Options
	seed uint64
	now  time.Duration
	cur  qkey // the key of the event running now (sim/wakes.go)
	q    queue
	// timers holds, apart from q, each host's pending serverCron tick
	// (evTick, owner: the host's index; sim/cron.go pushTick) and each
	// client's live wake-up (evClient, owner: the client's endpoint index;
	// wakes keeps the rest of their state).
	timers keyHeap
	wakes  wakes
	// instant holds the events that take no virtual time and run before
	// anything else queued for this instant, in order: a MIGRATE's request
	// and reply (Redis's MIGRATE blocks the source until the target
	// answered; rcsim gives the exchange no duration).
	instant []event
	steps   int
	stop    string
	bus     int   // cluster-bus messages sent (Result.BusMessages)
	mss     int   // TCP segment size of the links (sim/nagle.go)
	sockBuf int64 // network.socket-buffer (reportBuf)

	// keepDisk: something may read a nodes.conf (a restart, a dump), so
	// every save copies one (node.Disk: O(N) at N nodes, and a mass failure
	// makes each node save hundreds of times). Without it nothing could
	// tell the copies were never made.
	keepDisk bool
	// noRefusals makes every dial a conn, refused ones included (see
	// refusal): set only by TestRefusalsUnobserved, which compares.
	noRefusals bool

	hosts   []*host
	byID    map[node.ID]*host
	byAddr  map[string]int    // client address → endpoint index
	names   map[string]int    // endpoint name → index
	clients []*clientState    // the workload's clients, then the admin client
	nWork   int               // how many of clients are the workload's
	cmds    pool[clientCmd]   // commands on their way to a node
	replies pool[clientReply] // replies on their way to a client
	net     *netmodel.Net
	conns   connTable
	// clientConns are the clients' connections by the node.ClientID the
	// nodes know them as.
	clientConns []*conn
	shared      *node.Shared // every node's Config.Shared

	out       node.Output
	tw        *trace.Writer
	events    []trace.Event
	ops       []history.Op
	late      []history.Op // operations to merge into ops at the end (record)
	crashed   []int        // crash order of hosts still down, for `restart: crashed`
	openSlots []string     // filled when the run ends (reportOpenSlots)
	paused    []int        // pause order of hosts still paused, for `resume: paused`

	active   []activeFault // by scenario fault number
	cuts     []int         // by from*n+to: one-way and flap faults cutting the link now
	partGen  int           // bumped by every partition, so ending one leaves a later one alone
	faultRnd *rand.Rand    // the "faults" stream: random and any_master targets; nil until drawn

	// observe, set only by tests, sees each event after it ran, with the
	// Output of the last node entry point still in out.
	observe func(ev *event)
}

func (w *world) run() {
	for {
		k, timer, ok := w.peekNext()
		if !ok || k.at > w.opt.Until {
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
		w.step(k, timer)
	}
	if w.now < w.opt.Until && w.stop == "duration" {
		w.now = w.opt.Until
	}
	w.finishClients()
	w.reportOpenSlots()
	w.emit(trace.Event{Kind: trace.Finish, Value: w.stop})
}

// peekNext returns the key of the next event: the queue's first or, when
// earlier (timer), a node's tick or a client's wake-up.
func (w *world) peekNext() (k qkey, timer, ok bool) {
	k, ok = w.q.peek()
	if tk, tok := w.timers.peek(); tok && (!ok || keyLess(tk, k)) {
		return tk, true, true
	}
	return k, false, ok
}

// step carries out the next event, whose key peekNext returned, and the
// instant events it queued.
func (w *world) step(k qkey, timer bool) {
	w.now, w.cur = k.at, k
	w.steps++
	if timer {
		w.runTimer(k, w.timers.pop())
	} else {
		slot := w.q.take()
		ev := &w.q.slots[slot] // run in place (see take)
		w.dispatch(ev)
		if w.observe != nil {
			// A copy: handing the slot's address to a function value
			// would let it outlive the slot.
			e := *ev
			w.observe(&e)
		}
		w.q.release(slot)
	}
	w.drainInstant()
}

// runTimer runs the tick or wake-up of owner id that came due at k.
func (w *world) runTimer(k qkey, id int) {
	kind := evTick
	if id < len(w.hosts) {
		w.tick(w.hosts[id])
	} else {
		kind = evClient
		w.wakes.woke(id - len(w.hosts))
		w.wakeClient(id)
	}
	if w.observe != nil {
		w.observe(&event{at: k.at, seq: k.seq, kind: kind, dst: id})
	}
}

// drainInstant runs the instant events the last handler queued, in order.
func (w *world) drainInstant() {
	for i := 0; i < len(w.instant); i++ { // a handler may append more
		ev := w.instant[i]
		w.dispatch(&ev)
	}
	w.instant = w.instant[:0]
}

func (w *world) dispatch(ev *event) {
	switch ev.kind {
	case evDeliver:
		w.deliver(ev)
	case evLink:
		w.linkEvent(ev)
	case evFault:
		w.applyFault(ev.num)
	case evCommand:
		if w.admitCommand(ev) {
			w.command(ev)
		}
	case evReply:
		w.reply(ev)
	case evDump:
		w.dump()
	case evFaultEnd:
		w.endFault(ev.num, "for")
	case evFlap:
		w.flap(ev.num)
	case evRestore:
		w.restoreAsking(ev)
	case evMigrated:
		w.migrated(ev)
	case evSyn:
		w.synRetry(ev)
	case evAck:
		w.acked(ev)
	}
}

// apply carries out a node's Output in the order the node contract fixes:
// persist, connections, messages, replies, trace.
func (w *world) apply(h *host) {
	o := &w.out
	if o.Save && w.keepDisk {
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
	for i := range o.Replies {
		w.sendReply(h, &o.Replies[i])
	}
	for _, e := range o.Events {
		e.Node = h.name
		e.Peer = w.nameOf(node.ID(e.Peer))
		w.emit(e)
	}
	for _, rep := range o.MigrateReplies {
		w.migrateReply(rep)
	}
	if len(o.Migrates) > 0 {
		w.startMigrates(h, o.Migrates)
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

// clock is the node's own clock: virtual time plus its skew, plus what a
// drifting clock gained (or lost) since the drift began.
func (w *world) clock(h *host) time.Duration {
	c := w.now + h.skew
	if h.driftPct != 0 {
		c += (w.now - h.driftSince) * time.Duration(h.driftPct) / 100
	}
	return c
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

func (w *world) result() *Result {
	w.mergeLate()
	r := &Result{Seed: w.seed, Trace: w.events, History: w.ops, TraceSHA256: w.tw.Sum(),
		Events: w.tw.Count(), Steps: w.steps, BusMessages: w.bus, VirtualEnd: w.now, StopReason: w.stop, OpenSlots: w.openSlots}
	for _, h := range w.hosts {
		r.Nodes = append(r.Nodes, NodeInfo{Name: h.name, ID: string(h.id), Addr: h.addr})
	}
	return r
}
