// Package gen generates scenarios: rapid generators for topologies, Redis
// settings, workloads and fault schedules (for property tests, in rcsim's
// own suite or in a user's module), and the nemesis, a random fault schedule
// drawn from a seed and a menu and written as a plain scenario, so any
// random run can be saved, edited and replayed with `rcsim run`.
//
// Every generator draws "simpler" values for smaller numbers, so rapid's
// shrinking moves towards fewer masters, fewer faults, shorter runs and
// lighter workloads.
package gen

import (
	"time"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/scenarios"
)

// Options bound what Scenario draws. The zero value is not useful: start
// from Defaults and change what matters for the property.
type Options struct {
	MinMasters, MaxMasters int                 // masters at creation (Defaults: 3..7)
	MinReplicas            int                 // fewest replicas per master (Defaults: 0)
	MaxReplicas            int                 // replicas per master drawn from MinReplicas..MaxReplicas (Defaults: 2)
	NodeTimeouts           []int               // cluster-node-timeout values in ms to draw from
	WorkloadKinds          []string            // register | counter | list
	MaxClients             int                 // clients drawn from 1..MaxClients
	MaxRate                int                 // total operations per second drawn from 10..MaxRate
	MaxKeys                int                 // keys drawn from 1..MaxKeys
	Latencies              []scenarios.Latency // link latencies to draw from (none: the default lognormal)
	MinDuration            time.Duration       // the run lasts at least this, before the settle tail
	MaxDuration            time.Duration       // and at most this
	// Menu is what the fault schedule draws from; a menu without kinds gives
	// a fault-free scenario.
	Menu Menu
	// Settings draws the optional redis.conf settings (validity factor,
	// replica migration, full coverage, reads when down) instead of Redis's
	// defaults.
	Settings bool
	// Bugs are switched on in every drawn scenario (sim.Options.AllowBugs
	// must then be set to run it).
	Bugs scenarios.Bugs
}

// Defaults returns the options rcsim's own properties use: 3..7 masters,
// 0..2 replicas, short node timeouts so that a failover fits in a short run,
// every workload kind, the default latency or slow uniform links, runs of
// 10s..30s plus the settle tail, and the default nemesis menu.
func Defaults() Options {
	return Options{
		MinMasters: 3, MaxMasters: 7, MaxReplicas: 2,
		NodeTimeouts:  []int{1000, 2000, 3000},
		WorkloadKinds: []string{"register", "counter", "list"},
		MaxClients:    4, MaxRate: 200, MaxKeys: 20,
		Latencies: []scenarios.Latency{scenarios.Default().Network.Latency,
			{Dist: "uniform", Min: time.Millisecond, Max: 20 * time.Millisecond}},
		MinDuration: 10 * time.Second, MaxDuration: 30 * time.Second,
		Menu: DefaultMenu(), Settings: true,
	}
}

// Scenario draws a whole scenario: topology, settings, workload and a fault
// schedule from o.Menu. Its expectations are the ones every schedule must
// meet (see Expect); it is valid (scenarios.Parse accepts
// scenarios.Marshal of it).
func Scenario(o Options) *rapid.Generator[*scenarios.Scenario] {
	return rapid.Custom(func(t *rapid.T) *scenarios.Scenario {
		s := scenarios.Default()
		s.Name = "generated"
		s.Description = "Drawn by scenarios/gen."
		s.Cluster = Topology(o).Draw(t, "topology")
		s.Cluster.Config = Settings(o).Draw(t, "settings")
		s.Workload = Workload(o).Draw(t, "workload")
		if len(o.Latencies) > 0 {
			s.Network.Latency = rapid.SampledFrom(o.Latencies).Draw(t, "latency")
		}
		s.Duration = durationIn(t, "duration", o.MinDuration, o.MaxDuration)
		s.Seed = rapid.Uint64Range(1, 1<<20).Draw(t, "seed")
		s.Bugs = o.Bugs
		s.Faults, s.Duration = schedule(rapidSource{t}, s, o.Menu)
		s.Expect = Expect(s, o.Menu)
		return s
	})
}

// Topology draws masters in o.MinMasters..o.MaxMasters and replicas per
// master in o.MinReplicas..o.MaxReplicas. Config is Redis's default.
func Topology(o Options) *rapid.Generator[scenarios.Cluster] {
	return rapid.Custom(func(t *rapid.T) scenarios.Cluster {
		c := scenarios.Default().Cluster
		c.Masters = rapid.IntRange(o.MinMasters, max(o.MinMasters, o.MaxMasters)).Draw(t, "masters")
		lo := max(0, o.MinReplicas)
		c.ReplicasPerMaster = rapid.IntRange(lo, max(lo, o.MaxReplicas)).Draw(t, "replicas-per-master")
		return c
	})
}

