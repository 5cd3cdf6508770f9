package checker

// The list's anomalies (see Anomalies): one sweep by read over the pushes,
// by return, in two max trees; each read costs O((1 + its length) log n).

import (
	"fmt"
	"slices"
	"time"

	"github.com/rcsim/rcsim/checker/history"
)

func analyzeList(ops []*history.Op, a *Anomalies) {
	writes, reads := split(ops, "rpush", "lrange")
	if len(writes) == 0 || len(reads) == 0 {
		return
	}
	pushes := map[string]int{} // non-failed pushes per value
	for _, op := range ops {
		if op.Kind == "rpush" && op.Status != history.Fail {
			pushes[op.Value]++
		}
	}
	lastHolding := map[string]int{} // the latest read (by invoke) holding the value
	for i, r := range reads {
		for _, v := range r.List {
			lastHolding[v] = i // reads are in invoke order
		}
	}
	order := byReturn(writes)
	sorted := make([]*history.Op, len(order)) // writes by return
	for i, o := range order {
		sorted[i] = writes[o]
	}
	seen := newMaxTree(len(sorted))   // unique pushes, by how late a read held them
	unseen := newMaxTree(len(sorted)) // unique pushes not yet found lost, by minus that
	var dupReturns []time.Duration    // returns of pushes of repeated values, sorted
	dupOf := map[string][]time.Duration{}
	for i, w := range sorted {
		if pushes[w.Value] > 1 {
			dupReturns = append(dupReturns, w.Return)
			dupOf[w.Value] = append(dupOf[w.Value], w.Return)
			continue
		}
		t := int64(none)
		if j, ok := lastHolding[w.Value]; ok {
			t = int64(reads[j].Invoke)
		}
		seen.set(i, t)
		unseen.set(i, negate(t))
	}
	rank := map[string]int{}                 // a unique value's position in sorted
	uniqueUpTo := make([]int, len(sorted)+1) // unique pushes among the first i
	for i, w := range sorted {
		uniqueUpTo[i+1] = uniqueUpTo[i]
		if pushes[w.Value] == 1 {
			rank[w.Value] = i
			uniqueUpTo[i+1]++
		}
	}
	for _, r := range reads {
		p, _ := slices.BinarySearchFunc(sorted, r.Invoke, func(w *history.Op, t time.Duration) int {
			if w.Return < t {
				return -1
			}
			return 1
		})
		holds := make(map[string]int, len(r.List))
		for _, v := range r.List {
			holds[v]++
		}
		stale := false
		seen.each(0, p, int64(r.Return), func(i int) bool {
			if holds[sorted[i].Value] > 0 {
				return true
			}
			a.Stale = append(a.Stale, StaleRead{Read: *r, Missed: *sorted[i], Later: *reads[lastHolding[sorted[i].Value]]})
			stale = true
			return false
		})
		missed := stale
		unseen.each(0, p, negate(int64(r.Return))-1, func(i int) bool {
			if holds[sorted[i].Value] > 0 {
				return true
			}
			a.Lost = append(a.Lost, LostOp{Write: *sorted[i], Evidence: *r})
			unseen.set(i, none)
			missed = true
			return true
		})
		if !missed && heldUnique(holds, rank, p) < uniqueUpTo[p] {
			missed = true // missed a push already found lost
		}
		if missed {
			continue
		}
		if d := dupDeficit(holds, dupOf, dupReturns, r.Invoke); d > 0 {
			a.Unattributed = append(a.Unattributed, Unattributed{Read: *r, Why: fmt.Sprintf(
				"lacks %d completed pushes of values pushed more than once: cannot tell which pushes", d)})
		}
	}
}

// heldUnique is how many of the first p unique pushes (by return) a read
// holds.
func heldUnique(holds map[string]int, rank map[string]int, p int) int {
	n := 0
	for v := range holds {
		if i, ok := rank[v]; ok && i < p {
			n++
		}
	}
	return n
}

// dupDeficit is how many completed pushes of repeated values (returned
// before t) a read's list does not account for.
func dupDeficit(holds map[string]int, dupOf map[string][]time.Duration, all []time.Duration, t time.Duration) int {
	want, _ := slices.BinarySearch(all, t)
	have := 0
	for v, c := range holds {
		if rs, ok := dupOf[v]; ok {
			n, _ := slices.BinarySearch(rs, t)
			have += min(c, n)
		}
	}
	return want - have
}
