package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

const testT = 5000 * time.Millisecond

func testCfg() Config {
	c := DefaultConfig()
	c.NodeTimeout = testT
	return c
}

// members is 3 masters (IDs …01…03) and one replica each (…04…06).
func members() []Member {
	var ms []Member
	per := NumSlots / 3
	for i := 0; i < 3; i++ {
		end := (i+1)*per - 1
		if i == 2 {
			end = NumSlots - 1
		}
		ms = append(ms, Member{ID: tid(i + 1), Addr: fmt.Sprintf("127.0.0.1:%d", 7000+i),
			Slots: []SlotRange{{Start: i * per, End: end}}, ConfigEpoch: uint64(i + 1)})
	}
	for i := 0; i < 3; i++ {
		ms = append(ms, Member{ID: tid(i + 4), Addr: fmt.Sprintf("127.0.0.1:%d", 7003+i),
			Master: tid(i + 1), ConfigEpoch: uint64(i + 4)})
	}
	return ms
}

func tid(i int) ID { return ID(fmt.Sprintf("%040d", i)) }

// gossipMsg is a PING carrying gs as its gossip section.
func gossipMsg(gs ...Gossip) *Message {
	m := &Message{Type: MsgPing}
	for _, g := range gs {
		m.AddGossip(g)
	}
	return m
}

func mk(t *testing.T, cfg Config, self ID) *Node {
	t.Helper()
	for _, m := range members() {
		if m.ID == self {
			cfg.Addr = m.Addr
		}
	}
	return New(cfg, self, members(), rand.NewPCG(1, 2))
}

// at runs f inside an entry point at time now and returns the output.
func (n *Node) at(now time.Duration, f func()) *Output {
	out := &Output{}
	n.begin(now, out)
	f()
	n.end()
	return out
}

func hasEvent(o *Output, k trace.Kind, value string) bool {
	for _, e := range o.Events {
		if e.Kind == k && (value == "" || e.Value == value) {
			return true
		}
	}
	return false
}

func TestKeySlotCRC16(t *testing.T) {
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16 = %#x, want 0x31C3", got)
	}
	if got := KeySlot("123456789"); got != 0x31C3&0x3FFF {
		t.Fatalf("KeySlot = %d", got)
	}
}

// TestHashTags: keyHashSlot's hash-tag rule (reference 13).
func TestHashTags(t *testing.T) {
	cases := []struct{ key, hashed string }{
		{"foo{}{bar}", "foo{}{bar}"},
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"{user1000}.following", "user1000"},
		{"nobrace", "nobrace"},
		{"open{only", "open{only"},
	}
	for _, c := range cases {
		if got, want := KeySlot(c.key), int(crc16(c.hashed)&0x3FFF); got != want {
			t.Errorf("KeySlot(%q) = %d, want slot of %q = %d", c.key, got, c.hashed, want)
		}
	}
}

// TestFailReportExpires: clusterNodeCleanupFailureReports drops reports
// older than 2T, on Redis's millisecond clock: a report is still valid 2T
// and 999 µs after it was made, and gone a millisecond after 2T.
func TestFailReportExpires(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	m0, m3 := n.byID[tid(1)], n.byID[tid(3)]
	n.at(time.Second, func() { n.addFailureReport(m0, m3) })
	n.at(time.Second+2*testT, func() {
		if c := n.failureReportsCount(m0); c != 1 {
			t.Fatalf("at 2T: %d reports, want 1", c)
		}
	})
	n.at(time.Second+2*testT+999*time.Microsecond, func() {
		if c := n.failureReportsCount(m0); c != 1 {
			t.Fatalf("2T + 999µs: %d reports, want 1", c)
		}
	})
	n.at(time.Second+2*testT+time.Millisecond, func() {
		if c := n.failureReportsCount(m0); c != 0 {
			t.Fatalf("after 2T: %d reports, want 0", c)
		}
	})
}

