package calibrate

import (
	"context"
	"math"
	"testing"
)

// Every fault's scenario runs in the simulator and yields the phases the
// table needs: all of them for kill, the minority window for a partition.
func TestSimulatedPhases(t *testing.T) {
	for _, fault := range Faults {
		s, err := Scenario(Spec{Masters: 3, Replicas: 1, TimeoutMs: 1000, Fault: fault})
		if err != nil {
			t.Fatalf("%s: %v", fault, err)
		}
		trials, err := Simulate(context.Background(), s, 3, nil)
		if err != nil {
			t.Fatalf("%s: %v", fault, err)
		}
		windows := 0
		for i, tr := range trials {
			for _, p := range Phases[:6] {
				if _, ok := tr.Phases[p]; !ok {
					t.Errorf("%s seed %d: no %s (%v)", fault, i+1, p, tr.Phases)
				}
			}
			if _, ok := tr.Phases["minority_write_window"]; ok {
				windows++
			}
			// Promotion comes no earlier than T + 500 ms, no later than
			// 2T + 1.6 s (the reference, Part III).
			if p := tr.Phases["promotion"]; p < 1500 || p > 3600 {
				t.Errorf("%s seed %d: promotion at %v ms", fault, i+1, p)
			}
		}
		if (fault == Partition) != (windows > 0) {
			t.Errorf("%s: %d runs with a minority write window", fault, windows)
		}
	}
}

func TestRows(t *testing.T) {
	real := []Trial{{Phases: map[string]float64{"promotion": 2000}}, {Phases: map[string]float64{"promotion": 2200}}}
	sim := []Trial{{Phases: map[string]float64{"promotion": 2100}, Lost: 2}}
	rows := Rows(Spec{Fault: Kill, TimeoutMs: 1000}, real, sim)
	if len(rows) != 2 || rows[0].Phase != "promotion" || rows[1].Phase != "lost_writes" {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Real.Median != 2100 || r.Sim.Median != 2100 || r.MedianErr != 0 || r.Real.Min != 2000 || r.Real.Max != 2200 {
		t.Errorf("promotion row %+v", r)
	}
	if l := rows[1]; l.Real.Median != 0 || l.Sim.Median != 2 || !math.IsInf(l.MedianErrPct, -1) {
		t.Errorf("lost row %+v", l)
	}
}
