package sweep

import (
	"testing"

	"github.com/rcsim/rcsim/scenarios"
)

// BenchmarkSweepRunMasterCrash is one run of a sweep of the built-in
// master-crash as the sweep pays for it: the simulation keeping its trace,
// then the checker (linearizability, anomalies, failovers) on its history,
// one seed per iteration. sim's BenchmarkMasterCrash is the simulation alone.
func BenchmarkSweepRunMasterCrash(b *testing.B) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		b.Fatal(err)
	}
	seeds := make([]uint64, b.N)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	sw, err := New("master-crash", s, nil, seeds, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rec := sw.runOne(i, 0); rec.Panic != "" {
			b.Fatal(rec.Panic)
		}
	}
}