// TestFailNeedsMajority: markNodeAsFailingIfNeeded needs size/2+1
// reports; a master counts itself, a replica does not.
func TestFailNeedsMajority(t *testing.T) {
	for _, c := range []struct {
		self    ID
		reports int
		fail    bool
	}{
		{tid(2), 0, false}, {tid(2), 1, true}, // master: itself + 1
		{tid(5), 1, false}, {tid(5), 2, true}, // replica: 2 reports
	} {
		n := mk(t, testCfg(), c.self)
		m0 := n.byID[tid(1)]
		n.at(0, func() { n.updateState() })
		o := n.at(3*time.Second, func() {
			n.updateState()
			m0.flags |= FlagPFail
			reporters := []ID{tid(3), tid(2)}
			for i := 0; i < c.reports; i++ {
				n.addFailureReport(m0, n.byID[reporters[i]])
			}
			n.markNodeAsFailingIfNeeded(m0)
		})
		if got := m0.is(FlagFail); got != c.fail {
			t.Errorf("self %s reports %d: FAIL=%v want %v", c.self[38:], c.reports, got, c.fail)
		}
		if c.fail && !hasEvent(o, trace.Fail, "quorum") {
			t.Errorf("no fail quorum event")
		}
	}
}

// TestClusterStateMinority: clusterUpdateState turns FAIL when fewer than
// size/2+1 slot-owning masters are reachable, and a master waits the
// rejoin delay before going ok again.
func TestClusterStateMinority(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	n.at(0, func() { n.updateState() })
	n.at(3*time.Second, func() { n.updateState() })
	if !n.stateOK {
		t.Fatal("not ok after the writable delay")
	}
	n.byID[tid(2)].flags |= FlagPFail
	n.at(4*time.Second, func() { n.updateState() })
	if !n.stateOK {
		t.Fatal("one PFAIL master of three broke the state")
	}
	n.byID[tid(3)].flags |= FlagPFail
	n.at(5*time.Second, func() { n.updateState() })
	if n.stateOK {
		t.Fatal("minority master still ok")
	}
	n.byID[tid(3)].flags &^= FlagPFail
	n.at(5*time.Second+4900*time.Millisecond, func() { n.updateState() })
	if n.stateOK {
		t.Fatal("ok before the rejoin delay")
	}
	n.at(10*time.Second+time.Millisecond, func() { n.updateState() })
	if !n.stateOK {
		t.Fatal("not ok after the rejoin delay")
	}
}

// TestWritableDelay: a master cannot go ok in its first 2 s.
func TestWritableDelay(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	n.at(0, func() { n.updateState() })
	n.at(1999*time.Millisecond, func() { n.updateState() })
	if n.stateOK {
		t.Fatal("master ok inside the writable delay")
	}
	n.at(2000*time.Millisecond, func() { n.updateState() })
	if !n.stateOK {
		t.Fatal("master not ok after the writable delay")
	}
}

// voteSetup: master m2's view with m1 FAIL, a request from m1's replica.
func voteSetup(t *testing.T, cfg Config) (*Node, *Node) {
	m2 := mk(t, cfg, tid(2))
	r := mk(t, cfg, tid(4))
	m2.byID[tid(1)].flags |= FlagFail
	r.byID[tid(1)].flags |= FlagFail
	r.currentEpoch = 7
	return m2, r
}

func requestFrom(r *Node) *Header {
	h := r.header(MsgAuthRequest)
	return &h
}

