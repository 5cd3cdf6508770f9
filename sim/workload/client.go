// Package workload is the clients of a run: small state machines modelled on
// the common cluster clients (go-redis's ClusterClient, redis-py's
// RedisCluster) that record every operation they make as a history.Op. A
// client loads the slot map with CLUSTER SLOTS, follows MOVED (learning the
// slot and reloading the map lazily) and ASK (without touching the map),
// retries CLUSTERDOWN, TRYAGAIN and connection errors with go-redis's
// backoff, opens TCP connections that can be refused or time out, and
// records an operation whose answer never came as an unknown outcome.
//
// A client never reads a clock or starts a goroutine: the kernel calls Wake,
// OnReply and OnDial with the virtual time, the client acts through the Net
// it is given and says through its return value when it wants to be woken
// next.
package workload

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
)

// Config is the workload of one run.
type Config struct {
	Kind      string        // register | counter | list
	Clients   int           // number of clients
	Rate      int           // total operations per second over all clients
	Keys      *KeyDist      // which key each operation touches (nil: 100 keys, uniform)
	Timeout   time.Duration // per operation, from its invocation
	ReadRatio int           // percent of operations that read
	// Wait, when > 0, makes every write a WAIT Wait before it counts as
	// acknowledged: a write WAIT confirms on fewer replicas has an unknown
	// outcome (it is on the master, maybe nowhere else).
	Wait int
	// ReadFromReplicas is go-redis's ReadOnly option: connections send
	// READONLY and reads go to a random replica of the slot's master.
	ReadFromReplicas bool
	// Record, when set, receives every completed operation (in completion
	// order) instead of the client's own History, so a run can keep one
	// history for all its clients without copying.
	Record func(history.Op)
}

// go-redis ClusterOptions and clusterStateHolder behaviour the client follows.
const (
	maxRedirects    = 3                      // ClusterOptions.MaxRedirects: tries after the first
	minRetryBackoff = 8 * time.Millisecond   // Options.MinRetryBackoff
	maxRetryBackoff = 512 * time.Millisecond // Options.MaxRetryBackoff
	// reloadTimeout bounds one CLUSTER SLOTS reload; after it a new reload
	// may start (go-redis reads with a 3 s ReadTimeout).
	reloadTimeout = 3 * time.Second
	// reloadCooldown: LazyReload holds its flag 200 ms after a reload, so
	// reloads are at most five a second.
	reloadCooldown = 200 * time.Millisecond
	// stateMaxAge: clusterStateHolder.Get reloads a map older than 10 s.
	stateMaxAge = 10 * time.Second
	// failingFor: MarkAsFailing keeps a node out of random picks for 15 s.
	failingFor = 15 * time.Second
)

// Net is how a client reaches nodes and the run's trace; the kernel
// implements it. Every client of a run (the workload's, the admin client)
// is driven through the same three calls, Wake, OnReply and OnDial, each
// given a Net.
type Net interface {
	// Dial opens a connection to addr. The kernel later calls OnDial with
	// the outcome, or never, when the SYN is lost to a partition.
	Dial(addr string)
	// Send writes cmd on the client's established connection to addr.
	Send(addr string, cmd node.Cmd)
	// Trace writes e to the run's trace at the current virtual time.
	Trace(e trace.Event)
	// Up reports whether the process at addr runs: what an operator knows
	// about the machines (the admin client picks a live entry node with
	// it). The workload's clients never ask.
	Up(addr string) bool
}

// Never is the wake time of a client that needs no wake-up.
const Never = time.Duration(1<<63 - 1)

// Client is one cluster-aware client with at most one operation in flight.
type Client struct {
	id      int
	cfg     Config
	rnd     *rand.Rand
	seeds   []string // every node address, to start from and to fall back on
	conns   []conn   // by seed index
	failing []time.Duration
	slots   slotMap

	seq     uint64
	n       int           // operations started
	next    time.Duration // when the next operation starts
	cur     *attempt      // &att while an operation is in flight, else nil
	att     attempt       // the one attempt, reused by every operation
	history []history.Op  // without Config.Record

	reloadSeq  uint64        // the CLUSTER SLOTS in flight; 0: none
	reloadEnd  time.Duration // when to give up waiting for it
	reloadIdle time.Duration // no new reload before this (cooldown)
	reloadAddr int           // seed index the reload went to
}

