package gen

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/rng"
)

func base(t rapid.TB) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Builtin("minority-partition")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reparse writes s as a file and reads it back, clearing what Parse adds
// (File, each fault's Line).
func reparse(t rapid.TB, s *scenarios.Scenario) (*scenarios.Scenario, []byte) {
	t.Helper()
	data, err := scenarios.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scenarios.Parse("gen.yaml", data)
	if err != nil {
		t.Fatalf("generated scenario does not parse: %v\n%s", err, data)
	}
	back.File = s.File
	for i := range back.Faults {
		back.Faults[i].Line = 0
	}
	return back, data
}

// TestNemesisSameSeedSameSchedule: the same base, seed and menu give the
// same scenario, byte for byte once written.
func TestNemesisSameSeedSameSchedule(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		a, err := Nemesis(base(t), seed, rng.Derive(seed, "nemesis"), NemesisMenu())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Nemesis(base(t), seed, rng.Derive(seed, "nemesis"), NemesisMenu())
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two schedules differ", seed)
		}
		if len(a.Faults) < 1 {
			t.Fatalf("seed %d: %d faults, want at least one episode", seed, len(a.Faults))
		}
		_, da := reparse(t, a)
		_, db := reparse(t, b)
		if !bytes.Equal(da, db) {
			t.Fatalf("seed %d: files differ", seed)
		}
	}
}

// TestNemesisSeedsDiffer: different seeds draw different schedules.
func TestNemesisSeedsDiffer(t *testing.T) {
	seen := map[string]uint64{}
	for seed := uint64(1); seed <= 20; seed++ {
		s, _ := Nemesis(base(t), seed, rng.Derive(seed, "nemesis"), NemesisMenu())
		s.Seed, s.Description = 0, ""
		_, data := reparse(t, s)
		if prev, dup := seen[string(data)]; dup {
			t.Errorf("seeds %d and %d draw the same schedule", prev, seed)
		}
		seen[string(data)] = seed
	}
}

// TestNemesisRoundTrip: a nemesis scenario survives Marshal and Parse
// unchanged, so the saved file is the schedule.
func TestNemesisRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		s, _ := Nemesis(base(t), seed, rng.Derive(seed, "nemesis"), NemesisMenu())
		back, data := reparse(t, s)
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("seed %d: round trip changed the scenario\n%s", seed, data)
		}
	}
}

// TestNemesisKeepsTheSettleTail: the run lasts until the last episode's end
// plus the settle tail, and every episode ends (by a restart or heal step, or
// after its For).
func TestNemesisKeepsTheSettleTail(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		s, _ := Nemesis(base(t), seed, rng.Derive(seed, "nemesis"), NemesisMenu())
		starts, ends := 0, 0
		var last time.Duration
		for _, f := range s.Faults {
			switch f.Kind {
			case scenarios.Crash, scenarios.Partition:
				starts++
			case scenarios.Restart, scenarios.Heal:
				ends++
			default:
				if f.For <= 0 {
					t.Fatalf("seed %d: a %s that never ends", seed, f.Kind)
				}
			}
			last = max(last, f.At+f.For)
		}
		if starts != ends {
			t.Fatalf("seed %d: %d faults start, %d end", seed, starts, ends)
		}
		if settle := ConvergeBound(s.Cluster.Config); s.Duration-last < settle {
			t.Fatalf("seed %d: last fault ends at %s, run ends at %s: less than %s to settle", seed, last, s.Duration, settle)
		}
	}
}

// TestMenuValidate names the bad field.
func TestMenuValidate(t *testing.T) {
	bad := map[string]func(*Menu){
		"unknown kind": func(m *Menu) { m.Kinds = []Kind{"flood"} },
		"faults":       func(m *Menu) { m.MinFaults = 5 },
		"length":       func(m *Menu) { m.MinLength = 0 },
		"overlap":      func(m *Menu) { m.OverlapPercent = 101 },
	}
	for name, mutate := range bad {
		m := NemesisMenu()
		mutate(&m)
		if err := m.Validate(); err == nil || !strings.HasPrefix(err.Error(), "menu: ") {
			t.Errorf("%s: got %v, want a menu error", name, err)
		}
		if _, err := Nemesis(base(t), 1, rng.Derive(1, "nemesis"), m); err == nil {
			t.Errorf("%s: Nemesis accepted a bad menu", name)
		}
	}
	if _, err := ParseKinds("crash,isolate"); err != nil {
		t.Error(err)
	}
	if _, err := ParseKinds("crash,flood"); err == nil || !strings.Contains(err.Error(), `"flood"`) {
		t.Errorf("ParseKinds: got %v", err)
	}
}

// TestNemesisDrawsEveryKind: over a few seeds every kind of the menu shows
// up, as the fault step the kind names.
func TestNemesisDrawsEveryKind(t *testing.T) {
	step := map[Kind]scenarios.FaultKind{KindCrash: scenarios.Crash, KindIsolate: scenarios.Partition,
		KindSplit: scenarios.Partition, KindOneWay: scenarios.OneWay, KindFlap: scenarios.Flap, KindLoss: scenarios.Loss,
		KindPause: scenarios.Pause, KindSlow: scenarios.Slow, KindClock: scenarios.Clock}
	for _, k := range AllKinds {
		m := NemesisMenu()
		m.Kinds = []Kind{k}
		s, err := Nemesis(base(t), 3, rng.Derive(3, "nemesis"), m)
		if err != nil {
			t.Fatal(err)
		}
		if s.Faults[0].Kind != step[k] {
			t.Errorf("kind %s: first step is a %s, want a %s", k, s.Faults[0].Kind, step[k])
		}
	}
}

// TestPropGeneratedScenariosAreValid: whatever Scenario draws is a valid
// scenario file that reads back unchanged.
func TestPropGeneratedScenariosAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Scenario(Defaults()).Draw(t, "scenario")
		back, data := reparse(t, s)
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the scenario\n%s", data)
		}
		if s.Cluster.Masters < 3 || s.Cluster.Masters > 7 || s.Cluster.ReplicasPerMaster > 2 {
			t.Fatalf("topology out of bounds: %+v", s.Cluster)
		}
	})
}

// TestCloneIsDeep: changing a clone leaves the original alone.
func TestCloneIsDeep(t *testing.T) {
	s := base(t)
	c := Clone(s)
	*c.Faults[0].Groups[0][0].MasterOfSlot = 99
	*c.Expect.FailoverWithin = time.Hour
	if *s.Faults[0].Groups[0][0].MasterOfSlot == 99 || *s.Expect.FailoverWithin == time.Hour {
		t.Fatal("Clone shares targets or expectations")
	}
}

// TestPropTopologyWithinBounds: Topology keeps masters and replicas per
// master inside the options' ranges; "3 masters x 1 replica" is exactly that.
func TestPropTopologyWithinBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := Defaults()
		o.MinMasters = rapid.IntRange(1, 5).Draw(t, "min-masters")
		o.MaxMasters = o.MinMasters + rapid.IntRange(0, 3).Draw(t, "extra-masters")
		o.MinReplicas = rapid.IntRange(0, 2).Draw(t, "min-replicas")
		o.MaxReplicas = o.MinReplicas + rapid.IntRange(0, 2).Draw(t, "extra-replicas")
		c := Topology(o).Draw(t, "cluster")
		if c.Masters < o.MinMasters || c.Masters > o.MaxMasters ||
			c.ReplicasPerMaster < o.MinReplicas || c.ReplicasPerMaster > o.MaxReplicas {
			t.Fatalf("%d masters x %d replicas outside %+v", c.Masters, c.ReplicasPerMaster, o)
		}
	})
}
