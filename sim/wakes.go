package sim

// The clients' wake-ups, kept apart from the event queue. A client asks to
// be woken at one moment at a time (its deadline while an operation is in
// flight, the start of its next one after the reply), so most wake-ups are
// superseded before they come due: at 1,000 ops/s with a 1 s timeout the
// queue would hold about a thousand dead deadlines, and every pop would
// sift through them. Here each client keeps its current wake-up apart and
// its superseded ones in a list sorted by key, and a heap as small as the
// number of clients orders the clients by their earliest entry.
//
// The events are exactly those the queue would hold, with the same keys
// (their seq comes from the queue's counter), and the kernel pops them in
// the same order: a superseded wake-up still comes due, counts as a kernel
// event and wakes its client if that asked again for exactly its moment
// (wakeClient decides, as for any wake-up). Only where they are kept differs.

// wakes is the clients' wake-up events, by client number (the index into
// world.clients).
type wakes struct {
	cl   []clientWakes
	heap []wakeEntry // clients with an entry, a min-heap by their earliest one
	pos  []int32     // client number → its index in heap, -1 while it has none
}

// wakeEntry is a client in the heap with its earliest wake-up.
type wakeEntry struct {
	k qkey
	c int32
}

// clientWakes is one client's queued wake-ups: the one scheduled last and,
// sorted by key, those it superseded.
type clientWakes struct {
	live    qkey
	hasLive bool
	old     []qkey // superseded, in (at, seq) order from old[head:]
	head    int
}

// first is c's earliest queued wake-up; ok is false if it has none.
func (c *clientWakes) first() (k qkey, ok bool) {
	if c.head < len(c.old) {
		k, ok = c.old[c.head], true
	}
	if c.hasLive && (!ok || keyLess(c.live, k)) {
		k, ok = c.live, true
	}
	return k, ok
}

// push queues client i's new wake-up k; its previous one, still queued,
// becomes a superseded one.
func (w *wakes) push(i int, k qkey) {
	for len(w.cl) <= i {
		w.cl = append(w.cl, clientWakes{})
		w.pos = append(w.pos, -1)
	}
	c := &w.cl[i]
	if c.hasLive {
		// Insertion from the back: a superseded wake-up is nearly always
		// the latest deadline, so this is O(1).
		c.old = append(c.old, c.live)
		j := len(c.old) - 1
		for j > c.head && keyLess(c.old[j], c.old[j-1]) {
			c.old[j], c.old[j-1] = c.old[j-1], c.old[j]
			j--
		}
	}
	c.live, c.hasLive = k, true
	w.fix(i)
}

// peek returns the earliest queued wake-up of any client.
func (w *wakes) peek() (qkey, bool) {
	if len(w.heap) == 0 {
		return qkey{}, false
	}
	return w.heap[0].k, true
}

// pop removes the earliest queued wake-up and returns its client number.
func (w *wakes) pop() int {
	i := int(w.heap[0].c)
	c := &w.cl[i]
	if c.hasLive && w.heap[0].k == c.live {
		c.hasLive = false
	} else {
		c.head++
		switch {
		case c.head == len(c.old):
			c.old, c.head = c.old[:0], 0
		case c.head >= 64 && 2*c.head >= len(c.old):
			n := copy(c.old, c.old[c.head:])
			c.old, c.head = c.old[:n], 0
		}
	}
	w.fix(i)
	return i
}

// fix restores the heap after client i's entries changed.
func (w *wakes) fix(i int) {
	k, ok := w.cl[i].first()
	p := int(w.pos[i])
	switch {
	case !ok && p < 0:
		return
	case !ok:
		last := len(w.heap) - 1
		w.swap(p, last)
		w.heap = w.heap[:last]
		w.pos[i] = -1
		if p < last {
			w.down(p)
			w.up(p)
		}
	case p < 0:
		w.heap = append(w.heap, wakeEntry{k: k, c: int32(i)})
		w.pos[i] = int32(len(w.heap) - 1)
		w.up(len(w.heap) - 1)
	default:
		w.heap[p].k = k
		w.down(p)
		w.up(int(w.pos[i]))
	}
}

func (w *wakes) less(a, b int) bool { return keyLess(w.heap[a].k, w.heap[b].k) }

func (w *wakes) swap(a, b int) {
	w.heap[a], w.heap[b] = w.heap[b], w.heap[a]
	w.pos[w.heap[a].c], w.pos[w.heap[b].c] = int32(a), int32(b)
}

func (w *wakes) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !w.less(j, p) {
			return
		}
		w.swap(j, p)
		j = p
	}
}

func (w *wakes) down(j int) {
	n := len(w.heap)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && w.less(r, l) {
			m = r
		}
		if !w.less(m, j) {
			return
		}
		w.swap(j, m)
		j = m
	}
}
