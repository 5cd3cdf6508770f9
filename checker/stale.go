package checker

// Stale reads: a read that saw an older state than a write that had already
// completed, where a later read shows that write survived. The write was not
// lost; the read came from a node that did not have it yet (in Redis Cluster,
// typically an old master still answering in a minority, or a replica).

import (
	"cmp"
	"slices"
	"strconv"

	"rcsim/checker/history"
)

// StaleRead is one stale read: Read returned a state older than Missed,
// which returned before Read was invoked; Later, invoked after Read
// returned, saw Missed's effect.
type StaleRead struct {
	Read   history.Op `json:"read"`
	Missed history.Op `json:"missed"`
	Later  history.Op `json:"later"`
}

// StaleReads lists the stale reads of ops (ok ops only), by read invoke
// order. Per model, "older than Missed" and "saw Missed's effect" mean:
//
//   - register (set values unique): Read returned nil or the value of a set
//     that returned before Missed was invoked; Later returned Missed's value.
//   - list: Read's list lacks Missed's value; Later's list holds it.
//   - counter: Read returned less than Missed's result (nil is 0); Later
//     returned at least Missed's result.
//
// Of several missed writes, the one that returned last is named. A read of
// an older state that no later read contradicts is not stale: it is the
// evidence of a lost write (LostWrites). Stale reads make a history
// non-linearizable on their own.
func StaleReads(model string, ops []history.Op) []StaleRead {
	var out []StaleRead
	for _, key := range byKey(ops) {
		switch model {
		case "register":
			out = append(out, staleRegister(key)...)
		case "list":
			out = append(out, staleList(key)...)
		case "counter":
			out = append(out, staleCounter(key)...)
		}
	}
	slices.SortStableFunc(out, func(a, b StaleRead) int {
		if c := cmp.Compare(a.Read.Invoke, b.Read.Invoke); c != 0 {
			return c
		}
		return cmp.Compare(a.Read.Key, b.Read.Key)
	})
	return out
}

// staleBy finds, for each read, the latest-returning completed write it
// missed (missed(r, w)) that a later read saw (saw(r2, w)).
func staleBy(writes, reads []history.Op, missed, saw func(r, w history.Op) bool) []StaleRead {
	slices.SortStableFunc(writes, func(a, b history.Op) int { return cmp.Compare(b.Return, a.Return) })
	var out []StaleRead
	for _, r := range reads {
	writes:
		for _, w := range writes {
			if w.Return >= r.Invoke || !missed(r, w) {
				continue
			}
			for _, r2 := range reads {
				if r2.Invoke > r.Return && saw(r2, w) {
					out = append(out, StaleRead{Read: r, Missed: w, Later: r2})
					break writes
				}
			}
		}
	}
	return out
}

func staleRegister(ops []history.Op) []StaleRead {
	writes, reads := split(ops, "set", "get")
	setOf := map[string]history.Op{}
	for _, w := range writes {
		if _, dup := setOf[w.Value]; !dup {
			setOf[w.Value] = w
		}
	}
	missed := func(r, w history.Op) bool {
		if r.Nil {
			return true
		}
		s, ok := setOf[r.Result]
		return ok && s.Return < w.Invoke
	}
	saw := func(r2, w history.Op) bool { return !r2.Nil && r2.Result == w.Value }
	return staleBy(writes, reads, missed, saw)
}

func staleList(ops []history.Op) []StaleRead {
	writes, reads := split(ops, "rpush", "lrange")
	missed := func(r, w history.Op) bool { return !slices.Contains(r.List, w.Value) }
	saw := func(r2, w history.Op) bool { return slices.Contains(r2.List, w.Value) }
	return staleBy(writes, reads, missed, saw)
}

func staleCounter(ops []history.Op) []StaleRead {
	writes, reads := split(ops, "incr", "get")
	num := func(op history.Op) (int64, bool) {
		if op.Nil {
			return 0, true
		}
		n, err := strconv.ParseInt(op.Result, 10, 64)
		return n, err == nil
	}
	missed := func(r, w history.Op) bool {
		a, ok1 := num(r)
		b, ok2 := num(w)
		return ok1 && ok2 && a < b
	}
	saw := func(r2, w history.Op) bool {
		a, ok1 := num(r2)
		b, ok2 := num(w)
		return ok1 && ok2 && a >= b
	}
	return staleBy(writes, reads, missed, saw)
}
