package checker

// The shared walk against the replays it replaced: on random traces, with
// many events in one moment, Failovers and convergence give what one
// replay per failover and a replay per question gave, and Check's stages
// give what the single-stage functions give.

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// failoversByReplay is Failovers as it was before the shared walk: one
// replay to find the failovers, then one more to measure each.
func failoversByReplay(events []trace.Event, ops []history.Op) []Failover {
	type started struct {
		f     Failover
		at    time.Duration
		owned []slotRange
	}
	w := newWorld()
	var found []started
	open := map[string]bool{}
	cand := map[string]started{}
	for _, e := range events {
		w.apply(e)
		var victims []string
		switch e.Kind {
		case trace.Crash:
			if w.master[e.Node] {
				victims = []string{e.Node}
			}
		case trace.Partition:
			victims = w.isolated(detailOf(e).Groups)
		case trace.Fault:
			for _, m := range w.faultMasters(e) {
				cand[m] = started{Failover{FailedNode: m, FaultAtMs: e.At.Milliseconds()}, e.At, w.owns[m]}
			}
		}
		for _, v := range victims {
			if open[v] {
				continue
			}
			open[v] = true
			found = append(found, started{Failover{FailedNode: v, FaultAtMs: e.At.Milliseconds()}, e.At, w.owns[v]})
		}
		if e.Kind == trace.Promoted {
			if c, ok := cand[e.Peer]; ok && !open[e.Peer] {
				found = append(found, c)
			}
			delete(open, e.Peer)
			delete(cand, e.Peer)
		}
	}
	slices.SortStableFunc(found, func(a, b started) int { return cmp.Compare(a.at, b.at) })
	out := make([]Failover, len(found))
	for i, s := range found {
		m := replayMeasure(&measurer{f: s.f, at: s.at, owned: s.owned}, events)
		out[i] = m.f
		m.resumed(&out[i], ops)
	}
	return out
}

// convergenceByReplay is convergence as it was: a scan for the last fault,
// then a replay of the world and the views.
func convergenceByReplay(events []trace.Event) (lastFault, at time.Duration, ok bool, why string) {
	for _, e := range events {
		if disturbs(e) {
			lastFault = e.At
		}
	}
	w, v := newWorld(), newViews()
	for i, e := range events {
		w.apply(e)
		v.apply(e)
		if e.At < lastFault || i+1 < len(events) && events[i+1].At == e.At {
			continue
		}
		switch now := settled(w, v); {
		case now != "":
			ok, why = false, now
		case !ok:
			ok, at = true, e.At
		}
	}
	switch {
	case ok:
		return lastFault, at, true, ""
	case why == "":
		why = "no events after the last fault or admin step"
	}
	return lastFault, 0, false, why
}

var (
	passMasters  = []string{"m0", "m1", "m2"}
	passReplicas = []string{"m0r0", "m1r0", "m2r0"}
	passSlots    = [][]slotRange{{{Start: 0, End: 5460}}, {{Start: 5461, End: 10922}}, {{Start: 10923, End: 16383}}}
)

