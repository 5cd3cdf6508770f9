package sim

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"pgregory.net/rapid"
)

// TestHistoryOrder checks record and mergeLate against the insertion they
// replace (each operation put at its place, by invoke time then client, as
// it completed): the same history, whatever the interleaving of the
// clients' completions, however late an operation completes, ties of
// invoke times included.
func TestHistoryOrder(t *testing.T) {
	lateRuns := 0
	defer func() { t.Logf("runs with late operations: %d", lateRuns) }()
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 6).Draw(t, "clients")
		n := rapid.IntRange(0, 4*lateAfter).Draw(t, "ops")
		last := make([]time.Duration, k) // each client's last invoke
		w := &world{}
		var want []history.Op
		for i := 0; i < n; i++ {
			c := rapid.IntRange(0, k-1).Draw(t, "client")
			// The others invoke at about the moment of the completion; client
			// 0 (when there are others) falls ever further behind, as one
			// whose operations time out; now and then two invoke at once.
			switch {
			case c == 0 && k > 1:
				last[c] += time.Duration(rapid.IntRange(0, 2).Draw(t, "slow"))
			case rapid.IntRange(0, 9).Draw(t, "tie") == 0:
			default:
				last[c] = max(last[c]+1, time.Duration(i))
			}
			op := history.Op{Client: c, Invoke: last[c], Value: strconv.Itoa(i)}
			w.record(op)
			j := len(want)
			for j > 0 && (want[j-1].Invoke > op.Invoke || want[j-1].Invoke == op.Invoke && want[j-1].Client > op.Client) {
				j--
			}
			want = slices.Insert(want, j, op)
		}
		if len(w.late) > 0 {
			lateRuns++
		}
		w.mergeLate()
		if len(w.ops) != len(want) {
			t.Fatalf("%d operations, want %d", len(w.ops), len(want))
		}
		for i := range want {
			if w.ops[i].Client != want[i].Client || w.ops[i].Invoke != want[i].Invoke || w.ops[i].Value != want[i].Value {
				t.Fatalf("op %d: %+v, inserted in place: %+v", i, w.ops[i], want[i])
			}
		}
	})
}
