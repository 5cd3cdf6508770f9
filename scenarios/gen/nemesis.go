// The nemesis: random fault schedules drawn from a menu, by rapid (to shrink)
// or from a seed (to explore), written as plain scenario faults.

package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/scenarios"
)

// Kind is one kind of fault episode the nemesis may schedule: a fault step
// and, after a drawn length, the step that ends it.
type Kind string

// The episode kinds.
const (
	// KindCrash crashes a node (a master by slot, a named node or the replica
	// of a master) with its nodes.conf kept, and restarts it.
	KindCrash Kind = "crash"
	// KindIsolate cuts one node, and sometimes one client with it, off from
	// everything else, then heals.
	KindIsolate Kind = "isolate"
	// KindSplit splits the nodes into two random sides, clients scattered
	// over both, then heals.
	KindSplit Kind = "split"
	// KindOneWay cuts the links one way only between a node and the rest.
	KindOneWay Kind = "one-way"
	// KindFlap makes the links between a node and the rest go down for part
	// of every period.
	KindFlap Kind = "flap"
	// KindLoss loses a share of the transmissions between a node and the
	// rest (TCP retransmission delays).
	KindLoss Kind = "loss"
	// KindPause stops a node (SIGSTOP) and resumes it.
	KindPause Kind = "pause"
	// KindSlow gives a node a processing delay per message and command.
	KindSlow Kind = "slow"
	// KindClock makes a node's own clock jump or drift.
	KindClock Kind = "clock"
)

// AllKinds lists every kind, in the order menus print them.
var AllKinds = []Kind{KindCrash, KindIsolate, KindSplit, KindOneWay, KindFlap, KindLoss, KindPause, KindSlow, KindClock}

// isPartition reports whether episodes of kind k are network faults, which
// must not overlap one another: a partition replaces the one before, and a
// heal ends every network fault.
func (k Kind) isPartition() bool {
	switch k {
	case KindIsolate, KindSplit, KindOneWay, KindFlap, KindLoss:
		return true
	}
	return false
}

// Menu is what a schedule is drawn from, as Jepsen's nemesis takes it:
// which kinds, how many, how often and for how long.
type Menu struct {
	Kinds                []Kind        // kinds to draw from; none means no faults
	MinFaults, MaxFaults int           // number of episodes
	Warmup               time.Duration // no fault before this
	Interval             time.Duration // mean gap from one episode's end to the next one's start
	MinLength, MaxLength time.Duration // an episode lasts this long before its end step
	OverlapPercent       int           // chance that an episode starts inside the previous one (never two partitions)
	// Settle is the quiet tail after the last episode ends; the run is made
	// long enough for it. 0 means ConvergeBound of the scenario plus 5 s.
	Settle time.Duration
}

// DefaultMenu is every kind, 0..3 episodes of 1s..15s a few seconds apart,
// a quarter of them overlapping the one before.
func DefaultMenu() Menu {
	return Menu{Kinds: slices.Clone(AllKinds), MinFaults: 0, MaxFaults: 3, Warmup: 3 * time.Second,
		Interval: 5 * time.Second, MinLength: time.Second, MaxLength: 15 * time.Second, OverlapPercent: 25}
}

// NemesisMenu is DefaultMenu with at least one and at most four episodes:
// what `rcsim explore` draws from.
func NemesisMenu() Menu {
	m := DefaultMenu()
	m.MinFaults, m.MaxFaults = 1, 4
	return m
}

// ParseKinds reads a comma-separated list of kinds ("crash,isolate").
func ParseKinds(list string) ([]Kind, error) {
	var out []Kind
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(AllKinds, Kind(k)) {
			return nil, fmt.Errorf("unknown fault kind %q (have %s)", k, kindList(AllKinds))
		}
		out = append(out, Kind(k))
	}
	return out, nil
}

