package sim

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestKeyHeapIsMinOfLiveKeys checks keyHeap against the plainest model of
// it, each owner's live key or none: in any sequence of sets (often of the
// owner just popped, which keyHeap treats apart), peeks and pops,
// peek is the least live key and pop takes exactly that owner's.
func TestKeyHeapIsMinOfLiveKeys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var h keyHeap
		const owners = 6
		live := map[int]qkey{}
		var seq uint64
		least := func() (int, qkey, bool) {
			id, ok := -1, false
			var k qkey
			for o := 0; o < owners; o++ {
				if lk, has := live[o]; has && (!ok || keyLess(lk, k)) {
					id, k, ok = o, lk, true
				}
			}
			return id, k, ok
		}
		last := -1 // the owner pop returned last
		for i, n := 0, rapid.IntRange(0, 300).Draw(t, "n"); i < n; i++ {
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0: // set: the owner just popped half the time
				id := rapid.IntRange(0, owners-1).Draw(t, "id")
				if last >= 0 && rapid.Bool().Draw(t, "again") {
					id = last
				}
				seq++
				k := qkey{at: time.Duration(rapid.IntRange(0, 20).Draw(t, "at")), seq: seq}
				h.set(id, k)
				live[id] = k
			case 1:
				_, want, wok := least()
				got, gok := h.peek()
				if gok != wok || got != want {
					t.Fatalf("peek %v %v, want %v %v", got, gok, want, wok)
				}
			case 2:
				id, _, ok := least()
				if !ok {
					continue
				}
				if got := h.pop(); got != id {
					t.Fatalf("pop gave owner %d, want %d", got, id)
				}
				delete(live, id)
				last = id
			}
		}
	})
}
