package sim

import "time"

// The clients' wake-ups, kept apart from the event queue. A client asks to
// be woken at one moment at a time (its deadline while an operation is in
// flight, the start of its next one after the reply), so most wake-ups are
// superseded before they come due: at 1,000 ops/s with a 1 s timeout the
// queue would hold about a thousand dead deadlines, and every pop would
// sift through them. Here each client has one live wake-up, and a heap as
// small as the number of endpoints (world.timers, shared with the nodes'
// cron ticks) orders the clients by it.
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
	cl []clientWakes
	// timers holds each client's live wake-up, owner base + its number
	// (its endpoint index: world.timers, shared with the nodes' ticks).
	timers *keyHeap
	base   int
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
	}
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
	w.timers.set(w.base+i, k)
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

// woke notes that the kernel took client i's live wake-up from timers.
func (w *wakes) woke(i int) { w.cl[i].hasLive = false }