// TestVoteRules: clusterSendFailoverAuthIfNeeded's rules in order.
func TestVoteRules(t *testing.T) {
	cases := []struct {
		name  string
		setup func(m2, r *Node)
		want  string // "" = granted
	}{
		{"granted", func(m2, r *Node) {}, ""},
		{"old_request_epoch", func(m2, r *Node) { m2.currentEpoch = 9 }, "old_request_epoch"},
		{"already_voted_epoch", func(m2, r *Node) { m2.currentEpoch, m2.lastVoteEpoch = 7, 7 }, "already_voted_epoch"},
		{"master_not_fail", func(m2, r *Node) { m2.byID[tid(1)].flags &^= FlagFail }, "master_not_fail"},
		{"forceack_skips_fail", func(m2, r *Node) { m2.byID[tid(1)].flags &^= FlagFail; r.mfEnd = 1 }, ""},
		{"voted_recently", func(m2, r *Node) { m2.byID[tid(1)].votedTime = 55 * time.Second }, "voted_recently"},
		{"stale_slot_epoch", func(m2, r *Node) { m2.byID[tid(1)].configEpoch = 5 }, "stale_slot_epoch"},
		{"not_replica", func(m2, r *Node) { m2.byID[tid(4)].flags = FlagMaster; detachReplica(m2.byID[tid(4)]) }, "not_replica"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m2, r := voteSetup(t, testCfg())
			c.setup(m2, r)
			h := requestFrom(r)
			if r.mfEnd != 0 {
				h.MFlags |= MFlagForceAck
			}
			o := m2.at(60*time.Second, func() {
				m2.mergeHeaderEpochs(m2.byID[tid(4)], h)
				m2.sendFailoverAuthIfNeeded(m2.byID[tid(4)], h)
			})
			if c.want == "" {
				if !hasEvent(o, trace.VoteGranted, "") || m2.lastVoteEpoch != m2.currentEpoch {
					t.Fatalf("vote not granted: %+v", o.Events)
				}
			} else if !hasEvent(o, trace.VoteRefused, c.want) {
				t.Fatalf("want refusal %s, got %+v", c.want, o.Events)
			}
		})
	}
}

// TestVoteRefusedTwiceInEpoch: one vote per master per epoch, and the
// GrantTwoVotesPerEpoch bug switch breaks exactly that rule.
func TestVoteRefusedTwiceInEpoch(t *testing.T) {
	for _, bug := range []bool{false, true} {
		cfg := testCfg()
		cfg.Bugs.GrantTwoVotesPerEpoch = bug
		m2, r := voteSetup(t, cfg)
		h := requestFrom(r)
		m2.at(60*time.Second, func() { m2.sendFailoverAuthIfNeeded(m2.byID[tid(4)], h) })
		m2.byID[tid(1)].votedTime = never // isolate the epoch rule from the 2T rule
		o := m2.at(61*time.Second, func() { m2.sendFailoverAuthIfNeeded(m2.byID[tid(4)], h) })
		if granted := hasEvent(o, trace.VoteGranted, ""); granted != bug {
			t.Fatalf("bug=%v: second vote granted=%v", bug, granted)
		}
	}
}

// TestRankDelay: clusterGetSlaveRank counts siblings with larger offsets;
// each rank adds 1000 ms to the 500 + random()%500 delay.
func TestRankDelay(t *testing.T) {
	ms := members()
	ms = append(ms, Member{ID: tid(7), Addr: "127.0.0.1:7006", Master: tid(1), ConfigEpoch: 7})
	n := New(testCfg(), tid(4), ms, rand.NewPCG(3, 4))
	n.byID[tid(1)].flags |= FlagFail
	n.byID[tid(7)].replOffset = 100
	n.repl.state, n.repl.lastInteraction = replConnected, 10*time.Second
	now := 10 * time.Second
	o := n.at(now, func() { n.handleSlaveFailover() })
	if n.failoverAuthRank != 1 {
		t.Fatalf("rank %d, want 1", n.failoverAuthRank)
	}
	d := n.failoverAuthTime - now
	if d < 1500*time.Millisecond || d >= 2000*time.Millisecond {
		t.Fatalf("delay %v, want [1.5s, 2s)", d)
	}
	if !hasEvent(o, trace.ElectionSched, "") {
		t.Fatal("no election_sched event")
	}
	if !strings.Contains(o.Events[0].Value, "rank=1") {
		t.Fatalf("event %q", o.Events[0].Value)
	}
}

// TestDataAgeBlocksFailover: a replica whose data is too old does not
// schedule an election (clusterHandleSlaveFailover's data-age check).
func TestDataAgeBlocksFailover(t *testing.T) {
	n := mk(t, testCfg(), tid(4))
	n.byID[tid(1)].flags |= FlagFail
	n.repl.downSince = 0
	n.at(200*time.Second, func() { n.handleSlaveFailover() })
	if n.failoverAuthTime != never {
		t.Fatal("stale replica scheduled an election")
	}
	n.repl.downSince = 150 * time.Second // age 50 s - T = 45 s < 10 + 50
	n.at(200*time.Second, func() { n.handleSlaveFailover() })
	if n.failoverAuthTime == never {
		t.Fatal("fresh replica did not schedule")
	}
}

