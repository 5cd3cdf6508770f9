// Package workload is the clients of a run: small state machines modelled on
// go-redis's ClusterClient (slot cache, MOVED/ASK, retries with backoff on
// CLUSTERDOWN and TRYAGAIN, per-operation timeouts) that record every
// operation they make as a history.Op.
//
// A client never reads a clock or starts a goroutine: the kernel calls Wake
// and OnReply with the virtual time, and the client says through the send
// function what it puts on the wire and through its return value when it
// wants to be woken next.
package workload

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"rcsim/checker/history"
	"rcsim/node"
)

// Config is the workload of one run.
type Config struct {
	Kind      string        // register | counter | list
	Clients   int           // number of clients
	Rate      int           // total operations per second over all clients
	Keys      int           // distinct keys, "k0" … "k{Keys-1}"
	Timeout   time.Duration // per operation, from the first send
	ReadRatio int           // percent of operations that read
}

// go-redis ClusterOptions defaults the client follows.
const (
	maxRedirects    = 3                      // ClusterOptions.MaxRedirects
	maxRetries      = 3                      // Options.MaxRetries
	minRetryBackoff = 8 * time.Millisecond   // Options.MinRetryBackoff
	maxRetryBackoff = 512 * time.Millisecond // Options.MaxRetryBackoff
	// reloadTimeout bounds one CLUSTER SLOTS reload; after it a new reload
	// may start (go-redis dials with a 5s DialTimeout, reads with 3s).
	reloadTimeout = 3 * time.Second
)

// ErrRefused is the error text a client records when the node's process is
// down and its host resets the connection.
const ErrRefused = "ECONNREFUSED connection refused"

// Send puts one command on the wire to the node at addr.
type Send func(addr string, cmd node.Cmd)

// Never is the wake time of a client that needs no wake-up.
const Never = time.Duration(1<<63 - 1)

// Client is one cluster-aware client with at most one operation in flight.
type Client struct {
	id    int
	cfg   Config
	rnd   *rand.Rand
	seeds []string           // every node address, to start from and to fall back on
	slots [node.NumSlots]int // slot → index in seeds + 1; 0 = unknown

	seq     uint64
	n       int           // operations started
	next    time.Duration // when the next operation starts
	cur     *attempt
	history []history.Op

	reloadSeq uint64        // the CLUSTER SLOTS in flight; 0: none
	reloadEnd time.Duration // when to give up waiting for it
}

// attempt is the operation in flight.
type attempt struct {
	op        history.Op
	cmd       node.Cmd
	addr      string
	deadline  time.Duration
	retryAt   time.Duration // 0: not waiting to retry
	inFlight  bool          // sent and not answered: an answer may still come
	redirects int
	retries   int
}

// New returns client id with its own random stream. seeds lists the node
// addresses the client knows at start (as a ClusterClient's Addrs).
func New(id int, cfg Config, seeds []string, rnd *rand.Rand) *Client {
	c := &Client{id: id, cfg: cfg, rnd: rnd, seeds: seeds}
	c.next = time.Duration(rnd.Int64N(int64(c.interval()) + 1))
	return c
}

// interval is the mean time between one client's operation starts.
func (c *Client) interval() time.Duration {
	if c.cfg.Rate <= 0 {
		return time.Second
	}
	return time.Duration(int64(time.Second) * int64(c.cfg.Clients) / int64(c.cfg.Rate))
}

// History returns the operations completed so far, in completion order.
func (c *Client) History() []history.Op { return c.history }

// Wake lets the client act at now: start an operation, retry one, or give
// up on one. It returns when it next wants to be woken.
func (c *Client) Wake(now time.Duration, send Send) time.Duration {
	if a := c.cur; a != nil {
		if now >= a.deadline {
			if a.inFlight {
				c.reload(now, a.addr, send)
			}
			c.finishTimeout(now)
		} else if a.retryAt != 0 && now >= a.retryAt {
			a.retryAt = 0
			c.transmit(a, send)
		}
	}
	if c.cur == nil && now >= c.next {
		c.start(now, send)
	}
	return c.wakeAt()
}

func (c *Client) wakeAt() time.Duration {
	if a := c.cur; a != nil {
		if a.retryAt != 0 && a.retryAt < a.deadline {
			return a.retryAt
		}
		return a.deadline
	}
	return c.next
}

// start begins a new operation on a random key.
func (c *Client) start(now time.Duration, send Send) {
	c.n++
	key := "k" + strconv.Itoa(c.rnd.IntN(max(c.cfg.Keys, 1)))
	read := c.rnd.IntN(100) < c.cfg.ReadRatio
	op := history.Op{Client: c.id, Key: key, Slot: node.KeySlot(key), Invoke: now}
	cmd := node.Cmd{Key: key}
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
		op.Value = "c" + strconv.Itoa(c.id) + "-" + strconv.Itoa(c.n)
		cmd.Value = op.Value
	}
	a := &attempt{op: op, cmd: cmd, deadline: now + c.cfg.Timeout}
	a.addr = c.addrFor(op.Slot)
	c.cur = a
	c.transmit(a, send)
}

// addrFor is the slot cache lookup; an unknown slot goes to a random node,
// which answers MOVED if it is not the owner.
func (c *Client) addrFor(slot int) string {
	if i := c.slots[slot]; i > 0 {
		return c.seeds[i-1]
	}
	return c.seeds[c.rnd.IntN(len(c.seeds))]
}

