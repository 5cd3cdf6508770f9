package sim

import (
	"testing"
	"time"

	"rcsim/scenarios"
)

// BenchmarkMasterCrash runs the built-in master-crash scenario (60 virtual
// seconds, 3 masters + 3 replicas, 4 clients) end to end, hashing the trace.
// It reports kernel events per wall second and virtual seconds per wall second.
func BenchmarkMasterCrash(b *testing.B) { benchScenario(b, "master-crash") }

// BenchmarkNoFaults is the same cluster with no faults: the steady-state cost
// of gossip, replication and clients.
func BenchmarkNoFaults(b *testing.B) { benchScenario(b, "no-faults") }

func benchScenario(b *testing.B, name string) {
	s, err := scenarios.Builtin(name)
	if err != nil {
		b.Fatal(err)
	}
	var steps int
	var virtual time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(s, Options{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
		virtual += res.VirtualEnd
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(steps)/sec, "events/s")
	b.ReportMetric(virtual.Seconds()/sec, "virtual-s/s")
}

// BenchmarkReshardUnderLoad is 2000 slots resharded under client load.
func BenchmarkReshardUnderLoad(b *testing.B) { benchScenario(b, "reshard-under-load") }
