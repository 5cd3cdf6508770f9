package sim

// The event queue: a radix heap by (virtual time, insertion order), so that
// events due at the same instant run in the order they were scheduled.

import (
	"fmt"
	"math/bits"
	"time"
)

// queue is a monotone priority queue of events ordered by (at, seq). seq is
// a global insertion counter, so events due at the same virtual time run in
// the order they were scheduled, which makes the whole run a function of the
// seed.
//
// It is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990), which the
// kernel's clock allows: no event is ever scheduled before the last one
// taken. Bucket b holds the keys whose highest bit differing from last (the
// time of the last event taken) is bit b−1, so every key of a bucket is
// later than every key of a lower one, and bucket 0 holds the keys due at
// last itself, in insertion order. A push appends to its bucket; a take
// that finds bucket 0 empty moves the lowest non-empty bucket's keys down
// relative to their earliest time. Each key moves at most once per bit of
// the spread of times in the queue, through short sequential buckets: a
// binary heap's sift touches log₂ n scattered entries per push and per pop
// (at 2,000 nodes, with 10⁵ events queued, the queue was 7% of a run).
//
// The buckets hold small pointer-free keys; the events themselves sit in
// slots that never move while queued, and a taken event's slot is reused by
// a later push (no allocation per event once the queue has grown).
type queue struct {
	buckets  [64][]qkey // at ≥ 0, so at^last < 2⁶³
	nonEmpty uint64     // bit b: buckets[b] has keys (bucket 0 from head0 on)
	head0    int        // bucket 0's next key; bucket 0 is sorted by seq
	last     time.Duration
	n        int
	// first caches the earliest key while bucket 0 is empty (peek found it
	// by a scan of the lowest bucket; take then moves that bucket by it).
	first   qkey
	firstOK bool

	slots []event
	free  []int32 // slots not in use
	seq   uint64
}

// qkey is one queue entry: the ordering key and where its event is.
type qkey struct {
	at   time.Duration
	seq  uint64
	slot int32
}

// bucket is the bucket of a key due at `at`.
func (q *queue) bucket(at time.Duration) int {
	return bits.Len64(uint64(at ^ q.last))
}

func (q *queue) push(e event) {
	if e.at < q.last {
		// The kernel's clock only moves forward: this is a bug in whoever
		// scheduled e, and a radix heap cannot order it.
		panic(fmt.Sprintf("sim: event %d scheduled at %v, before the queue's time %v", e.kind, e.at, q.last))
	}
	q.seq++
	e.seq = q.seq
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slots[slot].set(&e)
	} else {
		slot = int32(len(q.slots))
		q.slots = append(q.slots, e)
	}
	k := qkey{at: e.at, seq: e.seq, slot: slot}
	b := q.bucket(k.at)
	if b == 0 {
		q.firstOK = false // first is cached only while bucket 0 is empty
	}
	q.buckets[b] = append(q.buckets[b], k)
	q.nonEmpty |= 1 << b
	q.n++
	if q.firstOK && k.at < q.first.at { // later seq: only an earlier time goes first
		q.first = k
	}
}

func (q *queue) pop() (event, bool) {
	if q.n == 0 {
		return event{}, false
	}
	slot := q.take()
	e := q.slots[slot]
	q.release(slot)
	return e, true
}

// take removes the earliest event from the queue and returns its slot, which
// stays the event's until release: the kernel runs the event in place
// (world.step) instead of copying its 112 bytes out and back. A push while
// it runs may grow slots; the event's address then points into the old
// array, which still holds it, and release clears the slot in the new one.
// The queue must not be empty.
func (q *queue) take() int32 {
	if q.nonEmpty&1 == 0 {
		q.refill()
	}
	b0 := q.buckets[0]
	k := b0[q.head0]
	q.head0++
	if q.head0 == len(b0) {
		q.buckets[0], q.head0 = b0[:0], 0
		q.nonEmpty &^= 1
	}
	q.n--
	return k.slot
}

// refill moves the lowest non-empty bucket down relative to its earliest
// time, which becomes last: its keys due then land in bucket 0. Every bucket
// stays sorted by seq with no sorting: a refill moves keys, in order, only
// into buckets below the lowest non-empty one, which are empty, and a push
// appends the newest seq. Bucket 0 must be empty and the queue not.
func (q *queue) refill() {
	b := bits.TrailingZeros64(q.nonEmpty)
	src := q.buckets[b]
	if !q.firstOK {
		q.first = earliest(src)
	}
	q.last, q.firstOK = q.first.at, false
	for _, k := range src {
		d := q.bucket(k.at)
		q.buckets[d] = append(q.buckets[d], k)
		q.nonEmpty |= 1 << d
	}
	q.buckets[b] = src[:0]
	q.nonEmpty &^= 1 << b
}

// earliest is the first key of a non-empty bucket by (at, seq).
func earliest(ks []qkey) qkey {
	m := ks[0]
	for _, k := range ks[1:] {
		if keyLess(k, m) {
			m = k
		}
	}
	return m
}

// release frees the slot of an event take returned, once it has run: its
// references are dropped for the collector, the rest is left for set.
func (q *queue) release(slot int32) {
	e := &q.slots[slot]
	if e.conn != nil {
		e.conn = nil
	}
	if e.msg != nil {
		e.msg = nil
	}
	if e.cmd != nil {
		e.cmd = nil
	}
	if e.reply != nil {
		e.reply = nil
	}
	if e.mig != nil {
		e.mig = nil
	}
	q.free = append(q.free, slot)
}

// set copies e into the free slot s, whose references release dropped, a
// field at a time: only the references e holds (one or two of the five) are
// written, so while the collector runs, a push pays a write barrier for
// each of those instead of the barrier over every pointer of the struct
// that copying it whole takes, and release as few (without clients, when
// the heap is small and a collection is under way much of the time, the
// two were 5% of a run). TestQueueSetCopiesAll checks that every field is
// copied.
func (s *event) set(e *event) {
	s.at, s.seq, s.kind, s.dst, s.inc, s.num = e.at, e.seq, e.kind, e.dst, e.inc, e.num
	s.dir, s.syn, s.admitted, s.charged = e.dir, e.syn, e.admitted, e.charged
	s.gen, s.link = e.gen, e.link
	if e.conn != nil {
		s.conn = e.conn
	}
	if e.msg != nil {
		s.msg = e.msg
	}
	if e.cmd != nil {
		s.cmd = e.cmd
	}
	if e.reply != nil {
		s.reply = e.reply
	}
	if e.mig != nil {
		s.mig = e.mig
	}
}

// peek returns the key of the earliest event. It moves nothing: an event
// the kernel runs before that one (a client's wake-up) may still schedule
// events between last and it.
func (q *queue) peek() (qkey, bool) {
	if q.n == 0 {
		return qkey{}, false
	}
	if q.nonEmpty&1 != 0 {
		return q.buckets[0][q.head0], true
	}
	if !q.firstOK {
		q.first, q.firstOK = earliest(q.buckets[bits.TrailingZeros64(q.nonEmpty)]), true
	}
	return q.first, true
}

// key returns the key of an event due at `at` scheduled now, for an event
// kept outside the queue (a client's wake-up, sim/wakes.go): it takes the
// next insertion number, as push would.
func (q *queue) key(at time.Duration) qkey {
	q.seq++
	return qkey{at: at, seq: q.seq}
}

// keyLess is the kernel's one order of events, for the queue and the
// clients' wake-ups alike: by time, then by insertion.
func keyLess(a, b qkey) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }
