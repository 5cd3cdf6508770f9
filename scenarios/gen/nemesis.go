// The nemesis: random fault schedules drawn from a menu, by rapid (to shrink)
// or from a seed (to explore), written as plain scenario faults.
package gen

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"rcsim/scenarios"
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
)

// AllKinds lists every kind, in the order menus print them.
var AllKinds = []Kind{KindCrash, KindIsolate, KindSplit}

// isPartition reports whether episodes of kind k replace the network's
// partition (and so must not overlap one another: heal ends them all).
func (k Kind) isPartition() bool { return k == KindIsolate || k == KindSplit }

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
// menu with the run's "nemesis" stream of seed (the stream sim/rng.Derive
// would give: SHA-256 of seed and name, into PCG), its seed set to seed, its
// duration grown to leave the settle tail, and its expectations replaced by
// Expect's (base's expectations describe base's own schedule). The same
// (base, seed, menu) always gives the same scenario, and
// scenarios.Marshal of it replays as the same run.
func Nemesis(base *scenarios.Scenario, seed uint64, menu Menu) (*scenarios.Scenario, error) {
	if err := menu.Validate(); err != nil {
		return nil, err
	}
	s := Clone(base)
	s.Seed = seed
	s.Faults, s.Duration = schedule(randSource{NemesisRand(seed)}, s, menu)
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

// NemesisRand returns the nemesis stream of the run seeded with seed. It is
// sim/rng.Derive(seed, "nemesis"), computed here because scenarios/gen may
// not import sim.
func NemesisRand(seed uint64) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte("nemesis"))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

// Clone returns a deep copy of s: faults, targets and expectations are not
// shared.
func Clone(s *scenarios.Scenario) *scenarios.Scenario {
	c := *s
	c.Faults = make([]scenarios.Fault, len(s.Faults))
	for i, f := range s.Faults {
		c.Faults[i] = f
		c.Faults[i].Target = cloneTarget(f.Target)
		c.Faults[i].Groups = nil
		for _, g := range f.Groups {
			grp := make([]scenarios.Target, len(g))
			for j, t := range g {
				grp[j] = cloneTarget(t)
			}
			c.Faults[i].Groups = append(c.Faults[i].Groups, grp)
		}
	}
	c.Expect = scenarios.Expect{FailoverWithin: clonePtr(s.Expect.FailoverWithin),
		Linearizable: clonePtr(s.Expect.Linearizable), ConvergedWithin: clonePtr(s.Expect.ConvergedWithin),
		MaxLostWrites: clonePtr(s.Expect.MaxLostWrites), ClusterOK: clonePtr(s.Expect.ClusterOK)}
	return &c
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
		begin, end := episode(src, s, kind)
		begin.At, end.At = start, start+length
		faults = append(faults, begin, end)
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

// episode draws the two steps of one episode of kind, times unset. Persist
// is true on every step, as Parse leaves it on steps that are not crashes.
func episode(src source, s *scenarios.Scenario, kind Kind) (begin, end scenarios.Fault) {
	switch kind {
	case KindCrash:
		return scenarios.Fault{Kind: scenarios.Crash, Target: nodeTarget(src, s), Persist: true},
			scenarios.Fault{Kind: scenarios.Restart, Target: scenarios.Target{Crashed: true}, Persist: true}
	case KindIsolate:
		group := []scenarios.Target{nodeTarget(src, s)}
		if c := s.Workload.Clients; c > 0 && src.intn("with-client", 2) == 1 {
			group = append(group, scenarios.Target{Name: "client-" + strconv.Itoa(src.intn("client", c))})
		}
		return scenarios.Fault{Kind: scenarios.Partition, Groups: [][]scenarios.Target{group, {{Rest: true}}}, Persist: true}, heal()
	default: // KindSplit
		return scenarios.Fault{Kind: scenarios.Partition, Groups: split(src, s), Persist: true}, heal()
	}
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
