package sim

import (
	"fmt"
	"math/rand/v2"
	"reflect"
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
			q.push(event{at: time.Duration(a), num: i})
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
			if i > 0 && (e.at < prev.at || (e.at == prev.at && e.num < prev.num)) {
				t.Fatalf("event %v came after %v", e, prev)
			}
			prev = e
		}
	})
}

// TestQueueSetCopiesAll: a pushed event comes out of a reused slot equal to
// what was pushed, every field of event set (so a field added to event and
// not to set fails here), and a released slot holds no reference.
func TestQueueSetCopiesAll(t *testing.T) {
	var full event
	v := reflect.ValueOf(&full).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Uint8, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("event field %s of kind %s: teach this test (and event.set) about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	var q queue
	q.push(event{at: 1, conn: &conn{}})
	q.pop() // its slot is reused below
	q.push(full)
	slot := q.take()
	got := q.slots[slot]
	full.seq = got.seq // push numbers it
	if !reflect.DeepEqual(got, full) {
		t.Fatalf("a reused slot holds %+v, want %+v", got, full)
	}
	q.release(slot)
	if e := q.slots[slot]; e.conn != nil || e.msg != nil || e.cmd != nil || e.reply != nil || e.mig != nil {
		t.Fatalf("a released slot keeps references: %+v", e)
	}
}

// TestQueueInterleaved checks the queue as the kernel uses it: pushes, peeks
// and takes interleaved, each push due no earlier than the last event
// taken, many at the very same instant, against a sorted list of every key
// pushed. A peek must name the event the next take returns, whatever was
// pushed in between.
func TestQueueInterleaved(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		var ref []qkey // pending keys, unsorted
		var now time.Duration
		id := 0
		for range rapid.IntRange(0, 300).Draw(t, "ops") {
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op < 5: // push: often now, sometimes far ahead (other buckets)
				d := time.Duration(rapid.SampledFrom([]int{0, 0, 1, 2, 3, 7, 100, 1 << 20, 1 << 40}).Draw(t, "delay"))
				q.push(event{at: now + d, num: id})
				ref = append(ref, qkey{at: now + d, seq: q.seq, slot: int32(id)})
				id++
			case op < 7: // peek
				k, ok := q.peek()
				if ok != (len(ref) > 0) {
					t.Fatalf("peek ok=%v with %d pending", ok, len(ref))
				}
				if ok {
					if want := ref[minKey(ref)]; k.at != want.at || k.seq != want.seq {
						t.Fatalf("peek %+v, want %+v", k, want)
					}
				}
			default: // take
				e, ok := q.pop()
				if ok != (len(ref) > 0) {
					t.Fatalf("pop ok=%v with %d pending", ok, len(ref))
				}
				if !ok {
					continue
				}
				m := minKey(ref)
				if want := ref[m]; e.at != want.at || e.seq != want.seq || e.num != int(want.slot) {
					t.Fatalf("popped %v (seq %d, id %d), want %+v", e.at, e.seq, e.num, want)
				}
				now = e.at
				ref = append(ref[:m], ref[m+1:]...)
			}
		}
	})
}

// minKey is the index of the earliest of ks.
func minKey(ks []qkey) int {
	m := 0
	for i := range ks {
		if keyLess(ks[i], ks[m]) {
			m = i
		}
	}
	return m
}

// TestQueuePastPanics: a push before the last event taken is a kernel bug,
// which the radix heap cannot order, so it fails loudly.
func TestQueuePastPanics(t *testing.T) {
	var q queue
	q.push(event{at: 10})
	q.pop()
	defer func() {
		if recover() == nil {
			t.Fatal("a push into the past did not panic")
		}
	}()
	q.push(event{at: 9})
}

// BenchmarkQueueHold is the classic hold model: each step pops the earliest
// event and pushes one a random delay later, the queue's size staying put:
// 2,000 events is the kernel's steady state under client load, 200,000 a
// 2,000-node cluster's (a cron timer per node and the messages in flight).
func BenchmarkQueueHold(b *testing.B) {
	for _, size := range []int{2000, 200_000} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			var q queue
			r := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < size; i++ {
				q.push(event{at: time.Duration(r.IntN(1_000_000))})
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e, _ := q.pop()
				q.push(event{at: e.at + time.Duration(r.IntN(1_000_000))})
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestWakesOrder checks the clients' wake-ups against the single event queue
// they replace, which held every wake-up a client asked for, superseded or
// not, beside the other events: a client woke when a wake-up came due at
// the moment it last asked for (world.wakeClient), and a superseded one was
// an event that did nothing. In any interleaving of requests (often for the
// same moment, or for the moment of the event running) and other events,
// the wake-ups make the same events that wake a client, with the same keys,
// in the same order among the others, and none of the others.
func TestWakesOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ref, other, seqs queue // ref: everything, as one queue; other: the non-wake events
		var timers keyHeap
		w := wakes{timers: &timers}
		const clients = 3
		wantAt, gotAt := make([]time.Duration, clients), make([]time.Duration, clients)
		for c := range wantAt {
			wantAt[c], gotAt[c] = -1, -1
		}
		var now time.Duration
		var cur qkey
		n := rapid.IntRange(0, 200).Draw(t, "n")
		for i := 0; ; i++ {
			if i < n && !rapid.Bool().Draw(t, "run") {
				c := rapid.IntRange(-1, clients-1).Draw(t, "client") // -1: another event
				at := now + time.Duration(rapid.IntRange(0, 5).Draw(t, "after"))
				if c >= 0 && at == wantAt[c] {
					continue // world.scheduleWake: already asked for
				}
				k := seqs.key(at)
				ref.seq = k.seq - 1
				ref.push(event{at: at, dst: c})
				if c < 0 {
					other.seq = k.seq - 1
					other.push(event{at: at, dst: c})
					continue
				}
				wantAt[c], gotAt[c] = at, at
				w.push(c, k, cur)
				continue
			}
			// The single queue's next event that does something.
			var want event
			found := false
			last := now
			for ref.n > 0 && !found {
				want, _ = ref.pop()
				found = want.dst < 0 || want.at == wantAt[want.dst]
				last = want.at
			}
			// The kernel's: the earlier of the queue's and the wake-ups'.
			var got event
			qk, qok := other.peek()
			wk, wok := timers.peek()
			switch {
			case wok && (!qok || keyLess(wk, qk)):
				c := timers.pop()
				w.woke(c)
				got = event{at: wk.at, seq: wk.seq, dst: c}
			case qok:
				got, _ = other.pop()
			default:
				if found {
					t.Fatalf("nothing left; the single queue runs %+v", want)
				}
				if i >= n {
					return
				}
				// Nothing does anything: the single queue ran its
				// superseded wake-ups, and a client asks again only after
				// them (as after Manual.RunUntil).
				now, cur = last, qkey{at: last, seq: seqs.seq}
				continue
			}
			if !found || got.at != want.at || got.seq != want.seq || got.dst != want.dst {
				t.Fatalf("ran client %d at %d (seq %d); the single queue runs client %d at %d (seq %d) (found %v)",
					got.dst, got.at, got.seq, want.dst, want.at, want.seq, found)
			}
			if got.dst >= 0 {
				wantAt[got.dst], gotAt[got.dst] = -1, -1
			}
			now, cur = got.at, qkey{at: got.at, seq: got.seq}
		}
	})
}
