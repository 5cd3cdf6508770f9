// Package calibrate compares the simulator with real servers phase by
// phase: it builds one scenario per fault and node timeout, times each
// failover phase in real trials (through sim/realredis) and in simulated
// runs over many seeds (through sim), and summarises both samples side by
// side with the median error and a two-sample KS distance.
package calibrate

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// Faults a calibration can inject into the master of slot 0.
const (
	Kill      = "kill"      // SIGKILL; it stays down
	Stop      = "stop"      // SIGSTOP, SIGCONT after the window
	Partition = "partition" // the master and one client cut off from the rest, healed after the window
)

// Faults lists the fault names in table order.
var Faults = []string{Kill, Stop, Partition}

// Phases are the timed steps of a failover, in order; every value is ms
// after the fault. The names are part of calibration-samples.csv.
var Phases = []string{"pfail", "fail", "election", "promotion", "cluster_ok", "writes_resumed", "minority_write_window"}

// Spec is one calibration point.
type Spec struct {
	Masters, Replicas int
	TimeoutMs         int
	Fault             string
}

// faultAt is when the fault hits. The simulated cluster starts as
// `cluster create` leaves it, and a master only turns its state ok after
// CLUSTER_WRITABLE_DELAY (2 s, clusterUpdateState); at 4 s every node of
// both clusters is ok and the clients have written for a while.
const faultAt = 4 * time.Second

// faultJitter spreads the fault over a second after faultAt (the fault's
// jitter): a real fault lands anywhere in the nodes' once-a-second cron
// cycle, so the simulated one must too, or every seed would hit the same
// point of it.
const faultJitter = time.Second

// Scenario is the scenario of a calibration point, as the simulator and the
// real harness both run it: clients writing to every shard, the fault at
// 4s, for stop and partition a window of 3T+2s (promotion comes by 2T+1.6s
// at the latest) and then 3s to heal and show lost writes.
func Scenario(sp Spec) (*scenarios.Scenario, error) {
	t := time.Duration(sp.TimeoutMs) * time.Millisecond
	window := 3*t + 2*time.Second
	clients := 2 * sp.Masters
	var fault string
	duration := faultAt + faultJitter + window
	at := fmt.Sprintf("  - at: %v\n    jitter: %v\n", faultAt, faultJitter)
	switch sp.Fault {
	case Kill:
		fault = at + "    crash: {master_of_slot: 0}\n"
	case Stop:
		fault = fmt.Sprintf("%s    pause: {master_of_slot: 0}\n    for: %v\n", at, window)
		duration += 3 * time.Second
	case Partition:
		fault = fmt.Sprintf("%s    partition: [[{master_of_slot: 0}, client-0], [rest]]\n    for: %v\n", at, window)
		duration += 3 * time.Second
	default:
		return nil, fmt.Errorf("unknown fault %q (want %s)", sp.Fault, strings.Join(Faults, ", "))
	}
	y := fmt.Sprintf(`name: calibrate-%s-%d
description: calibration point (%s of the master of slot 0, cluster-node-timeout %d)
duration: %v
cluster:
  masters: %d
  replicas-per-master: %d
  config:
    cluster-node-timeout: %d
network:
  latency: {dist: lognormal, median: 50us, p99: 500us}
  mtu: 65536 # loopback, as the real servers run
workload:
  kind: register
  clients: %d
  rate: %d/s
  keys: 100
  timeout: 300ms
faults:
%s`, sp.Fault, sp.TimeoutMs, sp.Fault, sp.TimeoutMs, duration, sp.Masters, sp.Replicas, sp.TimeoutMs, clients, 100*clients, fault)
	return scenarios.Parse(fmt.Sprintf("calibrate-%s-%d.yaml", sp.Fault, sp.TimeoutMs), []byte(y))
}

// Trial is what one run showed: each phase's ms after the fault (absent
// when it never happened) and the acknowledged writes lost.
type Trial struct {
	Phases map[string]float64
	Lost   int
}

