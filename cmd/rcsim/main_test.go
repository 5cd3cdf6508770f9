package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the program in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunMasterCrash(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "master-crash", "--seed", "7", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, f := range []string{"trace.jsonl", "history.jsonl", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "seed", "virtual_ms", "events", "trace_sha256", "failovers", "check"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
	if !strings.Contains(out, "failover of m0") {
		t.Errorf("stdout does not show the failover:\n%s", out)
	}
}

// TestRunTwiceSameHash: two runs of the same scenario and seed print the same
// trace hash (the subprocess version lives in sim's determinism test).
func TestRunTwiceSameHash(t *testing.T) {
	hash := func(seed string) string {
		code, out, errs := runCLI(t, "run", "master-crash", "--seed", seed, "--out", t.TempDir(), "-q")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		i := strings.Index(out, "trace_sha256 ")
		if i < 0 {
			t.Fatalf("no hash in %q", out)
		}
		return strings.TrimSpace(out[i+len("trace_sha256 "):])
	}
	a, b, c := hash("7"), hash("7"), hash("8")
	if a != b {
		t.Errorf("seed 7 twice: %s vs %s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 give the same hash %s", a)
	}
}

// TestBadInputExits2 covers the input errors of `rcsim run`: each exits 2
// and names the file, line and field.
func TestBadInputExits2(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"bad yaml", "name: x\n  description: [\n", "bad.yaml:"},
		{"unknown field", "name: x\ndescription: d\nduration: 10s\nnod: 3\n", "bad.yaml:4: nod"},
		{"negative timeout", "name: x\ndescription: d\nduration: 10s\ncluster:\n  config:\n    cluster-node-timeout: -5\n", "bad.yaml:6: cluster.config.cluster-node-timeout"},
		{"unknown node", "name: x\ndescription: d\nduration: 10s\nfaults:\n  - at: 1s\n    crash: m4\n", "bad.yaml:6: faults[0].crash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := runCLI(t, "run", path, "--out", t.TempDir())
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitBadInput, errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q does not contain %q", errs, c.want)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"nosuchcommand"}, {"run", "no-such-scenario"}, {"run", "master-crash", "--seed", "x"}} {
		if code, _, errs := runCLI(t, args...); code != exitBadInput {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errs)
		}
	}
}

func TestScenariosLists(t *testing.T) {
	code, out, _ := runCLI(t, "scenarios")
	if code != exitOK || !strings.Contains(out, "master-crash") || !strings.Contains(out, "minority-partition") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// TestRunReshardUnderLoad: the reshard scenario's expectations hold through
// the checker (linearizable, no acknowledged write lost).
func TestRunReshardUnderLoad(t *testing.T) {
	code, out, errs := runCLI(t, "run", "reshard-under-load", "--seed", "7", "--out", t.TempDir())
	if code != exitOK || !strings.Contains(out, "check: ok") || !strings.Contains(out, "0 acknowledged writes lost") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestDumpShowsMigrationMarkers: --dump-at prints the open slot of an
// interrupted reshard as Redis's CLUSTER NODES does, on the myself lines of
// the source ([slot->-target]) and the target ([slot-<-source]), and the
// summary lists the open slots.
func TestDumpShowsMigrationMarkers(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "reshard-partition", "--seed", "1", "--out", dir, "--dump-at", "30s")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, re := range []string{
		`(?m)^[0-9a-f]{40} 127\.0\.0\.1:30001@40001 myself,master - \d+ \d+ \d+ connected [0-9 -]+ \[(\d+)->-[0-9a-f]{40}\]$`,
		`(?m)^[0-9a-f]{40} 127\.0\.0\.1:30002@40002 myself,master - \d+ \d+ \d+ connected [0-9 -]+ \[(\d+)-<-[0-9a-f]{40}\]$`,
		`slot left open at the end: m0: \d+ migrating to m1`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"open_slots": [`) {
		t.Errorf("summary.json lacks open_slots:\n%s", b)
	}
}

// TestRunStoppedBeforePromotionNotConverged: at 12s m0 is dead and not yet
// failed over; the others still trust it, which is no convergence.
func TestRunStoppedBeforePromotionNotConverged(t *testing.T) {
	code, out, _ := runCLI(t, "run", "master-crash", "--until", "12s", "--out", t.TempDir())
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if strings.Contains(out, "converged 0.000s") || !strings.Contains(out, "served by m0, which is down") {
		t.Errorf("convergence misjudged:\n%s", out)
	}
}

// TestFailedAdminStepFailsTheRun: CLUSTER FAILOVER sent to a master is
// refused; admin-ok (judged by default) fails and the run exits 1 saying so.
func TestFailedAdminStepFailsTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "to-master.yaml")
	yaml := "name: to-master\ndescription: failover sent to a master\nduration: 8s\n" +
		"cluster: {masters: 3, replicas-per-master: 1}\nadmin:\n  - at: 5s\n    failover: {node: m0, mode: FORCE}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "run", path, "--out", t.TempDir())
	if code != exitFailed || !strings.Contains(out, "expect admin_ok true: FAILED") ||
		!strings.Contains(out, "ERR You should send CLUSTER FAILOVER to a replica") {
		t.Errorf("exit %d, want %d and the failed step named:\n%s", code, exitFailed, out)
	}
	yaml += "expect:\n  admin-ok: false\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "run", path, "--out", t.TempDir()); code != exitOK {
		t.Errorf("admin-ok: false expects the failure; exit %d:\n%s", code, out)
	}
}

// TestRunBoundsExit2: out-of-range run bounds are refused at once, a run
// that cannot fit in --max-events is refused before it starts, and one that
// reaches the limit says so; all exit 2.
func TestRunBoundsExit2(t *testing.T) {
	heavy := filepath.Join(t.TempDir(), "heavy.yaml")
	if err := os.WriteFile(heavy, []byte("name: heavy\ndescription: 24 h of 1000 clients at 10M/s\nduration: 24h\n"+
		"workload: {kind: register, clients: 1000, rate: 10000000/s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"master-crash", "--until", "1000h"}, "--until 1000h0m0s: want 0 (the scenario's duration) up to 24h0m0s"},
		{[]string{"master-crash", "--until", "-5s"}, "--until -5s"},
		{[]string{"master-crash", "--dump-at", "100h"}, "--dump-at 100h0m0s: want a time from 0 to the end of the run (60.000s)"},
		{[]string{"master-crash", "--dump-at", "-1s"}, "--dump-at -1s"},
		{[]string{"master-crash", "--until", "20s", "--dump-at", "30s"}, "end of the run (20.000s)"},
		{[]string{"master-crash", "--max-events", "0"}, "--max-events 0"},
		{[]string{heavy}, "the run needs at least 1728005184000 events"},
		{[]string{"master-crash", "--max-events", "30000"}, "stopped at the event limit (--max-events 30000) at virtual"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, append(append([]string{"run"}, c.args...), "--out", t.TempDir(), "-q")...)
		if code != exitBadInput || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}
