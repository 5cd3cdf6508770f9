package sim

import (
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
