package workload

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipfWeightsMatchFloat: the fixed-point weights agree with 2^40/k^s
// computed in floating point to within a part in a million (the float is
// the obviously-correct version; it is only used here, in a test).
func TestZipfWeightsMatchFloat(t *testing.T) {
	for _, s := range []uint64{500, 1000, 1070, 1500, 2000, 3000} {
		for _, k := range []uint64{1, 2, 3, 7, 10, 99, 1000, 123457, 1000000} {
			want := math.Ldexp(1, weightBits) / math.Pow(float64(k), float64(s)/1000)
			got := float64(zipfWeight(k, s))
			if want >= 1e6 && math.Abs(got-want)/want > 1e-6 {
				t.Errorf("zipfWeight(%d, s=%d/1000) = %.0f, want %.0f", k, s, got, want)
			}
			if want < 1 && got != 1 {
				t.Errorf("zipfWeight(%d, s=%d/1000) = %.0f, want the floor 1", k, s, got)
			}
		}
	}
}

// TestKeyDistShapes: uniform draws spread evenly; zipf with s = 1 draws
// rank 1 about twice as often as rank 2 and ten times as often as rank 10.
func TestKeyDistShapes(t *testing.T) {
	const draws = 200000
	count := func(d *KeyDist) []int {
		r := rand.New(rand.NewPCG(1, 2))
		c := make([]int, d.n)
		for i := 0; i < draws; i++ {
			c[d.Index(r)]++
		}
		return c
	}
	u, err := NewKeyDist(10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range count(u) {
		if n < draws/10*9/10 || n > draws/10*11/10 {
			t.Errorf("uniform key %d drawn %d times of %d", i, n, draws)
		}
	}
	z, err := NewKeyDist(100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	c := count(z)
	if r := float64(c[0]) / float64(c[1]); r < 1.8 || r > 2.2 {
		t.Errorf("zipf rank1/rank2 = %.2f, want about 2", r)
	}
	if r := float64(c[0]) / float64(c[9]); r < 8.5 || r > 11.5 {
		t.Errorf("zipf rank1/rank10 = %.2f, want about 10", r)
	}
}

// TestKeyDistRejectsBadInput: no keys, or an exponent out of range.
func TestKeyDistRejectsBadInput(t *testing.T) {
	for _, c := range []struct{ keys, s int }{{0, 0}, {10, -1}, {10, 10001}} {
		if _, err := NewKeyDist(c.keys, c.s); err == nil {
			t.Errorf("NewKeyDist(%d, %d) accepted", c.keys, c.s)
		}
	}
}
