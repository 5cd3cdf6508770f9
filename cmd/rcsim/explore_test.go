package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/explore"
)

// loadFinding reads a saved finding back and runs it, as `rcsim run` would.
func loadFinding(t *testing.T, path string, allowBugs bool) (*scenarios.Scenario, explore.Outcome) {
	t.Helper()
	s, err := scenarios.Load(path)
	if err != nil {
		t.Fatalf("saved finding does not load: %v", err)
	}
	o, err := explore.Run(s, explore.Options{AllowBugs: allowBugs})
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// TestExploreMinorityPartitionFindsLostWrite: a small exploration around
// minority-partition finds the lost-write anomaly and shrinks it to one
// partition and a handful of operations; the saved file replays it and
// `rcsim run` of it fails.
func TestExploreMinorityPartitionFindsLostWrite(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "explore", "minority-partition", "--runs", "4", "--seed", "11",
		"--kinds", "isolate", "--out", dir, "-j", "2")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, out, errs)
	}
	path := filepath.Join(dir, "lost-write-seed11.yaml")
	if !strings.Contains(out, "lost-write: ") || !strings.Contains(out, path) {
		t.Fatalf("no lost-write finding in:\n%s", out)
	}
	s, o := loadFinding(t, path, false)
	partitions := 0
	for _, f := range s.Faults {
		if f.Kind == scenarios.Partition {
			partitions++
		}
	}
	if partitions != 1 || len(s.Faults) > 2 {
		t.Errorf("shrunk to %d faults with %d partitions, want one partition (and at most its heal)", len(s.Faults), partitions)
	}
	if ops := o.Summary.Check.Ops; ops > 30 {
		t.Errorf("shrunk run has %d operations, want a handful", ops)
	}
	if !o.Has(explore.ClassLostWrite) {
		t.Errorf("replaying %s: %s, want a lost write", path, o)
	}
	if code, out, _ := runCLI(t, "run", path, "--out", t.TempDir(), "-q"); code != exitFailed {
		t.Errorf("rcsim run of the finding: exit %d, want %d\n%s", code, exitFailed, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.txt")); err != nil {
		t.Error(err)
	}
}

// TestExploreCatchesDoubleVote: with the deliberate bug (a master votes
// twice in one epoch) explore reports the broken invariant; the same
// exploration without the bug does not.
func TestExploreCatchesDoubleVote(t *testing.T) {
	bug := filepath.Join("testdata", "double-vote.yaml")
	args := []string{"explore", bug, "--runs", "30", "--kinds", "split,crash", "--shrink-runs", "40", "-j", "2"}
	code, _, errs := runCLI(t, append(args, "--out", t.TempDir())...)
	if code != exitBadInput || !strings.Contains(errs, "--allow-bugs") {
		t.Fatalf("without --allow-bugs: exit %d, want %d naming --allow-bugs\n%s", code, exitBadInput, errs)
	}
	code, out, errs := runCLI(t, append(args, "--out", t.TempDir(), "--allow-bugs")...)
	if code != exitFailed || !strings.Contains(out, "invariant:one_vote_per_epoch") {
		t.Fatalf("with the bug: exit %d, want %d and invariant:one_vote_per_epoch\n%s\n%s", code, exitFailed, out, errs)
	}
	data, err := os.ReadFile(bug)
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(t.TempDir(), "fixed.yaml")
	if err := os.WriteFile(fixed, []byte(strings.Replace(string(data), "grant-two-votes-per-epoch: true", "grant-two-votes-per-epoch: false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	args[1] = fixed
	_, out, _ = runCLI(t, append(args, "--out", t.TempDir())...)
	if strings.Contains(out, "invariant:") {
		t.Errorf("without the bug explore still reports an invariant:\n%s", out)
	}
}

// TestExploreBadInput: bad flags and files are exit 2 with a message.
func TestExploreBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"explore", "minority-partition"}, "--runs"},
		{[]string{"explore", "minority-partition", "--runs", "1", "--kinds", "flood"}, `unknown fault kind "flood"`},
		{[]string{"explore", "minority-partition", "--runs", "1", "--max-faults", "0"}, "faults 1..0"},
		{[]string{"explore", "no-such", "--runs", "1"}, "no such scenario"},
		{[]string{"explore", "minority-partition", "--runs", "1", "--max-events", "0"}, "--max-events 0: want a positive number"},
		// A schedule cut off by the event limit is not judged as if it had finished.
		{[]string{"explore", "minority-partition", "--runs", "1", "--max-events", "80000"}, "seed 1: stopped at the event limit"},
	} {
		code, _, errs := runCLI(t, append(tc.args, "--out", t.TempDir())...)
		if code != exitBadInput || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tc.args, code, errs, exitBadInput, tc.want)
		}
	}
}

// longScenario is minority-partition lasting 2 h: one run of it takes
// minutes of CPU.
func longScenario(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "library", "minority-partition.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "long.yaml")
	if err := os.WriteFile(path, bytes.Replace(b, []byte("duration: 60s"), []byte("duration: 2h"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExploreTimeIsAHardLimit: with runs far longer than --time, explore
// gives them up at the limit and still saves its summary.
func TestExploreTimeIsAHardLimit(t *testing.T) {
	out := t.TempDir()
	start := time.Now()
	code, stdout, errs := runCLI(t, "explore", longScenario(t), "--time", "2s", "--out", out)
	if took := time.Since(start); code != exitOK || took > 30*time.Second {
		t.Fatalf("exit %d after %s: %s%s", code, took, stdout, errs)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.txt"))
	if err != nil || !strings.Contains(string(b), "stopped at --time 2s") {
		t.Errorf("summary.txt: %v %q", err, b)
	}
}

// TestExploreSavesOnInterrupt: the first SIGINT stops the exploration the
// way --time does, and what it found is saved.
func TestExploreSavesOnInterrupt(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x") // made by exploreCmd after it set up its SIGINT handler
	long := longScenario(t)
	type result struct {
		code   int
		stdout string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, _ := runCLI(t, "explore", long, "--runs", "4", "--out", out)
		done <- result{code, stdout}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(out); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("explore did not start")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != exitOK || !strings.Contains(r.stdout, "(interrupted: runs in flight given up") {
			t.Errorf("exit %d: %s", r.code, r.stdout)
		}
		if _, err := os.Stat(filepath.Join(out, "summary.txt")); err != nil {
			t.Error(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("explore did not stop within 30s of SIGINT")
	}
}