func (c *Client) transmit(a *attempt, send Send) {
	c.seq++
	a.cmd.Seq = c.seq
	a.inFlight = true
	a.op.Node = a.addr
	send(a.addr, a.cmd)
	a.cmd.Asking = false
}

// OnReply handles the answer to command seq. Answers to attempts the client
// has given up on are ignored, as a client that closed the connection would.
func (c *Client) OnReply(now time.Duration, seq uint64, r node.Reply, send Send) time.Duration {
	if seq == c.reloadSeq {
		c.reloadSeq = 0
		if r.Kind == node.ReplyOK {
			c.loadSlots(r.Slots)
		}
		return c.wakeAt()
	}
	a := c.cur
	if a == nil || !a.inFlight || seq != a.cmd.Seq {
		return c.wakeAt()
	}
	a.inFlight = false
	switch r.Kind {
	case node.ReplyOK, node.ReplyNil:
		c.finishOK(now, r)
	case node.ReplyMoved, node.ReplyAsk:
		c.redirect(now, r, send)
	case node.ReplyClusterDown, node.ReplyTryAgain:
		c.retryLater(now, r.Err, "")
	case node.ReplyError:
		if r.Err == ErrRefused {
			// The node is gone: go-redis reloads the slot map and retries
			// on a random node.
			c.reload(now, a.addr, send)
			c.retryLater(now, r.Err, c.seeds[c.rnd.IntN(len(c.seeds))])
		} else {
			c.finish(now, history.Fail, r.Err)
		}
	default:
		c.finish(now, history.Fail, "unexpected reply")
	}
	return c.wakeAt()
}

func (c *Client) redirect(now time.Duration, r node.Reply, send Send) {
	a := c.cur
	a.redirects++
	if a.redirects > maxRedirects {
		c.finish(now, history.Fail, r.Err)
		return
	}
	if r.Kind == node.ReplyMoved {
		c.learn(r.Slot, r.Addr)
	} else {
		a.cmd.Asking = true
	}
	a.addr = r.Addr
	c.transmit(a, send)
}

// learn records a MOVED target in the slot cache.
func (c *Client) learn(slot int, addr string) {
	for i, s := range c.seeds {
		if s == addr {
			c.slots[slot] = i + 1
			return
		}
	}
}

// reload is go-redis's LazyReload after a node timed out or refused: a
// CLUSTER SLOTS to another random node, whose answer replaces the slot
// cache. Without it a client would keep sending a failed master's slots to
// the dead address until a MOVED corrects it, which never comes.
func (c *Client) reload(now time.Duration, bad string, send Send) {
	if c.reloadSeq != 0 && now < c.reloadEnd || len(c.seeds) < 2 {
		return
	}
	addr := bad
	for addr == bad {
		addr = c.seeds[c.rnd.IntN(len(c.seeds))]
	}
	c.seq++
	c.reloadSeq, c.reloadEnd = c.seq, now+reloadTimeout
	send(addr, node.Cmd{Op: node.OpClusterSlots, Seq: c.seq})
}

// loadSlots replaces the slot cache with a CLUSTER SLOTS answer; slots the
// answer leaves out become unknown.
func (c *Client) loadSlots(owners []node.SlotOwner) {
	c.slots = [node.NumSlots]int{}
	for _, o := range owners {
		i := slices.Index(c.seeds, o.Master) + 1
		for s := o.Start; s <= o.End; s++ {
			c.slots[s] = i
		}
	}
}

// retryLater waits the go-redis backoff before trying again, at addr if given.
func (c *Client) retryLater(now time.Duration, errText, addr string) {
	a := c.cur
	a.retries++
	if a.retries > maxRetries {
		c.finish(now, history.Fail, errText)
		return
	}
	if addr != "" {
		a.addr = addr
	}
	backoff := minRetryBackoff << (a.retries - 1)
	backoff = min(backoff, maxRetryBackoff)
	a.retryAt = now + backoff/2 + time.Duration(c.rnd.Int64N(int64(backoff/2)+1))
	a.op.Err = errText
}

func (c *Client) finishOK(now time.Duration, r node.Reply) {
	a := c.cur
	switch a.cmd.Op {
	case node.OpGet:
		a.op.Result, a.op.Nil = r.Value, r.Kind == node.ReplyNil
	case node.OpSet:
		a.op.Result = "OK"
	case node.OpIncr, node.OpRPush:
		a.op.Result = strconv.FormatInt(r.Int, 10)
	case node.OpLRange:
		a.op.List = append([]string{}, r.List...)
	}
	a.op.Err = ""
	c.finish(now, history.OK, "")
}

// finishTimeout ends an operation whose deadline passed: unknown if an
// attempt may still have executed, failed if every attempt was refused.
func (c *Client) finishTimeout(now time.Duration) {
	a := c.cur
	if a.inFlight {
		c.finish(now, history.Unknown, "timeout")
		return
	}
	c.finish(now, history.Fail, a.op.Err)
}

func (c *Client) finish(now time.Duration, st history.Status, errText string) {
	a := c.cur
	a.op.Status = st
	a.op.Return = now
	if st != history.OK {
		a.op.Err = errText
	}
	c.history = append(c.history, a.op)
	c.cur = nil
	jitter := time.Duration(c.rnd.Int64N(int64(c.interval()) + 1))
	c.next = now + c.interval()/2 + jitter
}

// Abort ends the operation in flight when the run stops: its outcome is
// unknown unless it was waiting to retry after definite errors.
func (c *Client) Abort(now time.Duration) {
	if c.cur != nil {
		c.finishTimeout(now)
	}
}
