package explore

// Shrinking: greedy reductions of a failing scenario, each kept only if the
// run still fails with the same class and with no class the original did
// not have, until no reduction helps or the budget is spent.

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/gen"
)

// DefaultShrinkRuns is Shrink's budget of runs when ShrinkOptions.MaxRuns is 0.
const DefaultShrinkRuns = 300

// ShrinkOptions tune Shrink.
type ShrinkOptions struct {
	Options
	MaxRuns int // runs to spend at most (0: DefaultShrinkRuns)
}

// Shrunk is a shrinking's result.
type Shrunk struct {
	Scenario *scenarios.Scenario // the smallest scenario found that still fails the same way
	Outcome  Outcome             // its run
	Runs     int                 // runs spent
	Steps    int                 // reductions kept
}

// Shrink cuts s, whose run fails with class, down towards fewer faults, a
// shorter run, fewer clients, keys and operations, and a smaller cluster.
// A reduction is kept when its run still fails with class and with no
// class the run of s did not have, so the result fails the same way.
// Expectations that are not about class are dropped (they would only stop
// the run from getting shorter). Every candidate is written with
// scenarios.Marshal and read back, so the result is exactly what its file
// replays. The seed is kept.
func Shrink(s *scenarios.Scenario, class string, opt ShrinkOptions) (Shrunk, error) {
	if opt.MaxRuns == 0 {
		opt.MaxRuns = DefaultShrinkRuns
	}
	cur, ok := reparse(s)
	if !ok {
		cur = gen.Clone(s)
	}
	first, err := Run(cur, opt.Options)
	if err != nil {
		return Shrunk{}, err
	}
	sh := Shrunk{Scenario: cur, Outcome: first, Runs: 1}
	if !first.Has(class) {
		return sh, nil
	}
	allowed := first.Classes
	for progress := true; progress && sh.Runs < opt.MaxRuns; {
		progress = false
		for _, reduce := range reductions {
			for _, c := range reduce(sh.Scenario, class) {
				if sh.Runs >= opt.MaxRuns {
					return sh, nil
				}
				cand, ok := reparse(c)
				if !ok {
					continue
				}
				sh.Runs++
				o, err := Run(cand, opt.Options)
				if errors.Is(err, ErrStopped) {
					return sh, nil // the smallest found so far
				}
				if err != nil || !o.Has(class) || !subset(o.Classes, allowed) {
					continue
				}
				sh.Scenario, sh.Outcome = cand, o
				sh.Steps++
				progress = true
				break // the next reduction starts from the smaller scenario
			}
		}
	}
	return sh, nil
}

func subset(xs, of []string) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

// reparse writes s as a file and reads it back: the scenario a saved file
// replays, or false when the candidate is not a valid scenario (a fault
// naming a removed client or node).
func reparse(s *scenarios.Scenario) (*scenarios.Scenario, bool) {
	data, err := scenarios.Marshal(s)
	if err != nil {
		return nil, false
	}
	back, err := scenarios.Parse(s.Name+".yaml", data)
	if err != nil {
		return nil, false
	}
	back.File = ""
	return back, true
}

// A reduction proposes smaller variants of s, most aggressive first.
type reduction func(s *scenarios.Scenario, class string) []*scenarios.Scenario

// reductions are tried in this order on every pass.
var reductions = []reduction{
	dropExpectations, onlyOneEpisode, dropEpisodes, dropFaults, trimTail, shiftEarlier, closeGaps, shortenEpisodes,
	smallerGroups, fewerClients, fewerKeys, lowerRate, fewerReplicas, fewerMasters,
}

// variant clones s and applies f.
func variant(s *scenarios.Scenario, f func(c *scenarios.Scenario)) *scenarios.Scenario {
	c := gen.Clone(s)
	f(c)
	return c
}

// dropExpectations clears the expectations that are not what class is
// about.
func dropExpectations(s *scenarios.Scenario, class string) []*scenarios.Scenario {
	e := s.Expect
	// admin-ok is judged even when absent, so it stays as written.
	keep := scenarios.Expect{AdminOK: e.AdminOK}
	switch class {
	case ClassNotConverged:
		keep.ConvergedWithin = e.ConvergedWithin
	case ClassClusterNotOK:
		keep.ClusterOK = e.ClusterOK
	case ClassExpect + "failover_within":
		keep.FailoverWithin = e.FailoverWithin
	case ClassExpect + "linearizable", ClassNotLinearizable:
		keep.Linearizable = e.Linearizable
	case ClassLostWrite:
		keep.MaxLostWrites = e.MaxLostWrites
	}
	if keep == e || (keep == scenarios.Expect{} && e == scenarios.Expect{}) {
		return nil
	}
	return []*scenarios.Scenario{variant(s, func(c *scenarios.Scenario) { c.Expect = keep })}
}

