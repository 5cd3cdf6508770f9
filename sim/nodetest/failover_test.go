package nodetest_test

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim/nodetest"
)

// testConfig is the nodes' redis.conf in these tests.
func testConfig() nodetest.Conf { return nodetest.Conf{"cluster-node-timeout": "5000"} }

func allOK(c *nodetest.Cluster) bool {
	for _, h := range c.Hosts {
		if h.Alive() && !h.N.StateOK() {
			return false
		}
	}
	return true
}

// siblingsFailover waits until one of m0's replicas m0r0 and m0r1 is
// promoted and the other follows it (clusterSetMaster on the UPDATE or
// PONG from the winner), and returns them as (winner, loser).
func siblingsFailover(t *testing.T, c *nodetest.Cluster) (winner, loser *nodetest.Host) {
	t.Helper()
	a, b := c.Host("m0r0"), c.Host("m0r1")
	if !c.RunUntilCond(c.Now+30*time.Second, func() bool { return a.N.Master() == "" || b.N.Master() == "" }) {
		t.Fatal("no replica promoted")
	}
	winner, loser = a, b
	if b.N.Master() == "" {
		winner, loser = b, a
	}
	if !c.RunUntilCond(c.Now+5*time.Second, func() bool { return loser.N.Master() == winner.ID }) {
		dump(t, c)
		t.Fatal("sibling did not follow the winner")
	}
	return winner, loser
}

func dump(t *testing.T, c *nodetest.Cluster) {
	t.Helper()
	for _, e := range c.Events {
		t.Log(trace.Describe(e))
	}
}

// TestFormedClusterGoesOK: a fresh cluster reaches cluster_state ok everywhere
// (clusterUpdateState after the 2 s writable delay).
func TestFormedClusterGoesOK(t *testing.T) {
	c := nodetest.New(3, 1, testConfig(), 1)
	if !c.RunUntilCond(10*time.Second, func() bool { return allOK(c) }) {
		dump(t, c)
		t.Fatal("cluster never reached state ok")
	}
	if c.Now < 2*time.Second {
		t.Fatalf("masters went ok at %v, before the 2 s writable delay", c.Now)
	}
}

// TestMasterCrashReplicaPromoted: the walking skeleton. A master crashes; its
// replica is promoted by majority vote and the cluster is ok again; the old
// master restarts and becomes a replica of its successor.
func TestMasterCrashReplicaPromoted(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		c := nodetest.New(3, 1, testConfig(), seed)
		c.RunFor(10 * time.Second)
		if !allOK(c) {
			dump(t, c)
			t.Fatalf("seed %d: not ok before the crash", seed)
		}
		crash := c.Now
		c.Crash("m0")
		r := c.Host("m0r0")
		if !c.RunUntilCond(crash+30*time.Second, func() bool { return r.N.Master() == "" }) {
			dump(t, c)
			t.Fatalf("seed %d: m0r0 was not promoted", seed)
		}
		prom := c.Now - crash
		fails := c.Find(trace.Fail, "")
		if len(fails) == 0 {
			t.Fatalf("seed %d: no FAIL event", seed)
		}
		tFail := fails[0].At - crash
		if tFail < 5*time.Second || tFail > 11*time.Second {
			t.Errorf("seed %d: FAIL at +%v, want in (T, 2T+0.4s]", seed, tFail)
		}
		if d := prom - tFail; d < 500*time.Millisecond || d > 1300*time.Millisecond {
			t.Errorf("seed %d: promotion %v after FAIL, want 0.5–1.3 s", seed, d)
		}
		if !c.RunUntilCond(c.Now+5*time.Second, func() bool { return allOK(c) }) {
			dump(t, c)
			t.Fatalf("seed %d: cluster not ok after promotion", seed)
		}
		v := r.N.View()
		if len(v.Slots) != 1 || v.Slots[0] != (node.SlotRange{Start: 0, End: 5460}) {
			t.Fatalf("seed %d: promoted replica owns %v", seed, v.Slots)
		}
		c.Restart("m0")
		old := c.Host("m0")
		if !c.RunUntilCond(c.Now+20*time.Second, func() bool {
			return old.N.Master() == r.ID && allOK(c)
		}) {
			dump(t, c)
			t.Fatalf("seed %d: old master did not rejoin as a replica of m0r0", seed)
		}
	}
}