// Settings draws the redis.conf settings: cluster-node-timeout from
// o.NodeTimeouts and, with o.Settings, the settings that change failover
// and availability. Settings under which a cluster cannot come back by
// itself after every fault ends are left at Redis's defaults
// (cluster-replica-no-failover, min-replicas-to-write).
func Settings(o Options) *rapid.Generator[scenarios.RedisConfig] {
	return rapid.Custom(func(t *rapid.T) scenarios.RedisConfig {
		c := scenarios.Default().Cluster.Config
		timeouts := o.NodeTimeouts
		if len(timeouts) == 0 {
			timeouts = []int{c.NodeTimeoutMs}
		}
		c.NodeTimeoutMs = rapid.SampledFrom(timeouts).Draw(t, "cluster-node-timeout")
		if !o.Settings {
			return c
		}
		c.ReplicaValidityFactor = rapid.SampledFrom([]int{10, 0, 1}).Draw(t, "cluster-replica-validity-factor")
		c.AllowReplicaMigration = !rapid.Bool().Draw(t, "no-replica-migration")
		c.RequireFullCoverage = !rapid.Bool().Draw(t, "no-full-coverage")
		c.AllowReadsWhenDown = rapid.Bool().Draw(t, "cluster-allow-reads-when-down")
		return c
	})
}

// Workload draws a workload kind, 1..o.MaxClients clients, 10..o.MaxRate
// operations per second, 1..o.MaxKeys keys, a timeout and a read ratio.
func Workload(o Options) *rapid.Generator[scenarios.Workload] {
	return rapid.Custom(func(t *rapid.T) scenarios.Workload {
		w := scenarios.Default().Workload
		kinds := o.WorkloadKinds
		if len(kinds) == 0 {
			kinds = []string{"register"}
		}
		w.Kind = rapid.SampledFrom(kinds).Draw(t, "kind")
		w.Clients = rapid.IntRange(1, max(1, o.MaxClients)).Draw(t, "clients")
		w.Rate = rapid.IntRange(10, max(10, o.MaxRate)).Draw(t, "rate")
		w.Keys = rapid.IntRange(1, max(1, o.MaxKeys)).Draw(t, "keys")
		w.Timeout = rapid.SampledFrom([]time.Duration{time.Second, 500 * time.Millisecond}).Draw(t, "timeout")
		w.ReadRatio = rapid.IntRange(0, 100).Draw(t, "read-ratio")
		return w
	})
}

// Faults draws a fault schedule for s from menu (s's topology and workload
// name the targets). It returns the faults and the run's duration, grown if
// needed to leave menu.Settle after the last fault ends.
func Faults(s *scenarios.Scenario, menu Menu) *rapid.Generator[[]scenarios.Fault] {
	return rapid.Custom(func(t *rapid.T) []scenarios.Fault {
		f, _ := schedule(rapidSource{t}, s, menu)
		return f
	})
}

// durationIn draws a whole number of seconds in [lo, hi].
func durationIn(t *rapid.T, label string, lo, hi time.Duration) time.Duration {
	s := rapid.IntRange(int(lo/time.Second), max(int(lo/time.Second), int(hi/time.Second))).Draw(t, label)
	return time.Duration(s) * time.Second
}

// Expect returns the expectations any fault schedule from menu must meet
// on s: after the last fault ends the cluster converges within
// ConvergeBound and every live node ends in cluster_state ok; a run with no
// faults must also give a linearizable history with no acknowledged write
// lost. A faulty run is allowed to lose writes: Redis Cluster's asynchronous
// replication does, and that is what explore reports as a finding, not an
// expectation every schedule must meet.
func Expect(s *scenarios.Scenario, menu Menu) scenarios.Expect {
	bound := ConvergeBound(s.Cluster.Config)
	ok := true
	e := scenarios.Expect{ConvergedWithin: &bound, ClusterOK: &ok}
	if len(s.Faults) == 0 && s.Workload.Kind != "none" {
		lin, zero := true, 0
		e.Linearizable, e.MaxLostWrites = &lin, &zero
		e.ConvergedWithin = nil // nothing to converge after
	}
	return e
}

// ConvergeBound is how long after the last fault ends the cluster is given
// to agree again: a node clears FAIL on a reachable master with slots only
// after 2 × cluster-node-timeout (CLUSTER_FAIL_UNDO_TIME_MULT in
// clearNodeFailureIfNeeded), a restarted node needs a few gossip rounds,
// and a stale master learns of its successor through an UPDATE; we allow
// 4 × cluster-node-timeout plus 5 s.
func ConvergeBound(c scenarios.RedisConfig) time.Duration {
	return 4*time.Duration(c.NodeTimeoutMs)*time.Millisecond + 5*time.Second
}