// episodes pairs each crash with the first later unpaired restart and each
// partition with the first later unpaired heal; unpaired faults map to -1.
func episodes(fs []scenarios.Fault) [][2]int {
	used := make([]bool, len(fs))
	var out [][2]int
	for i, f := range fs {
		var end scenarios.FaultKind
		switch f.Kind {
		case scenarios.Crash, scenarios.Partition:
			if f.For > 0 {
				continue // it ends itself
			}
		}
		switch f.Kind {
		case scenarios.Crash:
			end = scenarios.Restart
		case scenarios.Partition:
			end = scenarios.Heal
		default:
			continue
		}
		j := -1
		for k := i + 1; k < len(fs); k++ {
			if !used[k] && fs[k].Kind == end {
				j, used[k] = k, true
				break
			}
		}
		out = append(out, [2]int{i, j})
	}
	return out
}

// without returns s's faults but those at the given indexes.
func without(fs []scenarios.Fault, drop ...int) []scenarios.Fault {
	var out []scenarios.Fault
	for i, f := range fs {
		if !slices.Contains(drop, i) {
			out = append(out, f)
		}
	}
	return out
}

// onlyOneEpisode keeps a single episode (with its end, then without).
func onlyOneEpisode(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	eps := episodes(s.Faults)
	if len(s.Faults) <= 1 {
		return nil
	}
	var out []*scenarios.Scenario
	for _, ep := range eps {
		keep := func(ids ...int) *scenarios.Scenario {
			return variant(s, func(c *scenarios.Scenario) {
				var fs []scenarios.Fault
				for _, i := range ids {
					if i >= 0 {
						fs = append(fs, c.Faults[i])
					}
				}
				c.Faults = fs
			})
		}
		if ep[1] >= 0 && len(s.Faults) > 2 {
			out = append(out, keep(ep[0], ep[1]))
		}
		out = append(out, keep(ep[0]))
	}
	return out
}

// dropEpisodes removes one episode (a fault and the step that ends it).
func dropEpisodes(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for _, ep := range episodes(s.Faults) {
		out = append(out, variant(s, func(c *scenarios.Scenario) { c.Faults = without(c.Faults, ep[0], ep[1]) }))
	}
	return out
}

// dropFaults removes one fault step alone (a heal, leaving the partition in
// place to the end).
func dropFaults(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for i := range s.Faults {
		out = append(out, variant(s, func(c *scenarios.Scenario) { c.Faults = without(c.Faults, i) }))
	}
	return out
}

// lastFault is when the last fault step happens or a fault ends itself (its
// At + For), 0 without faults: a scenario may not end before that.
func lastFault(s *scenarios.Scenario) time.Duration {
	var last time.Duration
	for _, f := range s.Faults {
		last = max(last, f.At+f.For)
	}
	return last
}

// trimTail ends the run earlier: right after the last fault plus a second,
// or halfway there.
func trimTail(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	floor := lastFault(s) + time.Second
	if s.Duration <= floor {
		return nil
	}
	out := []*scenarios.Scenario{variant(s, func(c *scenarios.Scenario) { c.Duration = floor })}
	if half := (floor + (s.Duration-floor)/2).Truncate(time.Millisecond); half > floor && half < s.Duration {
		out = append(out, variant(s, func(c *scenarios.Scenario) { c.Duration = half }))
	}
	return out
}

// shiftEarlier moves every fault, and the end of the run, earlier by half
// the time before the first fault (down to 1 s after the start).
func shiftEarlier(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	if len(s.Faults) == 0 || s.Faults[0].At <= time.Second {
		return nil
	}
	d := ((s.Faults[0].At - time.Second + time.Millisecond) / 2).Truncate(time.Millisecond)
	if d <= 0 {
		return nil
	}
	return []*scenarios.Scenario{variant(s, func(c *scenarios.Scenario) {
		for i := range c.Faults {
			c.Faults[i].At -= d
		}
		c.Duration -= d
	})}
}

// closeGaps moves one fault, and everything after it, earlier by half the
// gap since the fault before.
func closeGaps(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for k := 1; k < len(s.Faults); k++ {
		d := ((s.Faults[k].At - s.Faults[k-1].At) / 2).Truncate(time.Millisecond)
		if d < 100*time.Millisecond {
			continue
		}
		out = append(out, variant(s, func(c *scenarios.Scenario) {
			for i := k; i < len(c.Faults); i++ {
				c.Faults[i].At -= d
			}
			c.Duration -= d
		}))
	}
	return out
}

// smallerGroups removes one endpoint from a partition group of several.
func smallerGroups(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for i, f := range s.Faults {
		for g, grp := range f.Groups {
			for j := range grp {
				if len(grp) < 2 {
					continue
				}
				out = append(out, variant(s, func(c *scenarios.Scenario) {
					c.Faults[i].Groups[g] = slices.Delete(c.Faults[i].Groups[g], j, j+1)
				}))
			}
		}
	}
	return out
}

