package checker

// Lost writes, stale reads and the reads that cannot be attributed: the
// anomalies Redis Cluster shows when a master fails over before
// replicating, found in O(n log n) per key and never claimed without proof.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rcsim/rcsim/checker/history"
)

// Anomalies are what Analyze finds in a history. The definitions, per
// model ("before" and "after" are strict real-time order: A before B when
// A returned before B was invoked; intervals that touch are concurrent, as
// Porcupine has them; only ok ops are evidence, failed ops had no effect,
// unknown writes may have taken effect at any time after their invoke):
//
// A read r missed a write w when w (ok) completed before r and no state r
// could have seen includes w:
//   - register: r found no key, or every non-failed set of r's value
//     invoked before r returned is ok and returned before w was invoked
//     (then all of them are ordered before w, and w before r). With unique
//     values that is "r returned an older value"; with repeated values a
//     read that could have seen a later write of its value missed nothing.
//   - list: r's list lacks w's value, and w's value was pushed once on the
//     key. A value pushed more than once: see Unattributed.
//   - counter: r returned less than w's result (nil is 0).
//
// Then:
//   - Lost: an ok write w that some read r missed, where no read invoked
//     after r returned saw w's value (for a counter: a later incr returned
//     w's result or less, or the last get, after w, saw less; the count is
//     then, in the simple cases, acknowledged incrs minus the final value).
//     A write overwritten after the read that missed it, before anyone read
//     it again, counts as lost: nothing in the history shows it survived.
//   - Stale: a read r that missed a write w that a read invoked after r
//     returned provably saw: that read's value was written, among the ops
//     invoked before it returned, by w alone (list: its list holds w's
//     value; counter: it returned at least w's result). Of several such
//     writes one is named.
//   - Unattributed: a read that missed a write but is neither stale nor
//     the evidence of a lost write, because values repeat: every write it
//     missed had its value read again later, by a read that another write
//     of the same value could explain (register); or it lacks a push of a
//     value pushed more than once (list). The checker says "cannot
//     attribute" for these rather than count them as lost or stale. With
//     unique values there are none.
//
// Each is impossible in a linearizable history, so a history with any of
// them is not linearizable, and one Porcupine finds linearizable has none.
type Anomalies struct {
	Lost         []LostOp
	Stale        []StaleRead
	Unattributed []Unattributed
	// Incomplete says why some keys were not analysed (the budget ran out);
	// "" when every key was.
	Incomplete string
}

// LostOp is a lost write and the read that shows it (a zero Op for a
// counter's overwritten incr, shown by a later incr instead).
type LostOp struct {
	Write    history.Op
	Evidence history.Op
}

// Unattributed is a read that missed a write but cannot be attributed.
type Unattributed struct {
	Read history.Op `json:"read"`
	Why  string     `json:"why"`
}

// LostWrites returns the lost writes of ops (see Anomalies), in invoke order.
func LostWrites(model string, ops []history.Op) []history.Op {
	var out []history.Op
	for _, l := range Analyze(model, ops, time.Time{}).Lost {
		out = append(out, l.Write)
	}
	return out
}

// Analyze finds the anomalies of ops under model, key by key, stopping at
// the deadline (zero: none) with Incomplete set. An unknown model finds
// nothing.
func Analyze(model string, ops []history.Op, deadline time.Time) Anomalies {
	var a Anomalies
	keys := byKey(ops)
	for i, key := range keys {
		if !deadline.IsZero() && time.Now().After(deadline) {
			a.Incomplete = fmt.Sprintf("the budget ran out after %d of %d keys: the counts are lower bounds", i, len(keys))
			break
		}
		switch model {
		case "register":
			analyzeRegister(key, &a)
		case "list":
			analyzeList(key, &a)
		case "counter":
			analyzeCounter(key, &a)
		}
	}
	slices.SortStableFunc(a.Lost, func(x, y LostOp) int { return byInvoke(x.Write, y.Write) })
	slices.SortStableFunc(a.Stale, func(x, y StaleRead) int { return byInvoke(x.Read, y.Read) })
	slices.SortStableFunc(a.Unattributed, func(x, y Unattributed) int { return byInvoke(x.Read, y.Read) })
	return a
}