// attempt is the operation in flight.
type attempt struct {
	op        history.Op
	cmd       node.Cmd
	addr      int // seed index of the node of the current try
	deadline  time.Duration
	retryAt   time.Duration // 0: not waiting to retry
	waitSlots bool          // waiting for the first slot map
	inFlight  bool          // on the wire and not answered: it may execute
	applied   bool          // the write executed (WAIT pending)
	sameNode  bool          // the retry goes to the same node (go-redis's first retry)
	tries     int
	result    node.Reply // the write's reply, kept while WAIT runs
}

// New returns client id with its own random stream. seeds lists the node
// addresses the client knows at start (as a ClusterClient's Addrs).
func New(id int, cfg Config, seeds []string, rnd *rand.Rand) *Client {
	if cfg.Keys == nil {
		cfg.Keys, _ = NewKeyDist(100, 0)
	}
	c := &Client{id: id, cfg: cfg, rnd: rnd, seeds: seeds,
		conns: make([]conn, len(seeds)), failing: make([]time.Duration, len(seeds))}
	c.slots.loadedAt = -1
	c.next = time.Duration(rnd.Int64N(int64(c.interval()) + 1))
	return c
}

// interval is the mean time between one client's operation starts.
func (c *Client) interval() time.Duration {
	if c.cfg.Rate <= 0 {
		return time.Second
	}
	return time.Duration(int64(time.Second) * int64(max(c.cfg.Clients, 1)) / int64(c.cfg.Rate))
}

// History returns the operations completed so far, in completion order
// (which, one operation at a time, is also invoke order); empty when
// Config.Record takes them.
func (c *Client) History() []history.Op { return c.history }

// record hands a completed operation to Config.Record, or keeps it.
func (c *Client) record(op history.Op) {
	if c.cfg.Record != nil {
		c.cfg.Record(op)
		return
	}
	c.history = append(c.history, op)
}

// Wake lets the client act at now: load the slot map, start an operation,
// retry one, give up on one, or time out a dial. It returns when it next
// wants to be woken.
func (c *Client) Wake(now time.Duration, net Net) time.Duration {
	if c.slots.loadedAt < 0 && c.reloadSeq == 0 && c.n == 0 {
		c.reload(now, -1, net) // go-redis loads the map before the first command
	}
	c.expireDials(now, net)
	if a := c.cur; a != nil {
		if now >= a.deadline {
			if a.inFlight {
				// redis-py reinitializes the map after a timeout; go-redis
				// marks the node as failing and drops the connection as bad,
				// so the next command to it dials again.
				c.markFailing(now, a.addr)
				c.conns[a.addr] = conn{}
				c.reload(now, a.addr, net)
			} else if !a.waitSlots && c.conns[a.addr].state == connDialing {
				c.reload(now, a.addr, net) // a connect timeout is a connection error
			}
			c.finishTimeout(now)
		} else if a.retryAt != 0 && now >= a.retryAt {
			a.retryAt = 0
			c.try(now, net)
		}
	}
	if c.cur == nil && now >= c.next {
		c.start(now, net)
	}
	return c.wakeAt()
}

func (c *Client) wakeAt() time.Duration {
	t := min(c.next, c.nextDialEnd())
	if a := c.cur; a != nil {
		t = min(c.nextDialEnd(), a.deadline)
		if a.retryAt != 0 {
			t = min(t, a.retryAt)
		}
	}
	return t
}

// start begins a new operation on a key the distribution draws.
func (c *Client) start(now time.Duration, net Net) {
	c.n++
	key := c.cfg.Keys.Key(c.rnd)
	read := c.rnd.IntN(100) < c.cfg.ReadRatio
	// Built in place: the attempt is a few hundred bytes, copied once less.
	c.att = attempt{deadline: now + c.cfg.Timeout}
	op, cmd := &c.att.op, &c.att.cmd
	*op = history.Op{Client: c.id, Key: key, Slot: node.KeySlot(key), Invoke: now}
	*cmd = node.Cmd{Key: key, ReadOnly: c.cfg.ReadFromReplicas}
	switch {
	case c.cfg.Kind == "list" && read:
		op.Kind, cmd.Op = "lrange", node.OpLRange
	case c.cfg.Kind == "list":
		op.Kind, cmd.Op = "rpush", node.OpRPush
	case read:
		op.Kind, cmd.Op = "get", node.OpGet
	case c.cfg.Kind == "counter":
		op.Kind, cmd.Op = "incr", node.OpIncr
	default:
		op.Kind, cmd.Op = "set", node.OpSet
	}
	if cmd.Op == node.OpSet || cmd.Op == node.OpRPush {
		var buf [24]byte // "c<id>-<n>", built with one allocation
		b := strconv.AppendInt(append(buf[:0], 'c'), int64(c.id), 10)
		op.Value = string(strconv.AppendInt(append(b, '-'), int64(c.n), 10))
		cmd.Value = op.Value
	}
	c.cur = &c.att
	if c.slots.loadedAt < 0 || now-c.slots.loadedAt > stateMaxAge {
		c.reload(now, -1, net)
	}
	if c.slots.loadedAt < 0 && c.reloadSeq != 0 && now < c.reloadEnd {
		c.cur.waitSlots = true // clusterStateHolder.Get waits for the first load
		return
	}
	c.try(now, net)
}

