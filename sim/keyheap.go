package sim

// keyHeap orders timers kept apart from the event queue, each owner with at
// most one live key: world.timers holds the nodes' serverCron ticks
// (sim/cron.go) and the clients' wake-ups (sim/wakes.go) in one heap, so
// that the kernel compares the queue's next event with one other key a step.
// Both come due far more often than they are superseded, and nearly every
// one that comes due is at once re-armed by its owner (a woken client asks
// for its next wake-up, a cron re-arms its timer), so pop leaves the popped
// entry on top and a set of the same owner replaces it with one sift,
// instead of a removal and an insertion. Anything else settles it (removes
// it) first.
type keyHeap struct {
	heap []heapEntry // owners with a live key, a min-heap by keyLess
	pos  []int32     // owner → its index in heap, -1 while it has none
	// popped is 1 + the owner pop returned, whose entry is still on top of
	// the heap (0: none).
	popped int
}

// heapEntry is an owner in the heap with its live key.
type heapEntry struct {
	k  qkey
	id int32
}

// grow makes room for owners 0..id.
func (h *keyHeap) grow(id int) {
	for len(h.pos) <= id {
		h.pos = append(h.pos, -1)
	}
}

// settle removes the entry of the owner pop returned, if still there.
func (h *keyHeap) settle() {
	if h.popped != 0 {
		id := h.popped - 1
		h.popped = 0
		h.remove(int(h.pos[id]), id)
	}
}

// set makes k owner id's live key, replacing any it had.
func (h *keyHeap) set(id int, k qkey) {
	h.grow(id)
	if h.popped == id+1 {
		h.popped = 0 // the entry on top is id's: it takes k in place
	} else {
		h.settle()
	}
	p := int(h.pos[id])
	if p < 0 {
		h.heap = append(h.heap, heapEntry{k: k, id: int32(id)})
		p = len(h.heap) - 1
		h.pos[id] = int32(p)
		h.up(p)
		return
	}
	h.heap[p].k = k
	h.down(p)
	h.up(int(h.pos[id]))
}

// peek returns the earliest live key.
func (h *keyHeap) peek() (qkey, bool) {
	if h.popped != 0 { // settle's test, here so that peek stays a few inlined instructions
		h.settle()
	}
	if len(h.heap) == 0 {
		return qkey{}, false
	}
	return h.heap[0].k, true
}

// pop removes the earliest live key (see keyHeap) and returns its owner.
func (h *keyHeap) pop() int {
	h.settle()
	id := int(h.heap[0].id)
	h.popped = id + 1
	return id
}

func (h *keyHeap) remove(p, id int) {
	last := len(h.heap) - 1
	h.swap(p, last)
	h.heap = h.heap[:last]
	h.pos[id] = -1
	if p < last {
		h.down(p)
		h.up(p)
	}
}

func (h *keyHeap) less(a, b int) bool { return keyLess(h.heap[a].k, h.heap[b].k) }

func (h *keyHeap) swap(a, b int) {
	h.heap[a], h.heap[b] = h.heap[b], h.heap[a]
	h.pos[h.heap[a].id], h.pos[h.heap[b].id] = int32(a), int32(b)
}

func (h *keyHeap) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !h.less(j, p) {
			return
		}
		h.swap(j, p)
		j = p
	}
}

func (h *keyHeap) down(j int) {
	n := len(h.heap)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, j) {
			return
		}
		h.swap(j, m)
		j = m
	}
}