func kindList(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// Validate reports the first inconsistent field of m.
func (m Menu) Validate() error {
	for _, k := range m.Kinds {
		if !slices.Contains(AllKinds, k) {
			return fmt.Errorf("menu: unknown kind %q (have %s)", k, kindList(AllKinds))
		}
	}
	switch {
	case m.MinFaults < 0 || m.MaxFaults < m.MinFaults:
		return fmt.Errorf("menu: faults %d..%d: want 0 <= min <= max", m.MinFaults, m.MaxFaults)
	case m.MinLength <= 0 || m.MaxLength < m.MinLength:
		return fmt.Errorf("menu: length %s..%s: want 0 < min <= max", m.MinLength, m.MaxLength)
	case m.Warmup < 0 || m.Interval < 0 || m.Settle < 0:
		return fmt.Errorf("menu: warmup, interval and settle must not be negative")
	case m.OverlapPercent < 0 || m.OverlapPercent > 100:
		return fmt.Errorf("menu: overlap %d%%: want 0..100", m.OverlapPercent)
	}
	return nil
}

// String describes m on one line, as a nemesis scenario's description
// records it.
func (m Menu) String() string {
	return fmt.Sprintf("kinds %s, %d..%d faults, warmup %s, interval %s, length %s..%s, overlap %d%%",
		kindList(m.Kinds), m.MinFaults, m.MaxFaults, m.Warmup, m.Interval, m.MinLength, m.MaxLength, m.OverlapPercent)
}

// Nemesis returns base with its faults replaced by a schedule drawn from
// menu with rnd, its seed set to seed, its duration grown to leave the
// settle tail, and its expectations replaced by Expect's (base's
// expectations describe base's own schedule). The caller gives the stream:
// the run's "nemesis" stream, rng.Derive(seed, "nemesis"). The same (base,
// seed, stream, menu) always gives the same scenario, and scenarios.Marshal
// of it replays as the same run.
func Nemesis(base *scenarios.Scenario, seed uint64, rnd *rand.Rand, menu Menu) (*scenarios.Scenario, error) {
	if err := menu.Validate(); err != nil {
		return nil, err
	}
	s := Clone(base)
	s.Seed = seed
	s.Faults, s.Duration = schedule(randSource{rnd}, s, menu)
	s.Name = strings.TrimSuffix(trimName(base.Name, 64-len("-nemesis")), "-") + "-nemesis"
	s.Description = fmt.Sprintf("A nemesis schedule (seed %d; %s) around %s.", seed, menu, base.Name)
	s.Expect = Expect(s, menu)
	s.File = ""
	return s, nil
}

func trimName(name string, n int) string {
	if len(name) > n {
		return name[:n]
	}
	return name
}

// Clone returns a copy of s whose faults, targets and expectations are not
// shared with s (the network's link overrides are, as nothing here changes
// them).
func Clone(s *scenarios.Scenario) *scenarios.Scenario {
	c := *s
	c.Faults = make([]scenarios.Fault, len(s.Faults))
	for i, f := range s.Faults {
		c.Faults[i] = f
		c.Faults[i].Target = cloneTarget(f.Target)
		c.Faults[i].Groups = nil
		for _, g := range f.Groups {
			c.Faults[i].Groups = append(c.Faults[i].Groups, cloneTargets(g))
		}
		c.Faults[i].From, c.Faults[i].To = cloneTargets(f.From), cloneTargets(f.To)
	}
	c.Expect = scenarios.Expect{FailoverWithin: clonePtr(s.Expect.FailoverWithin),
		Linearizable: clonePtr(s.Expect.Linearizable), ConvergedWithin: clonePtr(s.Expect.ConvergedWithin),
		MaxLostWrites: clonePtr(s.Expect.MaxLostWrites), ClusterOK: clonePtr(s.Expect.ClusterOK),
		AdminOK: clonePtr(s.Expect.AdminOK)}
	return &c
}

func cloneTargets(ts []scenarios.Target) []scenarios.Target {
	if ts == nil {
		return nil
	}
	out := make([]scenarios.Target, len(ts))
	for i, t := range ts {
		out[i] = cloneTarget(t)
	}
	return out
}

func cloneTarget(t scenarios.Target) scenarios.Target {
	t.MasterOfSlot = clonePtr(t.MasterOfSlot)
	if t.ReplicaOf != nil {
		r := cloneTarget(*t.ReplicaOf)
		t.ReplicaOf = &r
	}
	return t
}

func clonePtr[V any](p *V) *V {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// source is where a schedule's draws come from: rapid (shrinkable) or a
// seeded stream. intn returns a value in [0, n); 0 is always the simpler
// choice.
type source interface {
	intn(label string, n int) int
}

type rapidSource struct{ t *rapid.T }

func (r rapidSource) intn(label string, n int) int {
	if n <= 1 {
		return 0
	}
	return rapid.IntRange(0, n-1).Draw(r.t, label)
}

type randSource struct{ r *rand.Rand }

func (r randSource) intn(_ string, n int) int {
	if n <= 1 {
		return 0
	}
	return r.r.IntN(n)
}

// msIn draws a whole number of milliseconds in [lo, hi].
func msIn(src source, label string, lo, hi time.Duration) time.Duration {
	lo, hi = lo.Truncate(time.Millisecond), hi.Truncate(time.Millisecond)
	return lo + time.Duration(src.intn(label, int((hi-lo)/time.Millisecond)+1))*time.Millisecond
}

// schedule draws the episodes for s from menu and returns the faults,
// sorted by time, and the run's duration (s.Duration, grown to hold the
// settle tail after the last episode ends).
func schedule(src source, s *scenarios.Scenario, menu Menu) ([]scenarios.Fault, time.Duration) {
	if len(menu.Kinds) == 0 || menu.MaxFaults == 0 {
		return nil, s.Duration
	}
	n := menu.MinFaults + src.intn("faults", menu.MaxFaults-menu.MinFaults+1)
	var faults []scenarios.Fault
	var prevKind Kind
	var prevStart, prevEnd, lastEnd time.Duration
	next := menu.Warmup
	for i := range n {
		kind := menu.Kinds[src.intn("kind", len(menu.Kinds))]
		length := msIn(src, "length", menu.MinLength, menu.MaxLength)
		start := next + msIn(src, "gap", menu.Interval/2, menu.Interval*3/2)
		if i > 0 && !(kind.isPartition() && prevKind.isPartition()) && src.intn("overlap", 100) < menu.OverlapPercent {
			start = prevStart + msIn(src, "overlap-at", 0, prevEnd-prevStart)
		}
		begin, end, lasting := episode(src, s, kind)
		begin.At, end.At = start, start+length
		if lasting {
			begin.For = length // one step that ends itself
			faults = append(faults, begin)
		} else {
			faults = append(faults, begin, end)
		}
		prevKind, prevStart, prevEnd = kind, start, start+length
		lastEnd = max(lastEnd, prevEnd)
		next = lastEnd
	}
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
	settle := menu.Settle
	if settle == 0 {
		settle = ConvergeBound(s.Cluster.Config) + 5*time.Second
	}
	return faults, max(s.Duration, (lastEnd + settle).Truncate(time.Second))
}

// episode draws the steps of one episode of kind, times unset: a step and
// the step that ends it, or (lasting) one step whose For the caller sets.
// Persist is true on every step, as Parse leaves it on steps that are not
// crashes.
func episode(src source, s *scenarios.Scenario, kind Kind) (begin, end scenarios.Fault, lasting bool) {
	switch kind {
	case KindCrash:
		return scenarios.Fault{Kind: scenarios.Crash, Target: nodeTarget(src, s), Persist: true},
			scenarios.Fault{Kind: scenarios.Restart, Target: scenarios.Target{Crashed: true}, Persist: true}, false
	case KindIsolate:
		group := []scenarios.Target{nodeTarget(src, s)}
		if c := s.Workload.Clients; c > 0 && src.intn("with-client", 2) == 1 {
			group = append(group, scenarios.Target{Name: "client-" + strconv.Itoa(src.intn("client", c))})
		}
		return scenarios.Fault{Kind: scenarios.Partition, Groups: [][]scenarios.Target{group, {{Rest: true}}}, Persist: true}, heal(), false
	case KindSplit:
		return scenarios.Fault{Kind: scenarios.Partition, Groups: split(src, s), Persist: true}, heal(), false
	}
	return lastingFault(src, s, kind), scenarios.Fault{}, true
}

// lastingFault draws one step of the kinds that end themselves after For.
func lastingFault(src source, s *scenarios.Scenario, kind Kind) scenarios.Fault {
	f := scenarios.Fault{Persist: true}
	switch kind {
	case KindOneWay, KindFlap, KindLoss:
		f.From, f.To = []scenarios.Target{nodeTarget(src, s)}, []scenarios.Target{{Rest: true}}
		if src.intn("direction", 2) == 1 {
			f.From, f.To = f.To, f.From
		}
	default:
		f.Target = nodeTarget(src, s)
	}
	switch kind {
	case KindOneWay:
		f.Kind = scenarios.OneWay
	case KindFlap:
		f.Kind, f.Period = scenarios.Flap, msIn(src, "period", 500*time.Millisecond, 4*time.Second)
		f.DutyPct = 20 + 10*src.intn("duty", 7)
	case KindLoss:
		f.Kind, f.Ratio = scenarios.Loss, scenarios.Ratio{Num: uint32(10 + 10*src.intn("loss", 6)), Den: 100}
	case KindPause:
		f.Kind = scenarios.Pause
	case KindSlow:
		f.Kind, f.Delay = scenarios.Slow, msIn(src, "delay", time.Millisecond, 20*time.Millisecond)
	case KindClock:
		f.Kind = scenarios.Clock
		if src.intn("drift", 2) == 1 {
			f.DriftPct = (5 + 5*src.intn("drift-pct", 10)) * (1 - 2*src.intn("drift-sign", 2))
		} else {
			f.Jump = msIn(src, "jump", time.Second, 10*time.Second) * time.Duration(1-2*src.intn("jump-sign", 2))
		}
	}
	return f
}

func heal() scenarios.Fault { return scenarios.Fault{Kind: scenarios.Heal, Persist: true} }

// nodeTarget draws a node: the master of a slot (resolved when the fault
// fires), a node by name, or the first replica of a slot's master.
func nodeTarget(src source, s *scenarios.Scenario) scenarios.Target {
	ways := 2
	if s.Cluster.ReplicasPerMaster > 0 {
		ways = 3
	}
	switch src.intn("target", ways) {
	case 0:
		return masterOfSlot(src, s)
	case 1:
		names := s.Cluster.NodeNames()
		return scenarios.Target{Name: names[src.intn("node", len(names))]}
	default:
		m := masterOfSlot(src, s)
		return scenarios.Target{ReplicaOf: &m}
	}
}

// masterOfSlot draws the first slot of one of the masters' initial ranges,
// so every master is as likely.
func masterOfSlot(src source, s *scenarios.Scenario) scenarios.Target {
	m := src.intn("master", s.Cluster.Masters)
	slot := m * 16384 / s.Cluster.Masters
	return scenarios.Target{MasterOfSlot: &slot}
}

// split draws a side of 1..n-1 nodes by name; the other side is the rest;
// each client goes to one side or the other.
func split(src source, s *scenarios.Scenario) [][]scenarios.Target {
	names := s.Cluster.NodeNames()
	var side []scenarios.Target
	for i, name := range names {
		if i == len(names)-1 && len(side) == 0 || src.intn("side", 2) == 1 && len(side) < len(names)-1 {
			side = append(side, scenarios.Target{Name: name})
		}
	}
	for _, c := range s.Workload.ClientNames() {
		if src.intn("client-side", 2) == 1 {
			side = append(side, scenarios.Target{Name: c})
		}
	}
	return [][]scenarios.Target{side, {{Rest: true}}}
}