// TestConfigEpochCollision: clusterHandleConfigEpochCollision moves only
// the master with the smaller ID.
func TestConfigEpochCollision(t *testing.T) {
	small, big := mk(t, testCfg(), tid(1)), mk(t, testCfg(), tid(2))
	small.myself.configEpoch, small.byID[tid(2)].configEpoch = 2, 2
	before := small.currentEpoch
	o := small.at(time.Second, func() { small.handleConfigEpochCollision(small.byID[tid(2)]) })
	if small.myself.configEpoch != before+1 || small.currentEpoch != before+1 || !hasEvent(o, trace.ConfigEpoch, "collision") {
		t.Fatalf("smaller ID: configEpoch %d", small.myself.configEpoch)
	}
	big.byID[tid(1)].configEpoch = 2
	big.at(time.Second, func() { big.handleConfigEpochCollision(big.byID[tid(1)]) })
	if big.myself.configEpoch != 2 {
		t.Fatal("larger ID moved")
	}
}

// TestUpdateDemotesOldMaster: clusterUpdateSlotsConfigWith with a higher
// epoch takes all my slots and makes me a replica of the new owner.
func TestUpdateDemotesOldMaster(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	o := n.at(time.Second, func() {
		n.processUpdate(&Update{ConfigEpoch: 9, Node: tid(4), Slots: n.myself.slotSnap()})
	})
	if n.Master() != tid(4) || n.myself.numSlots != 0 || !hasEvent(o, trace.Role, "replica") {
		t.Fatalf("master %q slots %d", n.Master(), n.myself.numSlots)
	}
	if !o.Save {
		t.Fatal("no save")
	}
}

// TestEqualEpochNeverSteals: equal configEpochs never rebind a claimed slot.
func TestEqualEpochNeverSteals(t *testing.T) {
	n := mk(t, testCfg(), tid(3))
	n.at(time.Second, func() {
		n.updateSlotsConfigWith(n.byID[tid(2)], 1, n.byID[tid(1)].slotSnap())
	})
	if n.slots.owner(0) != n.byID[tid(1)] {
		t.Fatal("slot stolen with an equal epoch")
	}
}

// TestRedirection: getNodeByQuery's MOVED, CLUSTERDOWN and READONLY rules.
func TestRedirection(t *testing.T) {
	n := mk(t, testCfg(), tid(4)) // replica of tid(1)
	key := "123456789"            // slot 12739: owned by tid(3)
	low := "a"                    // slot 15495 → tid(3); find one of tid(1)
	for i := 0; KeySlot(low) > 5460; i++ {
		low = fmt.Sprint("k", i)
	}
	cmd := func(c Cmd) Reply {
		o := n.at(time.Second, func() { n.processCommand(1, c) })
		return o.Replies[0].Reply
	}
	if r := cmd(Cmd{Op: OpGet, Key: key}); r.Kind != ReplyClusterDown || r.Err != "CLUSTERDOWN The cluster is down" {
		t.Fatalf("state fail: %+v", r)
	}
	n.stateOK = true
	if r := cmd(Cmd{Op: OpGet, Key: key}); r.Kind != ReplyMoved || r.Err != "MOVED 12739 127.0.0.1:7002" {
		t.Fatalf("moved: %+v", r)
	}
	if r := cmd(Cmd{Op: OpGet, Key: low, ReadOnly: true}); r.Kind != ReplyNil {
		t.Fatalf("readonly read of my master's slot: %+v", r)
	}
	if r := cmd(Cmd{Op: OpSet, Key: low, ReadOnly: true}); r.Kind != ReplyMoved {
		t.Fatalf("readonly write: %+v", r)
	}
	n.delSlot(0)
	for i := 0; ; i++ {
		k := fmt.Sprint("z", i)
		if KeySlot(k) == 0 {
			if r := cmd(Cmd{Op: OpGet, Key: k}); r.Err != "CLUSTERDOWN Hash slot not served" {
				t.Fatalf("unbound: %+v", r)
			}
			break
		}
	}
	n.stateOK = false
	n.cfg.AllowReadsWhenDown = true
	if r := cmd(Cmd{Op: OpSet, Key: key}); r.Err != "CLUSTERDOWN The cluster is down and only accepts read commands" {
		t.Fatalf("reads when down, write: %+v", r)
	}
}

