package realredis

// The observer: every node's CLUSTER NODES and CLUSTER INFO polled every
// 10 ms, each change turned into the trace event the simulator emits for
// it (PFail, Fail, State, Promoted, Role), so the checker times a real
// failover exactly as it times a simulated one.

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// PollEvery is the polling period of every node.
const PollEvery = 10 * time.Millisecond

// NodeLine is one line of CLUSTER NODES.
type NodeLine struct {
	ID       string
	Addr     string // "ip:port" (the bus port and hostname cut off)
	Flags    []string
	MasterID string // "" for a master
	Epoch    uint64 // configEpoch
	Slots    string // "0-5460,5461" (importing/migrating markers left out)
}

// Master reports whether the line's flags say master.
func (l NodeLine) Master() bool { return slices.Contains(l.Flags, "master") }

// Has reports whether the line carries flag f.
func (l NodeLine) Has(f string) bool { return slices.Contains(l.Flags, f) }

// ParseNodes reads CLUSTER NODES output; malformed lines are skipped.
func ParseNodes(s string) []NodeLine {
	var out []NodeLine
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		l := NodeLine{ID: f[0], Addr: addr, Flags: strings.Split(f[2], ",")}
		if f[3] != "-" {
			l.MasterID = f[3]
		}
		l.Epoch, _ = strconv.ParseUint(f[6], 10, 64)
		var slots []string
		for _, s := range f[8:] {
			if !strings.HasPrefix(s, "[") {
				slots = append(slots, s)
			}
		}
		l.Slots = strings.Join(slots, ",")
		out = append(out, l)
	}
	return out
}

// view is the last thing one node said.
type view struct {
	lines []NodeLine
	state string // cluster_state
}

// Observer polls every node and records trace events. Times are since
// Start, the run's time zero.
type Observer struct {
	start time.Time
	nodes []*Node
	name  map[string]string // node ID → name

	mu     sync.Mutex
	views  []view
	events []trace.Event
}

// NewObserver returns an observer of c's nodes whose time zero is start;
// it records a Boot event per node from c's current layout.
func NewObserver(c *Cluster, start time.Time) *Observer {
	o := &Observer{start: start, nodes: c.Nodes, name: map[string]string{}, views: make([]view, len(c.Nodes))}
	for _, n := range c.Nodes {
		o.name[n.ID] = n.Name
	}
	r, _ := Command(c.Nodes[0].Addr(), time.Second, "CLUSTER", "NODES")
	lines := ParseNodes(r.Str)
	for _, n := range c.Nodes {
		for _, l := range lines {
			if l.ID != n.ID {
				continue
			}
			e := trace.Event{Node: n.Name, Kind: trace.Boot, Value: "replica", Peer: o.name[l.MasterID], Epoch: l.Epoch}
			if l.Master() {
				e.Value, e.Peer = "master "+l.Slots, ""
			}
			o.events = append(o.events, e)
		}
	}
	return o
}

// Run polls until ctx ends.
func (o *Observer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range o.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); o.pollNode(ctx, i) }()
	}
	wg.Wait()
}

func (o *Observer) pollNode(ctx context.Context, i int) {
	addr := o.nodes[i].Addr()
	var conn *Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(PollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if conn == nil {
			var err error
			if conn, err = Dial(addr, "", 50*time.Millisecond); err != nil {
				conn = nil
				continue
			}
		}
		deadline := time.Now().Add(100 * time.Millisecond)
		nodes, err1 := conn.Do(deadline, "CLUSTER", "NODES")
		info, err2 := conn.Do(deadline, "CLUSTER", "INFO")
		if err1 != nil || err2 != nil {
			conn.Close()
			conn = nil // a stopped or killed node; try again next tick
			continue
		}
		o.saw(i, time.Since(o.start), ParseNodes(nodes.Str), infoField(info.Str, "cluster_state"))
	}
}

