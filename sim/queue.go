package sim

// The event queue: a binary min-heap by (virtual time, insertion order), so
// that events due at the same instant run in the order they were scheduled.

import "time"

// queue is a binary min-heap of events ordered by (at, seq). seq is a global
// insertion counter, so events due at the same virtual time run in the order
// they were scheduled, which makes the whole run a function of the seed.
type queue struct {
	evs []event
	seq uint64
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.evs = append(q.evs, e)
	q.up(len(q.evs) - 1)
}

func (q *queue) pop() (event, bool) {
	if len(q.evs) == 0 {
		return event{}, false
	}
	top := q.evs[0]
	last := len(q.evs) - 1
	q.evs[0] = q.evs[last]
	q.evs[last] = event{} // drop references for the collector
	q.evs = q.evs[:last]
	if last > 0 {
		q.down(0)
	}
	return top, true
}

func (q *queue) peekAt() (time.Duration, bool) {
	if len(q.evs) == 0 {
		return 0, false
	}
	return q.evs[0].at, true
}

func (q *queue) less(i, j int) bool {
	a, b := &q.evs[i], &q.evs[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.evs[i], q.evs[p] = q.evs[p], q.evs[i]
		i = p
	}
}

func (q *queue) down(i int) {
	n := len(q.evs)
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
		q.evs[i], q.evs[m] = q.evs[m], q.evs[i]
		i = m
	}
}
