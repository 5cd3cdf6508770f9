// Property tests: random topologies, settings, workloads and fault
// schedules (scenarios/gen), each run judged by the checker (sim/explore).
// `make test` runs a few checks of each (propChecks below); `make proptest`
// runs many more with -rapid.checks. A failing case prints the rapid seed and
// writes the scenario file that reproduces it.
package proptest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/gen"
	"github.com/rcsim/rcsim/scenarios/rng"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/ballast"
	"github.com/rcsim/rcsim/sim/explore"
)

// propChecks is the number of rapid checks per property when neither
// -rapid.checks nor RAPID_CHECKS says otherwise: small, so the whole
// package stays fast in `make test`.
const propChecks = 8

// TestMain lowers rapid's default number of checks (100) to propChecks
// unless the command line or the environment set it, and holds the heap
// ballast for the many runs.
func TestMain(m *testing.M) {
	flag.Parse()
	set := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		_ = flag.Set("rapid.checks", strconv.Itoa(propChecks))
	}
	release := ballast.Hold()
	code := m.Run()
	release()
	os.Exit(code)
}

// fail writes s with explore.WriteRepro (the last write of a test is
// rapid's shrunk case, which it replays last) and fails with the command
// that reproduces it; rapid adds its seed.
func fail(t *rapid.T, s *scenarios.Scenario, format string, args ...any) {
	t.Helper()
	r, err := explore.WriteRepro("", t.Name(), s)
	if err != nil {
		t.Fatalf("writing the failing scenario: %v", err)
	}
	t.Fatalf(format+"\n%s", append(args, r)...)
}

// quickBudget is the per-key Porcupine budget of the properties that are
// not about linearizability: a history with faults and timed-out writes
// can take Porcupine seconds, and these properties do not need its verdict.
const quickBudget = 20 * time.Millisecond

// runChecked runs s and judges it, linearizability within budget; a panic
// is a failure like any other.
func runChecked(t *rapid.T, s *scenarios.Scenario, budget time.Duration) explore.Outcome {
	o, err := explore.Run(s, explore.Options{AllowBugs: s.Bugs.Any(), Budget: budget})
	if err != nil {
		fail(t, s, "run: %v", err)
	}
	if o.Has(explore.ClassPanic) {
		fail(t, s, "simulator panic: %s", o.Panic)
	}
	return o
}

// safety is the property "the trace invariants hold under any schedule",
// for scenarios drawn with o.
func safety(o gen.Options) func(*rapid.T) {
	return func(t *rapid.T) {
		s := gen.Scenario(o).Draw(t, "scenario")
		out := runChecked(t, s, quickBudget)
		for _, c := range out.Classes {
			if strings.HasPrefix(c, explore.ClassInvariant) {
				fail(t, s, "seed %d: invariant broken: %s (%v)", s.Seed, c, out.Summary.Invariants)
			}
		}
	}
}

// TestPropSafetyInvariants: under random topologies, settings, workloads
// and fault schedules, no trace invariant breaks (one master per slot per
// configEpoch, unique configEpochs, monotonic epochs, one vote per epoch).
func TestPropSafetyInvariants(t *testing.T) {
	rapid.Check(t, safety(gen.Defaults()))
}

// TestPropConvergesAfterFaults: once every fault has ended, the cluster
// converges (every live node ok and agreeing on every slot's owner) within
// gen.ConvergeBound, and ends in state ok.
func TestPropConvergesAfterFaults(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Scenario(gen.Defaults()).Draw(t, "scenario")
		out := runChecked(t, s, quickBudget)
		for _, c := range []string{explore.ClassNotConverged, explore.ClassClusterNotOK} {
			if out.Has(c) {
				fail(t, s, "seed %d: %s: %v; convergence: %s", s.Seed, c, out.Summary.Expectations, out.Summary.Convergence)
			}
		}
	})
}

// TestPropNoFaultsLinearizable: without faults every history is
// linearizable and no acknowledged write is lost.
func TestPropNoFaultsLinearizable(t *testing.T) {
	o := gen.Defaults()
	o.Menu = gen.Menu{}
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Scenario(o).Draw(t, "scenario")
		if len(s.Faults) != 0 {
			t.Fatalf("an empty menu drew %d faults", len(s.Faults))
		}
		out := runChecked(t, s, 0)
		if out.Failed() {
			fail(t, s, "seed %d without faults: %s; verdict %s, %d lost writes", s.Seed, strings.Join(out.Classes, ", "),
				out.Summary.Check.Verdict, out.Summary.Check.LostWrites)
		}
	})
}

// TestPropDeterministic: the same scenario and seed give the same trace,
// and the scenario written as a file and read back replays the same run.
func TestPropDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Scenario(gen.Defaults()).Draw(t, "scenario")
		hashes := make([]string, 0, 3)
		data, err := scenarios.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := scenarios.Parse("replay.yaml", data)
		if err != nil {
			fail(t, s, "generated scenario does not parse: %v", err)
		}
		for _, sc := range []*scenarios.Scenario{s, s, back} {
			res, err := sim.Run(sc, sim.Options{})
			if err != nil {
				fail(t, s, "run: %v", err)
			}
			hashes = append(hashes, res.TraceSHA256)
		}
		if hashes[0] != hashes[1] || hashes[0] != hashes[2] {
			fail(t, s, "seed %d: runs differ: %v (twice in memory, then from its file)", s.Seed, hashes)
		}
	})
}

