// Property and fuzz tests: Marshal round-trips any valid scenario, and Parse
// never panics and always names file and line.
package scenarios

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genDur draws a duration in [lo, hi], often a round number.
func genDur(t *rapid.T, label string, lo, hi time.Duration) time.Duration {
	if rapid.Bool().Draw(t, label+"-round") {
		units := []time.Duration{time.Microsecond, time.Millisecond, time.Second, time.Minute}
		u := rapid.SampledFrom(units).Draw(t, label+"-unit")
		if hi/u >= lo/u+1 {
			return u * time.Duration(rapid.Int64Range(int64((lo+u-1)/u), int64(hi/u)).Draw(t, label))
		}
	}
	return time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, label))
}

func genPtr[V any](t *rapid.T, label string, g func() V) *V {
	if !rapid.Bool().Draw(t, label+"-set") {
		return nil
	}
	v := g()
	return &v
}

// genScenario draws a valid scenario, faults sorted by At.
func genScenario(t *rapid.T) *Scenario {
	s := Default()
	s.Name = rapid.StringMatching(`[a-z0-9-]{1,20}`).Draw(t, "name")
	s.Description = rapid.StringMatching(`[ -~]{1,60}`).Draw(t, "description")
	s.Duration = genDur(t, "duration", 1, maxDuration)
	s.Seed = rapid.Uint64().Draw(t, "seed")
	s.Cluster.Masters = rapid.IntRange(1, 100).Draw(t, "masters")
	s.Cluster.ReplicasPerMaster = rapid.IntRange(0, 10).Draw(t, "replicas")
	s.Cluster.Rules = rapid.SampledFrom(RuleSets).Draw(t, "rules")
	for _, cs := range confSettings {
		if !cs.has(s.Cluster.Rules) {
			continue
		}
		switch {
		case cs.intp != nil:
			*cs.intp(&s.Cluster.Config) = rapid.IntRange(max(cs.min, 0), 1<<31-1).Draw(t, cs.name)
		case cs.memp != nil:
			*cs.memp(&s.Cluster.Config) = rapid.Int64Range(1, math.MaxInt64).Draw(t, cs.name)
		case cs.name == "save":
			s.Cluster.Config.Save = rapid.SampledFrom([]string{"", DefaultSave, "1 1", "900 1 300 10"}).Draw(t, cs.name)
		case cs.name == "appendfsync":
			s.Cluster.Config.AppendFsync = rapid.SampledFrom(AppendFsyncs).Draw(t, cs.name)
		default:
			*cs.boolp(&s.Cluster.Config) = rapid.Bool().Draw(t, cs.name)
		}
	}
	s.Network.Latency = genLatency(t)
	s.Network.Loss = genRatio(t, "net-loss", true)
	s.Network.Bandwidth = rapid.Int64Range(0, maxBandwidth).Draw(t, "bandwidth")
	s.Network.MTU = rapid.IntRange(MinMTU, MaxMTU).Draw(t, "mtu")
	w := &s.Workload
	w.Kind = rapid.SampledFrom(workloadKinds).Draw(t, "kind")
	if w.Kind != "none" {
		w.Clients = rapid.IntRange(0, 1000).Draw(t, "clients")
	}
	w.Rate = rapid.IntRange(1, 10000000).Draw(t, "rate")
	w.Keys = rapid.IntRange(1, 1000000).Draw(t, "keys")
	w.Timeout = genDur(t, "timeout", 1, maxDuration)
	w.ReadRatio = rapid.IntRange(0, 100).Draw(t, "read-ratio")
	w.Distribution, w.ZipfMilli = "uniform", 0
	if rapid.Bool().Draw(t, "zipf") {
		w.Distribution, w.ZipfMilli = "zipf", rapid.IntRange(1, 10000).Draw(t, "zipf-exponent")
	}
	w.Wait = rapid.IntRange(0, s.Cluster.ReplicasPerMaster).Draw(t, "wait")
	w.ReadFromReplicas = rapid.Bool().Draw(t, "read-from-replicas")
	s.Network.Links = genLinks(t, s)
	s.Faults = genFaults(t, s)
	s.Expect = Expect{
		FailoverWithin:  genPtr(t, "failover", func() time.Duration { return genDur(t, "failover", 1, maxDuration) }),
		Linearizable:    genPtr(t, "linearizable", func() bool { return rapid.Bool().Draw(t, "linearizable") }),
		ConvergedWithin: genPtr(t, "converged", func() time.Duration { return genDur(t, "converged", 1, maxDuration) }),
		MaxLostWrites:   genPtr(t, "lost", func() int { return rapid.IntRange(0, 1<<31-1).Draw(t, "lost") }),
		ClusterOK:       genPtr(t, "ok", func() bool { return rapid.Bool().Draw(t, "ok") }),
		AdminOK:         genPtr(t, "admin-ok", func() bool { return rapid.Bool().Draw(t, "admin-ok") }),
	}
	s.Bugs.GrantTwoVotesPerEpoch = rapid.Bool().Draw(t, "bug")
	return s
}

