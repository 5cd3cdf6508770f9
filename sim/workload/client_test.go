package workload

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
)

// The client state machine, driven by hand: a fake network records what
// the client dials and sends, and the test answers as nodes would.

var seeds = []string{"a:1", "b:1", "c:1", "ra:1", "rb:1", "rc:1"}

// layout is CLUSTER SLOTS of a 3-master cluster, masters a, b, c with
// replicas ra, rb, rc.
var layout = []node.SlotOwner{
	{SlotRange: node.SlotRange{Start: 0, End: 5460}, Master: "a:1", Replicas: []string{"ra:1"}},
	{SlotRange: node.SlotRange{Start: 5461, End: 10922}, Master: "b:1", Replicas: []string{"rb:1"}},
	{SlotRange: node.SlotRange{Start: 10923, End: 16383}, Master: "c:1", Replicas: []string{"rc:1"}},
}

// ownerOf is the layout's master of key.
func ownerOf(key string) string {
	s := node.KeySlot(key)
	for _, o := range layout {
		if s >= o.Start && s <= o.End {
			return o.Master
		}
	}
	panic("unowned")
}

type sent struct {
	addr string
	cmd  node.Cmd
}

type fakeNet struct {
	dials []string
	sends []sent
}

func (f *fakeNet) Dial(addr string)               { f.dials = append(f.dials, addr) }
func (f *fakeNet) Send(addr string, cmd node.Cmd) { f.sends = append(f.sends, sent{addr, cmd}) }
func (f *fakeNet) Trace(trace.Event)              {}
func (f *fakeNet) Up(string) bool                 { return true }

