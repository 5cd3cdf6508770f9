package nodetest_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim/nodetest"
)

// formed returns a 3+1 cluster that has reached state ok.
func formed(t *testing.T, cfg nodetest.Conf, seed uint64, replicas int) *nodetest.Cluster {
	t.Helper()
	c := nodetest.New(3, replicas, cfg, seed)
	if !c.RunUntilCond(10*time.Second, func() bool { return allOK(c) }) {
		dump(t, c)
		t.Fatal("cluster never reached state ok")
	}
	c.RunFor(2 * time.Second)
	return c
}

// keyOn returns a key whose slot m0 (slots 0-5460) owns.
func keyOn(prefix string) string {
	for i := 0; ; i++ {
		k := prefix + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		if node.KeySlot(k) <= 5460 {
			return k
		}
	}
}

// TestWritesReplicateAndSurviveFailover: a write acknowledged with WAIT 1
// survives the master's crash (async replication + promotion keeps data);
// a write the replica never received is lost.
func TestWritesReplicateAndSurviveFailover(t *testing.T) {
	c := formed(t, testConfig(), 3, 1)
	k := keyOn("x")
	rs := c.Command("m0", node.Cmd{Seq: 1, Op: node.OpSet, Key: k, Value: "v1"})
	if rs == nil || rs.Kind != node.ReplyOK {
		t.Fatalf("SET: %+v", rs)
	}
	c.Command("m0", node.Cmd{Seq: 2, Op: node.OpWait, Replicas: 1, Timeout: time.Second})
	c.RunFor(100 * time.Millisecond)
	m0 := c.Host("m0")
	if got := m0.Replies[len(m0.Replies)-1]; got.Seq != 2 || got.Reply.Int != 1 {
		t.Fatalf("WAIT reply %+v", got)
	}
	lost := keyOn("y")
	c.Send("m0", node.Cmd{Seq: 3, Op: node.OpSet, Key: lost, Value: "gone"})
	if !c.RunUntilCond(c.Now+time.Second, func() bool { _, ok := m0.N.Get(lost); return ok }) {
		t.Fatal("m0 never ran the SET")
	}
	c.Crash("m0") // before the stream reaches the replica
	r := c.Host("m0r0")
	if !c.RunUntilCond(c.Now+30*time.Second, func() bool { return r.N.Master() == "" }) {
		t.Fatal("m0r0 not promoted")
	}
	if v, ok := r.N.Get(k); !ok || v != "v1" {
		t.Fatalf("replicated write lost: %q %v", v, ok)
	}
	if _, ok := r.N.Get(lost); ok {
		t.Fatal("a write the replica never received survived")
	}
	c.RunFor(2 * time.Second)
	// Other nodes redirect to the new owner.
	rs = c.Command("m1", node.Cmd{Seq: 1, Op: node.OpGet, Key: k})
	if rs.Kind != node.ReplyMoved || rs.Addr != r.Addr {
		t.Fatalf("m1 GET: %+v", rs)
	}
}

// TestReplicaAndMasterDeadClusterFails: with the only replica of m0 dead,
// m0's crash leaves its slots uncovered: cluster_state fail everywhere
// (clusterUpdateState, full coverage), no promotion.
func TestReplicaAndMasterDeadClusterFails(t *testing.T) {
	c := formed(t, testConfig(), 4, 1)
	c.Crash("m0r0")
	c.RunFor(15 * time.Second)
	if !allOK(c) {
		t.Fatal("a dead replica broke the cluster state")
	}
	c.Crash("m0")
	c.RunFor(30 * time.Second)
	for _, h := range c.Hosts {
		if h.Alive() && h.N.StateOK() {
			t.Fatalf("%s still ok with m0's slots uncovered", h.Name)
		}
	}
	if len(c.Find(trace.Promoted, "")) != 0 {
		t.Fatal("someone was promoted")
	}
	// Restart m0: peers clear its FAIL after 2T, state ok again.
	c.Restart("m0")
	if !c.RunUntilCond(c.Now+30*time.Second, func() bool { return allOK(c) }) {
		dump(t, c)
		t.Fatal("cluster not ok after m0 came back")
	}
}