// try sends the operation's command to the node its route picks.
func (c *Client) try(now time.Duration, net Net) {
	a := c.cur
	a.waitSlots = false
	if !a.sameNode {
		a.addr = c.route(now, a.op.Slot, isRead(a.cmd.Op))
	}
	a.sameNode = false
	a.tries++
	c.transmit(now, a, net)
}

func (c *Client) transmit(now time.Duration, a *attempt, net Net) {
	c.seq++
	a.cmd.Seq = c.seq
	a.op.Node = c.seeds[a.addr]
	a.inFlight = c.request(now, a.addr, a.cmd, net)
	a.cmd.Asking = false
}

func isRead(op node.Op) bool { return op == node.OpGet || op == node.OpLRange }

// route is cmdNode: the slot's master from the map, a random replica for a
// read with ReadFromReplicas (slotSlaveNode: a non-failing one, else the
// master), a random node when the slot is unknown (MOVED corrects it).
func (c *Client) route(now time.Duration, slot int, read bool) int {
	sh := c.slots.shardOf(slot)
	if sh == nil {
		return c.randomNode(now, -1)
	}
	if read && c.cfg.ReadFromReplicas && len(sh.replicas) > 0 {
		var ok []int
		for _, r := range sh.replicas {
			if !c.isFailing(now, r) {
				ok = append(ok, r)
			}
		}
		if len(ok) > 0 {
			return ok[c.rnd.IntN(len(ok))]
		}
	}
	return sh.master
}

// randomNode picks a random node, preferring ones not marked failing, and
// not avoid when there is a choice.
func (c *Client) randomNode(now time.Duration, avoid int) int {
	var ok []int
	for i := range c.seeds {
		if i != avoid && !c.isFailing(now, i) {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		for i := range c.seeds {
			if i != avoid || len(c.seeds) == 1 {
				ok = append(ok, i)
			}
		}
	}
	return ok[c.rnd.IntN(len(ok))]
}

// markFailing is go-redis's clusterNode.MarkAsFailing.
func (c *Client) markFailing(now time.Duration, i int) { c.failing[i] = now + failingFor }

func (c *Client) isFailing(now time.Duration, i int) bool { return c.failing[i] > now }

// index returns addr's seed index, or -1.
func (c *Client) index(addr string) int {
	for i, s := range c.seeds {
		if s == addr {
			return i
		}
	}
	return -1
}

// nodeAt is index, adding addr to the known nodes when a MOVED, an ASK or
// CLUSTER SLOTS names a node the client was not configured with (a node
// added to the cluster): go-redis's clusterNodes.GetOrCreate.
func (c *Client) nodeAt(addr string) int {
	if i := c.index(addr); i >= 0 {
		return i
	}
	c.seeds = append(c.seeds, addr)
	c.conns = append(c.conns, conn{})
	c.failing = append(c.failing, 0)
	return len(c.seeds) - 1
}

// wanted reports whether a reply to seq would still be used.
func (c *Client) wanted(seq uint64) bool {
	return seq == c.reloadSeq || (c.cur != nil && c.cur.cmd.Seq == seq)
}

// OnReply handles a node's answer to command seq. Answers to commands the
// client has given up on are ignored, as a client that closed the
// connection would.
func (c *Client) OnReply(now time.Duration, seq uint64, r node.Reply, net Net) time.Duration {
	addr := -1
	switch a := c.cur; {
	case seq == c.reloadSeq:
		addr = c.reloadAddr
	case a != nil && a.cmd.Seq == seq && a.inFlight:
		a.inFlight = false
		addr = a.addr
	default:
		return c.wakeAt()
	}
	if isConnError(&r) {
		c.connReset(now, addr) // the host reset the connection
	}
	c.handle(now, seq, &r, net)
	return c.wakeAt()
}