// shortenEpisodes moves one episode's end halfway towards its start (or
// halves the For of a fault that ends itself); the steps after it move up
// with it, and so does the end of the run.
func shortenEpisodes(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for i, f := range s.Faults {
		if d := (f.For / 2).Truncate(time.Millisecond); d >= 100*time.Millisecond {
			out = append(out, variant(s, func(c *scenarios.Scenario) { c.Faults[i].For -= d }))
		}
	}
	for _, ep := range episodes(s.Faults) {
		if ep[1] < 0 {
			continue
		}
		start, end := s.Faults[ep[0]].At, s.Faults[ep[1]].At
		d := ((end - start) / 2).Truncate(time.Millisecond)
		if d < 100*time.Millisecond {
			continue
		}
		out = append(out, variant(s, func(c *scenarios.Scenario) {
			for i := range c.Faults {
				if i == ep[1] || c.Faults[i].At > end {
					c.Faults[i].At -= d
				}
			}
			c.Duration -= d
			slices.SortStableFunc(c.Faults, func(a, b scenarios.Fault) int { return int(a.At - b.At) })
		}))
	}
	return out
}

// fewerClients keeps one client, or one less; partition groups name the
// clients that are gone as the kept client-(k mod n) instead.
func fewerClients(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for _, n := range []int{1, s.Workload.Clients - 1} {
		if n < 1 || n >= s.Workload.Clients || len(out) > 0 && n == 1 {
			continue
		}
		out = append(out, variant(s, func(c *scenarios.Scenario) {
			c.Workload.Clients = n
			for i := range c.Faults {
				c.Faults[i].Groups = renameClients(c.Faults[i].Groups, n)
			}
		}))
	}
	return out
}

// renameClients maps client-k to client-(k mod n) in every group, keeping
// each name once per group (a name in two groups makes the candidate
// invalid, and it is skipped).
func renameClients(groups [][]scenarios.Target, n int) [][]scenarios.Target {
	for g, grp := range groups {
		var out []scenarios.Target
		for _, t := range grp {
			if k, err := strconv.Atoi(strings.TrimPrefix(t.Name, "client-")); err == nil && strings.HasPrefix(t.Name, "client-") {
				t.Name = "client-" + strconv.Itoa(k%n)
				if slices.ContainsFunc(out, func(o scenarios.Target) bool { return o.Name == t.Name }) {
					continue
				}
			}
			out = append(out, t)
		}
		groups[g] = out
	}
	return groups
}

// fewerKeys tries one key, then half as many.
func fewerKeys(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	return intSteps(s, s.Workload.Keys, func(c *scenarios.Scenario, n int) { c.Workload.Keys = n })
}

// lowerRate tries 1 operation a second, then half the rate.
func lowerRate(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	return intSteps(s, s.Workload.Rate, func(c *scenarios.Scenario, n int) { c.Workload.Rate = n })
}

// intSteps proposes 1, a quarter, half, three quarters of cur and cur-1,
// each set by set.
func intSteps(s *scenarios.Scenario, cur int, set func(*scenarios.Scenario, int)) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	seen := map[int]bool{}
	for _, n := range []int{1, cur / 4, cur / 2, cur * 3 / 4, cur - 1} {
		if n >= 1 && n < cur && !seen[n] {
			seen[n] = true
			out = append(out, variant(s, func(c *scenarios.Scenario) { set(c, n) }))
		}
	}
	return out
}

// fewerReplicas removes one replica per master (faults naming a removed
// node make the candidate invalid, and it is skipped).
func fewerReplicas(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	if s.Cluster.ReplicasPerMaster == 0 {
		return nil
	}
	return []*scenarios.Scenario{variant(s, func(c *scenarios.Scenario) { c.Cluster.ReplicasPerMaster-- })}
}

// fewerMasters removes one master, keeping at least three (the smallest
// cluster with a majority that survives losing one).
func fewerMasters(s *scenarios.Scenario, _ string) []*scenarios.Scenario {
	if s.Cluster.Masters <= 3 {
		return nil
	}
	return []*scenarios.Scenario{variant(s, func(c *scenarios.Scenario) { c.Cluster.Masters-- })}
}

// Expecting returns s with the expectation whose failure is class added
// (max-lost-writes 0 for a lost write, linearizable for a non-linearizable
// history), so `rcsim run` of the saved file fails the way the finding did.
// Broken invariants fail a run whatever the expectations; the other classes
// already come from an expectation s keeps.
func Expecting(s *scenarios.Scenario, class string) *scenarios.Scenario {
	c := gen.Clone(s)
	switch class {
	case ClassLostWrite:
		zero := 0
		c.Expect.MaxLostWrites = &zero
	case ClassNotLinearizable:
		yes := true
		c.Expect.Linearizable = &yes
	}
	return c
}