// TestNoFailoverReplicaNeverPromoted: cluster-replica-no-failover stops the
// election (clusterHandleSlaveFailover precondition).
func TestNoFailoverReplicaNeverPromoted(t *testing.T) {
	cfg := testConfig()
	cfg["cluster-replica-no-failover"] = "yes"
	c := nodetest.New(3, 1, cfg, 5)
	r := c.Host("m0r0")
	c.RunFor(10 * time.Second)
	for _, h := range c.Hosts {
		if h.Name == "m0r0" {
			continue
		}
		for _, p := range h.N.View().Peers {
			if p.ID == r.ID && p.Flags&node.FlagNoFailover == 0 {
				t.Fatalf("%s does not see nofailover on m0r0", h.Name)
			}
		}
	}
	c.Crash("m0")
	c.RunFor(30 * time.Second)
	if r.N.Master() == "" || len(c.Find(trace.ElectionStart, "")) != 0 {
		t.Fatal("no-failover replica started an election")
	}
	if c.Host("m1").N.StateOK() {
		t.Fatal("m1 ok without m0's slots")
	}
}

// TestMinorityMasterGoesFail: a master cut off from the majority turns
// cluster_state fail (reachable < size/2+1) and its replica replaces it.
func TestMinorityMasterGoesFail(t *testing.T) {
	c := formed(t, testConfig(), 6, 1)
	c.Partition("m0")
	m0 := c.Host("m0")
	if !c.RunUntilCond(c.Now+10*time.Second, func() bool { return !m0.N.StateOK() }) {
		t.Fatal("minority master stayed ok")
	}
	r := c.Host("m0r0")
	if !c.RunUntilCond(c.Now+20*time.Second, func() bool { return r.N.Master() == "" }) {
		t.Fatal("majority did not promote m0r0")
	}
	c.Heal()
	if !c.RunUntilCond(c.Now+30*time.Second, func() bool { return m0.N.Master() == r.ID && allOK(c) }) {
		dump(t, c)
		t.Fatal("old master did not rejoin as a replica after heal")
	}
}

// TestManualFailoverDefault: CLUSTER FAILOVER promotes the replica with no
// write loss; the old master becomes its replica.
func TestManualFailoverDefault(t *testing.T) {
	c := formed(t, testConfig(), 7, 1)
	k := keyOn("mf")
	for i := 0; i < 5; i++ {
		c.Command("m0", node.Cmd{Seq: uint64(i + 1), Op: node.OpRPush, Key: k, Value: "e"})
	}
	rs := c.Command("m0r0", node.Cmd{Seq: 1, Op: node.OpClusterFailover})
	if rs.Kind != node.ReplyOK {
		t.Fatalf("CLUSTER FAILOVER: %+v", rs)
	}
	r, m0 := c.Host("m0r0"), c.Host("m0")
	if !c.RunUntilCond(c.Now+5*time.Second, func() bool { return r.N.Master() == "" && m0.N.Master() == r.ID }) {
		dump(t, c)
		t.Fatal("manual failover did not complete")
	}
	c.RunFor(time.Second)
	rs = c.Command("m0r0", node.Cmd{Seq: 10, Op: node.OpLRange, Key: k})
	if len(rs.List) != 5 {
		t.Fatalf("list after manual failover: %+v", rs)
	}
}

// TestManualFailoverTakeover: TAKEOVER bumps the configEpoch without votes.
func TestManualFailoverTakeover(t *testing.T) {
	c := formed(t, testConfig(), 8, 1)
	c.Command("m0r0", node.Cmd{Seq: 1, Op: node.OpClusterFailover, Value: "TAKEOVER"})
	r, m0 := c.Host("m0r0"), c.Host("m0")
	if !c.RunUntilCond(c.Now+5*time.Second, func() bool { return r.N.Master() == "" && m0.N.Master() == r.ID }) {
		dump(t, c)
		t.Fatal("takeover did not complete")
	}
	if len(c.Find(trace.VoteGranted, "")) != 0 {
		t.Fatal("takeover used votes")
	}
	if ev := c.Find(trace.ConfigEpoch, "m0r0"); len(ev) == 0 || ev[0].Value != "takeover" {
		t.Fatalf("config epoch events %+v", ev)
	}
}

// TestManualFailoverForce: FORCE elects with the master crashed.
func TestManualFailoverForce(t *testing.T) {
	c := formed(t, testConfig(), 9, 1)
	c.Crash("m0")
	c.RunFor(time.Second)
	rs := c.Command("m0r0", node.Cmd{Seq: 1, Op: node.OpClusterFailover, Value: "FORCE"})
	if rs.Kind != node.ReplyOK {
		t.Fatalf("FAILOVER FORCE: %+v", rs)
	}
	r := c.Host("m0r0")
	if !c.RunUntilCond(c.Now+3*time.Second, func() bool { return r.N.Master() == "" }) {
		dump(t, c)
		t.Fatal("forced failover did not complete within 3 s")
	}
}

