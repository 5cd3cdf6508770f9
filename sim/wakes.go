package sim

import "time"

// The clients' wake-ups, kept apart from the event queue. A client asks to
// be woken at one moment at a time (its deadline while an operation is in
// flight, the start of its next one after the reply), so most wake-ups are
// superseded before they come due: at 1,000 ops/s with a 1 s timeout the
// queue would hold about a thousand dead deadlines, and every pop would
// sift through them. Here each client has one live wake-up, and a heap as
// small as the number of clients orders the clients by it.
//
// A superseded wake-up is no event at all: it would wake nobody when it came
// due (wakeClient ignores a wake-up its client no longer asked for), so it
// is neither queued nor counted (Result.Steps counts only wake-ups that
// wake). One rule of the single-queue kernel is kept: a wake-up takes the
// next insertion number when it is asked for (queue.key), and a client that
// asks again for the very moment of a wake-up it superseded, still due, is
// woken at that earlier one's place in the order. So each client keeps the
// keys of its superseded wake-ups not yet due (sorted; dropped once the
// kernel is past them), only to look that moment up. The clients wake in
// exactly the order, with exactly the keys, of the queue that held them all.

// wakes is the clients' wake-up events, by client number (the index into
// world.clients).
type wakes struct {
	cl   []clientWakes
	heap []wakeEntry // clients with a live wake-up, a min-heap by it
	pos  []int32     // client number → its index in heap, -1 while it has none
	// popped is 1 + the client pop returned, whose entry is still on top of
	// the heap (0: none): a woken client nearly always asks at once for its
	// next wake-up, which then takes the entry's place with one sift
	// instead of a removal and an insertion. Anything else settles it first.
	popped int
}

// settle removes the entry of the client pop returned, if still there.
func (w *wakes) settle() {
	if w.popped != 0 {
		i := w.popped - 1
		w.popped = 0
		w.fix(i)
	}
}

// wakeEntry is a client in the heap with its live wake-up.
type wakeEntry struct {
	k qkey
	c int32
}

// clientWakes is one client's live wake-up and, sorted by key, the keys of
// those it superseded that may not have come due yet.
type clientWakes struct {
	live    qkey
	hasLive bool
	old     []qkey // superseded, in (at, seq) order from old[head:]
	head    int
}

// push makes k client i's wake-up; its previous one, if still live, is
// superseded. cur is the key of the event running now (the zero key before
// the first): superseded wake-ups up to it have come due already.
func (w *wakes) push(i int, k, cur qkey) {
	for len(w.cl) <= i {
		w.cl = append(w.cl, clientWakes{})
		w.pos = append(w.pos, -1)
	}
	if w.popped != i+1 {
		w.settle()
	}
	w.popped = 0 // fix below moves i's entry, if on top, to k's place
	c := &w.cl[i]
	if c.hasLive {
		c.insert(c.live)
	}
	for c.head < len(c.old) && !keyLess(cur, c.old[c.head]) {
		c.head++
	}
	switch {
	case c.head == len(c.old):
		c.old, c.head = c.old[:0], 0
	case c.head >= 64 && 2*c.head >= len(c.old):
		n := copy(c.old, c.old[c.head:])
		c.old, c.head = c.old[:n], 0
	}
	if j := c.at(k.at); j >= 0 && keyLess(c.old[j], k) {
		// A superseded wake-up due at the same moment comes first: the
		// client wakes there, and k stays queued behind it.
		k, c.old[j] = c.old[j], k
		c.sortFrom(j)
	}
	c.live, c.hasLive = k, true
	w.fix(i)
}

// insert adds k to the superseded keys, from the back: a superseded
// wake-up is nearly always the latest deadline, so this is O(1).
func (c *clientWakes) insert(k qkey) {
	c.old = append(c.old, k)
	c.sortFrom(len(c.old) - 1)
}

// sortFrom moves old[j], the one key out of order (a new one, or one
// replaced by a larger key), to its place, so old stays sorted from head.
func (c *clientWakes) sortFrom(j int) {
	for j > c.head && keyLess(c.old[j], c.old[j-1]) {
		c.old[j], c.old[j-1] = c.old[j-1], c.old[j]
		j--
	}
	for j+1 < len(c.old) && keyLess(c.old[j+1], c.old[j]) {
		c.old[j], c.old[j+1] = c.old[j+1], c.old[j]
		j++
	}
}

// at returns the index of the first superseded key due at `at`, or -1.
func (c *clientWakes) at(at time.Duration) int {
	lo, hi := c.head, len(c.old)
	if lo == hi || c.old[hi-1].at < at {
		return -1 // the common case: nothing superseded that late
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.old[m].at < at {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(c.old) && c.old[lo].at == at {
		return lo
	}
	return -1
}

// peek returns the earliest live wake-up of any client.
func (w *wakes) peek() (qkey, bool) {
	w.settle()
	if len(w.heap) == 0 {
		return qkey{}, false
	}
	return w.heap[0].k, true
}

// pop removes the earliest live wake-up and returns its client number.
func (w *wakes) pop() int {
	w.settle()
	i := int(w.heap[0].c)
	w.cl[i].hasLive = false
	w.popped = i + 1
	return i
}

// fix restores the heap after client i's entries changed.
func (w *wakes) fix(i int) {
	k, ok := w.cl[i].live, w.cl[i].hasLive
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
