package main

// The checker end to end: every built-in scenario without its faults is
// linearizable and keeps every invariant; minority-partition's lost writes
// are found and explained; `rcsim check` on histories from outside rcsim.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
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
	for _, name := range scenarios.SmallBuiltinNames() {
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
		{"ops the model does not take are bad input", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "register"}, exitBadInput,
			[]string{"list.jsonl:1: op: rpush", "register model takes only get and set"}},
		{"a missing trace is bad input", []string{filepath.Join(corpus, "good", "list.jsonl"), "--model", "list", "--trace", "nope.jsonl"},
			exitBadInput, []string{"--trace"}},
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
	// The partition comes at 10s plus its jitter.
	for _, w := range []string{"minority_master: acknowledged by m0", "cut off in a minority since 10.", "lost writes by mechanism"} {
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

// TestCheckMalformed: every malformed history a recorder can write is bad
// input (exit 2) with the file, the line and the field.
func TestCheckMalformed(t *testing.T) {
	const set = `{"v":1,"client":0,"op":"set","key":"k","value":"a","invoke_us":1,"return_us":2,"status":"ok","result":"OK"}`
	const get = `{"v":1,"client":1,"op":"get","key":"k","invoke_us":3,"return_us":4,"status":"ok","nil":true}`
	cases := []struct{ name, file, body, want string }{
		{"lrange without list", "h.jsonl", `{"v":1,"client":0,"op":"lrange","key":"k","invoke_us":1,"return_us":2,"status":"ok"}`,
			"h.jsonl:1: list: missing"},
		{"rpush without result", "h.jsonl", `{"v":1,"client":0,"op":"rpush","key":"k","value":"a","invoke_us":1,"return_us":2,"status":"ok"}`,
			"h.jsonl:1: result: missing"},
		{"repeated key", "h.jsonl", set + "\n" + strings.Replace(get, `"key":"k"`, `"key":"k","key":"j"`, 1), "h.jsonl:2: key: repeated key"},
		{"nil with a result", "h.jsonl", set + "\n" + strings.Replace(get, `"nil":true`, `"nil":true,"result":"a"`, 1),
			`h.jsonl:2: result: "a" together with "nil":true`},
		{"empty file", "h.jsonl", "", "h.jsonl: no operations"},
		{"model mismatch", "h.jsonl", set + "\n" + `{"v":1,"client":0,"op":"incr","key":"c","invoke_us":1,"return_us":2,"status":"ok","result":"1"}`,
			"h.jsonl:2: op: incr does not go with the set at line 1"},
		{"given model mismatch", "h.jsonl", "\n" + set, `h.jsonl:2: op: set "k": the counter model takes only get and incr`},
		{"counter get not a number", "h.jsonl", strings.Replace(get, `"nil":true`, `"result":"x"`, 1),
			`h.jsonl:1: result: get "k": "x" is not an integer`},
		{"bom then garbage", "h.jsonl", "\xEF\xBB\xBF" + set + "\n\xEF\xBB\xBF" + get, "h.jsonl:2: invalid JSON object"},
		{"jepsen cas", "h.edn", `{:type :invoke, :f :cas, :value [1 2], :process 0, :time 1}`, "h.edn:1: :f: unsupported :cas"},
		{"jepsen orphan", "h.edn", `{:type :ok, :f :read, :value 1, :process 0, :time 1}`, "h.edn:1: :process: a :ok of process 0 with no :invoke"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"check", path}
			if c.name == "given model mismatch" || c.name == "counter get not a number" {
				args = append(args, "--model", "counter")
			}
			code, out, errs := runCLI(t, args...)
			if code != exitBadInput || !strings.Contains(errs, filepath.Dir(path)+"/"+c.want) {
				t.Fatalf("exit %d, want 2 with %q\nstdout: %s\nstderr: %s", code, c.want, out, errs)
			}
		})
	}
	// /dev/zero: refused at the line limit, not read until memory runs out.
	if _, err := os.Stat("/dev/zero"); err == nil {
		code, _, errs := runCLI(t, "check", "/dev/zero")
		if code != exitBadInput || !strings.Contains(errs, "/dev/zero:1: line longer than the limit of 16 MiB") {
			t.Errorf("/dev/zero: exit %d: %s", code, errs)
		}
		good := filepath.Join("..", "..", "checker", "testdata", "good", "register.jsonl")
		code, _, errs = runCLI(t, "check", good, "--trace", "/dev/zero")
		if code != exitBadInput || !strings.Contains(errs, "/dev/zero:1: line longer than 16 MiB: not a trace") {
			t.Errorf("--trace /dev/zero: exit %d: %s", code, errs)
		}
	}
}

// TestCheckJepsen: a Jepsen history end to end, with its verdict and the
// model inferred; an epoch-scale history prints its times as seconds.
func TestCheckJepsen(t *testing.T) {
	dir := filepath.Join("..", "..", "checker", "testdata", "outside")
	code, out, errs := runCLI(t, "check", filepath.Join(dir, "jepsen-register-lost.edn"))
	if code != exitFailed || !strings.Contains(out, "illegal (register model inferred; 6 ops") ||
		!strings.Contains(out, `lost: client 0 set "1" "11"`) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "check", filepath.Join(dir, "jepsen-register-values-0-4.edn"), "--format", "jepsen")
	if code != exitOK || !strings.Contains(out, "ok (register model inferred; 400 ops") || !strings.Contains(out, "0 acknowledged writes lost, 0 stale reads") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	_, out, _ = runCLI(t, "check", filepath.Join(dir, "register-epoch-times.jsonl"))
	if !strings.Contains(out, "at 1733000000.003s..1733000000.006s") {
		t.Errorf("epoch times:\n%s", out)
	}
}