// TestReplicaMigration: when both replicas of m1 die, one replica of a
// master with two migrates to it (clusterHandleSlaveMigration).
func TestReplicaMigration(t *testing.T) {
	c := formed(t, testConfig(), 10, 2)
	c.Crash("m1r0")
	c.Crash("m1r1")
	m1 := c.Host("m1")
	migrated := func() bool {
		for _, h := range c.Hosts {
			if h.Alive() && h.Name != "m1r0" && h.Name != "m1r1" && h.N.Master() == m1.ID {
				return true
			}
		}
		return false
	}
	if !c.RunUntilCond(c.Now+40*time.Second, migrated) {
		dump(t, c)
		t.Fatal("no replica migrated to the orphaned master")
	}
}

// TestDeterministic: the same seed gives the same events.
func TestDeterministic(t *testing.T) {
	run := func() []trace.Event {
		c := nodetest.New(3, 1, testConfig(), 11)
		c.RunFor(8 * time.Second)
		c.Crash("m1")
		c.RunFor(20 * time.Second)
		return c.Events
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d events", len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("event %d: %v vs %v", i, trace.Describe(a[i]), trace.Describe(b[i]))
		}
	}
}

// TestSiblingRepointsAfterPromotion: with two replicas, one wins; the other
// follows the winner (clusterUpdateSlotsConfigWith → clusterSetMaster) and
// gets its data.
func TestSiblingRepointsAfterPromotion(t *testing.T) {
	c := formed(t, testConfig(), 12, 2)
	k := keyOn("s")
	c.Command("m0", node.Cmd{Seq: 1, Op: node.OpSet, Key: k, Value: "v"})
	c.RunFor(2 * time.Second)
	c.Crash("m0")
	_, loser := siblingsFailover(t, c)
	c.RunFor(2 * time.Second)
	if v, ok := loser.N.Get(k); !ok || v != "v" {
		t.Fatal("sibling lost data")
	}
	if n := len(c.Find(trace.Promoted, "")); n != 1 {
		t.Fatalf("%d promotions", n)
	}
}

// slotArgs is "a a+1 … b" for CLUSTER ADDSLOTS.
func slotArgs(a, b int) string {
	var s []byte
	for i := a; i <= b; i++ {
		s = strconv.AppendInt(append(s, ' '), int64(i), 10)
	}
	return string(s)
}

// TestClusterFormedFromMeet: six empty nodes joined by CLUSTER MEET (a
// chain, the rest by gossip), slots given with CLUSTER ADDSLOTS and
// replicas with CLUSTER REPLICATE reach one view and state ok; configEpoch
// collisions (all start at 0) end with distinct epochs
// (clusterStartHandshake, clusterProcessGossipSection,
// clusterHandleConfigEpochCollision).
func TestClusterFormedFromMeet(t *testing.T) {
	c := nodetest.NewEmpty(6, 0, testConfig(), 21)
	for i := 1; i < 6; i++ {
		if r := c.Cluster(c.Hosts[i-1].Name, "MEET "+strings.Replace(c.Hosts[i].Addr, ":", " ", 1)); r.Kind != node.ReplyOK {
			t.Fatalf("MEET: %+v", r)
		}
	}
	knowsAll := func() bool {
		for _, h := range c.Hosts {
			v := h.N.View()
			if len(v.Peers) != 5 {
				return false
			}
			for _, p := range v.Peers {
				if p.Flags&node.FlagHandshake != 0 {
					return false
				}
			}
		}
		return true
	}
	if !c.RunUntilCond(20*time.Second, knowsAll) {
		dump(t, c)
		t.Fatal("nodes never all met")
	}
	per := node.NumSlots / 3
	for i := 0; i < 3; i++ {
		end := (i+1)*per - 1
		if i == 2 {
			end = node.NumSlots - 1
		}
		if r := c.Cluster(c.Hosts[i].Name, "ADDSLOTS"+slotArgs(i*per, end)); r.Kind != node.ReplyOK {
			t.Fatalf("ADDSLOTS: %+v", r)
		}
		if r := c.Cluster(c.Hosts[i+3].Name, "REPLICATE "+string(c.Host(c.Hosts[i].Name).ID)); r.Kind != node.ReplyOK {
			t.Fatalf("REPLICATE: %+v", r)
		}
	}
	if !c.RunUntilCond(c.Now+20*time.Second, func() bool { return allOK(c) }) {
		dump(t, c)
		t.Fatal("cluster formed from MEET never reached state ok")
	}
	c.RunFor(5 * time.Second)
	epochs := map[uint64]bool{}
	for i := 0; i < 3; i++ {
		epochs[c.Host(c.Hosts[i].Name).N.View().ConfigEpoch] = true
	}
	if len(epochs) != 3 {
		t.Fatalf("masters' configEpochs not distinct: %v", epochs)
	}
}