// harness drives one client on one key ("k0") with a 1 s timeout.
type harness struct {
	t    *testing.T
	c    *Client
	net  *fakeNet
	now  time.Duration
	seen int // sends already consumed
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	keys, _ := NewKeyDist(1, 0)
	cfg := Config{Kind: "register", Clients: 1, Rate: 10, Keys: keys, Timeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	return &harness{t: t, c: New(0, cfg, seeds, rand.New(rand.NewPCG(1, 2))), net: &fakeNet{}}
}

// wakeAt advances to t and wakes the client.
func (h *harness) wakeAt(t time.Duration) { h.now = t; h.c.Wake(t, h.net) }

// wakeNext advances to the client's next wake-up.
func (h *harness) wakeNext() { h.wakeAt(h.c.wakeAt()) }

// connect answers every dial so far as accepted.
func (h *harness) connect() {
	dials := h.net.dials
	h.net.dials = nil
	for _, d := range dials {
		h.c.OnDial(h.now, d, true, h.net)
	}
}

// next returns the next command the client put on the wire.
func (h *harness) next() sent {
	h.t.Helper()
	if h.seen >= len(h.net.sends) {
		h.t.Fatalf("nothing sent (dials pending: %v)", h.net.dials)
	}
	h.seen++
	return h.net.sends[h.seen-1]
}

// reply answers command s after d.
func (h *harness) reply(s sent, d time.Duration, r node.Reply) {
	h.now += d
	h.c.OnReply(h.now, s.cmd.Seq, r, h.net)
}

// boot loads the slot map and starts the first operation.
func (h *harness) boot() sent {
	h.t.Helper()
	h.wakeAt(0)
	h.connect()
	load := h.next()
	if load.cmd.Op != node.OpClusterSlots {
		h.t.Fatalf("first command %+v, want CLUSTER SLOTS", load.cmd)
	}
	h.reply(load, time.Millisecond, node.Reply{Kind: node.ReplyOK, Slots: layout})
	for h.c.cur == nil {
		h.wakeNext()
	}
	h.connect()
	return h.next()
}

func (h *harness) lastOp() history.Op {
	h.t.Helper()
	ops := h.c.History()
	if len(ops) == 0 {
		h.t.Fatal("no operation finished")
	}
	return ops[len(ops)-1]
}

// TestLoadsSlotsBeforeFirstCommand: clusterStateHolder.Get loads the map
// with CLUSTER SLOTS; the first command waits for it and goes to the owner.
func TestLoadsSlotsBeforeFirstCommand(t *testing.T) {
	h := newHarness(t, nil)
	op := h.boot()
	if op.addr != ownerOf("k0") || op.cmd.Key != "k0" {
		t.Fatalf("first op to %s (%+v), want the owner %s", op.addr, op.cmd, ownerOf("k0"))
	}
}

// TestClientStateMachine: one table row per rule of the retry loop.
func TestClientStateMachine(t *testing.T) {
	owner := ownerOf("k0")
	other := "b:1"
	if owner == other {
		other = "c:1"
	}
	cases := []struct {
		name string
		mod  func(*Config)
		run  func(h *harness, first sent) // after boot; first is the op's first try
	}{
		{"MOVED: retry at the target, learn the slot, reload lazily", nil, func(h *harness, first sent) {
			h.reply(first, reloadCooldown, node.Reply{Kind: node.ReplyMoved, Slot: node.KeySlot("k0"), Addr: other})
			reloads := countOp(h.net.sends[h.seen:], node.OpClusterSlots) + len(h.net.dials)
			if reloads == 0 {
				t.Error("MOVED did not start a lazy reload")
			}
			h.wakeNext()
			h.connect()
			retry := nextOp(h, node.OpSet)
			if retry.addr != other || retry.cmd.Asking {
				t.Fatalf("retry %+v to %s, want %s without ASKING", retry.cmd, retry.addr, other)
			}
			h.reply(retry, time.Millisecond, node.Reply{Kind: node.ReplyOK})
			if op := h.lastOp(); op.Status != history.OK || op.Node != other {
				t.Fatalf("op %+v", op)
			}
			if got := seeds[h.c.route(h.now, node.KeySlot("k0"), false)]; got != other {
				t.Errorf("slot map routes k0 to %s after MOVED, want %s", got, other)
			}
		}},
		{"ASK: one try with ASKING, the map untouched", nil, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyAsk, Slot: node.KeySlot("k0"), Addr: other})
			h.wakeNext()
			h.connect()
			retry := nextOp(h, node.OpSet)
			if retry.addr != other || !retry.cmd.Asking {
				t.Fatalf("retry %+v to %s, want ASKING to %s", retry.cmd, retry.addr, other)
			}
			if got := seeds[h.c.route(h.now, node.KeySlot("k0"), false)]; got != owner {
				t.Errorf("ASK changed the map: k0 routes to %s", got)
			}
			if n := countOp(h.net.sends, node.OpClusterSlots); n != 1 {
				t.Errorf("%d CLUSTER SLOTS, want only the initial load", n)
			}
		}},
		{"CLUSTERDOWN: backoff retries, then fail after MaxRedirects", nil, func(h *harness, first sent) {
			s := first
			for try := 1; try <= maxRedirects+1; try++ {
				h.reply(s, time.Millisecond, node.Reply{Kind: node.ReplyClusterDown, Err: "CLUSTERDOWN The cluster is down"})
				if try == maxRedirects+1 {
					break
				}
				at := h.now
				h.wakeNext()
				if h.now <= at || h.now-at > maxRetryBackoff {
					t.Fatalf("try %d: retry after %v, want a backoff in (0, %v]", try, h.now-at, maxRetryBackoff)
				}
				h.connect()
				s = nextOp(h, node.OpSet)
				if s.addr != owner {
					t.Fatalf("try %d went to %s, want the slot's master %s", try, s.addr, owner)
				}
			}
			if op := h.lastOp(); op.Status != history.Fail || !strings.HasPrefix(op.Err, "CLUSTERDOWN") {
				t.Fatalf("op %+v, want fail with CLUSTERDOWN", op)
			}
		}},
		{"TRYAGAIN: retried like CLUSTERDOWN", nil, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyTryAgain, Err: "TRYAGAIN Multiple keys request during rehashing of slot"})
			h.wakeNext()
			h.connect()
			h.reply(nextOp(h, node.OpSet), time.Millisecond, node.Reply{Kind: node.ReplyOK})
			if op := h.lastOp(); op.Status != history.OK {
				t.Fatalf("op %+v", op)
			}
		}},
		{"timeout: unknown outcome, node marked failing, map reloaded", nil, func(h *harness, first sent) {
			before := countOp(h.net.sends, node.OpClusterSlots)
			h.wakeAt(h.c.cur.deadline)
			if op := h.lastOp(); op.Status != history.Unknown || op.Err != "timeout" {
				t.Fatalf("op %+v, want unknown", op)
			}
			h.connect()
			if countOp(h.net.sends, node.OpClusterSlots) == before {
				t.Error("no reload after a timeout")
			}
			if !h.c.isFailing(h.now, h.c.index(owner)) {
				t.Error("timed-out node not marked failing")
			}
			// A late answer to the abandoned command is ignored.
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyOK})
			if len(h.c.History()) != 1 {
				t.Error("late reply changed the history")
			}
		}},
		{"timeout drops the connection: the next command dials again", nil, func(h *harness, first sent) {
			h.wakeAt(h.c.cur.deadline)
			h.net.dials = nil
			for h.c.cur == nil {
				h.wakeNext()
			}
			dialed := false
			for _, d := range h.net.dials {
				dialed = dialed || d == first.addr
			}
			if !dialed && h.c.conns[h.c.index(first.addr)].state == connUp {
				t.Fatal("the timed-out connection was reused")
			}
		}},
		{"refused connection: retried, a definite failure", nil, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyError, Err: ErrRefused})
			for h.c.cur != nil {
				h.wakeNext()
				for _, d := range h.net.dials {
					h.c.OnDial(h.now, d, false, h.net) // every host refuses
				}
				h.net.dials = nil
			}
			if op := h.lastOp(); op.Status != history.Fail || op.Err != ErrRefused {
				t.Fatalf("op %+v, want a definite failure", op)
			}
		}},
		{"a dial never answered (partition): fail, not unknown", nil, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyError, Err: ErrRefused})
			h.net.dials = nil // SYNs lost from now on
			for h.c.cur != nil {
				h.wakeNext()
				h.net.dials = nil
			}
			if op := h.lastOp(); op.Status != history.Fail || op.Err != ErrDialTimeout {
				t.Fatalf("op %+v, want fail with a dial timeout: the command never left", op)
			}
		}},
		{"an error reply is a definite failure", nil, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyError, Err: "NOREPLICAS Not enough good replicas to write."})
			if op := h.lastOp(); op.Status != history.Fail || !strings.HasPrefix(op.Err, "NOREPLICAS") {
				t.Fatalf("op %+v", op)
			}
		}},
		{"WAIT: acknowledged once enough replicas have it", func(c *Config) { c.Wait = 1 }, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyOK, Value: "OK"})
			w := nextOp(h, node.OpWait)
			if w.addr != first.addr || w.cmd.Replicas != 1 || w.cmd.Timeout <= 0 {
				t.Fatalf("WAIT %+v to %s", w.cmd, w.addr)
			}
			h.reply(w, time.Millisecond, node.Reply{Kind: node.ReplyOK, Int: 1})
			if op := h.lastOp(); op.Status != history.OK || op.Result != "OK" {
				t.Fatalf("op %+v", op)
			}
		}},
		{"WAIT: too few replicas leaves the write unknown", func(c *Config) { c.Wait = 1 }, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyOK, Value: "OK"})
			h.reply(nextOp(h, node.OpWait), time.Millisecond, node.Reply{Kind: node.ReplyOK, Int: 0})
			if op := h.lastOp(); op.Status != history.Unknown {
				t.Fatalf("op %+v, want unknown", op)
			}
		}},
		{"WAIT: a timeout after the write executed is unknown", func(c *Config) { c.Wait = 1 }, func(h *harness, first sent) {
			h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyOK, Value: "OK"})
			w := nextOp(h, node.OpWait)
			h.reply(w, time.Millisecond, node.Reply{Kind: node.ReplyError, Err: "UNBLOCKED force unblock"})
			if op := h.lastOp(); op.Status != history.Unknown {
				t.Fatalf("op %+v, want unknown", op)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.mod)
			h.c.cfg.ReadRatio = 0
			c.run(h, h.boot())
		})
	}
}

