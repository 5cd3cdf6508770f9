package sim

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/scenarios"
)

// BenchmarkMasterCrash runs the built-in master-crash scenario (60 virtual
// seconds, 3 masters + 3 replicas, 4 clients at 200 ops/s) end to end,
// hashing the trace, one seed per iteration.
func BenchmarkMasterCrash(b *testing.B) { benchScenario(b, "master-crash") }

// BenchmarkMasterCrashNoClients is master-crash without a workload: the cost
// of gossip, failure detection, failover and replication PINGs alone.
func BenchmarkMasterCrashNoClients(b *testing.B) {
	benchScenario(b, "master-crash", "workload.clients", "0")
}

// BenchmarkMasterCrash1000 is master-crash with its 4 clients at 1,000 ops/s.
func BenchmarkMasterCrash1000(b *testing.B) {
	benchScenario(b, "master-crash", "workload.rate", "1000/s")
}

// BenchmarkMasterCrash10x10 is master-crash on 10 masters + 10 replicas with
// 10 clients at 5,000 ops/s.
func BenchmarkMasterCrash10x10(b *testing.B) {
	benchScenario(b, "master-crash", "masters", "10", "workload.clients", "10", "workload.rate", "5000/s")
}

// BenchmarkNoFaults is the 3 + 3 cluster with no faults: the steady-state cost
// of gossip, replication and clients.
func BenchmarkNoFaults(b *testing.B) { benchScenario(b, "no-faults") }

// BenchmarkReshardUnderLoad is 2000 slots resharded under client load.
func BenchmarkReshardUnderLoad(b *testing.B) { benchScenario(b, "reshard-under-load") }

// benchScenario runs the built-in name, with sets applied (key, value
// pairs), once per iteration with seeds 1, 2, ... Besides Go's ns/op, B/op and
// allocs/op (one op is one run) it reports kernel events and virtual seconds
// per wall second, and virtual seconds per CPU second of the process (the
// figure to compare on a shared machine; run with GOMAXPROCS=1 so it counts
// the one core the run uses plus the collector's share of it).
func benchScenario(b *testing.B, name string, sets ...string) {
	s, err := scenarios.Builtin(name)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i+1 < len(sets); i += 2 {
		if err := s.Set(sets[i], sets[i+1]); err != nil {
			b.Fatal(err)
		}
	}
	var steps int
	var virtual time.Duration
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(s, Options{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
		virtual += res.VirtualEnd
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(steps)/sec, "events/s")
	b.ReportMetric(virtual.Seconds()/sec, "virtual-s/s")
	b.ReportMetric(virtual.Seconds()/cpu, "virtual-s/cpu-s")
	b.ReportMetric(cpu*1000/float64(b.N), "cpu-ms/op")
}