func byInvoke(a, b history.Op) int {
	if c := cmp.Compare(a.Invoke, b.Invoke); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// byKey groups ops by key, keys sorted, each group in invoke order. The
// groups are pointers into ops, sharing one array of the history's size
// (layOut); the analyses only read them.
func byKey(ops []history.Op) [][]*history.Op {
	l := layOut(ops, func(*history.Op) bool { return true })
	all := make([]*history.Op, len(ops))
	for i, j := range l.slot {
		all[j] = &ops[i]
	}
	out := make([][]*history.Op, len(l.keys))
	for k := range out {
		out[k] = all[l.start[k]:l.start[k+1]:l.start[k+1]]
		slices.SortStableFunc(out[k], func(a, b *history.Op) int { return cmp.Compare(a.Invoke, b.Invoke) })
	}
	return out
}

// keyLayout places the ops a check keeps of a history in one array,
// grouped by key, keys sorted, each group in history order: op i goes to
// slot[i] (-1: not kept) and key k's ops fill [start[k], start[k+1]).
// Counting first sizes every array exactly (growing a slice of copies per
// key was most of the checker's allocations in a sweep).
type keyLayout struct {
	keys  []string
	start []int // len(keys)+1
	slot  []int32
}

// layOut lays out the ops of ops that keep accepts (see keyLayout).
func layOut(ops []history.Op, keep func(*history.Op) bool) keyLayout {
	group := map[string]int32{} // key → its number, by first appearance
	of := make([]int32, len(ops))
	var counts []int
	for i := range ops {
		if !keep(&ops[i]) {
			of[i] = -1
			continue
		}
		g, ok := group[ops[i].Key]
		if !ok {
			g = int32(len(counts))
			group[ops[i].Key] = g
			counts = append(counts, 0)
		}
		of[i] = g
		counts[g]++
	}
	l := keyLayout{keys: make([]string, 0, len(group)), start: make([]int, len(group)+1), slot: of}
	for k := range group {
		l.keys = append(l.keys, k)
	}
	slices.Sort(l.keys)
	next := make([]int, len(counts)) // by key number: the next slot of its group
	for k, key := range l.keys {
		g := group[key]
		next[g] = l.start[k]
		l.start[k+1] = l.start[k] + counts[g]
	}
	for i, g := range of {
		if g >= 0 {
			of[i] = int32(next[g])
			next[g]++
		}
	}
	return l
}

// split returns the ok writes and ok reads of one key, in invoke order,
// each in a slice of its exact size.
func split(ops []*history.Op, write, read string) (writes, reads []*history.Op) {
	nw, nr := 0, 0
	for _, op := range ops {
		if op.Status == history.OK {
			switch op.Kind {
			case write:
				nw++
			case read:
				nr++
			}
		}
	}
	writes, reads = make([]*history.Op, 0, nw), make([]*history.Op, 0, nr)
	for _, op := range ops {
		if op.Status != history.OK {
			continue
		}
		switch op.Kind {
		case write:
			writes = append(writes, op)
		case read:
			reads = append(reads, op)
		}
	}
	return writes, reads
}

// end is when an op's effect is over at the latest: its return, or never
// for an unknown op.
func end(op *history.Op) int64 {
	if op.Status == history.Unknown {
		return math.MaxInt64
	}
	return int64(op.Return)
}

// byReturn returns the indexes of ops sorted by return time (stable).
func byReturn(ops []*history.Op) []int {
	idx := make([]int, len(ops))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ops[a].Return, ops[b].Return) })
	return idx
}

// invokedBy is the number of elements of s, in invoke order, invoked at or
// before t (so the index of the first invoked after t); invoke reads an
// element's invoke time.
func invokedBy[T any](s []T, t int64, invoke func(T) int64) int {
	n, _ := slices.BinarySearchFunc(s, t, func(e T, t int64) int {
		if invoke(e) <= t {
			return -1
		}
		return 1
	})
	return n
}

// opInvoke is an op's invoke time, for invokedBy.
func opInvoke(op *history.Op) int64 { return int64(op.Invoke) }
