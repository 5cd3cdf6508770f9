package sim_test

// End-to-end claims about the data path: what clients see with no faults,
// and what a master crash costs with and without WAIT. The checker is
// imported by these tests only (sim itself never imports it).

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/workload"
)

// runChecked runs s at its own seed and judges the history.
func runChecked(t *testing.T, s *scenarios.Scenario) (*sim.Result, checker.Summary) {
	t.Helper()
	res, err := sim.Run(s, sim.Options{KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := checker.Check(checker.Input{Scenario: s.Name, Seed: res.Seed, Trace: res.Trace,
		History: res.History, Model: s.Workload.Kind, Budget: 30 * time.Second,
		EndMs: res.VirtualEnd.Milliseconds()})
	if err != nil {
		t.Fatal(err)
	}
	return res, sum
}

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFaultFreeRunsAreLinearizable: with no faults every workload's history
// is linearizable, nothing is lost and nothing is left unknown.
func TestFaultFreeRunsAreLinearizable(t *testing.T) {
	cases := []struct{ name, kind, dist, wait string }{
		{"register", "register", "uniform", "0"},
		{"counter", "counter", "uniform", "0"},
		{"list", "list", "uniform", "0"},
		{"list with zipf keys", "list", "zipf", "0"},
		{"register with WAIT 1", "register", "uniform", "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := builtin(t, "no-faults")
			for k, v := range map[string]string{"duration": "10s", "workload.kind": c.kind,
				"workload.distribution": c.dist, "workload.clients": "8", "workload.rate": "1000/s",
				"workload.wait": c.wait} {
				if err := s.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			res, sum := runChecked(t, s)
			if !sum.Check.Linearizable || sum.Check.LostWrites != 0 {
				t.Fatalf("check %+v", sum.Check)
			}
			for _, op := range res.History {
				if op.Status == history.Unknown && op.Invoke < res.VirtualEnd-s.Workload.Timeout {
					t.Errorf("unknown outcome before the run's end: %+v", op)
				}
			}
			if ok := sum.Check.Ops - sum.Check.Failed - sum.Check.Unknown; ok < 5000 {
				t.Fatalf("only %d ok operations", ok)
			}
		})
	}
}

// crashAt returns the time and node of the run's first crash.
func crashAt(t *testing.T, res *sim.Result) (time.Duration, string) {
	t.Helper()
	for _, e := range res.Trace {
		if e.Kind == trace.Crash {
			return e.At, e.Node
		}
	}
	t.Fatal("no crash in the trace")
	return 0, ""
}

// TestMasterCrashLosesUnreplicatedWrites: the writes the crashed master
// acknowledged but had not streamed to its replica are lost; each lost
// write was answered by that master before it crashed, and the summary
// counts them.
func TestMasterCrashLosesUnreplicatedWrites(t *testing.T) {
	res, sum := runChecked(t, builtin(t, "master-crash-under-load"))
	at, victim := crashAt(t, res)
	lost := checker.LostWrites("list", res.History)
	if len(lost) == 0 || sum.Check.LostWrites != len(lost) || sum.Check.Linearizable {
		t.Fatalf("lost %d, summary %+v", len(lost), sum.Check)
	}
	for _, op := range lost {
		if op.Node != victim || op.Invoke >= at || op.Status != history.OK {
			t.Errorf("lost write %+v was not acknowledged by %s before the crash at %v", op, victim, at)
		}
	}
	// Only the tail is lost: writes acknowledged well before the crash
	// reached the replica in time.
	for _, op := range lost {
		if at-op.Return > time.Second {
			t.Errorf("write acknowledged %v before the crash was lost: %+v", at-op.Return, op)
		}
	}
}

// TestMasterCrashWithWaitLosesNone: with WAIT 1 before acknowledging, the
// single replica has every acknowledged write when it is promoted.
func TestMasterCrashWithWaitLosesNone(t *testing.T) {
	res, sum := runChecked(t, builtin(t, "master-crash-wait"))
	at, victim := crashAt(t, res)
	acked := 0
	for _, op := range res.History {
		if op.Kind == "rpush" && op.Status == history.OK && op.Node == victim && op.Return < at {
			acked++
		}
	}
	if acked < 100 {
		t.Fatalf("only %d writes acknowledged by %s before the crash: the test shows nothing", acked, victim)
	}
	if len(sum.Failovers) != 1 || sum.Failovers[0].PromotedMs == nil {
		t.Fatalf("failovers %+v", sum.Failovers)
	}
	if sum.Check.LostWrites != 0 || !sum.Check.Linearizable {
		t.Fatalf("check %+v", sum.Check)
	}
}

// TestWritesResumeOnPromotedNode: after the failover clients follow the new
// owner (MOVED, or a reloaded slot map) and writes_resumed_ms measures the
// first write the promoted replica acknowledged for the lost slots.
func TestWritesResumeOnPromotedNode(t *testing.T) {
	res, sum := runChecked(t, builtin(t, "master-crash"))
	if len(sum.Failovers) != 1 {
		t.Fatalf("failovers %+v", sum.Failovers)
	}
	f := sum.Failovers[0]
	if f.PromotedMs == nil || f.WritesResumedMs == nil {
		t.Fatalf("failover %+v", f)
	}
	if *f.WritesResumedMs < *f.PromotedMs || *f.WritesResumedMs-*f.PromotedMs > 2000 {
		t.Fatalf("writes resumed %d ms after the fault, promotion at %d ms", *f.WritesResumedMs, *f.PromotedMs)
	}
	// Both figures are whole ms, the fault (jittered) at any µs: the
	// write's return is within 1 ms of their sum.
	resumedMs := f.FaultAtMs + *f.WritesResumedMs
	served := false
	for _, op := range res.History {
		if d := op.Return.Milliseconds() - resumedMs; op.Status == history.OK && op.Kind == "set" && d >= -1 && d <= 1 {
			served = served || op.Node == f.PromotedNode
		}
	}
	if !served {
		t.Fatalf("no write acknowledged by %s at %d ms", f.PromotedNode, resumedMs)
	}
}

// TestClientsOnBothSidesOfAPartition: client-0, cut off with the old
// master, gets its writes acknowledged by it (and later lost); the clients
// on the majority side time out on it, then write to the promoted replica.
func TestClientsOnBothSidesOfAPartition(t *testing.T) {
	s := builtin(t, "minority-partition")
	// Short timeouts so client-0 makes attempts on m0 between those that
	// time out on the unreachable majority; reads half the time, so that
	// later reads prove the minority's acknowledged writes lost.
	for k, v := range map[string]string{"workload.timeout": "250ms", "workload.read-ratio": "50"} {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	res, sum := runChecked(t, s)
	var cut, healed time.Duration
	for _, e := range res.Trace {
		switch e.Kind {
		case trace.Partition:
			cut = e.At
		case trace.Heal:
			healed = e.At
		}
	}
	if len(sum.Failovers) == 0 || sum.Failovers[0].PromotedNode == "" {
		t.Fatalf("failovers %+v", sum.Failovers)
	}
	promoted := sum.Failovers[0].PromotedNode
	minorityAcked, majorityOnPromoted := 0, 0
	for _, op := range res.History {
		if op.Status != history.OK || op.Kind != "set" || op.Invoke < cut || op.Invoke > healed {
			continue
		}
		if op.Client == 0 && op.Node == "m0" {
			minorityAcked++
		}
		if op.Client != 0 && op.Node == promoted {
			majorityOnPromoted++
		}
		if op.Client == 0 && op.Node != "m0" {
			t.Errorf("client-0 reached %s across the partition: %+v", op.Node, op)
		}
	}
	// Across the partition client-0's established connections time out
	// (unknown), are dropped as bad, and the new dials are never answered:
	// those operations definitely did not run.
	dialFailed := 0
	for _, op := range res.History {
		if op.Client == 0 && op.Invoke > cut && op.Invoke < healed && op.Status == history.Fail &&
			op.Err == workload.ErrDialTimeout {
			dialFailed++
		}
	}
	if dialFailed == 0 {
		t.Error("client-0 never failed a dial across the partition")
	}
	if minorityAcked == 0 || majorityOnPromoted == 0 {
		t.Fatalf("minority acked %d, majority on %s %d", minorityAcked, promoted, majorityOnPromoted)
	}
	if sum.Check.LostWrites == 0 {
		t.Fatal("the minority master's writes were not lost")
	}
}

// TestMinReplicasBoundsMinorityWrites: with min-replicas-to-write 1 and
// min-replicas-max-lag 2, the master cut off from its replica refuses
// writes with NOREPLICAS within a few seconds instead of acknowledging
// them until its node timeout makes it CLUSTERDOWN.
func TestMinReplicasBoundsMinorityWrites(t *testing.T) {
	s := builtin(t, "minority-partition")
	for k, v := range map[string]string{"workload.timeout": "250ms", "workload.read-ratio": "20",
		"cluster-node-timeout": "15000", "min-replicas-to-write": "1", "min-replicas-max-lag": "2"} {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := runChecked(t, s)
	const cut = 10 * time.Second
	// The replica's last ACK is at most 1 s old at the cut; refreshGoodSlavesCount
	// runs once a second and lag is compared in whole seconds.
	const refusedBy = cut + 5*time.Second
	acked, refused := 0, 0
	for _, op := range res.History {
		if op.Client != 0 || op.Node != "m0" || op.Kind != "set" || op.Invoke < cut {
			continue
		}
		switch {
		case op.Status == history.OK && op.Invoke >= refusedBy:
			t.Errorf("write acknowledged %v after the cut: %+v", op.Invoke-cut, op)
		case op.Status == history.OK:
			acked++
		case op.Status == history.Fail && op.Err == "NOREPLICAS Not enough good replicas to write.":
			refused++
		}
	}
	if refused == 0 {
		t.Fatalf("no NOREPLICAS (acked %d)", acked)
	}
	t.Logf("client-0 on m0 after the cut: %d acknowledged, %d refused", acked, refused)
}

// TestReadsFromReplicas: with read-from-replicas every read is served by a
// replica (READONLY), every write by a master.
func TestReadsFromReplicas(t *testing.T) {
	s := builtin(t, "no-faults")
	for k, v := range map[string]string{"duration": "5s", "workload.read-from-replicas": "yes"} {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	res, err := sim.Run(s, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, op := range res.History {
		if op.Status != history.OK {
			continue
		}
		replica := strings.Contains(op.Node, "r")
		switch {
		case op.Kind == "get" && !replica:
			t.Errorf("read served by master %s: %+v", op.Node, op)
		case op.Kind == "set" && replica:
			t.Errorf("write served by replica %s: %+v", op.Node, op)
		case op.Kind == "get":
			reads++
		}
	}
	if reads == 0 {
		t.Fatal("no read served")
	}
}
