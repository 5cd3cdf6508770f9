package sim

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/simtest"
)

// hashOf runs a built-in scenario in this process and returns its trace hash.
func hashOf(t testing.TB, name string, seed uint64) string {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return res.TraceSHA256
}

// TestHashHelper is not a test: the determinism test re-executes the test
// binary with it to run a scenario in a fresh process.
func TestHashHelper(t *testing.T) {
	name := os.Getenv("RCSIM_HASH_SCENARIO")
	if name == "" {
		t.Skip("helper for TestDeterminismAcrossProcesses")
	}
	seed, _ := strconv.ParseUint(os.Getenv("RCSIM_HASH_SEED"), 10, 64)
	fmt.Printf("HASH %s\n", hashOf(t, name, seed))
}

func hashInSubprocess(t *testing.T, name string, seed uint64, procs string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RCSIM_HASH_SCENARIO="+name,
		"RCSIM_HASH_SEED="+strconv.FormatUint(seed, 10), "GOMAXPROCS="+procs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("subprocess: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if h, ok := strings.CutPrefix(line, "HASH "); ok {
			return h
		}
	}
	t.Fatalf("subprocess printed no hash:\n%s", out)
	return ""
}

// TestDeterminismAcrossProcesses: the same scenario and seed give the same
// trace hash in this process and in fresh processes at GOMAXPROCS 1 and 2.
// Go randomizes map iteration per process, so a map whose order leaks into
// behaviour shows up here.
func TestDeterminismAcrossProcesses(t *testing.T) {
	for _, name := range scenarios.SmallBuiltinNames() {
		want := hashOf(t, name, 7)
		if again := hashOf(t, name, 7); again != want {
			t.Errorf("%s seed 7: two in-process runs differ: %s, %s", name, want, again)
		}
		for _, procs := range []string{"1", "2"} {
			if got := hashInSubprocess(t, name, 7, procs); got != want {
				t.Errorf("%s seed 7 GOMAXPROCS=%s: %s, in-process %s", name, procs, got, want)
			}
		}
	}
}

// TestSeedsDiffer: different seeds give different traces.
func TestSeedsDiffer(t *testing.T) {
	seen := map[string]uint64{}
	for seed := uint64(1); seed <= 5; seed++ {
		h := hashOf(t, "master-crash", seed)
		if prev, dup := seen[h]; dup {
			t.Errorf("seeds %d and %d give the same trace %s", prev, seed, h)
		}
		seen[h] = seed
	}
}

// TestGoldenHashes pins the trace hash of every built-in scenario at seed 7.
// A change is a change of behaviour: regenerate with -update only on purpose,
// and say why in the commit.
//
// The same runs check that every event's typed Detail is what Decode reads
// back from its Value: the stored text and the fields never disagree, so a
// trace read from a file carries the fields the checker reads.
func TestGoldenHashes(t *testing.T) {
	var b strings.Builder
	for _, name := range scenarios.SmallBuiltinNames() {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(s, Options{Seed: 7, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s 7 %s\n", name, res.TraceSHA256)
		for _, e := range res.Trace {
			back := e
			back.Detail = nil
			trace.Decode(&back)
			if !reflect.DeepEqual(back.Detail, e.Detail) {
				t.Errorf("%s: %s: detail %+v, decoded from its value %+v", name, trace.Describe(e), e.Detail, back.Detail)
			}
		}
	}
	simtest.Golden(t, "testdata/hashes.golden", []byte(b.String()))
}
