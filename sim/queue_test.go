package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestQueueOrder checks the heap against the obvious definition: events come
// out sorted by time, and in insertion order among equal times.
func TestQueueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ats := rapid.SliceOf(rapid.IntRange(0, 20)).Draw(t, "ats")
		var q queue
		for i, a := range ats {
			q.push(event{at: time.Duration(a), fault: i})
		}
		var prev event
		for i := 0; ; i++ {
			e, ok := q.pop()
			if !ok {
				if i != len(ats) {
					t.Fatalf("popped %d of %d", i, len(ats))
				}
				return
			}
			if i > 0 && (e.at < prev.at || (e.at == prev.at && e.fault < prev.fault)) {
				t.Fatalf("event %v came after %v", e, prev)
			}
			prev = e
		}
	})
}

// BenchmarkQueueHold is the classic hold model: a queue of 2,000 events,
// each step pops the earliest and pushes one a random delay later (the
// kernel's steady state under client load).
func BenchmarkQueueHold(b *testing.B) {
	var q queue
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		q.push(event{at: time.Duration(r.IntN(1_000_000))})
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, _ := q.pop()
		q.push(event{at: e.at + time.Duration(r.IntN(1_000_000))})
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// TestWakesOrder checks the clients' wake-up queue against the event queue
// it replaces: the same keys, pushed and popped in any interleaving, come
// out in the same order with the same client.
func TestWakesOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q, seqs queue
		var w wakes
		now := time.Duration(0)
		n := rapid.IntRange(0, 200).Draw(t, "n")
		for i := 0; i < n || len(q.keys) > 0; i++ {
			if len(q.keys) > 0 && (i >= n || rapid.Bool().Draw(t, "pop")) {
				want, _ := q.pop()
				got, ok := w.peek()
				if !ok || got.at != want.at || got.seq != want.seq {
					t.Fatalf("peek %v, %v; want %v at %d", got, ok, want.at, want.seq)
				}
				if c := w.pop(); c != want.dst {
					t.Fatalf("popped client %d, want %d", c, want.dst)
				}
				now = want.at
				continue
			}
			c := rapid.IntRange(0, 3).Draw(t, "client")
			k := seqs.key(now + time.Duration(rapid.IntRange(0, 5).Draw(t, "after")))
			q.seq = k.seq - 1
			q.push(event{at: k.at, dst: c})
			w.push(c, k)
		}
		if _, ok := w.peek(); ok {
			t.Fatal("wakes left after the queue is empty")
		}
	})
}
