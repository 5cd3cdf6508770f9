package calibrate

import (
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.5, 3}, {0.1, 1.4}, {0.9, 4.6}, {1, 5}} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("Quantile of nothing: want NaN")
	}
}

// D is exact; the asymptotic p-value is checked in the regimes that matter:
// identical samples (p = 1), disjoint ones (p small), a half shift between.
func TestKS(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if d, p := KS(a, a); d != 0 || p != 1 {
		t.Errorf("KS(a, a) = %v, %v; want 0, 1", d, p)
	}
	b := []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if d, p := KS(a, b); d != 1 || p > 1e-3 {
		t.Errorf("KS(disjoint) = %v, %v; want 1, < 0.001", d, p)
	}
	// Half the mass shifted: D = 0.5.
	c := []float64{6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if d, p := KS(a, c); d != 0.5 || p < 0.05 || p > 0.3 {
		t.Errorf("KS(half shifted) = %v, %v; want 0.5, p about 0.13", d, p)
	}
	// Ties across samples: the CDFs are compared after each distinct value.
	if d, _ := KS([]float64{1, 1, 2}, []float64{1, 2, 2}); math.Abs(d-1.0/3) > 1e-9 {
		t.Errorf("KS with ties: D = %v, want 1/3", d)
	}
}
