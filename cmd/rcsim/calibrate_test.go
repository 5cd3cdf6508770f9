package main

// Calibration against a real Redis: six redis-server processes on
// 127.0.0.1 formed by redis-cli --cluster create, the master of slot 0 killed
// with SIGKILL, and the moments its peers flag it and promote its replica
// compared with the simulator's distribution for the same settings. It needs
// redis-server and redis-cli (Debian 12: apt-get install redis-server, 7.0)
// and skips with a message without them; RCSIM_CALIBRATE_TRIALS sets how many
// real failovers to measure (default 2), RCSIM_CALIBRATE_PORT the first port.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rcsim/checker"
	"rcsim/scenarios"
	"rcsim/sim"
)

// calTimeout is the cluster-node-timeout of the calibration, short so a real
// failover takes seconds.
const calTimeout = 2000 * time.Millisecond

// realFailover is what one real failover showed, after the kill.
type realFailover struct {
	pfail, fail, promoted time.Duration
}

func TestCalibrateMasterCrashAgainstRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration: skipped in -short mode")
	}
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("calibration: %s not found (apt-get install redis-server); the simulator is not compared with a real Redis", bin)
		}
	}
	trials := envInt(t, "RCSIM_CALIBRATE_TRIALS", 2)
	base := envInt(t, "RCSIM_CALIBRATE_PORT", 21000) // bus ports (+10000) stay below the ephemeral range
	const seeds = 100
	sims := simPromotions(t, seeds)
	p10, p50, p90 := sims[seeds/10], sims[seeds/2], sims[seeds*9/10]
	t.Logf("sim, cluster-node-timeout %v, %d seeds: crash→promotion %v..%v, p10 %v, median %v, p90 %v",
		calTimeout, seeds, sims[0], sims[seeds-1], p10, p50, p90)
	// The reference's bounds for promotion after a crash (Part III): no
	// earlier than the node timeout plus the 500 ms election delay, no later
	// than 2T + 1.6 s.
	lo, hi := calTimeout+500*time.Millisecond, 2*calTimeout+1600*time.Millisecond
	var real []time.Duration
	for i := 0; i < trials; i++ {
		r := measureRealFailover(t, base+10*i)
		t.Logf("redis 7.0 trial %d: PFAIL +%v, FAIL +%v, promoted +%v (seen from a surviving master)",
			i+1, r.pfail, r.fail, r.promoted)
		if r.promoted < lo || r.promoted > hi {
			t.Errorf("real promotion after %v, outside the reference's %v..%v: the harness, not the simulator, is off", r.promoted, lo, hi)
		}
		real = append(real, r.promoted)
	}
	slices.Sort(real)
	med := real[len(real)/2]
	if len(real)%2 == 0 {
		med = (real[len(real)/2-1] + real[len(real)/2]) / 2
	}
	t.Logf("redis 7.0, %d trials: crash→promotion %v..%v, median %v", trials, real[0], real[trials-1], med)
	// The simulator is calibrated when the real median falls where most
	// simulated failovers do.
	const slack = 100 * time.Millisecond // 10 ms polling, process scheduling
	if med < p10-slack || med > p90+slack {
		t.Errorf("real median %v outside the simulator's p10..p90 %v..%v (±%v)", med, p10, p90, slack)
	}
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

