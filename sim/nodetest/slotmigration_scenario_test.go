package nodetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/sim/nodetest"
)

// owner is the node name that h believes owns slot ("" if unbound).
func owner(c *nodetest.Cluster, h *nodetest.Host, slot int) string {
	v := h.N.View()
	for _, r := range v.Slots {
		if slot >= r.Start && slot <= r.End {
			return h.Name
		}
	}
	for _, p := range v.Peers {
		for _, r := range p.Slots {
			if slot >= r.Start && slot <= r.End {
				return c.Name(p.ID)
			}
		}
	}
	return ""
}

func clusterCmd(t *testing.T, c *nodetest.Cluster, name, line string) {
	t.Helper()
	rs := c.Command(name, node.Cmd{Op: node.OpCluster, Value: line})
	if rs == nil || rs.Kind != node.ReplyOK {
		t.Fatalf("%s: CLUSTER %s: %+v", name, line, rs)
	}
}

// TestClosedSlotSpreadsByGossip: redis-cli closes a slot on the target
// first; if it stops there (the admin died), the target's configEpoch bump
// (clusterBumpConfigEpochWithoutConsensus) and PONG broadcast still make
// every node, the source included, rebind the slot to the target through
// clusterUpdateSlotsConfigWith, while the source keeps its stale migrating
// marker as Redis does.
func TestClosedSlotSpreadsByGossip(t *testing.T) {
	c := nodetest.New(3, 1, testConfig(), 1)
	if !c.RunUntilCond(10*time.Second, func() bool { return allOK(c) }) {
		t.Fatal("cluster never ok")
	}
	m0, m1 := c.Host("m0"), c.Host("m1")
	const slot = 100
	clusterCmd(t, c, "m1", "SETSLOT 100 IMPORTING "+string(m0.ID))
	clusterCmd(t, c, "m0", "SETSLOT 100 MIGRATING "+string(m1.ID))
	clusterCmd(t, c, "m1", "SETSLOT 100 NODE "+string(m1.ID))
	if v := m1.N.View(); v.ConfigEpoch <= 3 {
		t.Fatalf("m1 configEpoch %d after closing the import, want a bump above 3", v.ConfigEpoch)
	}
	c.RunFor(time.Second)
	for _, h := range c.Hosts {
		if got := owner(c, h, slot); got != "m1" {
			t.Errorf("%s sees slot %d owned by %q, want m1", h.Name, slot, got)
		}
	}
	if nodes := m0.N.ClusterNodes(); !strings.Contains(nodes, "[100->-"+string(m1.ID)+"]") {
		t.Errorf("m0 lost its migrating marker (Redis keeps it until SETSLOT NODE/STABLE):\n%s", nodes)
	}
	if owner(c, m0, slot+1) != "m0" {
		t.Errorf("m0 lost slot %d too", slot+1)
	}
}
