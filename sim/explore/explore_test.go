package explore

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/gen"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClassifyOrdersBySeverity: invariants first, then convergence, cluster
// state, lost writes; a lost write hides "not linearizable"; other failed
// expectations come last.
func TestClassifyOrdersBySeverity(t *testing.T) {
	tests := []struct {
		name string
		sum  checker.Summary
		want []string
	}{
		{"passed", checker.Summary{Check: checker.CheckSummary{Verdict: checker.VerdictOK}}, nil},
		{"lost write hides illegal", checker.Summary{Check: checker.CheckSummary{Verdict: checker.VerdictIllegal, LostWrites: 2}},
			[]string{ClassLostWrite}},
		{"stale read alone", checker.Summary{Check: checker.CheckSummary{Verdict: checker.VerdictIllegal}},
			[]string{ClassNotLinearizable}},
		{"unknown verdict is no finding", checker.Summary{Check: checker.CheckSummary{Verdict: checker.VerdictUnknown}}, nil},
		{"invariants sorted, convergence after", checker.Summary{
			Invariants: []checker.Violation{{Rule: checker.RuleConverged}, {Rule: checker.RuleSlotOwner}, {Rule: checker.RuleOneVote}},
			Check:      checker.CheckSummary{LostWrites: 1}},
			[]string{ClassInvariant + checker.RuleSlotOwner, ClassInvariant + checker.RuleOneVote, ClassNotConverged, ClassLostWrite}},
		{"expectations", checker.Summary{Expectations: []checker.ExpectResult{
			{Name: "failover_within"}, {Name: "cluster_ok"}, {Name: "linearizable", Want: "false"}, {Name: "converged_within", OK: true}}},
			[]string{ClassClusterNotOK, ClassExpect + "failover_within", ClassExpect + "linearizable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.sum); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRunBuiltins: the built-ins pass their own expectations, and
// minority-partition's lost write is a finding all the same.
func TestRunBuiltins(t *testing.T) {
	for name, want := range map[string][]string{"no-faults": nil, "master-crash": nil, "minority-partition": {ClassLostWrite}} {
		o, err := Run(builtin(t, name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o.Classes, want) {
			t.Errorf("%s: %s, want classes %v", name, o, want)
		}
	}
}

// TestRunRefusesBugsWithoutAllowBugs: x-bugs need AllowBugs, as in sim.Run.
func TestRunRefusesBugsWithoutAllowBugs(t *testing.T) {
	s := builtin(t, "no-faults")
	s.Bugs.GrantTwoVotesPerEpoch = true
	if _, err := Run(s, Options{}); err == nil {
		t.Fatal("a scenario with x-bugs ran without AllowBugs")
	}
}

// TestShrinkMinorityPartition: minority-partition's lost write shrinks to a
// scenario that still loses a write, adds no other failure, is no bigger
// on any axis, and is a valid file.
func TestShrinkMinorityPartition(t *testing.T) {
	s := builtin(t, "minority-partition")
	sh, err := Shrink(s, ClassLostWrite, ShrinkOptions{MaxRuns: 60})
	if err != nil {
		t.Fatal(err)
	}
	got := sh.Scenario
	if !slices.Equal(sh.Outcome.Classes, []string{ClassLostWrite}) {
		t.Fatalf("shrunk run: %s, want only a lost write", sh.Outcome)
	}
	if sh.Steps == 0 || sh.Runs > 60 {
		t.Fatalf("%d steps in %d runs", sh.Steps, sh.Runs)
	}
	if len(got.Faults) > len(s.Faults) || got.Duration > s.Duration || got.Workload.Clients > s.Workload.Clients ||
		got.Workload.Keys > s.Workload.Keys || got.Workload.Rate > s.Workload.Rate {
		t.Errorf("shrunk scenario is bigger somewhere: %+v", got)
	}
	if _, ok := reparse(got); !ok {
		t.Error("shrunk scenario is not a valid file")
	}
	again, _ := Run(got, Options{})
	if again.TraceSHA256 != sh.Outcome.TraceSHA256 {
		t.Error("the shrunk scenario does not replay its run")
	}
}

// TestShrinkOfAPassingRunIsItself: nothing to shrink when the class is not
// there.
func TestShrinkOfAPassingRunIsItself(t *testing.T) {
	sh, err := Shrink(builtin(t, "no-faults"), ClassLostWrite, ShrinkOptions{})
	if err != nil || sh.Runs != 1 || sh.Steps != 0 {
		t.Fatalf("got %+v, %v", sh, err)
	}
}

// TestEpisodesPairFaultsWithTheirEnds.
func TestEpisodesPairFaultsWithTheirEnds(t *testing.T) {
	fs := []scenarios.Fault{{Kind: scenarios.Crash}, {Kind: scenarios.Partition}, {Kind: scenarios.Crash},
		{Kind: scenarios.Restart}, {Kind: scenarios.Heal}, {Kind: scenarios.Restart}, {Kind: scenarios.Partition}}
	want := [][2]int{{0, 3}, {1, 4}, {2, 5}, {6, -1}}
	if got := episodes(fs); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestExploreSameReportAnyWorkers: the report depends on the config, not on
// how many runs go in parallel.
func TestExploreSameReportAnyWorkers(t *testing.T) {
	menu := gen.NemesisMenu()
	menu.Kinds = []gen.Kind{gen.KindIsolate}
	var reports []Report
	for _, w := range []int{1, 2} {
		var seen []string
		rep, err := Explore(Config{Base: builtin(t, "minority-partition"), Menu: menu, Runs: 3, Seed: 11, Workers: w,
			ShrinkRuns: 5, Progress: func(s *scenarios.Scenario, o Outcome) { seen = append(seen, o.TraceSHA256) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 3 || rep.Runs != 3 {
			t.Fatalf("%d workers: %d runs reported, %d seen", w, rep.Runs, len(seen))
		}
		rep.Elapsed = 0
		reports = append(reports, rep)
	}
	if !reflect.DeepEqual(reports[0], reports[1]) {
		t.Fatalf("1 and 2 workers differ:\n%+v\n%+v", reports[0], reports[1])
	}
	if len(reports[0].Findings) == 0 {
		t.Fatal("no finding around minority-partition")
	}
}

// TestExploreNeedsALimit: neither runs nor time is an error, not a run
// that never ends.
func TestExploreNeedsALimit(t *testing.T) {
	if _, err := Explore(Config{Base: builtin(t, "no-faults"), Menu: gen.NemesisMenu()}); err == nil {
		t.Fatal("no error without Runs or Time")
	}
	rep, err := Explore(Config{Base: builtin(t, "no-faults"), Menu: gen.NemesisMenu(), Time: time.Nanosecond})
	if err != nil || rep.Runs > 1 {
		t.Fatalf("a time limit that has passed: %d runs, %v", rep.Runs, err)
	}
}

// TestExpectingMakesTheFileFail: a saved lost-write finding expects no lost
// writes, so `rcsim run` of it fails.
func TestExpectingMakesTheFileFail(t *testing.T) {
	s := Expecting(builtin(t, "minority-partition"), ClassLostWrite)
	o, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Summary.OK {
		t.Fatal("the run passes its expectations")
	}
}

// TestRunRefusesAnEventLimitedRun: a run cut off by MaxEvents is an error,
// not an outcome, so no verdict covers faults the run never saw end.
func TestRunRefusesAnEventLimitedRun(t *testing.T) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Run(s, Options{MaxEvents: 30000})
	if !errors.Is(err, ErrEventLimit) || o.Failed() || o.TraceSHA256 != "" {
		t.Fatalf("Run at MaxEvents 30000: outcome %+v, err %v; want ErrEventLimit and no outcome", o, err)
	}
	if !strings.Contains(err.Error(), "master-crash seed") || !strings.Contains(err.Error(), "30000 kernel events") {
		t.Errorf("error %q does not name the scenario, seed and limit", err)
	}
}