// TestReadFromReplicas: with go-redis's ReadOnly option reads go to the
// slot's replica with READONLY; writes still go to the master.
func TestReadFromReplicas(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ReadFromReplicas, c.ReadRatio = true, 100 })
	first := h.boot()
	want := "r" + ownerOf("k0")
	if first.addr != want || !first.cmd.ReadOnly || first.cmd.Op != node.OpGet {
		t.Fatalf("read %+v to %s, want READONLY GET to %s", first.cmd, first.addr, want)
	}
	if got := seeds[h.c.route(h.now, node.KeySlot("k0"), false)]; got != ownerOf("k0") {
		t.Errorf("a write routes to %s", got)
	}
}

// TestStaleMapReloaded: clusterStateHolder.Get reloads a map older than
// 10 s when an operation starts.
func TestStaleMapReloaded(t *testing.T) {
	h := newHarness(t, nil)
	h.reply(h.boot(), time.Millisecond, node.Reply{Kind: node.ReplyOK})
	before := countOp(h.net.sends, node.OpClusterSlots)
	h.c.next = stateMaxAge + time.Second
	h.wakeAt(h.c.next)
	if countOp(h.net.sends, node.OpClusterSlots) == before && len(h.net.dials) == 0 {
		t.Fatal("no reload of a stale map")
	}
}

