package checker

// Lost writes: acknowledged writes that later reads prove were undone, the
// anomaly Redis Cluster shows when a master fails over before replicating.

import (
	"cmp"
	"slices"
	"strconv"

	"rcsim/checker/history"
)

// LostWrites returns the acknowledged (status ok) writes of ops that later
// reads show were lost, in invoke order. "After w" below means invoked after
// w returned; only ok reads count as evidence. Per model:
//
//   - list: an rpush w of value v is lost when some lrange r after w lacks v
//     and so does every lrange invoked at or after r (v never comes back).
//   - register (set values must be unique per write): a set w of value v is
//     lost when some get r after w returned an older value, that is nil or a
//     value written by a set that returned before w was invoked, and no get
//     invoked after r returned saw v. Reads of values written after w prove
//     nothing either way (they overwrite w whether it survived or not), so a
//     stale read (an old master cut off in a minority answering a GET) after
//     which v was overwritten before anyone read it counts as a lost write.
//     Either way the history is not linearizable: with unique values and no
//     DEL, a read older than a completed write is impossible otherwise, so a
//     linearizable history never has lost writes.
//   - counter: an incr w that returned n is lost when a later incr (invoked
//     after w returned) returned n or less, or when the last get of the key,
//     invoked after w returned, saw less than n (nil counts as 0). The count
//     then equals, in the simple cases, acknowledged incrs minus the final
//     value; which of the overwritten incrs are named is a choice (the
//     earlier ones).
//
// An unknown model returns nil.
func LostWrites(model string, ops []history.Op) []history.Op {
	var lost []history.Op
	for _, key := range byKey(ops) {
		switch model {
		case "list":
			lost = append(lost, lostList(key)...)
		case "register":
			lost = append(lost, lostRegister(key)...)
		case "counter":
			lost = append(lost, lostCounter(key)...)
		}
	}
	slices.SortStableFunc(lost, func(a, b history.Op) int {
		if c := cmp.Compare(a.Invoke, b.Invoke); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return lost
}

// byKey groups ops by key, keys sorted, each group in invoke order.
func byKey(ops []history.Op) [][]history.Op {
	m := map[string][]history.Op{}
	for _, op := range ops {
		m[op.Key] = append(m[op.Key], op)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]history.Op, len(keys))
	for i, k := range keys {
		out[i] = m[k]
		slices.SortStableFunc(out[i], func(a, b history.Op) int { return cmp.Compare(a.Invoke, b.Invoke) })
	}
	return out
}

// split returns the ok writes and ok reads of one key, in invoke order.
func split(ops []history.Op, write, read string) (writes, reads []history.Op) {
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

func lostList(ops []history.Op) []history.Op {
	writes, reads := split(ops, "rpush", "lrange")
	var lost []history.Op
	if len(reads) == 0 {
		return nil
	}
	// Some read after w lacks v and so do all later ones exactly when the
	// last read (in invoke order) is after w and lacks v.
	last := reads[len(reads)-1]
	for _, w := range writes {
		if last.Invoke > w.Return && !slices.Contains(last.List, w.Value) {
			lost = append(lost, w)
		}
	}
	return lost
}

func lostRegister(ops []history.Op) []history.Op {
	writes, reads := split(ops, "set", "get")
	setOf := map[string]history.Op{} // value -> the set that wrote it
	for _, op := range ops {
		if op.Kind == "set" && op.Status != history.Fail {
			if _, dup := setOf[op.Value]; !dup {
				setOf[op.Value] = op
			}
		}
	}
	older := func(r, w history.Op) bool {
		if r.Nil {
			return true
		}
		s, ok := setOf[r.Result]
		return ok && s.Status == history.OK && s.Return < w.Invoke
	}
	var lost []history.Op
	for _, w := range writes {
		// The stale read that returned last leaves the fewest later reads
		// to contradict it: w is lost if any stale read is, then that one is.
		var stale *history.Op
		for i, r := range reads {
			if r.Invoke > w.Return && older(r, w) && (stale == nil || r.Return > stale.Return) {
				stale = &reads[i]
			}
		}
		if stale == nil {
			continue
		}
		seen := false
		for _, r2 := range reads {
			if r2.Invoke > stale.Return && !r2.Nil && r2.Result == w.Value {
				seen = true
				break
			}
		}
		if !seen {
			lost = append(lost, w)
		}
	}
	return lost
}

func lostCounter(ops []history.Op) []history.Op {
	writes, reads := split(ops, "incr", "get")
	var lost []history.Op
	for _, w := range writes {
		n, err := strconv.ParseInt(w.Result, 10, 64)
		if err != nil {
			continue
		}
		if overwritten(w, n, writes) || len(reads) > 0 && belowFinal(w, n, reads[len(reads)-1]) {
			lost = append(lost, w)
		}
	}
	return lost
}

// overwritten: an incr invoked after w returned got n or less.
func overwritten(w history.Op, n int64, writes []history.Op) bool {
	for _, w2 := range writes {
		if w2.Invoke <= w.Return {
			continue
		}
		if m, err := strconv.ParseInt(w2.Result, 10, 64); err == nil && m <= n {
			return true
		}
	}
	return false
}

// belowFinal: the last get, invoked after w returned, saw less than n.
func belowFinal(w history.Op, n int64, last history.Op) bool {
	if last.Invoke <= w.Return {
		return false
	}
	if last.Nil {
		return true
	}
	v, err := strconv.ParseInt(last.Result, 10, 64)
	return err == nil && v < n
}
