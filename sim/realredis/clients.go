package realredis

// The real clients: one goroutine each, at most one operation in flight,
// routing by a slot map from CLUSTER SLOTS, following MOVED and ASK,
// retrying CLUSTERDOWN, TRYAGAIN and refused connections with go-redis's
// backoff and limit (as sim/workload's clients do), and recording every
// operation as a history.Op: ok, fail (the server cannot have executed
// it) or unknown (the command left and no answer came in time).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/sim/workload"
)

// go-redis ClusterOptions the clients follow (sim/workload's constants).
const (
	maxRedirects    = 3
	minRetryBackoff = 8 * time.Millisecond
	maxRetryBackoff = 512 * time.Millisecond
	reloadCooldown  = 200 * time.Millisecond
	failingFor      = 15 * time.Second // MarkAsFailing
)

// Workload is what the clients do.
type Workload struct {
	Kind      string // register | counter | list
	Clients   int
	Rate      int // operations per second over all clients
	Keys      *workload.KeyDist
	Timeout   time.Duration
	ReadRatio int
	// IPs is each client's source address (nil: the kernel's choice); a
	// partition filters on it.
	IPs  []string
	Seed uint64
}

// Clients runs a workload against a cluster.
type Clients struct {
	w     Workload
	start time.Time
	names map[string]string // node address → name
	addrs []string

	mu  sync.Mutex
	ops []history.Op
}

// NewClients prepares w against c with time zero start.
func NewClients(w Workload, c *Cluster, start time.Time) *Clients {
	cl := &Clients{w: w, start: start, names: map[string]string{}}
	for _, n := range c.Nodes {
		cl.names[n.Addr()] = n.Name
		cl.addrs = append(cl.addrs, n.Addr())
	}
	return cl
}

// Run runs every client until ctx ends; the operation in flight then
// finishes (bounded by its timeout).
func (cl *Clients) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < cl.w.Clients; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); cl.client(ctx, i) }()
	}
	wg.Wait()
}

// History returns every operation, ordered by invocation.
func (cl *Clients) History() []history.Op {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := append([]history.Op(nil), cl.ops...)
	sortByInvoke(out)
	return out
}

func sortByInvoke(ops []history.Op) {
	// Insertion order is nearly sorted already (clients append as they end).
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].Invoke < ops[j-1].Invoke; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// client is one client's state.
type client struct {
	cl       *Clients
	id       int
	rnd      *rand.Rand
	local    string
	conns    map[string]*Conn
	failing  map[string]time.Time // address → until when reloads ask it last
	reloaded time.Time            // when the last reload started

	mu        sync.Mutex // guards slots and reloading: reloads run beside the operations
	slots     [16384]string
	reloading bool
}

func (cl *Clients) client(ctx context.Context, id int) {
	c := &client{cl: cl, id: id, rnd: rand.New(rand.NewPCG(cl.w.Seed, uint64(id))), conns: map[string]*Conn{},
		failing: map[string]time.Time{}}
	if cl.w.IPs != nil {
		c.local = cl.w.IPs[id]
	}
	defer func() {
		for _, conn := range c.conns {
			conn.Close()
		}
	}()
	interval := time.Second
	if cl.w.Rate > 0 {
		interval = time.Duration(int64(time.Second) * int64(cl.w.Clients) / int64(cl.w.Rate))
	}
	next := time.Now().Add(time.Duration(c.rnd.Int64N(int64(interval) + 1)))
	c.reload(time.Now())
	c.waitReload(ctx) // go-redis loads the map before the first command
	for n := 1; ; n++ {
		if sleepCtx(ctx, time.Until(next)) != nil {
			return
		}
		next = next.Add(interval)
		op := c.op(n)
		cl.mu.Lock()
		cl.ops = append(cl.ops, op)
		cl.mu.Unlock()
	}
}

// op runs the client's n-th operation to its end.
func (c *client) op(n int) history.Op {
	w := c.cl.w
	key := w.Keys.Key(c.rnd)
	read := c.rnd.IntN(100) < w.ReadRatio
	op := history.Op{Client: c.id, Key: key, Slot: node.KeySlot(key)}
	var args []string
	value := "c" + strconv.Itoa(c.id) + "-" + strconv.Itoa(n)
	switch {
	case w.Kind == "list" && read:
		op.Kind, args = "lrange", []string{"LRANGE", key, "0", "-1"}
	case w.Kind == "list":
		op.Kind, op.Value, args = "rpush", value, []string{"RPUSH", key, value}
	case read:
		op.Kind, args = "get", []string{"GET", key}
	case w.Kind == "counter":
		op.Kind, args = "incr", []string{"INCR", key}
	default:
		op.Kind, op.Value, args = "set", value, []string{"SET", key, value}
	}
	invoke := time.Now()
	op.Invoke = invoke.Sub(c.cl.start).Truncate(time.Microsecond)
	deadline := invoke.Add(w.Timeout)
	c.run(&op, args, deadline)
	return op
}

