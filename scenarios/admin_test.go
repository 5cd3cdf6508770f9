package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

const adminHead = `name: a
description: d
duration: 60s
cluster: {masters: 3, replicas-per-master: 1, spares: 2}
`

// TestAdminStepsParseAndRoundTrip: every step kind loads with its defaults
// and Marshal writes it back to the same steps.
func TestAdminStepsParseAndRoundTrip(t *testing.T) {
	src := adminHead + `admin:
  - at: 20s
    rebalance: {weights: {m1: 2, m0: 0}, use-empty-masters: true}
  - at: 10s
    reshard: {from: m0, to: m1, slots: 100, batch: 5, pace: 10ms}
  - at: 30s
    failover: {node: m0r0, mode: takeover}
  - at: 30s
    add_node: {node: s0, master: m1}
  - at: 40s
    del_node: {node: s1}
`
	s, err := Parse("a.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []AdminKind{}
	for _, st := range s.Admin {
		kinds = append(kinds, st.Kind)
	}
	if want := []AdminKind{Reshard, Rebalance, Failover, AddNode, DelNode}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("steps in order %v, want %v (sorted by at, file order on ties)", kinds, want)
	}
	rb := s.Admin[1]
	if rb.Batch != DefaultBatch || rb.Threshold != DefaultThreshold || !rb.UseEmpty ||
		!reflect.DeepEqual(rb.Weights, []Weight{{"m0", 0}, {"m1", 2}}) {
		t.Errorf("rebalance %+v", rb)
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("b.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i := range back.Admin {
		back.Admin[i].Line = s.Admin[i].Line
	}
	if !reflect.DeepEqual(back.Admin, s.Admin) || back.Cluster.Spares != 2 {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back.Admin, s.Admin)
	}
}

// TestAdminStepErrors: bad steps name file, line and field.
func TestAdminStepErrors(t *testing.T) {
	for _, tc := range []struct{ name, item, want string }{
		{"two steps", "  - at: 1s\n    reshard: {from: m0, to: m1, slots: 1}\n    del_node: {node: s0}\n",
			"a.yaml:6: admin[0]: has reshard and del_node: one step per item"},
		{"no step", "  - at: 1s\n", "a.yaml:6: admin[0]: want one step"},
		{"unknown node", "  - at: 1s\n    reshard: {from: m9, to: m1, slots: 1}\n",
			`a.yaml:7: admin[0].reshard.from: no node "m9"`},
		{"missing slots", "  - at: 1s\n    reshard: {from: m0, to: m1}\n", "a.yaml:7: admin[0].reshard.slots: required"},
		{"unknown field", "  - at: 1s\n    reshard: {from: m0, to: m1, slots: 1, keys: 3}\n",
			"a.yaml:7: admin[0].reshard.keys: unknown field (known: from, to, slots, batch, pace)"},
		{"add a member", "  - at: 1s\n    add_node: {node: m0}\n", `a.yaml:7: admin[0].add_node.node: "m0" is already in the cluster`},
		{"bad mode", "  - at: 1s\n    failover: {node: m0r0, mode: soft}\n", `a.yaml:7: admin[0].failover.mode: want force or takeover, got "soft"`},
		{"after the end", "  - at: 90s\n    del_node: {node: s0}\n", "a.yaml:6: admin[0].at: 1m30s is after the end of the run"},
		{"same node", "  - at: 1s\n    reshard: {from: m0, to: m0, slots: 1}\n", "a.yaml:7: admin[0].reshard.to: same node as from"},
		{"bad weight", "  - at: 1s\n    rebalance: {weights: {m0: x}}\n", "a.yaml:7: admin[0].rebalance.weights.m0: want an integer"},
		{"create on a formed cluster", "  - at: 1s\n    create: {}\n", "a.yaml:7: admin[0].create: the cluster starts formed: set cluster.formed: false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("a.yaml", []byte(adminHead+"admin:\n"+tc.item))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