func genLatency(t *rapid.T) Latency {
	l := Latency{Dist: rapid.SampledFrom([]string{"constant", "uniform", "normal", "lognormal"}).Draw(t, "dist")}
	a := genDur(t, "lat-a", 1, time.Second)
	b := genDur(t, "lat-b", 1, time.Second)
	lo, hi := min(a, b), max(a, b)
	switch l.Dist {
	case "constant":
		l.Value = a
	case "uniform":
		l.Min, l.Max = lo, hi
	case "normal":
		l.Mean, l.Stddev = a, b
	case "lognormal":
		l.Median, l.P99 = lo, hi
	}
	return l
}

// genTarget draws a target that names an existing endpoint.
func genTarget(t *rapid.T, s *Scenario, nodesOnly bool) Target {
	return genTargetDepth(t, s, nodesOnly, 0)
}

// genTargetDepth stops nesting replica_of at the parser's limit
// (maxTargetDepth), so every drawn target is one the parser accepts.
func genTargetDepth(t *rapid.T, s *Scenario, nodesOnly bool, depth int) Target {
	choices := []string{"name", "slot"}
	if s.Cluster.ReplicasPerMaster > 0 && depth < maxTargetDepth {
		choices = append(choices, "replica")
	}
	switch rapid.SampledFrom(choices).Draw(t, "target-kind") {
	case "slot":
		slot := rapid.IntRange(0, maxSlot).Draw(t, "slot")
		return Target{MasterOfSlot: &slot}
	case "replica":
		inner := genTargetDepth(t, s, true, depth+1)
		return Target{ReplicaOf: &inner}
	}
	names := s.Cluster.NodeNames()
	if !nodesOnly {
		names = append(names, s.Workload.ClientNames()...)
	}
	return Target{Name: rapid.SampledFrom(names).Draw(t, "target-name")}
}

// genRatio draws a probability, sometimes zero when zeroOK.
func genRatio(t *rapid.T, label string, zeroOK bool) Ratio {
	if zeroOK && rapid.Bool().Draw(t, label+"-zero") {
		return Ratio{}
	}
	den := rapid.Uint32Range(1, 1<<32-1).Draw(t, label+"-den")
	return Ratio{Num: rapid.Uint32Range(1, den).Draw(t, label+"-num"), Den: den}
}

// genLinks draws network.links overrides between distinct endpoint names.
func genLinks(t *rapid.T, s *Scenario) []LinkOverride {
	all := append(s.Cluster.NodeNames(), s.Workload.ClientNames()...)
	n := rapid.IntRange(0, 3).Draw(t, "links")
	var out []LinkOverride
	for i := 0; i < n && len(all) >= 2; i++ {
		perm := rapid.Permutation(all).Draw(t, "link-perm")
		k := rapid.IntRange(1, len(perm)-1).Draw(t, "link-split")
		o := LinkOverride{From: perm[:k], To: perm[k : k+1], Directed: rapid.Bool().Draw(t, "link-directed")}
		if rapid.Bool().Draw(t, "link-rest") {
			o.To = []string{"rest"}
		}
		if rapid.Bool().Draw(t, "link-lat") {
			l := genLatency(t)
			o.Latency = &l
		}
		if rapid.Bool().Draw(t, "link-loss") || o.Latency == nil {
			r := genRatio(t, "link-loss", true)
			o.Loss = &r
		}
		if rapid.Bool().Draw(t, "link-bw") {
			b := rapid.Int64Range(0, maxBandwidth).Draw(t, "link-bw")
			o.Bandwidth = &b
		}
		out = append(out, o)
	}
	return out
}