// TestManualFailoverLosesNoAcknowledgedWrite: CLUSTER FAILOVER in the
// middle of a stream of RPUSHes: the master pauses writes, the replica
// catches up to the paused offset before the election, so every RPUSH
// acknowledged by either node is in the list on the new master (Redis's
// 10-manual-failover.tcl).
func TestManualFailoverLosesNoAcknowledgedWrite(t *testing.T) {
	c := formed(t, testConfig(), 17, 1)
	k := keyOn("mfw")
	m0, r := c.Host("m0"), c.Host("m0r0")
	acked := 0
	var seq uint64
	push := func() {
		seq++
		target := m0
		if r.N.Master() == "" {
			target = r
		}
		c.Send(target.Name, node.Cmd{Seq: seq, Op: node.OpRPush, Key: k, Value: fmt.Sprint(seq)})
	}
	for i := 0; i < 300; i++ {
		push()
		if i == 100 {
			if rs := c.Command("m0r0", node.Cmd{Op: node.OpClusterFailover}); rs == nil || rs.Kind != node.ReplyOK {
				t.Fatalf("CLUSTER FAILOVER: %+v", rs)
			}
		}
		c.RunFor(5 * time.Millisecond)
	}
	c.RunFor(time.Second)
	if r.N.Master() != "" || m0.N.Master() != r.ID {
		dump(t, c)
		t.Fatal("manual failover did not complete")
	}
	for _, h := range []*nodetest.Host{m0, r} {
		for _, rep := range h.Replies {
			if rep.Seq <= seq && rep.Reply.Kind == node.ReplyOK { // an RPUSH's, not the FAILOVER's
				acked++
			}
		}
	}
	rs := c.Command("m0r0", node.Cmd{Op: node.OpLRange, Key: k})
	if got := len(rs.List); got != acked || acked < 200 {
		t.Fatalf("list has %d elements, %d RPUSHes acknowledged", got, acked)
	}
}

// TestSplitVoteRetriedWithHigherEpoch: two replicas of a dead master each
// reach a different surviving master, each gets one vote of the two it
// needs (one vote per master per epoch, and the 2T voted_time block), both
// attempts expire after auth_timeout, and once the network heals the retry
// after auth_retry_time wins with a higher epoch (clusterHandleSlaveFailover,
// clusterSendFailoverAuthIfNeeded).
func TestSplitVoteRetriedWithHigherEpoch(t *testing.T) {
	c := formed(t, testConfig(), 23, 2)
	c.Cut("m0r0", "m2")
	c.Cut("m0r1", "m1")
	c.Crash("m0")
	expired := func() bool { return len(c.Find(trace.ElectionExpire, "")) >= 2 }
	if !c.RunUntilCond(c.Now+40*time.Second, expired) {
		dump(t, c)
		t.Fatal("the split attempts did not both expire")
	}
	if n := len(c.Find(trace.Promoted, "")); n != 0 {
		t.Fatalf("%d promotions with split votes", n)
	}
	var firstEpoch uint64
	for _, e := range c.Find(trace.ElectionStart, "") {
		firstEpoch = max(firstEpoch, e.Epoch)
	}
	c.Heal()
	promoted := func() bool { return len(c.Find(trace.Promoted, "")) > 0 }
	if !c.RunUntilCond(c.Now+60*time.Second, promoted) {
		dump(t, c)
		t.Fatal("no replica won the retry")
	}
	win := c.Find(trace.Promoted, "")[0]
	if win.Epoch <= firstEpoch {
		t.Fatalf("retry won in epoch %d, not above the split attempts' %d", win.Epoch, firstEpoch)
	}
	c.RunFor(10 * time.Second)
	other := map[string]string{"m0r0": "m0r1", "m0r1": "m0r0"}[win.Node]
	if c.Host(other).N.Master() != c.Host(win.Node).ID {
		t.Fatalf("%s does not follow the winner %s", other, win.Node)
	}
}
