package main

// The checker end to end: every built-in scenario without its faults is
// linearizable and keeps every invariant; minority-partition's lost writes
// are found and explained; `rcsim check` on histories from outside rcsim.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rcsim/checker"
	"rcsim/scenarios"
	"rcsim/sim"
)

// checkBuiltin runs a built-in scenario (edited by edit) for its own seed
// and checks it.
func checkBuiltin(t *testing.T, name string, edit func(*scenarios.Scenario)) checker.Summary {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	res, err := sim.Run(s, sim.Options{KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := checkRun(s, res, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestBuiltinScenariosWithoutFaultsAreLinearizable(t *testing.T) {
	for _, name := range scenarios.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			sum := checkBuiltin(t, name, func(s *scenarios.Scenario) { s.Faults, s.Expect = nil, scenarios.Expect{} })
			if sum.Check.Verdict != checker.VerdictOK || sum.Check.LostWrites != 0 || sum.Check.StaleReads != 0 {
				t.Errorf("verdict %s, %d lost, %d stale; keys %+v", sum.Check.Verdict, sum.Check.LostWrites,
					sum.Check.StaleReads, sum.Check.Keys)
			}
			if sum.Check.Ops == 0 {
				t.Errorf("no ops: the workload did not run")
			}
			if len(sum.Invariants) != 0 {
				t.Errorf("invariants violated: %v", sum.Invariants)
			}
			if !strings.HasPrefix(sum.Convergence, "converged") {
				t.Errorf("convergence: %s", sum.Convergence)
			}
		})
	}
}

func TestMinorityPartitionLostWritesExplained(t *testing.T) {
	sum := checkBuiltin(t, "minority-partition", func(*scenarios.Scenario) {})
	c := sum.Check
	if c.Verdict != checker.VerdictIllegal || c.LostWrites == 0 {
		t.Fatalf("verdict %s with %d lost writes, want illegal with some", c.Verdict, c.LostWrites)
	}
	if len(sum.Invariants) != 0 {
		t.Errorf("invariants violated: %v", sum.Invariants)
	}
	if c.LostBy[checker.MinorityMaster] != c.LostWrites {
		t.Errorf("lost by mechanism %v, want all %d minority_master", c.LostBy, c.LostWrites)
	}
	for _, l := range c.Attributed {
		if l.Op.Node != "m0" || !strings.Contains(l.Detail, "m0r0 promoted over m0") {
			t.Errorf("lost write not explained by m0's failover: %s: %s", checker.DescribeOp(l.Op), l.Detail)
		}
	}
	for _, k := range c.Keys {
		joined := strings.Join(k.Context, "\n")
		if len(k.Ops) == 0 || !strings.Contains(joined, "cut off in a minority") || !strings.Contains(joined, "failover of slot") {
			t.Errorf("key %s: context does not show the partition and the failover:\n%s", k.Key, joined)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	corpus := filepath.Join("..", "..", "checker", "testdata")
	cases := []struct {
		name string
		args []string
		code int
		want []string // substrings of stdout (or stderr for exit 2)
	}{
		{"a good history passes", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "list"}, exitOK,
			[]string{"list.jsonl: ok"}},
		{"a lost write is named", []string{filepath.Join(corpus, "bad", "register-lost-write.jsonl")}, exitFailed,
			[]string{"key k: illegal", `lost: client 0 set "k" "c0-2"`}},
		{"a stale read is named", []string{filepath.Join(corpus, "bad", "counter-stale-read.jsonl"), "--model", "counter"}, exitFailed,
			[]string{`stale read: client 1 get "c" -> "1"`, `missed client 0 incr "c" -> "2"`}},
		{"a wrong model is bad input", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "queue"}, exitBadInput,
			[]string{"--model"}},
		{"ops the model does not take are bad input", []string{filepath.Join(corpus, "good", "list.jsonl")}, exitBadInput,
			[]string{"list.jsonl", "register model takes only get and set"}},
		{"a missing trace is bad input", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "list", "--trace", "nope.jsonl"},
			exitBadInput, []string{"--trace"}},
		{"an endless line is refused", []string{"/dev/zero"}, exitBadInput, []string{"/dev/zero:1: read: line longer than 1 MiB"}},
		{"an endless trace is refused", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "list", "--trace", "/dev/zero"},
			exitBadInput, []string{"/dev/zero:1: line longer than 16 MiB"}},
		{"a bad input limit", []string{filepath.Join(corpus, "good", "list.jsonl"), "--max-input-mib", "0"},
			exitBadInput, []string{"--max-input-mib"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"check"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
			if strings.Contains(out, "minority") || strings.Contains(out, "mechanism") {
				t.Errorf("context printed without a trace:\n%s", out)
			}
		})
	}
}

func TestCheckWithTraceAndHTML(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "run", "minority-partition", "--out", dir, "-q"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	html, summary := filepath.Join(dir, "v.html"), filepath.Join(dir, "check.json")
	code, out, errs := runCLI(t, "check", filepath.Join(dir, "history.jsonl"), "--trace", filepath.Join(dir, "trace.jsonl"),
		"--html", html, "--summary", summary, "--budget", time.Minute.String())
	if code != exitFailed {
		t.Fatalf("exit %d, want 1: %s", code, errs)
	}
	for _, w := range []string{"minority_master: acknowledged by m0", "cut off in a minority since 10.000s", "lost writes by mechanism"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	for _, f := range []string{html, summary, filepath.Join(dir, "linearizability.html")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// TestCheckRefusesFileOverTheLimit: a history larger than --max-input-mib
// is refused after reading the limit, naming the file and the flag.
func TestCheckRefusesFileOverTheLimit(t *testing.T) {
	line, err := os.ReadFile(filepath.Join("..", "..", "checker", "testdata", "good", "register.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.jsonl")
	if err := os.WriteFile(path, bytes.Repeat(line, (2<<20)/len(line)+1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "check", path, "--max-input-mib", "1")
	if code != exitBadInput || !strings.Contains(errs, "big.jsonl is larger than 1 MiB (raise the limit with --max-input-mib)") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
