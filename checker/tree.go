package checker

// A max segment tree over int64s with the position of the maximum: the one
// data structure behind the lost-write and stale-read analyses, which keeps
// them at O(n log n) in the ops of a key (they were cubic).

import "math"

// none is the value of an empty position.
const none = math.MinInt64

// maxTree holds n values, all none at first.
type maxTree struct {
	size int
	val  []int64
	pos  []int32
}

func newMaxTree(n int) *maxTree {
	size := 1
	for size < n {
		size *= 2
	}
	t := &maxTree{size: size, val: make([]int64, 2*size), pos: make([]int32, 2*size)}
	for i := range t.val {
		t.val[i] = none
	}
	for i := 0; i < size; i++ {
		t.pos[size+i] = int32(i)
	}
	return t
}

// set puts v at position i.
func (t *maxTree) set(i int, v int64) {
	j := t.size + i
	t.val[j] = v
	for j /= 2; j >= 1; j /= 2 {
		a, b := 2*j, 2*j+1
		if t.val[b] > t.val[a] {
			a = b
		}
		t.val[j], t.pos[j] = t.val[a], t.pos[a]
	}
}

// max returns the largest value in [l, r) and its position (the lowest on
// ties); none and -1 when the range is empty or holds only none.
func (t *maxTree) max(l, r int) (int64, int) {
	best, at := int64(none), -1
	for l, r = l+t.size, r+t.size; l < r; l, r = l/2, r/2 {
		if l&1 == 1 {
			if t.val[l] > best || t.val[l] == best && at >= 0 && int(t.pos[l]) < at {
				best, at = t.val[l], int(t.pos[l])
			}
			l++
		}
		if r&1 == 1 {
			r--
			if t.val[r] > best || t.val[r] == best && at >= 0 && int(t.pos[r]) < at {
				best, at = t.val[r], int(t.pos[r])
			}
		}
	}
	if best == none {
		return none, -1
	}
	return best, at
}

// each calls f on every position in [l, r) whose value is above bound, from
// the highest position down, until f returns false. Its cost is O(log n)
// per position visited.
func (t *maxTree) each(l, r int, bound int64, f func(i int) bool) {
	t.walk(1, 0, t.size, l, r, bound, f)
}

func (t *maxTree) walk(node, lo, hi, l, r int, bound int64, f func(int) bool) bool {
	if hi <= l || r <= lo || t.val[node] <= bound {
		return true
	}
	if hi-lo == 1 {
		return f(lo)
	}
	mid := (lo + hi) / 2
	return t.walk(2*node+1, mid, hi, l, r, bound, f) && t.walk(2*node, lo, mid, l, r, bound, f)
}