// run tries op until it ends: ok, fail or unknown.
func (c *client) run(op *history.Op, args []string, deadline time.Time) {
	addr, asking := c.route(op.Slot), false
	for tries := 1; ; tries++ {
		op.Node = c.cl.names[addr]
		r, err := c.do(addr, deadline, asking, args)
		asking = false
		var retryErr string
		switch {
		case err != nil && !errors.Is(err, ErrNotSent):
			// It may have executed. As go-redis does, mark the node failing
			// (after the connection was dropped) and reload the map.
			c.failing[addr] = time.Now().Add(failingFor)
			c.reload(time.Now())
			c.end(op, history.Unknown, "", Reply{})
			return
		case err != nil:
			retryErr = "connection: " + err.Error()
			c.reload(time.Now())
			addr = c.route(op.Slot)
		case strings.HasPrefix(r.Err, "MOVED "), strings.HasPrefix(r.Err, "ASK "):
			f := strings.Fields(r.Err)
			if len(f) < 3 {
				c.end(op, history.Fail, r.Err, r)
				return
			}
			if f[0] == "MOVED" {
				c.mu.Lock()
				c.slots[op.Slot] = f[2]
				c.mu.Unlock()
				c.reload(time.Now())
			} else {
				asking = true
			}
			addr = f[2]
			if tries > maxRedirects {
				c.end(op, history.Fail, r.Err, r)
				return
			}
			continue
		case strings.HasPrefix(r.Err, "CLUSTERDOWN"), strings.HasPrefix(r.Err, "TRYAGAIN"):
			retryErr = r.Err
		case r.Err != "":
			c.end(op, history.Fail, r.Err, r)
			return
		default:
			c.end(op, history.OK, "", r)
			return
		}
		if tries > maxRedirects || time.Now().After(deadline) {
			c.end(op, history.Fail, retryErr, Reply{})
			return
		}
		if sleepUntil(deadline, backoff(c.rnd, tries)) {
			c.end(op, history.Fail, retryErr, Reply{})
			return
		}
	}
}

// backoff is go-redis's internal.RetryBackoff.
func backoff(rnd *rand.Rand, retry int) time.Duration {
	b := minRetryBackoff << retry
	if b > maxRetryBackoff || b < minRetryBackoff {
		b = maxRetryBackoff
	}
	return time.Duration(rnd.Int64N(int64(b))) + time.Microsecond
}

// sleepUntil sleeps d unless that passes deadline; true: it would have.
func sleepUntil(deadline time.Time, d time.Duration) bool {
	if time.Now().Add(d).After(deadline) {
		return true
	}
	time.Sleep(d)
	return false
}

// do sends args (after ASKING if asking) to addr on the client's
// connection to it, dialling first if needed.
func (c *client) do(addr string, deadline time.Time, asking bool, args []string) (Reply, error) {
	conn := c.conns[addr]
	if conn == nil {
		var err error
		if conn, err = Dial(addr, c.local, time.Until(deadline)); err != nil {
			return Reply{}, fmt.Errorf("%w: %v", ErrNotSent, err)
		}
		c.conns[addr] = conn
	}
	if asking {
		if _, err := conn.Do(deadline, "ASKING"); err != nil {
			c.drop(addr)
			return Reply{}, fmt.Errorf("%w: %v", ErrNotSent, err)
		}
	}
	r, err := conn.Do(deadline, args...)
	if err != nil {
		c.drop(addr)
	}
	return r, err
}

func (c *client) drop(addr string) {
	if conn := c.conns[addr]; conn != nil {
		conn.Close()
		delete(c.conns, addr)
	}
}

// end fills op's outcome.
func (c *client) end(op *history.Op, st history.Status, errText string, r Reply) {
	op.Status, op.Err = st, errText
	if st != history.Unknown {
		op.Return = time.Since(c.cl.start).Truncate(time.Microsecond)
	}
	if st != history.OK {
		return
	}
	switch op.Kind {
	case "get":
		op.Result, op.Nil = r.Str, r.Nil
	case "lrange":
		op.List = []string{}
		for _, e := range r.Array {
			op.List = append(op.List, e.Str)
		}
	default:
		op.Result = r.Str
	}
}

// route returns the master address of slot from the map, or a node.
func (c *client) route(slot int) string {
	c.mu.Lock()
	a := c.slots[slot]
	c.mu.Unlock()
	if a != "" {
		return a
	}
	return c.cl.addrs[c.rnd.IntN(len(c.cl.addrs))]
}

// reload starts a refresh of the slot map with CLUSTER SLOTS from the
// first node that answers (nodes marked failing asked last), in the
// background and at most five times a second (go-redis's LazyReload).
func (c *client) reload(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reloading || now.Sub(c.reloaded) < reloadCooldown {
		return
	}
	c.reloaded, c.reloading = now, true
	order := c.rnd.Perm(len(c.cl.addrs))
	slices.SortStableFunc(order, func(a, b int) int {
		fa, fb := now.Before(c.failing[c.cl.addrs[a]]), now.Before(c.failing[c.cl.addrs[b]])
		switch {
		case fa == fb:
			return 0
		case fb:
			return -1
		}
		return 1
	})
	go c.load(order)
}

// waitReload waits for a reload in progress.
func (c *client) waitReload(ctx context.Context) {
	for {
		c.mu.Lock()
		busy := c.reloading
		c.mu.Unlock()
		if !busy || sleepCtx(ctx, time.Millisecond) != nil {
			return
		}
	}
}

// load asks the nodes in order for CLUSTER SLOTS and takes the first
// answer.
func (c *client) load(order []int) {
	defer func() { c.mu.Lock(); c.reloading = false; c.mu.Unlock() }()
	for _, i := range order {
		conn, err := Dial(c.cl.addrs[i], c.local, 50*time.Millisecond)
		if err != nil {
			continue
		}
		r, err := conn.Do(time.Now().Add(100*time.Millisecond), "CLUSTER", "SLOTS")
		conn.Close()
		if err != nil || r.Err != "" {
			continue
		}
		c.mu.Lock()
		for _, rng := range r.Array {
			if len(rng.Array) < 3 || len(rng.Array[2].Array) < 2 {
				continue
			}
			lo, hi := int(rng.Array[0].Int), int(rng.Array[1].Int)
			m := rng.Array[2].Array
			addr := net.JoinHostPort(m[0].Str, m[1].Str)
			for s := max(lo, 0); s <= hi && s < len(c.slots); s++ {
				c.slots[s] = addr
			}
		}
		c.mu.Unlock()
		return
	}
}
