package checker

// Table tests of LostWrites' definitions, one behaviour per row.

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
)

// w and r build ok writes and reads on key "k" between times a and b (ms).
func wr(kind, value, result string, a, b int) history.Op {
	return history.Op{Kind: kind, Key: "k", Value: value, Result: result, Status: history.OK,
		Invoke: time.Duration(a) * time.Millisecond, Return: time.Duration(b) * time.Millisecond}
}

func TestLostWrites(t *testing.T) {
	nilGet := func(a, b int) history.Op { o := wr("get", "", "", a, b); o.Nil = true; return o }
	lr := func(a, b int, l ...string) history.Op {
		o := wr("lrange", "", "", a, b)
		o.List = append([]string{}, l...)
		return o
	}
	unknown := func(o history.Op) history.Op { o.Status = history.Unknown; return o }
	tests := []struct {
		name  string
		model string
		ops   []history.Op
		lost  []int // indexes into ops
	}{
		{"register: read of own value", "register", []history.Op{wr("set", "a", "OK", 0, 1), wr("get", "", "a", 2, 3)}, nil},
		{"register: nil before any write is fine", "register", []history.Op{nilGet(0, 1), wr("set", "a", "OK", 2, 3)}, nil},
		{"register: nil after the write", "register", []history.Op{wr("set", "a", "OK", 0, 1), nilGet(2, 3)}, []int{0}},
		{"register: older value, never seen again", "register", []history.Op{
			wr("set", "a", "OK", 0, 1), wr("set", "b", "OK", 2, 3), wr("get", "", "a", 4, 5), wr("get", "", "a", 6, 7)}, []int{1}},
		{"register: stale read then the value", "register", []history.Op{
			wr("set", "a", "OK", 0, 1), wr("set", "b", "OK", 2, 3), wr("get", "", "a", 4, 5), wr("get", "", "b", 6, 7)}, nil},
		// A newer value proves nothing about b: the minority-partition case
		// (b acknowledged by the cut-off master, c by the new one).
		{"register: stale read then a newer value", "register", []history.Op{
			wr("set", "a", "OK", 0, 1), wr("set", "b", "OK", 2, 3), wr("get", "", "a", 4, 5),
			wr("set", "c", "OK", 6, 7), wr("get", "", "c", 8, 9)}, []int{1}},
		{"register: concurrent write's value is not older", "register", []history.Op{
			wr("set", "a", "OK", 0, 3), wr("set", "b", "OK", 1, 2), wr("get", "", "a", 4, 5)}, nil},
		{"register: failed set is ignored", "register", []history.Op{
			func() history.Op { o := wr("set", "a", "", 0, 1); o.Status = history.Fail; return o }(), nilGet(2, 3)}, nil},
		{"list: value present at the end", "list", []history.Op{wr("rpush", "a", "1", 0, 1), lr(2, 3, "a")}, nil},
		{"list: value missing from the last read", "list", []history.Op{wr("rpush", "a", "1", 0, 1), lr(2, 3, "a"), lr(4, 5)}, []int{0}},
		{"list: missing once, back later", "list", []history.Op{wr("rpush", "a", "1", 0, 1), lr(2, 3), lr(4, 5, "a")}, nil},
		{"list: read concurrent with the push", "list", []history.Op{wr("rpush", "a", "1", 0, 3), lr(2, 4)}, nil},
		{"list: unknown push is never lost", "list", []history.Op{unknown(wr("rpush", "a", "", 0, 0)), lr(2, 3)}, nil},
		{"counter: all counted", "counter", []history.Op{wr("incr", "", "1", 0, 1), wr("incr", "", "2", 2, 3), wr("get", "", "2", 4, 5)}, nil},
		{"counter: final below", "counter", []history.Op{wr("incr", "", "1", 0, 1), wr("incr", "", "2", 2, 3), wr("get", "", "1", 4, 5)}, []int{1}},
		{"counter: final nil", "counter", []history.Op{wr("incr", "", "1", 0, 1), nilGet(2, 3)}, []int{0}},
		{"counter: overwritten then more incrs", "counter", []history.Op{
			wr("incr", "", "1", 0, 1), wr("incr", "", "2", 2, 3), wr("incr", "", "3", 4, 5),
			wr("incr", "", "2", 6, 7), wr("incr", "", "3", 8, 9), wr("incr", "", "4", 10, 11), wr("get", "", "4", 12, 13)}, []int{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []history.Op
			for _, i := range tc.lost {
				want = append(want, tc.ops[i])
			}
			if got := LostWrites(tc.model, tc.ops); !reflect.DeepEqual(got, want) {
				t.Fatalf("lost %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestLayOut: the kept ops grouped by key, keys sorted, each group in
// history order, the others left out.
func TestLayOut(t *testing.T) {
	ops := []history.Op{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}, {Key: "c", Value: "skip"},
		{Key: "b", Value: "3"}, {Key: "a", Value: "4"}}
	l := layOut(ops, func(op *history.Op) bool { return op.Value != "skip" })
	if !slices.Equal(l.keys, []string{"a", "b"}) || !slices.Equal(l.start, []int{0, 2, 4}) {
		t.Fatalf("keys %v, start %v; want [a b], [0 2 4]", l.keys, l.start)
	}
	if want := []int32{2, 0, -1, 3, 1}; !slices.Equal(l.slot, want) {
		t.Fatalf("slots %v, want %v", l.slot, want)
	}
}
