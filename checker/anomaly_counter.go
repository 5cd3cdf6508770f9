package checker

// The counter's anomalies (see Anomalies): incr results and get values are
// integers, so one sort by value and one max tree give O(n log n).

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/rcsim/rcsim/checker/history"
)

// counted is an op of a counter key with its integer (an incr's result, a
// get's value, nil being 0).
type counted struct {
	op *history.Op
	n  int64
}

func countedOps(ops []*history.Op, kind string) []counted {
	var out []counted
	for _, op := range ops {
		if op.Status != history.OK || op.Kind != kind {
			continue
		}
		if op.Nil {
			out = append(out, counted{op, 0})
		} else if n, err := strconv.ParseInt(op.Result, 10, 64); err == nil {
			out = append(out, counted{op, n})
		}
	}
	return out
}

func analyzeCounter(ops []*history.Op, a *Anomalies) {
	writes, reads := countedOps(ops, "incr"), countedOps(ops, "get") // by invoke
	if len(writes) == 0 {
		return
	}
	// Lost: a later incr returned no more, or the last get saw less.
	minFrom := make([]int, len(writes)+1) // index of the least result among writes[i:]
	minFrom[len(writes)] = -1
	for i := len(writes) - 1; i >= 0; i-- {
		minFrom[i] = i
		if j := minFrom[i+1]; j >= 0 && writes[j].n < writes[i].n {
			minFrom[i] = j
		}
	}
	for _, w := range writes {
		if j := minFrom[invokedBy(writes, int64(w.op.Return), countedInvoke)]; j >= 0 && writes[j].n <= w.n {
			a.Lost = append(a.Lost, LostOp{Write: *w.op, Evidence: *writes[j].op})
		} else if len(reads) > 0 {
			if last := reads[len(reads)-1]; last.op.Invoke > w.op.Return && last.n < w.n {
				a.Lost = append(a.Lost, LostOp{Write: *w.op, Evidence: *last.op})
			}
		}
	}
	if len(reads) == 0 {
		return
	}
	// Stale: a get below an incr that returned before it, and a later get
	// at least that incr's result.
	values := make([]int64, len(writes))
	for i, w := range writes {
		values[i] = w.n
	}
	slices.Sort(values)
	values = slices.Compact(values)
	maxFrom := make([]int, len(reads)+1) // index of the greatest value among reads[i:]
	maxFrom[len(reads)] = -1
	for i := len(reads) - 1; i >= 0; i-- {
		maxFrom[i] = i
		if j := maxFrom[i+1]; j >= 0 && reads[j].n > reads[i].n {
			maxFrom[i] = j
		}
	}
	done := newMaxTree(len(values)) // 1 at the rank of every result returned so far
	by := make([]int, len(values))  // the first write seen at each rank
	order := make([]int, len(writes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(writes[x].op.Return, writes[y].op.Return) })
	next := 0
	for _, r := range reads {
		for ; next < len(order) && writes[order[next]].op.Return < r.op.Invoke; next++ {
			w := order[next]
			k, _ := slices.BinarySearch(values, writes[w].n)
			if v, _ := done.max(k, k+1); v == none {
				done.set(k, 1)
				by[k] = w
			}
		}
		j := maxFrom[invokedBy(reads, int64(r.op.Return), countedInvoke)]
		if j < 0 || reads[j].n <= r.n {
			continue
		}
		lo, _ := slices.BinarySearch(values, r.n+1)
		hi, _ := slices.BinarySearch(values, reads[j].n+1)
		if _, k := done.max(lo, hi); k >= 0 {
			a.Stale = append(a.Stale, StaleRead{Read: *r.op, Missed: *writes[by[k]].op, Later: *reads[j].op})
		}
	}
}

// countedInvoke is a counted op's invoke time, for invokedBy.
func countedInvoke(c counted) int64 { return int64(c.op.Invoke) }