// simPromotions are the crash→promotion times of master-crash at
// calTimeout over seeds 1..n, sorted.
func simPromotions(t *testing.T, n int) []time.Duration {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("cluster-node-timeout", strconv.Itoa(int(calTimeout.Milliseconds()))); err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for seed := 1; seed <= n; seed++ {
		res, err := sim.Run(s, sim.Options{Seed: uint64(seed), KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		fs := checker.Failovers(res.Trace, res.History)
		if len(fs) == 0 || fs[0].PromotedMs == nil {
			t.Fatalf("sim seed %d: no promotion", seed)
		}
		got = append(got, time.Duration(*fs[0].PromotedMs)*time.Millisecond)
	}
	slices.Sort(got)
	return got
}

// measureRealFailover starts six nodes from port base, forms the cluster,
// kills the master of slot 0 and watches another master's CLUSTER NODES.
func measureRealFailover(t *testing.T, base int) realFailover {
	dir := t.TempDir()
	var ports []string
	for i := 0; i < 6; i++ {
		port := strconv.Itoa(base + i)
		ports = append(ports, port)
		nd := filepath.Join(dir, port)
		if err := os.Mkdir(nd, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", nd,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(calTimeout.Milliseconds())),
			"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--daemonize", "no", "--logfile", filepath.Join(nd, "log"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server on %s: %v", port, err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitFor(t, 5*time.Second, "redis-server "+port+" up", func() bool { return cli(port, "PING") == "PONG" })
	}
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, "127.0.0.1:"+p)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitFor(t, 20*time.Second, "cluster_state:ok everywhere", func() bool {
		for _, p := range ports {
			if !strings.Contains(cli(p, "CLUSTER", "INFO"), "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	var victim redisNode
	var replica redisNode
	var observer string
	waitFor(t, 20*time.Second, "replicas attached (CLUSTER REPLICATE)", func() bool {
		var ok bool
		victim, replica, observer, ok = roles(ports[0])
		return ok
	})
	pid := strings.TrimSpace(infoField(cli(victim.port, "INFO", "server"), "process_id"))
	waitFor(t, 20*time.Second, "the replica of slot 0's master in sync", func() bool {
		return strings.Contains(cli(replica.port, "INFO", "replication"), "master_link_status:up")
	})
	time.Sleep(time.Second) // a few pings with the replica's offset
	if err := exec.Command("kill", "-9", pid).Run(); err != nil {
		t.Fatalf("kill %s: %v", pid, err)
	}
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("observer %s CLUSTER NODES at the end:\n%s", observer, cli(observer, "CLUSTER", "NODES"))
		}
	})
	var r realFailover
	waitFor(t, 10*calTimeout, "promotion of "+replica.id, func() bool {
		nodes := cli(observer, "CLUSTER", "NODES")
		now := time.Since(start)
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			flags := strings.Split(f[2], ",")
			failing := slices.Contains(flags, "fail")
			if f[0] == victim.id && r.pfail == 0 && (failing || slices.Contains(flags, "fail?")) {
				r.pfail = now
			}
			if f[0] == victim.id && r.fail == 0 && failing {
				r.fail = now
			}
			if f[0] == replica.id && r.promoted == 0 && slices.Contains(flags, "master") {
				r.promoted = now
			}
		}
		return r.promoted != 0
	})
	return r
}

// redisNode names a real node by its ID and port.
type redisNode struct{ id, port string }

// roles finds, from CLUSTER NODES on port, the master of slot 0, its
// replica's ID and the port of another master with slots to watch from.
func roles(port string) (victim, replica redisNode, observer string, ok bool) {
	nodes := cli(port, "CLUSTER", "NODES")
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) >= 9 && strings.Contains(f[2], "master") && strings.HasPrefix(f[8], "0-") {
			victim = redisNode{f[0], portOf(f[1])}
		}
	}
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) < 4:
		case f[3] == victim.id:
			replica = redisNode{f[0], portOf(f[1])}
		case strings.Contains(f[2], "master") && f[0] != victim.id && observer == "" && len(f) >= 9:
			observer = portOf(f[1])
		}
	}
	return victim, replica, observer, victim.id != "" && replica.id != "" && observer != ""
}

// portOf takes the port out of "127.0.0.1:31000@41000".
func portOf(addr string) string {
	addr, _, _ = strings.Cut(addr, "@")
	_, p, _ := strings.Cut(addr, ":")
	return p
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}

// cli runs one redis-cli command against 127.0.0.1:port; "" on error.
func cli(port string, args ...string) string {
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
