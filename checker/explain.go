package checker

// Explanations: for a key that is not linearizable, the operations involved
// and what the cluster was doing around them (which node answered each, in
// which role and configEpoch, cut off or not, and which failovers moved the
// key's slot), in the terms a Redis user reads CLUSTER NODES in.

import (
	"slices"
	"strconv"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// Explain fills KeyVerdict.Context for every key from the trace: one line
// per op involved ("client 0 set … on m0: m0 master, configEpoch 1, cut off
// in a minority since 10.000s"), then one line per failover that moved the
// key's slot. With no trace it leaves the verdicts as they are.
func Explain(keys []KeyVerdict, events []trace.Event) {
	if len(events) > 0 {
		newTimeline(events).explainKeys(keys)
	}
}

// explainKeys is Explain on the trace's timeline (nil: no trace).
func (tl *timeline) explainKeys(keys []KeyVerdict) {
	if tl == nil {
		return
	}
	for i := range keys {
		keys[i].Context = tl.explain(keys[i].Ops)
	}
}

func (tl *timeline) explain(ops []history.Op) []string {
	var out []string
	slot := -1
	for _, op := range ops {
		t := op.Return
		if op.Status == history.Unknown {
			t = op.Invoke
		}
		out = append(out, DescribeOp(op)+": "+tl.describe(op.Node, t))
		if op.Slot >= 0 {
			slot = op.Slot
		}
	}
	for _, p := range tl.promos {
		if slot >= 0 && p.covers(slot) {
			out = append(out, "failover of slot "+strconv.Itoa(slot)+": "+describePromotion(p))
		}
	}
	return slices.Clip(out)
}