func genFaults(t *rapid.T, s *Scenario) []Fault {
	n := rapid.IntRange(0, 6).Draw(t, "faults")
	var out []Fault
	for i := 0; i < n; i++ {
		f := Fault{At: genDur(t, "at", 0, s.Duration), Persist: true}
		f.Kind = rapid.SampledFrom(faultKinds).Draw(t, "fault-kind")
		genAction(t, s, &f)
		if f.Kind.Lasts() && f.At < s.Duration && rapid.Bool().Draw(t, "for-set") {
			f.For = genDur(t, "for", 1, s.Duration-f.At) // a fault may not outlast the run
		}
		if f.Kind.Lasts() && rapid.Bool().Draw(t, "id-set") {
			f.ID = "f" + strconv.Itoa(i)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	fixOrder(out)
	return out
}

// genAction fills in the fields of f's kind.
func genAction(t *rapid.T, s *Scenario, f *Fault) {
	switch f.Kind {
	case Crash, Pause:
		f.Target = genTarget(t, s, true)
		f.Persist = f.Kind != Crash || rapid.Bool().Draw(t, "persist")
	case Restart, Resume:
		if rapid.Bool().Draw(t, "restart-last") {
			f.Target = Target{Crashed: f.Kind == Restart, Paused: f.Kind == Resume}
		} else {
			f.Target = Target{Name: rapid.SampledFrom(s.Cluster.NodeNames()).Draw(t, "restart-name")}
		}
	case Partition:
		f.Groups = genGroups(t, s)
	case OneWay, Flap, Loss, Reset:
		f.From = []Target{genTarget(t, s, false)}
		f.To = []Target{{Rest: true}}
		f.Directed = f.Kind != OneWay && f.Kind != Reset && rapid.Bool().Draw(t, "directed")
	case Slow:
		f.Target = genTarget(t, s, true)
		f.Delay = genDur(t, "delay", time.Microsecond, maxDuration)
	case Clock:
		f.Target = genTarget(t, s, true)
		if rapid.Bool().Draw(t, "jump") {
			f.Jump = genDur(t, "jump", 1, maxDuration)
		} else {
			f.DriftPct = rapid.SampledFrom([]int{-99, -10, 5, 100, 1000}).Draw(t, "drift")
		}
	case End:
		f.EndID = "pending"
	}
	switch f.Kind {
	case Flap:
		f.Period = genDur(t, "period", time.Millisecond, maxDuration)
		f.DutyPct = rapid.IntRange(1, 99).Draw(t, "duty")
	case Loss:
		f.Ratio = genRatio(t, "ratio", false)
	}
}

// fixOrder makes the sorted steps valid: restart crashed needs a crash
// before it, resume paused a pause, and end a fault with an id.
func fixOrder(out []Fault) {
	for i, f := range out {
		before := func(k FaultKind) bool {
			return slices.ContainsFunc(out[:i], func(g Fault) bool { return g.Kind == k })
		}
		if (f.Kind == Restart && f.Target.Crashed && !before(Crash)) || (f.Kind == Resume && f.Target.Paused && !before(Pause)) {
			out[i].Target = Target{Name: "m0"}
		}
		if f.Kind == End {
			out[i].Kind, out[i].EndID, out[i].Target = Heal, "", Target{}
			for _, g := range out[:i] {
				if g.ID != "" {
					out[i].Kind, out[i].EndID = End, g.ID
				}
			}
		}
	}
}

// genGroups draws 2+ groups of distinct endpoints; the last may hold rest.
func genGroups(t *rapid.T, s *Scenario) [][]Target {
	all := append(s.Cluster.NodeNames(), s.Workload.ClientNames()...)
	perm := rapid.Permutation(all).Draw(t, "perm")
	k := rapid.IntRange(2, 4).Draw(t, "groups")
	groups := make([][]Target, k)
	slots := map[int]bool{}
	for g := range groups {
		if g == k-1 && rapid.Bool().Draw(t, "rest") {
			groups[g] = append(groups[g], Target{Rest: true})
		}
		for len(groups[g]) == 0 || rapid.IntRange(0, 2).Draw(t, "more") > 0 {
			if slot := rapid.IntRange(0, maxSlot).Draw(t, "gslot"); !slots[slot] && rapid.Bool().Draw(t, "by-slot") {
				slots[slot] = true
				groups[g] = append(groups[g], Target{MasterOfSlot: &slot})
			} else if len(perm) > 0 {
				groups[g] = append(groups[g], Target{Name: perm[0]})
				perm = perm[1:]
			} else {
				for slots[slot] {
					slot = (slot + 1) % (maxSlot + 1)
				}
				slots[slot] = true
				groups[g] = append(groups[g], Target{MasterOfSlot: &slot})
			}
		}
	}
	return groups
}

func TestMarshalRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		roundTrip(t, genScenario(t))
	})
}

// TestSetAfterRoundTrip sets the node timeout on generated scenarios.
func TestSetAfterRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t)
		ms := rapid.IntRange(1, 100000).Draw(t, "timeout")
		if err := s.Set("cluster-node-timeout", itoa(ms)); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if s.Cluster.Config.NodeTimeoutMs != ms {
			t.Fatalf("timeout %d, want %d", s.Cluster.Config.NodeTimeoutMs, ms)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// FuzzParse checks Parse never panics, and that each error line names the
// file and a line.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("library/*.yaml")
	more, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("nil scenario without error")
			}
			roundTrip(t, s)
			return
		}
		var e *Error
		if !errors.As(err, &e) || len(e.Problems) == 0 {
			t.Fatalf("error %T %v is not a non-empty *Error", err, err)
		}
		checkLines(t, "fuzz.yaml", err)
	})
}