// randomTrace boots three masters with a replica each, then draws events
// of every kind the stages read, often several in one moment.
func randomTrace(t *rapid.T) ([]trace.Event, []history.Op) {
	var ev []trace.Event
	for i, m := range passMasters {
		ev = append(ev, trace.Event{Node: m, Kind: trace.Boot, Epoch: uint64(i + 1), Detail: &trace.Detail{Slots: passSlots[i]}})
	}
	for i, r := range passReplicas {
		ev = append(ev, trace.Event{Node: r, Kind: trace.Boot, Peer: passMasters[i]})
	}
	all := append(slices.Clone(passMasters), passReplicas...)
	node := rapid.SampledFrom(all)
	at := time.Duration(0)
	n := rapid.IntRange(0, 80).Draw(t, "events")
	for range n {
		at += time.Duration(rapid.SampledFrom([]int{0, 0, 0, 1, 7, 900}).Draw(t, "dt")) * time.Millisecond
		i := rapid.IntRange(0, 2).Draw(t, "shard")
		e := trace.Event{At: at, Node: node.Draw(t, "node")}
		switch k := rapid.IntRange(0, 15).Draw(t, "kind"); k {
		case 0:
			e.Kind = trace.Crash
			e.Value = rapid.SampledFrom([]string{"persist", "wipe"}).Draw(t, "how")
		case 1:
			e.Kind = trace.Restart
		case 2:
			e.Kind, e.Node = trace.Partition, ""
			cut := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 1, 3, rapid.ID[string]).Draw(t, "cut")
			var rest []string
			for _, x := range all {
				if !slices.Contains(cut, x) {
					rest = append(rest, x)
				}
			}
			e.Detail = &trace.Detail{Groups: [][]string{cut, rest}}
		case 3:
			e.Kind, e.Node = trace.Heal, ""
		case 4:
			e.Kind = trace.Fault
			d := &trace.Detail{Fault: "pause", End: rapid.Bool().Draw(t, "end")}
			if rapid.Bool().Draw(t, "link") {
				d.Fault, d.Names, e.Node = "one-way", []string{e.Node, node.Draw(t, "other")}, ""
			}
			e.Detail = d
		case 5, 6:
			e.Kind = []trace.Kind{trace.PFail, trace.Fail}[k-5]
			e.Peer = node.Draw(t, "peer")
		case 7:
			e.Kind, e.Node = trace.ElectionStart, passReplicas[i]
		case 8:
			e.Kind, e.Node, e.Peer = trace.Promoted, passReplicas[i], passMasters[i]
			e.Epoch = uint64(rapid.IntRange(1, 9).Draw(t, "epoch"))
			e.Detail = &trace.Detail{Slots: passSlots[i]}
		case 9:
			e.Kind, e.Value = trace.State, rapid.SampledFrom([]string{"ok", "ok", "fail"}).Draw(t, "state")
		case 10:
			e.Kind, e.Value = trace.Role, rapid.SampledFrom([]string{"master", "replica"}).Draw(t, "role")
			if e.Value == "replica" {
				e.Peer = node.Draw(t, "of")
			}
		case 11:
			e.Kind, e.Peer = trace.Slots, node.Draw(t, "owner")
			e.Epoch = uint64(rapid.IntRange(1, 9).Draw(t, "epoch"))
			e.Detail = &trace.Detail{Slots: passSlots[i]}
		case 12:
			e.Kind, e.Value = trace.ConfigEpoch, "bump"
			e.Epoch = uint64(rapid.IntRange(1, 9).Draw(t, "epoch"))
		case 13:
			e.Kind, e.Value = trace.Epoch, "seen"
			e.Epoch = uint64(rapid.IntRange(1, 9).Draw(t, "epoch"))
		case 14:
			e.Kind, e.Peer = trace.VoteGranted, node.Draw(t, "for")
			e.Epoch = uint64(rapid.IntRange(1, 9).Draw(t, "epoch"))
		case 15:
			e.Kind, e.Node = trace.Admin, ""
			out := rapid.SampledFrom([]trace.Outcome{trace.StepStart, trace.StepOK, trace.StepFailed}).Draw(t, "outcome")
			e.Value = "del_node: " + string(out)
			e.Detail = &trace.Detail{Step: "del_node", Outcome: out, Names: []string{e.Node}}
			e.Detail.Names = []string{node.Draw(t, "removed")}
		}
		ev = append(ev, e)
	}
	var ops []history.Op
	for c := range rapid.IntRange(0, 6).Draw(t, "ops") {
		inv := time.Duration(rapid.IntRange(0, int(at/time.Millisecond)+1).Draw(t, "invoke")) * time.Millisecond
		ops = append(ops, history.Op{Client: c, Kind: "set", Key: "k" + strconv.Itoa(c), Value: "v", Result: "OK", Slot: rapid.IntRange(0, 16383).Draw(t, "slot"),
			Invoke: inv, Return: inv + time.Duration(rapid.IntRange(0, 3000).Draw(t, "lat"))*time.Millisecond, Status: history.OK})
	}
	return ev, ops
}

func TestWalkMatchesReplays(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		events, ops := randomTrace(t)
		if got, want := Failovers(events, ops), failoversByReplay(events, ops); !reflect.DeepEqual(got, want) {
			t.Fatalf("failovers:\n got %+v\nwant %+v", got, want)
		}
		l1, a1, ok1, why1 := convergence(events)
		l2, a2, ok2, why2 := convergenceByReplay(events)
		if l1 != l2 || a1 != a2 || ok1 != ok2 || why1 != why2 {
			t.Fatalf("convergence: got %v %v %v %q, want %v %v %v %q", l1, a1, ok1, why1, l2, a2, ok2, why2)
		}
		s, err := Check(Input{Trace: events, History: ops, Model: "register"})
		if err != nil {
			t.Fatal(err)
		}
		want := Failovers(events, ops)
		if want == nil {
			want = []Failover{}
		}
		if !reflect.DeepEqual(s.Failovers, want) {
			t.Fatalf("Check's failovers differ from Failovers'")
		}
		vs := CheckInvariants(events)
		conv, how := CheckConvergence(events, DefaultConvergeWithin)
		vs = append(vs, conv...)
		sortViolations(vs)
		if vs == nil {
			vs = []Violation{}
		}
		if !reflect.DeepEqual(s.Recovery, RecoveryOf(events)) {
			t.Fatalf("Check's recovery differs from RecoveryOf's")
		}
		if !reflect.DeepEqual(s.Invariants, vs) || s.Convergence != how {
			t.Fatalf("Check's invariants differ:\n got %v %q\nwant %v %q", s.Invariants, s.Convergence, vs, how)
		}
	})
}

// TestPromotedBeforeFaultInOneMoment: a promotion over m0 logged before
// m0's crash in the same moment counts for the failover that crash starts
// (the walk measures that one on a replay of its own).
func TestPromotedBeforeFaultInOneMoment(t *testing.T) {
	events := parseTrace(t, `
0 m0 boot - master 0-16383
0 m0r0 boot m0 replica
0 m0 state - ok
0 m0r0 state - ok
900 m0r0 state - fail
1000 m0r0 promoted m0 0-16383
1000 m0 crash - persist
1000 m0r0 state - fail
2000 m0r0 state - ok
`)
	got := Failovers(events, nil)
	if want := failoversByReplay(events, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if len(got) != 1 || got[0].PromotedMs == nil || *got[0].PromotedMs != 0 || got[0].ClusterOKMs == nil || *got[0].ClusterOKMs != 1000 {
		t.Fatalf("got %+v, want m0 promoted 0ms and the cluster ok 1000ms after the crash", got)
	}
}