// Measure times the first failover of a run from its trace (simulated or
// observed) and history, with the checker's definitions of each phase.
func Measure(events []trace.Event, ops []history.Op) Trial {
	tr := Trial{Phases: map[string]float64{}, Lost: len(checker.LostWrites("register", ops))}
	fs := checker.Failovers(events, ops)
	if len(fs) == 0 {
		return tr
	}
	f := fs[0]
	for i, p := range []*int64{f.PFailMs, f.FailMs, f.ElectionMs, f.PromotedMs, f.ClusterOKMs, f.WritesResumedMs, MinorityWindow(events, f, ops)} {
		if p != nil {
			tr.Phases[Phases[i]] = float64(*p)
		}
	}
	return tr
}

// MinorityWindow is how long a master cut off by a partition kept
// acknowledging writes: from the partition to the return of the last ok
// write it answered. nil unless f began with a partition and such a write
// exists.
func MinorityWindow(events []trace.Event, f checker.Failover, ops []history.Op) *int64 {
	at := time.Duration(f.FaultAtMs) * time.Millisecond
	partitioned := false
	for _, e := range events {
		if e.Kind == trace.Partition && e.At.Milliseconds() == f.FaultAtMs {
			partitioned = true
		}
	}
	if !partitioned {
		return nil
	}
	var last time.Duration = -1
	for _, op := range ops {
		if op.Node == f.FailedNode && op.Status == history.OK && checker.IsWrite(op.Kind) && op.Invoke >= at {
			last = max(last, op.Return)
		}
	}
	if last < 0 {
		return nil
	}
	v := (last - at).Milliseconds()
	return &v
}

// Simulate runs s at seeds 1..n on every core and measures each run;
// progress (if set) is told after each.
func Simulate(ctx context.Context, s *scenarios.Scenario, n int, progress func(done int)) ([]Trial, error) {
	out := make([]Trial, n)
	errs := make([]error, n)
	next, done := 0, 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n || ctx.Err() != nil {
					return
				}
				res, err := sim.Run(s, sim.Options{Seed: uint64(i + 1), KeepTrace: true})
				if err != nil {
					errs[i] = err
					continue
				}
				out[i] = Measure(res.Trace, res.History)
				mu.Lock()
				done++
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, ctx.Err()
}

// Point is one fault at one node timeout, measured.
type Point struct {
	Server    string // "redis-server 7.0.15"
	Fault     string
	TimeoutMs int
	Real, Sim []Trial // real trials; simulated seeds 1..n
	Rows      []Row
}

// Sample is one phase's figures over the trials that reached it.
type Sample struct {
	N                int
	Median, P10, P90 float64
	Min, Max         float64
	Values           []float64 // sorted
}

// Summarize sorts xs and takes its figures.
func Summarize(xs []float64) Sample {
	v := slices.Sorted(slices.Values(xs))
	s := Sample{N: len(v), Values: v, Median: Quantile(v, 0.5), P10: Quantile(v, 0.1), P90: Quantile(v, 0.9)}
	if len(v) > 0 {
		s.Min, s.Max = v[0], v[len(v)-1]
	}
	return s
}

// Row is one line of the per-phase table.
type Row struct {
	Fault     string
	TimeoutMs int
	Phase     string // one of Phases, or "lost_writes" (a count, not ms)
	Real, Sim Sample
	// MedianErr is the real median minus the simulated one; MedianErrPct
	// the same in percent of the real median.
	MedianErr, MedianErrPct float64
	KSD, KSP                float64 // two-sample KS distance and p-value
}

// Rows compares the real and simulated trials of one point, a row per
// phase that either side reached, then a row of lost writes.
func Rows(sp Spec, real, simulated []Trial) []Row {
	var rows []Row
	pick := func(ts []Trial, phase string) []float64 {
		var out []float64
		for _, t := range ts {
			if phase == "lost_writes" {
				out = append(out, float64(t.Lost))
			} else if v, ok := t.Phases[phase]; ok {
				out = append(out, v)
			}
		}
		return out
	}
	for _, p := range append(slices.Clone(Phases), "lost_writes") {
		r, s := pick(real, p), pick(simulated, p)
		if len(r) == 0 && len(s) == 0 {
			continue
		}
		row := Row{Fault: sp.Fault, TimeoutMs: sp.TimeoutMs, Phase: p, Real: Summarize(r), Sim: Summarize(s)}
		row.MedianErr = row.Real.Median - row.Sim.Median
		row.MedianErrPct = 100 * row.MedianErr / row.Real.Median
		row.KSD, row.KSP = KS(r, s)
		rows = append(rows, row)
	}
	return rows
}
