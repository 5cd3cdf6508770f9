package sim

import (
	"fmt"
	"testing"
	"time"

	"rcsim/scenarios"
)

// scaleScenario is the built-in no-faults cluster resized to masters ×
// (1 + replicas) nodes, with no clients: the cost of the cluster bus alone.
func scaleScenario(b *testing.B, masters, replicas int, dur time.Duration) *scenarios.Scenario {
	s, err := scenarios.Builtin("no-faults")
	if err != nil {
		b.Fatal(err)
	}
	s.Name = fmt.Sprintf("scale-%dx%d", masters, 1+replicas)
	s.Cluster.Masters, s.Cluster.ReplicasPerMaster = masters, replicas
	s.Cluster.Config.NodeTimeoutMs = 15000
	s.Workload.Kind = "none"
	s.Workload.Clients = 0
	s.Duration = dur
	s.Expect = scenarios.Expect{}
	return s
}

// BenchmarkScale runs clusters of 6 to 2,000 nodes with no faults and no
// clients. RCSIM_SCALE picks the sizes (see scaleSizes).
func BenchmarkScale(b *testing.B) {
	for _, sz := range []struct {
		m, r int
		dur  time.Duration
	}{
		{3, 1, 60 * time.Second}, {30, 1, 60 * time.Second}, {100, 1, 60 * time.Second},
		{300, 1, 10 * time.Second}, {1000, 1, 10 * time.Second},
	} {
		b.Run(fmt.Sprintf("nodes=%d", sz.m*(1+sz.r)), func(b *testing.B) {
			s := scaleScenario(b, sz.m, sz.r, sz.dur)
			var steps int
			var virtual time.Duration
			b.ReportAllocs()
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
			b.ReportMetric(sec/virtual.Seconds(), "wall-s/virtual-s")
		})
	}
}
