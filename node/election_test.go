package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// candidate is replica tid(4) of a FAILed tid(1), in sync with it at now.
func candidate(t *testing.T, cfg Config, now time.Duration) *Node {
	n := mk(t, cfg, tid(4))
	n.byID[tid(1)].flags |= FlagFail
	n.repl.state, n.repl.lastInteraction = replConnected, now
	return n
}

// TestElectionPreconditions: clusterHandleSlaveFailover schedules nothing
// unless I am a replica of a known master that is FAIL (or a manual
// failover may start) and owns slots, and cluster-replica-no-failover is
// off (unless the failover is manual).
func TestElectionPreconditions(t *testing.T) {
	const now = 100 * time.Second
	cases := []struct {
		name     string
		setup    func(n *Node)
		schedule bool
	}{
		{"master_fail", func(n *Node) {}, true},
		{"master_not_fail", func(n *Node) { n.byID[tid(1)].flags &^= FlagFail }, false},
		{"master_slotless", func(n *Node) { n.delNodeSlots(n.byID[tid(1)]) }, false},
		{"no_failover_option", func(n *Node) { n.cfg.ReplicaNoFailover = true }, false},
		{"no_failover_but_manual", func(n *Node) {
			n.cfg.ReplicaNoFailover = true
			n.mfEnd, n.mfCanStart = now+mfTimeout, true
		}, true},
		{"manual_needs_no_fail", func(n *Node) {
			n.byID[tid(1)].flags &^= FlagFail
			n.mfEnd, n.mfCanStart = now+mfTimeout, true
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := candidate(t, testCfg(), now)
			n.at(now, func() {
				c.setup(n)
				n.handleSlaveFailover()
			})
			if got := n.failoverAuthTime != never; got != c.schedule {
				t.Fatalf("scheduled=%v, want %v", got, c.schedule)
			}
		})
	}
}

// TestElectionRetry: clusterHandleSlaveFailover sends one request per
// attempt with a fresh epoch, gives up (EXPIRED) after auth_timeout =
// max(2T, 2000) and reschedules only after auth_retry_time = 2·auth_timeout,
// so a split vote is retried with a higher epoch.
func TestElectionRetry(t *testing.T) {
	n := candidate(t, testCfg(), 10*time.Second)
	timeout, retry := n.authTimeouts()
	if timeout != 2*testT || retry != 4*testT {
		t.Fatalf("auth_timeout %v retry %v", timeout, retry)
	}
	tick := func(at time.Duration) *Output {
		n.repl.lastInteraction = at
		return n.at(at, func() { n.handleSlaveFailover() })
	}
	tick(10 * time.Second)
	first := n.failoverAuthTime
	o := tick(first)
	if !hasEvent(o, trace.ElectionStart, "") || n.failoverAuthEpoch != 7 {
		t.Fatalf("first request: epoch %d", n.failoverAuthEpoch)
	}
	if o := tick(first + timeout + time.Millisecond); !hasEvent(o, trace.ElectionExpire, "") {
		t.Fatal("attempt did not expire after auth_timeout")
	}
	if tick(first + retry); n.failoverAuthTime != first {
		t.Fatal("rescheduled before auth_retry_time")
	}
	tick(first + retry + time.Millisecond)
	second := n.failoverAuthTime
	if second == first {
		t.Fatal("not rescheduled after auth_retry_time")
	}
	if tick(second); n.failoverAuthEpoch != 8 {
		t.Fatalf("retry epoch %d, want 8", n.failoverAuthEpoch)
	}
}

// TestRankRecomputedWhileWaiting: while the request is not sent,
// clusterHandleSlaveFailover re-ranks every call; a worse rank adds
// 1000 ms per step, a better one never shortens the delay.
func TestRankRecomputedWhileWaiting(t *testing.T) {
	ms := append(members(), Member{ID: tid(7), Addr: "127.0.0.1:7006", Master: tid(1), ConfigEpoch: 7},
		Member{ID: tid(8), Addr: "127.0.0.1:7007", Master: tid(1), ConfigEpoch: 8})
	n := New(testCfg(), tid(4), ms, n0rand())
	n.byID[tid(1)].flags |= FlagFail
	n.repl.state, n.repl.lastInteraction = replConnected, 10*time.Second
	n.at(10*time.Second, func() { n.handleSlaveFailover() })
	base := n.failoverAuthTime
	n.byID[tid(7)].replOffset, n.byID[tid(8)].replOffset = 5, 5
	n.at(10*time.Second+CronPeriod, func() { n.handleSlaveFailover() })
	if n.failoverAuthRank != 2 || n.failoverAuthTime != base+2*time.Second {
		t.Fatalf("rank %d, delay +%v", n.failoverAuthRank, n.failoverAuthTime-base)
	}
	n.byID[tid(7)].replOffset, n.byID[tid(8)].replOffset = 0, 0
	n.at(10*time.Second+2*CronPeriod, func() { n.handleSlaveFailover() })
	if n.failoverAuthTime != base+2*time.Second {
		t.Fatal("a better rank shortened the delay")
	}
}

