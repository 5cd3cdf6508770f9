package checker

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// TestAvailabilityAndDowntime: operations count toward the shard that
// owned their slot at boot, by outcome; downtime is the gaps between
// successes, after the first, in which operations failed.
func TestAvailabilityAndDowntime(t *testing.T) {
	tr := []trace.Event{
		{Node: "m0", Kind: trace.Boot, Value: "master 0-8191"},
		{Node: "m1", Kind: trace.Boot, Value: "master 8192-16383"},
		{Node: "m0r0", Kind: trace.Boot, Value: "replica", Peer: "m0"},
	}
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	op := func(at, slot int, status history.Status, err string) history.Op {
		return history.Op{Kind: "set", Key: "k", Slot: slot, Invoke: ms(at), Return: ms(at + 1), Status: status, Err: err}
	}
	hist := []history.Op{
		op(10, 1, history.Fail, "CLUSTERDOWN The cluster is down"), // before m0 first served: not downtime
		op(150, 1, history.OK, ""),
		op(250, 2, history.Fail, "CLUSTERDOWN The cluster is down"),
		op(260, 2, history.Unknown, ""),
		op(350, 3, history.Fail, "ECONNREFUSED connection refused"),
		op(450, 4, history.OK, ""),
		op(120, 9000, history.OK, ""),
		op(130, 9000, history.Fail, "TRYAGAIN"),
		op(140, -1, history.OK, ""), // no slot: left out
	}
	decode(tr)
	av := Availability(tr, hist, 100*time.Millisecond, 500)
	if len(av) != 2 || av[0].Shard != "m0" || av[1].Shard != "m1" || av[0].Slots != "0-8191" {
		t.Fatalf("shards %+v", av)
	}
	if got := av[0].Counts[2]; got != [5]int{0, 1, 1, 0, 0} {
		t.Errorf("m0 bucket 2: %v, want one CLUSTERDOWN and one timeout", got)
	}
	if got := av[1].Counts[1]; got != [5]int{1, 0, 0, 0, 1} {
		t.Errorf("m1 bucket 1: %v, want one ok and one other error", got)
	}
	// m0: successes return at 151 and 451 ms, failures in between (one
	// CLUSTERDOWN): 300 ms down; then none until the end at 500 ms.
	// m1: the TRYAGAIN at 130 ms comes after its only success at 121 ms, in
	// a 379 ms gap to the end.
	decode(tr)
	d := Downtime(tr, hist, 500)
	if d[0] != (ShardDowntime{"m0", 300, 300}) || d[1] != (ShardDowntime{"m1", 379, 0}) {
		t.Errorf("downtime %+v", d)
	}
}

// TestDowntimeOfShardThatNeverServed: a shard whose master went down as the
// cluster came up, so that it never answered, is down from the first
// success on any shard, not counted as never down.
func TestDowntimeOfShardThatNeverServed(t *testing.T) {
	tr := []trace.Event{
		{Node: "m0", Kind: trace.Boot, Value: "master 0-8191"},
		{Node: "m1", Kind: trace.Boot, Value: "master 8192-16383"},
	}
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	hist := []history.Op{
		{Kind: "set", Key: "a", Slot: 9000, Invoke: ms(120), Return: ms(121), Status: history.OK},
		{Kind: "set", Key: "b", Slot: 1, Invoke: ms(200), Return: ms(201), Status: history.Fail, Err: "ECONNREFUSED connection refused"},
		{Kind: "set", Key: "c", Slot: 1, Invoke: ms(300), Return: ms(301), Status: history.Fail, Err: "CLUSTERDOWN The cluster is down"},
	}
	decode(tr)
	d := Downtime(tr, hist, 500)
	if d[0] != (ShardDowntime{"m0", 379, 379}) {
		t.Errorf("m0 downtime %+v, want 379 ms from m1's first success at 121 ms to the end", d[0])
	}
}

// decode gives hand-written events the typed fields the kernel emits and
// Read restores.
func decode(tr []trace.Event) {
	for i := range tr {
		trace.Decode(&tr[i])
	}
}