// saw compares node i's new answer with its last and records the changes.
func (o *Observer) saw(i int, at time.Duration, lines []NodeLine, state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	me := o.nodes[i].Name
	old := o.views[i]
	o.views[i] = view{lines: lines, state: state}
	emit := func(e trace.Event) { e.At, e.Node = at, me; o.events = append(o.events, e) }
	if state != "" && state != old.state {
		emit(trace.Event{Kind: trace.State, Value: state})
	}
	if old.lines == nil {
		return
	}
	for _, l := range lines {
		was, ok := find(old.lines, l.ID)
		if !ok {
			continue
		}
		peer := o.name[l.ID]
		if l.Has("myself") {
			switch {
			case l.Master() && !was.Master():
				emit(trace.Event{Kind: trace.Promoted, Peer: o.name[was.MasterID], Epoch: l.Epoch, Value: strings.ReplaceAll(l.Slots, ",", " ")})
			case !l.Master() && was.Master():
				emit(trace.Event{Kind: trace.Role, Value: "replica", Peer: o.name[l.MasterID]})
			}
			continue
		}
		pfail, fail := l.Has("fail?"), l.Has("fail")
		switch {
		case fail && !was.Has("fail"):
			if !was.Has("fail?") {
				emit(trace.Event{Kind: trace.PFail, Peer: peer})
			}
			emit(trace.Event{Kind: trace.Fail, Peer: peer})
		case pfail && !was.Has("fail?") && !was.Has("fail"):
			emit(trace.Event{Kind: trace.PFail, Peer: peer})
		case !fail && was.Has("fail"):
			emit(trace.Event{Kind: trace.FailCleared, Peer: peer})
		case !pfail && !fail && was.Has("fail?"):
			emit(trace.Event{Kind: trace.PFailCleared, Peer: peer})
		}
	}
}

func find(lines []NodeLine, id string) (NodeLine, bool) {
	for _, l := range lines {
		if l.ID == id {
			return l, true
		}
	}
	return NodeLine{}, false
}

// Record adds an event the harness itself caused (a fault) at the current
// time and returns that time.
func (o *Observer) Record(e trace.Event) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	e.At = time.Since(o.start)
	o.events = append(o.events, e)
	return e.At
}

// OwnerOf returns the name of the master of slot in the majority's view:
// the owner most polled nodes (those skip does not leave out) last named;
// ties go to the first name. "" if none.
func (o *Observer) OwnerOf(slot int, skip func(name string) bool) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	votes := map[string]int{}
	for i, v := range o.views {
		if skip(o.nodes[i].Name) {
			continue
		}
		for _, l := range v.lines {
			if l.Master() && !l.Has("fail") && slotIn(l.Slots, slot) {
				votes[o.name[l.ID]]++
			}
		}
	}
	best := ""
	for _, n := range o.nodes {
		if votes[n.Name] > votes[best] {
			best = n.Name
		}
	}
	return best
}

// IsMaster reports whether the node named name last said it is a master.
func (o *Observer) IsMaster(name string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, v := range o.views {
		if o.nodes[i].Name != name {
			continue
		}
		for _, l := range v.lines {
			if l.Has("myself") {
				return l.Master()
			}
		}
	}
	return false
}

// ReplicaOf returns the first replica (by name) of master in the view of
// the first polled node skip does not leave out; "" if none.
func (o *Observer) ReplicaOf(master string, skip func(name string) bool) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var id string
	for _, n := range o.nodes {
		if n.Name == master {
			id = n.ID
		}
	}
	var out []string
	for i, v := range o.views {
		if skip(o.nodes[i].Name) || v.lines == nil {
			continue
		}
		for _, l := range v.lines {
			if id != "" && l.MasterID == id {
				out = append(out, o.name[l.ID])
			}
		}
		break
	}
	slices.Sort(out)
	if len(out) == 0 {
		return ""
	}
	return out[0]
}

func slotIn(ranges string, slot int) bool {
	for _, r := range strings.Split(ranges, ",") {
		lo, hi, found := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if found {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if slot >= a && slot <= b {
			return true
		}
	}
	return false
}

// AddElections adds an ElectionStart per "Starting a failover election"
// line of each node's log.
func (o *Observer) AddElections() {
	for _, n := range o.nodes {
		at, epochs, err := ElectionStarts(n.Log)
		if err != nil {
			continue
		}
		o.mu.Lock()
		for i, t := range at {
			if t.Before(o.start) {
				continue
			}
			o.events = append(o.events, trace.Event{At: t.Sub(o.start), Node: n.Name, Kind: trace.ElectionStart, Epoch: epochs[i]})
		}
		o.mu.Unlock()
	}
}

// Events returns the events recorded, ordered by time (stable).
func (o *Observer) Events() []trace.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Clone(o.events)
	slices.SortStableFunc(out, func(a, b trace.Event) int { return cmp.Compare(a.At, b.At) })
	for i := range out {
		out[i].At = out[i].At.Truncate(time.Microsecond)
		// The observer writes its events as the kernel's trace text;
		// Decode gives them the typed fields the checker reads, as
		// trace.Read does for a trace from a file.
		trace.Decode(&out[i])
	}
	return out
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}
