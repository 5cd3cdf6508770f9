package checker

import (
	"math/rand/v2"
	"testing"
)

// TestMaxTreeAgainstScan compares the tree with a linear scan.
func TestMaxTreeAgainstScan(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 40; n++ {
		tr := newMaxTree(n)
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = none
		}
		for step := 0; step < 200; step++ {
			i := rnd.IntN(n)
			v := int64(rnd.IntN(10))
			if rnd.IntN(5) == 0 {
				v = none
			}
			tr.set(i, v)
			vals[i] = v
			l := rnd.IntN(n + 1)
			r := l + rnd.IntN(n-l+1)
			want, wantAt := int64(none), -1
			for j := l; j < r; j++ {
				if vals[j] > want {
					want, wantAt = vals[j], j
				}
			}
			if got, at := tr.max(l, r); got != want || at != wantAt {
				t.Fatalf("n=%d max[%d,%d) = %d at %d, want %d at %d (%v)", n, l, r, got, at, want, wantAt, vals)
			}
			bound := int64(rnd.IntN(10))
			var got, exp []int
			tr.each(l, r, bound, func(i int) bool { got = append(got, i); return true })
			for j := r - 1; j >= l; j-- {
				if vals[j] > bound {
					exp = append(exp, j)
				}
			}
			if len(got) != len(exp) {
				t.Fatalf("each[%d,%d) > %d = %v, want %v", l, r, bound, got, exp)
			}
			for k := range got {
				if got[k] != exp[k] {
					t.Fatalf("each[%d,%d) > %d = %v, want %v", l, r, bound, got, exp)
				}
			}
		}
	}
}