// TestNemesisReplaysFromFile: a nemesis schedule saved as a scenario file
// and replayed gives the trace hash of the in-memory scenario, and the same
// seed draws the same schedule (issue: the nemesis is a plain scenario).
func TestNemesisReplaysFromFile(t *testing.T) {
	for _, name := range []string{"minority-partition", "master-crash"} {
		b, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 3; seed++ {
			s, err := gen.Nemesis(b, seed, rng.Derive(seed, "nemesis"), gen.NemesisMenu())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "nemesis.yaml")
			data, err := scenarios.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			loaded, err := scenarios.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := gen.Nemesis(b, seed, rng.Derive(seed, "nemesis"), gen.NemesisMenu())
			var hashes []string
			for _, sc := range []*scenarios.Scenario{s, loaded, again} {
				res, err := sim.Run(sc, sim.Options{})
				if err != nil {
					t.Fatal(err)
				}
				hashes = append(hashes, res.TraceSHA256)
			}
			if hashes[0] != hashes[1] || hashes[0] != hashes[2] {
				t.Errorf("%s seed %d: in memory %s, from the file %s, drawn again %s", name, seed, hashes[0], hashes[1], hashes[2])
			}
		}
	}
}

// recorder is a rapid.TB that records a failure instead of failing the
// test, so a test can assert that a property fails. FailNow ends the
// goroutine rapid.Check runs on, as testing.T's does.
type recorder struct {
	name   string
	failed bool
	log    strings.Builder
}

func (r *recorder) Helper()                   {}
func (r *recorder) Name() string              { return r.name }
func (r *recorder) Logf(f string, a ...any)   { fmt.Fprintf(&r.log, f+"\n", a...) }
func (r *recorder) Log(a ...any)              { fmt.Fprintln(&r.log, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.Logf(f, a...); runtime.Goexit() }
func (r *recorder) Skip(a ...any)             { r.Log(a...); runtime.Goexit() }
func (r *recorder) SkipNow()                  { runtime.Goexit() }
func (r *recorder) Errorf(f string, a ...any) { r.failed = true; r.Logf(f, a...) }
func (r *recorder) Error(a ...any)            { r.failed = true; r.Log(a...) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }
func (r *recorder) Fatal(a ...any)            { r.Error(a...); runtime.Goexit() }
func (r *recorder) FailNow()                  { r.failed = true; runtime.Goexit() }
func (r *recorder) Fail()                     { r.failed = true }
func (r *recorder) Failed() bool              { return r.failed }

// checkRecorded runs rapid.Check(r, prop) on its own goroutine, which
// r.FailNow may end, and waits for it.
func checkRecorded(r *recorder, prop func(*rapid.T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		rapid.Check(r, prop)
	}()
	<-done
}

// withFlag sets a (rapid) flag for the rest of the test.
func withFlag(t *testing.T, name, value string) {
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag %s", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// TestPropCatchesDoubleVote: with the deliberate bug that lets a master
// vote twice in one epoch, the safety property fails, naming the broken
// invariant (and writing the scenario that reproduces it).
func TestPropCatchesDoubleVote(t *testing.T) {
	o := gen.Defaults()
	o.MinMasters, o.MaxMasters, o.MaxReplicas = 5, 5, 1
	o.NodeTimeouts = []int{1000}
	o.Latencies = []scenarios.Latency{{Dist: "uniform", Min: 100e6, Max: 200e6}} // slow links: elections overlap
	o.Menu = gen.NemesisMenu()
	o.Menu.Kinds = []gen.Kind{gen.KindSplit, gen.KindCrash}
	o.Bugs.GrantTwoVotesPerEpoch = true
	withFlag(t, "rapid.checks", "60")
	withFlag(t, "rapid.seed", "1")
	withFlag(t, "rapid.shrinktime", "1s")
	withFlag(t, "rapid.nofailfile", "true") // this failure is expected: no fail file to replay
	dir := t.TempDir()
	t.Setenv("RCSIM_PROP_OUT", dir)
	r := &recorder{name: t.Name()}
	checkRecorded(r, safety(o))
	if !r.failed || !strings.Contains(r.log.String(), "invariant:one_vote_per_epoch") {
		t.Fatalf("the safety property missed the double vote:\n%s", r.log.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("want the reproducing scenario written, got %v", files)
	}
	s, err := scenarios.Load(files[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := explore.Run(s, explore.Options{AllowBugs: true})
	if err != nil || !slices.Contains(out.Classes, explore.ClassInvariant+"one_vote_per_epoch") {
		t.Fatalf("replaying %s: %v %v, want the double vote", files[0], out, err)
	}
	want := "reproduce with: rcsim run " + files[0] + " --seed " + strconv.FormatUint(s.Seed, 10) + " --allow-bugs"
	if !strings.Contains(r.log.String(), want) || strings.Contains(r.log.String(), "&scenarios.Scenario{") {
		t.Errorf("the failure should say %q, without a struct dump:\n%s", want, r.log.String())
	}
}
