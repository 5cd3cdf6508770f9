package admin

import (
	"strconv"
	"strings"
	"testing"
)

// TestPlanRebalance checks the plan of clusterManagerCommandRebalance.
func TestPlanRebalance(t *testing.T) {
	mk := func(id string, slots, weight int) *balanceNode {
		return &balanceNode{line: nodesLine{id: id, slots: make([]int, slots)}, weight: weight}
	}
	for _, tc := range []struct {
		name  string
		nodes []*balanceNode
		want  string
	}{
		{"balanced: nothing to do", []*balanceNode{mk("a", 8192, 1), mk("b", 8192, 1)}, ""},
		{"within the 2% threshold", []*balanceNode{mk("a", 8300, 1), mk("b", 8084, 1)}, ""},
		{"empty master gets a share", []*balanceNode{mk("a", 8192, 1), mk("b", 8192, 1), mk("c", 0, 1)}, "b->c 2731 a->c 2731 "},
		{"weight zero drains a node", []*balanceNode{mk("a", 8192, 1), mk("b", 8192, 0)}, "b->a 8192 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got strings.Builder
			for _, m := range planRebalance(tc.nodes, 2) {
				got.WriteString(m.src + "->" + m.dst + " " + strconv.Itoa(m.slots) + " ")
			}
			if got.String() != tc.want {
				t.Errorf("plan %q, want %q", got.String(), tc.want)
			}
		})
	}
}

// TestParseClusterNodes reads what redis-cli reads from CLUSTER NODES.
func TestParseClusterNodes(t *testing.T) {
	text := "aaa 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-2 5 [7->-bbb]\n" +
		"bbb 127.0.0.1:30002@40002 slave,fail aaa 0 0 1 disconnected\n"
	ls := parseClusterNodes(text)
	if len(ls) != 2 {
		t.Fatalf("%d lines", len(ls))
	}
	a, b := ls[0], ls[1]
	if a.addr != "127.0.0.1:30001" || !a.has("myself") || !a.open || len(a.slots) != 4 || a.slots[3] != 5 {
		t.Errorf("myself line parsed as %+v", a)
	}
	if b.master != "aaa" || b.usable() || b.has("master") {
		t.Errorf("replica line parsed as %+v", b)
	}
}