// TestNoFailoverReplicaNotRanked: clusterGetSlaveRank ignores siblings
// flagged NOFAILOVER, however far ahead they are.
func TestNoFailoverReplicaNotRanked(t *testing.T) {
	ms := append(members(), Member{ID: tid(7), Addr: "127.0.0.1:7006", Master: tid(1), ConfigEpoch: 7})
	n := New(testCfg(), tid(4), ms, n0rand())
	n.byID[tid(7)].replOffset = 100
	n.byID[tid(7)].flags |= FlagNoFailover
	if r := n.slaveRank(); r != 0 {
		t.Fatalf("rank %d, want 0", r)
	}
}

// TestVoteLostWithoutLink: clusterSendFailoverAuthIfNeeded records the
// vote (lastVoteEpoch, voted_time) before queueing the ACK on its outbound
// link; with no link the vote is spent and never arrives.
func TestVoteLostWithoutLink(t *testing.T) {
	for _, withLink := range []bool{true, false} {
		m2, r := voteSetup(t, testCfg())
		if withLink {
			linkTo(m2, m2.byID[tid(4)], 0)
		}
		h := requestFrom(r)
		o := m2.at(60*time.Second, func() {
			m2.mergeHeaderEpochs(m2.byID[tid(4)], h)
			m2.sendFailoverAuthIfNeeded(m2.byID[tid(4)], h)
		})
		acks := 0
		for _, e := range o.Msgs {
			if e.Msg.Type == MsgAuthAck {
				acks++
			}
		}
		if m2.lastVoteEpoch != 7 || acks != map[bool]int{true: 1, false: 0}[withLink] {
			t.Fatalf("link=%v: lastVoteEpoch %d, %d acks", withLink, m2.lastVoteEpoch, acks)
		}
	}
}

// TestAuthAckCounting: the FAILOVER_AUTH_ACK handler counts a vote only
// from a master owning slots in my view, with a header currentEpoch at
// least my failover_auth_epoch.
func TestAuthAckCounting(t *testing.T) {
	cases := []struct {
		name    string
		sender  ID
		epoch   uint64
		slotted bool
		counted bool
	}{
		{"master_with_slots", tid(2), 7, true, true},
		{"old_epoch", tid(2), 6, true, false},
		{"slotless_master", tid(2), 7, false, false},
		{"replica", tid(5), 7, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := candidate(t, testCfg(), time.Second)
			n.failoverAuthEpoch, n.failoverAuthTime, n.failoverAuthSent = 7, time.Second, true
			s := n.byID[c.sender]
			n.at(time.Second, func() {
				if !c.slotted {
					n.delNodeSlots(s)
				}
				n.processAuthAck(s, &Header{Sender: c.sender, CurrentEpoch: c.epoch})
			})
			if got := n.failoverAuthCount == 1; got != c.counted {
				t.Fatalf("counted=%v, want %v", got, c.counted)
			}
		})
	}
}

// TestPromotionTakesSlots: clusterFailoverReplaceYourMaster makes me a
// master owning every slot of my old master, updates the state at once,
// saves and PONGs every node with a link.
func TestPromotionTakesSlots(t *testing.T) {
	n := candidate(t, testCfg(), time.Second)
	linkTo(n, n.byID[tid(2)], time.Second)
	n.myself.configEpoch = 7
	o := n.at(3*time.Second, func() { n.failoverReplaceYourMaster() })
	if n.Master() != "" || n.myself.numSlots != NumSlots/3 || n.byID[tid(1)].numSlots != 0 {
		t.Fatalf("slots %d", n.myself.numSlots)
	}
	if !o.Save || len(o.Msgs) != 1 || o.Msgs[0].Msg.Type != MsgPong || !hasEvent(o, trace.Promoted, "") {
		t.Fatalf("save %v msgs %+v", o.Save, o.Msgs)
	}
}

func n0rand() *rand.PCG { return rand.NewPCG(3, 4) }
