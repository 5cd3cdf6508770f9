package checker

// Loss attribution on hand-written traces: one mechanism per case, each
// telling its mechanism apart from the others by the events around the
// acknowledging node.

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

func TestAttributeLost(t *testing.T) {
	failover := `
17000 m0r0 config_epoch - 7 election
17000 m0r0 promoted m0 7 0-5460
17000 m0r0 role - - master
`
	cases := []struct {
		name, trace string
		ackMs       int64
		node        string
		want        Mechanism
		detail      string // a part of the detail
	}{
		{name: "a write to a master cut off in a minority", ackMs: 12000, node: "m0", want: MinorityMaster,
			trace:  "10000 - partition - - m0 client-0 | m1 m2 m0r0 m1r0 m2r0\n15000 m0 state - - fail\n" + failover + "30000 - heal\n",
			detail: "m0 stopped taking writes at 15.000s (cluster_state fail); m0r0 promoted over m0 at 17.000s"},
		{name: "a write just before its master crashed", ackMs: 9000, node: "m0", want: UnreplicatedAtCrash,
			trace: "10000 m0 crash - - persist\n" + failover, detail: "m0 crashed at 10.000s"},
		{name: "a write just before its master was cut off", ackMs: 9000, node: "m0", want: UnreplicatedAtPartition,
			trace: "10000 - partition - - m0 | m1 m2 m0r0 m1r0 m2r0\n" + failover, detail: "a partition at 10.000s cut m0 off"},
		{name: "a write overtaken by a TAKEOVER", ackMs: 9000, node: "m0", want: TakeoverWithoutAgreement,
			trace: "17000 m0r0 config_epoch - 7 takeover\n17000 m0r0 promoted m0 7 0-5460\n", detail: "TAKEOVER, no agreement"},
		{name: "a write before a failover with no fault", ackMs: 9000, node: "m0", want: UnreplicatedAtFailover,
			trace: failover, detail: "no crash or partition of m0"},
		{name: "a write wiped by a restart and resync", ackMs: 9000, node: "m0", want: ResyncDiscarded,
			trace: "10000 m0 crash - - persist\n11000 m0 restart\n", detail: "restarted at 11.000s with an empty keyspace"},
		{name: "a write after the AOF's last fsync", ackMs: 9500, node: "m0", want: NotFsynced,
			trace:  "10000 m0 crash - - persist power-loss\n11000 m0 restart - - loaded aof of 9.020s keys=3\n",
			detail: "from its AOF, not yet fsynced after 9.020s"},
		{name: "a write after the last snapshot", ackMs: 9500, node: "m0", want: AfterLastSnapshot,
			trace:  "10000 m0 crash - - persist\n11000 m0 restart - - loaded rdb of 8.000s keys=3\n",
			detail: "from its last snapshot, taken at 8.000s (after the last snapshot)"},
		{name: "a write the loaded dataset should hold", ackMs: 7000, node: "m0", want: ResyncDiscarded,
			trace:  "10000 m0 crash - - persist\n11000 m0 restart - - loaded rdb of 8.000s keys=3\n",
			detail: "restarted at 11.000s from its rdb of 8.000s"},
		{name: "a write with nothing around it", ackMs: 9000, node: "m0", want: Unexplained, trace: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := history.Op{Node: c.node, Kind: "set", Key: "k", Slot: 100, Value: "v", Status: history.OK,
				Invoke: time.Duration(c.ackMs-1) * time.Millisecond, Return: time.Duration(c.ackMs) * time.Millisecond}
			got := AttributeLost([]history.Op{op}, epochTrace(t, bootThree+c.trace))
			if got[0].Mechanism != c.want || !strings.Contains(got[0].Detail, c.detail) {
				t.Errorf("got %s %q, want %s with %q", got[0].Mechanism, got[0].Detail, c.want, c.detail)
			}
		})
	}
}

func TestAttributeLostWithoutTrace(t *testing.T) {
	got := AttributeLost([]history.Op{{Node: "m0", Kind: "set"}}, []trace.Event(nil))
	if got[0].Mechanism != NoTrace {
		t.Errorf("got %s, want %s", got[0].Mechanism, NoTrace)
	}
}
