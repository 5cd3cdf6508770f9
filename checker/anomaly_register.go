package checker

// The register's anomalies (see Anomalies): two sweeps over one key, one by
// read and one by write, each with a max tree, so O(n log n).

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/rcsim/rcsim/checker/history"
)

// valueSet is one non-failed set of a value: only what the sweeps need of
// it, not the op (a copy of every set was a fifth of the checker's
// allocations in a sweep).
type valueSet struct {
	invoke  int64
	endUpTo int64 // the latest end among the value's sets up to this one
	write   int   // its index in registerKey.writes; -1 if not ok
	ok      bool
}

// registerKey is one key's sets and gets, prepared for the sweeps.
type registerKey struct {
	writes []*history.Op         // ok sets, by invoke
	reads  []*history.Op         // ok gets, by invoke
	of     map[string][]valueSet // the non-failed sets of each value, by invoke
	// since[i] is the latest end of a set that read i could have seen:
	// a set invoked after it is what read i missed. MinInt64 for a nil
	// read (it saw no set), MaxInt64 when no set explains its value.
	since []int64
	// lastRead[v]: the latest invoke of a read of v that some set explains.
	lastRead map[string]int64
	// seen[i]: the latest invoke of a read that only write i explains
	// (the one set of its value invoked before it returned), and that
	// read's index (-1: none).
	seen   []int64
	seenBy []int
}

func newRegisterKey(ops []*history.Op) *registerKey {
	k := &registerKey{}
	k.writes, k.reads = split(ops, "set", "get")
	k.of, k.lastRead = make(map[string][]valueSet, len(k.writes)), make(map[string]int64, len(k.reads))
	for _, op := range ops {
		if op.Kind == "set" && op.Status != history.Fail {
			sets := k.of[op.Value]
			upTo := end(op)
			if n := len(sets); n > 0 {
				upTo = max(upTo, sets[n-1].endUpTo)
			}
			// ops are in invoke order
			k.of[op.Value] = append(sets, valueSet{invoke: int64(op.Invoke), endUpTo: upTo, write: -1, ok: op.Status == history.OK})
		}
	}
	for i, op := range k.writes { // the ok writers, in the same order
		sets := k.of[op.Value]
		for j := range sets {
			if ws := &sets[j]; ws.write < 0 && ws.ok && ws.invoke == int64(op.Invoke) {
				ws.write = i
				break
			}
		}
	}
	k.since = make([]int64, len(k.reads))
	k.seen = make([]int64, len(k.writes))
	k.seenBy = make([]int, len(k.writes))
	for i := range k.seen {
		k.seen[i], k.seenBy[i] = none, -1
	}
	for i, r := range k.reads {
		if r.Nil {
			k.since[i] = math.MinInt64
			continue
		}
		sets := k.of[r.Result]
		n := invokedBy(sets, int64(r.Return), func(s valueSet) int64 { return s.invoke }) // the sets that can explain it
		if n == 0 {
			k.since[i] = math.MaxInt64 // a value no set wrote (yet): Porcupine names it
			continue
		}
		k.since[i] = sets[n-1].endUpTo
		k.lastRead[r.Result] = max(k.lastRead[r.Result], int64(r.Invoke))
		if j := sets[0].write; n == 1 && j >= 0 && int64(r.Invoke) > k.seen[j] {
			k.seen[j], k.seenBy[j] = int64(r.Invoke), i
		}
	}
	return k
}

func (k *registerKey) lastReadOf(v string) int64 {
	if t, ok := k.lastRead[v]; ok {
		return t
	}
	return none
}

func analyzeRegister(ops []*history.Op, a *Anomalies) {
	k := newRegisterKey(ops)
	if len(k.writes) == 0 || len(k.reads) == 0 {
		return
	}
	k.sweepReads(a)
	k.sweepWrites(a)
}

// sweepReads classifies each read that missed a write: stale, evidence of
// a loss (sweepWrites names the write), or unattributed. Writes enter the
// trees, indexed by invoke order, once they returned before the read.
func (k *registerKey) sweepReads(a *Anomalies) {
	seen := newMaxTree(len(k.writes))   // how late a read only this write explains came
	unseen := newMaxTree(len(k.writes)) // minus how late any read of its value came
	order := byReturn(k.writes)
	next := 0
	for i, r := range k.reads {
		for ; next < len(order) && k.writes[order[next]].Return < r.Invoke; next++ {
			w := order[next]
			seen.set(w, k.seen[w])
			unseen.set(w, negate(k.lastReadOf(k.writes[w].Value)))
		}
		if k.since[i] == math.MaxInt64 {
			continue
		}
		from := invokedBy(k.writes, k.since[i], opInvoke) // the first write invoked after since
		lo, j := unseen.max(from, len(k.writes))
		if j < 0 {
			continue // missed nothing
		}
		if t, w := seen.max(from, len(k.writes)); w >= 0 && t > int64(r.Return) {
			a.Stale = append(a.Stale, StaleRead{Read: *r, Missed: *k.writes[w], Later: *k.reads[k.seenBy[w]]})
			continue
		}
		if negate(lo) <= int64(r.Return) {
			continue // evidence of a lost write
		}
		w := k.writes[j]
		a.Unattributed = append(a.Unattributed, Unattributed{Read: *r, Why: fmt.Sprintf(
			"missed %s; later reads saw %s again, but %d sets wrote it: cannot tell whether this one survived",
			DescribeOp(*w), strconv.Quote(w.Value), len(k.of[w.Value]))})
	}
}

// sweepWrites finds the lost writes: for each write, latest first, the
// reads invoked after it returned enter a tree indexed by since order; the
// write is lost when one that missed it (since before its invoke) returned
// after every read of its value was invoked.
func (k *registerKey) sweepWrites(a *Anomalies) {
	rank := make([]int, len(k.reads)) // reads by since
	for i := range rank {
		rank[i] = i
	}
	slices.SortStableFunc(rank, func(x, y int) int { return cmp.Compare(k.since[x], k.since[y]) })
	pos := make([]int, len(k.reads))
	sinces := make([]int64, len(k.reads))
	for p, i := range rank {
		pos[i], sinces[p] = p, k.since[i]
	}
	tree := newMaxTree(len(k.reads))
	order := byReturn(k.writes)
	next := len(k.reads) - 1 // reads are by invoke: add from the latest
	for o := len(order) - 1; o >= 0; o-- {
		w := k.writes[order[o]]
		for ; next >= 0 && k.reads[next].Invoke > w.Return; next-- {
			if k.since[next] != math.MaxInt64 {
				tree.set(pos[next], int64(k.reads[next].Return))
			}
		}
		upto, _ := slices.BinarySearch(sinces, int64(w.Invoke)) // since < invoke
		if t, p := tree.max(0, upto); p >= 0 && t >= k.lastReadOf(w.Value) {
			a.Lost = append(a.Lost, LostOp{Write: *w, Evidence: *k.reads[rank[p]]})
		}
	}
}

// negate turns a min query into a max one (none stays none).
func negate(v int64) int64 {
	if v == none {
		return math.MaxInt64
	}
	if v == math.MaxInt64 {
		return none
	}
	return -v
}
