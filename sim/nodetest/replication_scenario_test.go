package nodetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim/nodetest"
)

// notes returns the Note values a node emitted about a peer containing s.
func notes(c *nodetest.Cluster, nodeName, peer, s string) []string {
	var out []string
	for _, e := range c.Find(trace.Note, nodeName) {
		if (peer == "" || e.Peer == peer) && strings.Contains(e.Value, s) {
			out = append(out, e.Value)
		}
	}
	return out
}

// TestPSyncAfterFailover: after m0 dies, the promoted replica keeps m0's
// history as replid2, so its sibling continues with a partial resync; m0,
// cut off while it acknowledged writes the others never saw, comes back
// with an offset past the end of that history and must take a full resync,
// which discards those writes (what a master dying with unreplicated
// writes loses).
func TestPSyncAfterFailover(t *testing.T) {
	c := formed(t, testConfig(), 21, 2)
	kept := keyOn("kept")
	c.Command("m0", node.Cmd{Seq: 1, Op: node.OpSet, Key: kept, Value: "v"})
	c.RunFor(2 * time.Second)
	c.Partition("m0", nodetest.Client) // the client stays with m0
	lost := keyOn("lost")
	if rs := c.Command("m0", node.Cmd{Seq: 2, Op: node.OpSet, Key: lost, Value: "gone"}); rs == nil || rs.Kind != node.ReplyOK {
		t.Fatalf("minority master refused the write: %+v", rs)
	}
	winner, loser := siblingsFailover(t, c)
	c.RunFor(time.Second)
	if got := notes(c, winner.Name, loser.Name, "psync partial"); len(got) == 0 {
		dump(t, c)
		t.Fatal("sibling did not continue partially from the promoted replica")
	}
	c.Heal()
	m0 := c.Host("m0")
	if !c.RunUntilCond(c.Now+30*time.Second, func() bool { return m0.N.Master() == winner.ID }) {
		t.Fatal("old master did not rejoin as a replica of the winner")
	}
	// The full resync waits for the diskless delay (5 s) before the fork.
	if !c.RunUntilCond(c.Now+10*time.Second, func() bool { return len(notes(c, "m0", winner.Name, "fullsync loaded")) > 0 }) {
		dump(t, c)
		t.Fatal("old master never finished a full resync")
	}
	if got := notes(c, winner.Name, "m0", "psync full: offset beyond the end of the previous ID's history"); len(got) == 0 {
		dump(t, c)
		t.Fatal("old master was not fully resynced")
	}
	if _, ok := m0.N.Get(lost); ok {
		t.Fatal("the old master kept a write the new master never had")
	}
	if v, ok := m0.N.Get(kept); !ok || v != "v" {
		t.Fatal("the old master lost a replicated write")
	}
}

// TestReplicaLagUnderLoad: the replica's offset trails the master's by what
// is still on the wire (one link latency) and catches up once writes stop.
func TestReplicaLagUnderLoad(t *testing.T) {
	c := formed(t, testConfig(), 22, 1)
	c.SetLatency(20 * time.Millisecond)
	m0, r := c.Host("m0"), c.Host("m0r0")
	k := keyOn("load")
	maxLag := int64(0)
	for i := 0; i < 200; i++ {
		c.Send("m0", node.Cmd{Seq: uint64(i + 1), Op: node.OpRPush, Key: k, Value: "e"})
		c.RunFor(time.Millisecond)
		maxLag = max(maxLag, m0.N.View().Offset-r.N.View().Offset)
	}
	if maxLag <= 0 {
		t.Fatal("the replica never lagged while writes were on the wire")
	}
	c.RunFor(time.Second)
	if m, s := m0.N.View().Offset, r.N.View().Offset; m != s {
		t.Fatalf("replica at %d, master at %d after the load stopped", s, m)
	}
}