// TestRetryBackoffBounds: go-redis's RetryBackoff is below min << retry and
// never above the maximum.
func TestRetryBackoffBounds(t *testing.T) {
	h := newHarness(t, nil)
	for retry := 1; retry <= 10; retry++ {
		limit := min(minRetryBackoff<<retry, maxRetryBackoff)
		for i := 0; i < 100; i++ {
			if b := retryBackoff(h.c, retry); b <= 0 || b > limit {
				t.Fatalf("retry %d: backoff %v outside (0, %v]", retry, b, limit)
			}
		}
	}
}

func countOp(ss []sent, op node.Op) int {
	n := 0
	for _, s := range ss {
		if s.cmd.Op == op {
			n++
		}
	}
	return n
}

// nextOp returns the next command of kind op, skipping (and leaving
// unanswered) reloads.
func nextOp(h *harness, op node.Op) sent {
	h.t.Helper()
	for {
		if s := h.next(); s.cmd.Op == op {
			return s
		}
	}
}

// TestMovedReloadCooldown: LazyReload starts no reload within 200 ms of the
// last one; a MOVED then only teaches the one slot.
func TestMovedReloadCooldown(t *testing.T) {
	h := newHarness(t, nil)
	first := h.boot()
	before := countOp(h.net.sends, node.OpClusterSlots)
	h.reply(first, time.Millisecond, node.Reply{Kind: node.ReplyMoved, Slot: node.KeySlot("k0"), Addr: "c:1"})
	if countOp(h.net.sends, node.OpClusterSlots) != before || len(h.net.dials) != 0 {
		t.Fatal("reload inside the cooldown")
	}
	if got := seeds[h.c.route(h.now, node.KeySlot("k0"), false)]; got != "c:1" {
		t.Fatalf("MOVED not learned: k0 routes to %s", got)
	}
}
