package sim

// The event queue: a binary min-heap by (virtual time, insertion order), so
// that events due at the same instant run in the order they were scheduled.

import "time"

// queue is a binary min-heap of events ordered by (at, seq). seq is a global
// insertion counter, so events due at the same virtual time run in the order
// they were scheduled, which makes the whole run a function of the seed.
//
// The heap holds small pointer-free keys; the events themselves sit in slots
// that never move while queued, so sifting copies 24 bytes per step and
// needs no write barriers, and a popped event's slot is reused by a later
// push (no allocation per event once the queue has grown).
type queue struct {
	keys  []qkey
	slots []event
	free  []int32 // slots not in use
	seq   uint64
}

// qkey is one heap entry: the ordering key and where its event is.
type qkey struct {
	at   time.Duration
	seq  uint64
	slot int32
}

func (q *queue) push(e event) {
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
	q.keys = append(q.keys, qkey{at: e.at, seq: e.seq, slot: slot})
	q.up(len(q.keys) - 1)
}

func (q *queue) pop() (event, bool) {
	if len(q.keys) == 0 {
		return event{}, false
	}
	slot := q.take()
	e := q.slots[slot]
	q.release(slot)
	return e, true
}

// take removes the earliest event from the heap and returns its slot, which
// stays the event's until release: the kernel runs the event in place
// (world.step) instead of copying its 112 bytes out and back. A push while
// it runs may grow slots; the event's address then points into the old
// array, which still holds it, and release clears the slot in the new one.
// The heap must not be empty.
func (q *queue) take() int32 {
	slot := q.keys[0].slot
	last := len(q.keys) - 1
	q.keys[0] = q.keys[last]
	q.keys = q.keys[:last]
	if last > 0 {
		q.down(0)
	}
	return slot
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
	s.at, s.seq, s.kind, s.dst, s.inc, s.fault = e.at, e.seq, e.kind, e.dst, e.inc, e.fault
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

// peek returns the key of the earliest event.
func (q *queue) peek() (qkey, bool) {
	if len(q.keys) == 0 {
		return qkey{}, false
	}
	return q.keys[0], true
}

// key returns the key of an event due at `at` scheduled now, for an event
// kept outside the heap (a client's wake-up, sim/wakes.go): it takes the
// next insertion number, as push would.
func (q *queue) key(at time.Duration) qkey {
	q.seq++
	return qkey{at: at, seq: q.seq}
}

// keyLess is the kernel's one order of events, for the queue and the
// clients' wake-ups alike: by time, then by insertion.
func keyLess(a, b qkey) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

func (q *queue) less(i, j int) bool { return keyLess(q.keys[i], q.keys[j]) }

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.keys[i], q.keys[p] = q.keys[p], q.keys[i]
		i = p
	}
}

func (q *queue) down(i int) {
	n := len(q.keys)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.keys[i], q.keys[m] = q.keys[m], q.keys[i]
		i = m
	}
}