// TestRestoreFromDisk: clusterLoadConfig keeps the vote and epochs,
// zeroes replica configEpochs, starts FAIL with an empty keyspace.
func TestRestoreFromDisk(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	n.lastVoteEpoch, n.currentEpoch = 6, 6
	n.at(time.Second, func() {
		n.byID[tid(1)].flags |= FlagFail
		n.db.apply(Write{Op: OpSet, Key: "k", Value: "v"})
	})
	d := n.Disk()
	r, err := Restore(testCfg(), d, rand.NewPCG(5, 6))
	if err != nil {
		t.Fatal(err)
	}
	if r.lastVoteEpoch != 6 || r.currentEpoch != 6 || r.stateOK {
		t.Fatalf("restored epochs %d/%d ok=%v", r.currentEpoch, r.lastVoteEpoch, r.stateOK)
	}
	if r.byID[tid(4)].configEpoch != 0 || !r.byID[tid(1)].is(FlagFail) {
		t.Fatal("replica epoch kept or FAIL lost")
	}
	if _, ok := r.Get("k"); ok {
		t.Fatal("keyspace survived")
	}
	norm := func(d NodesConf) NodesConf {
		for i := range d.Nodes {
			if d.Nodes[i].Master != "" {
				d.Nodes[i].ConfigEpoch = 0 // replica lines load with configEpoch 0
			}
			// Only whether a time column is non-zero survives a restart.
			d.Nodes[i].PingSent = min(d.Nodes[i].PingSent, 1)
			d.Nodes[i].PongReceived = min(d.Nodes[i].PongReceived, 1)
		}
		return d
	}
	if got := r.Disk(); fmt.Sprint(norm(got)) != fmt.Sprint(norm(d)) {
		t.Fatalf("disk round trip:\n%v\n%v", got, d)
	}
}

// TestClusterNodesFormat: clusterGenNodeDescription's line format.
func TestClusterNodesFormat(t *testing.T) {
	n := mk(t, testCfg(), tid(4))
	lines := strings.Split(strings.TrimSpace(n.ClusterNodes()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines", len(lines))
	}
	want0 := string(tid(1)) + " 127.0.0.1:7000@17000 master - 0 0 1 disconnected 0-5460"
	want3 := string(tid(4)) + " 127.0.0.1:7003@17003 myself,slave " + string(tid(1)) + " 0 0 1 connected"
	if lines[0] != want0 || lines[3] != want3 {
		t.Fatalf("got\n%s\n%s", lines[0], lines[3])
	}
}

// TestLinkTimeoutFreesLink: clusterCron 5b frees a link older than T with
// a ping outstanding more than T/2 and no data for T/2.
func TestLinkTimeoutFreesLink(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	n.Tick(0, &Output{})
	p := n.byID[tid(2)]
	l := p.link
	if l == nil {
		t.Fatal("no link created")
	}
	n.Link(time.Millisecond, LinkEvent{Conn: l.conn, Kind: Connected}, &Output{})
	if p.pingSent == 0 {
		t.Fatal("no PING on connect")
	}
	o := &Output{}
	for now := 100 * time.Millisecond; now <= testT+200*time.Millisecond; now += 100 * time.Millisecond {
		o.Reset()
		n.Tick(now, o)
		if len(o.Closes) > 0 {
			break
		}
	}
	if len(o.Closes) == 0 || o.Closes[0] != l.conn {
		t.Fatalf("link not freed: %+v", o.Closes)
	}
}

// TestConnNumbersUseIncarnation: a restarted node never reuses a ConnID.
func TestConnNumbersUseIncarnation(t *testing.T) {
	cfg := testCfg()
	cfg.Incarnation = 3
	n := mk(t, cfg, tid(1))
	o := &Output{}
	n.Tick(0, o)
	if len(o.Dials) == 0 || o.Dials[0].N != 3<<32+1 {
		t.Fatalf("dials %+v", o.Dials)
	}
}
