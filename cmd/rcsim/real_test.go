package main

// Real-server tests of `rcsim calibrate` and `rcsim replay --real`. They
// need redis-server and redis-cli (Debian 12: apt-get install
// redis-server) and skip with a message without them; the partition test
// also needs root (a private network namespace) and nft or iptables.
// RCSIM_CALIBRATE_PORT sets the first port on 127.0.0.1 (each user of a
// shared machine their own), RCSIM_CALIBRATE_TRIALS the kill trials.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/sim/realredis"
)

// TestMain lets the test binary serve as the re-executed harness inside a
// network namespace (realredis.Reexec runs os.Executable()).
// RCSIM_TEST_RUN_ARGS (JSON) makes it run those arguments as rcsim, for
// the Ctrl-C test.
func TestMain(m *testing.M) {
	if args, ok := realredis.ChildArgs(); ok {
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	if v := os.Getenv("RCSIM_TEST_RUN_ARGS"); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			os.Exit(exitBadInput)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func needRedis(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real servers: skipped in -short mode")
	}
	if err := realredis.Preflight("redis-server", "redis-cli"); err != nil {
		t.Skipf("real servers: %v; the simulator is not compared with a real Redis", err)
	}
}

// TestCalibrateKillAgainstRedis runs `rcsim calibrate` for SIGKILL at a
// 1 s node timeout and checks the files #19's report reads and the real
// promotion against the reference's bounds.
func TestCalibrateKillAgainstRedis(t *testing.T) {
	needRedis(t)
	trials := envInt(t, "RCSIM_CALIBRATE_TRIALS", 1)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"calibrate", "--faults", "kill", "--timeouts", "1000", "--trials", strconv.Itoa(trials),
		"--seeds", "20", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	t.Log(stdout.String())
	if !strings.Contains(stdout.String(), "promotion") || !strings.Contains(stdout.String(), "KS D") {
		t.Errorf("no per-phase table printed:\n%s", stdout.String())
	}
	rows := readCSV(t, filepath.Join(out, "calibration-samples.csv"))
	if got := strings.Join(rows[0], ","); got != "server,fault,timeout_ms,phase,source,trial,ms" {
		t.Fatalf("samples header %q", got)
	}
	count := map[string]int{}
	for _, r := range rows[1:] {
		count[r[4]+" "+r[3]]++
		if r[4] != "real" || r[3] != "promotion" {
			continue
		}
		// The reference's bounds for promotion after a crash (Part III): no
		// earlier than the node timeout plus the 500 ms election delay, no
		// later than 2T + 1.6 s (10 ms polling on top).
		ms, err := strconv.ParseFloat(r[6], 64)
		if err != nil || ms < 1500 || ms > 3610 {
			t.Errorf("real promotion %q ms outside 1500..3610: the harness, not the simulator, is off", r[6])
		}
	}
	if count["real promotion"] != trials || count["sim promotion"] != 20 {
		t.Errorf("samples: %d real and %d simulated promotions, want %d and 20", count["real promotion"], count["sim promotion"], trials)
	}
	if sum := readCSV(t, filepath.Join(out, "calibration-summary.csv")); len(sum) < 5 {
		t.Errorf("summary has %d lines", len(sum))
	}
	if _, err := realredis.FreePorts("127.0.0.1", defaultPort(), 6, 6); err != nil {
		t.Errorf("after the run: %v (a server left behind?)", err)
	}
}

// TestReplayMinorityPartitionReal replays a short minority partition on
// real servers inside a private namespace and checks that the summary's
// verdict and lost writes are the checker's own on the recorded history.
func TestReplayMinorityPartitionReal(t *testing.T) {
	needRedis(t)
	if err := realredis.NamespaceSupport(); err != nil {
		t.Skipf("real partition: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "short-minority.yaml")
	if err := os.WriteFile(file, []byte(`name: short-minority
description: minority-partition with a 1 s node timeout and 5 s cut, to run on real servers in a test
duration: 10s
cluster:
  masters: 3
  replicas-per-master: 1
  config:
    cluster-node-timeout: 1000
network:
  latency: {dist: lognormal, median: 50us, p99: 500us}
workload:
  kind: register
  clients: 6
  rate: 600/s
  keys: 100
  timeout: 300ms
faults:
  - at: 3s
    partition: [[{master_of_slot: 0}, client-0, client-1], [rest]]
  - at: 7s
    heal: all
expect:
  failover-within: 5s
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"replay", file, "--real", "--out", out}, &stdout, &stderr)
	t.Logf("exit %d after %v\n%s%s", code, time.Since(start).Round(time.Second), stdout.String(), stderr.String())
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	fh, err := os.Open(filepath.Join(out, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	ops, err := history.Read("history.jsonl", fh)
	if err != nil {
		t.Fatalf("the real history is not in rcsim's format: %v", err)
	}
	var sum checker.Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(b, &sum) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if lost := len(checker.LostWrites("register", ops)); sum.Check.LostWrites != lost || len(ops) < 1000 {
		t.Errorf("summary: %d lost writes, %d ops; the checker finds %d lost in the history", sum.Check.LostWrites, len(ops), lost)
	}
	if sum.Check.LostWrites > 0 && sum.Check.Verdict != checker.VerdictIllegal {
		t.Errorf("%d lost writes but verdict %s", sum.Check.LostWrites, sum.Check.Verdict)
	}
	if len(sum.Failovers) == 0 || sum.Failovers[0].FailedNode != "m0" || sum.Failovers[0].PromotedMs == nil {
		t.Errorf("no failover of m0 observed: %+v", sum.Failovers)
	}
}

// TestCalibrateInterrupted sends SIGINT to a calibration while its servers
// run, as Ctrl-C does, and checks it exits 1 with every server gone.
func TestCalibrateInterrupted(t *testing.T) {
	needRedis(t)
	base := defaultPort() + 50 // clear of the other tests' block
	args, _ := json.Marshal([]string{"calibrate", "--faults", "kill", "--trials", "1", "--seeds", "2",
		"--timeouts", "1000", "--port", strconv.Itoa(base), "--out", t.TempDir()})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RCSIM_TEST_RUN_ARGS="+string(args))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Wait until the servers listen (their ports are taken), then interrupt.
	deadline := time.Now().Add(20 * time.Second)
	for !portTaken(base) {
		if time.Now().After(deadline) {
			t.Fatalf("no server listening on %d after 20s:\n%s", base, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed {
		t.Errorf("interrupted calibrate: %v, want exit %d\n%s", err, exitFailed, out.String())
	}
	if !strings.Contains(out.String(), "every server was killed") {
		t.Errorf("no word of the cleanup:\n%s", out.String())
	}
	if _, err := realredis.FreePorts("127.0.0.1", base, 6, 6); err != nil {
		t.Errorf("after SIGINT: %v: a server was left behind", err)
	}
}

func portTaken(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 50*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %v (%d rows)", path, err, len(rows))
	}
	return rows
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// Bad input to the real-server commands is refused with exit 2 and a
// message naming what is wrong, before any server starts (no redis-server
// needed).
func TestRealBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "master-crash"}, "--real is required"},
		{[]string{"replay", "flapping-master-link", "--real"}, `flapping-master-link.yaml:`},
		{[]string{"replay", "flapping-master-link", "--real"}, `fault "flap" cannot be applied to real processes`},
		{[]string{"replay", "master-crash", "--real", "--server", "/nonexistent/redis-server"}, "/nonexistent/redis-server not found"},
		{[]string{"calibrate", "--faults", "kill,boom"}, `unknown fault "boom"`},
		{[]string{"calibrate", "--timeouts", "5"}, "5 ms is outside 100..60000"},
		{[]string{"calibrate", "--replicas", "0"}, "--replicas: want 1..5"},
		{[]string{"calibrate", "--cli", "/nonexistent/redis-cli"}, "/nonexistent/redis-cli not found"},
	} {
		code, out, errs := runCLI(t, c.args...)
		if code != exitBadInput || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q); want exit 2 and %q", c.args, code, errs, out, c.want)
		}
	}
}
