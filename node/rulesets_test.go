package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// Table tests of the rule sets: one test per switch of Config.Rules, each
// named for the upstream function it mirrors, run under every rule set
// with the outcome each one must give. A switch is on from the version
// that introduced it, so the wanted outcomes read as a version line.

// ruleCfg is testCfg under the named rule set.
func ruleCfg(t *testing.T, name string) Config {
	t.Helper()
	c := testCfg()
	r, ok := RulesFor(name)
	if !ok {
		t.Fatalf("no rule set %q", name)
	}
	c.Rules = r
	return c
}

// since returns, for every rule set, whether it is at or after first.
func since(first string) map[string]bool {
	on := map[string]bool{}
	seen := false
	for _, r := range RuleSets {
		seen = seen || r == first
		on[r] = seen
	}
	return on
}

// forRuleSets runs f under every rule set, in version order, with the
// switch's expected state.
func forRuleSets(t *testing.T, first string, f func(t *testing.T, cfg Config, on bool)) {
	for _, r := range RuleSets {
		t.Run(r, func(t *testing.T) { f(t, ruleCfg(t, r), since(first)[r]) })
	}
}

func TestRulesForUnknown(t *testing.T) {
	if _, ok := RulesFor("redis-6.2"); ok {
		t.Fatal("RulesFor accepted an unknown rule set")
	}
	if r, _ := RulesFor(Redis70); r != (Rules{Name: Redis70}) || DefaultConfig().Rules != r {
		t.Fatalf("redis-7.0 must have every switch off and be the default: %+v", r)
	}
}

// TestClusterCronOneShardMarksFail (clusterCron, redis#12824): in a
// one-shard cluster the primary marks its timed-out replica FAIL by itself
// from Redis 7.4 on; Redis 7.0 leaves it PFAIL forever (no other primary
// can report it).
func TestClusterCronOneShardMarksFail(t *testing.T) {
	forRuleSets(t, Redis74, func(t *testing.T, cfg Config, on bool) {
		ms := []Member{
			{ID: tid(1), Addr: "10.0.0.1:6379", Slots: []SlotRange{{Start: 0, End: NumSlots - 1}}, ConfigEpoch: 1},
			{ID: tid(4), Addr: "10.0.0.4:6379", Master: tid(1)},
		}
		cfg.Addr = ms[0].Addr
		n := New(cfg, tid(1), ms, rand.NewPCG(1, 2))
		const at = 100 * time.Second
		n.at(at-time.Second, func() {}) // clusterUpdateState: size 1
		r := n.byID[tid(4)]
		r.pingSent, r.dataReceived, r.pongReceived = at-testT-1, at-testT-1, at-testT-1
		n.at(at, func() { n.cronCheckNodes() })
		if r.is(FlagFail) != on {
			t.Fatalf("replica FAIL=%v, want %v (flags %v)", r.is(FlagFail), on, flagNames(r.flags))
		}
	})
}

// TestDemotionPongMovesSlots (clusterProcessPacket, clusterMoveNodeSlots,
// redis#13055): a PONG from a failed-over master naming its old replica as
// its master moves the slots to that replica from Redis 7.4 on; Redis 7.0
// only drops them.
func TestDemotionPongMovesSlots(t *testing.T) {
	forRuleSets(t, Redis74, func(t *testing.T, cfg Config, on bool) {
		n := mk(t, cfg, tid(2))
		old, r := n.byID[tid(1)], n.byID[tid(4)]
		conn := linkTo(n, old, time.Second)
		m := n.pongOf(old)
		m.Header.SlaveOf, m.Header.Flags = r.id, FlagSlave
		m.Header.ConfigEpoch = old.configEpoch + 5
		n.at(2*time.Second, func() { n.processPacket(conn, m) })
		if got := n.slots.owner(0) == r && r.is(FlagMaster) && r.configEpoch == m.Header.ConfigEpoch; got != on {
			t.Fatalf("slot 0 moved to the new master: %v, want %v", got, on)
		}
		if !on && n.slots.owner(0) != nil {
			t.Fatalf("redis-7.0 must leave slot 0 unassigned, owner %v", n.slots.owner(0).id)
		}
	})
}

// TestMarkFailingVotingPrimariesOnly (markNodeAsFailingIfNeeded,
// clusterNodeIsVotingPrimary, valkey#634): a master without slots counts
// itself toward FAIL in Redis, not in Valkey; its gossip reports count in
// Redis only.
func TestMarkFailingVotingPrimariesOnly(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		n := mk(t, cfg, tid(2))
		n.at(0, func() { n.delNodeSlots(n.myself); n.updateState() })
		n.at(3*time.Second, func() { n.updateState() }) // size 2: quorum 2
		if n.size != 2 {
			t.Fatalf("size %d, want 2", n.size)
		}
		p := n.byID[tid(1)]
		p.flags |= FlagPFail
		n.at(4*time.Second, func() {
			n.processGossip(n.byID[tid(3)], gossipMsg(Gossip{ID: tid(1), Addr: p.addr, Flags: FlagMaster | FlagPFail}))
		})
		if p.is(FlagFail) == on {
			t.Fatalf("FAIL=%v with a report from m3 and a slot-less me; want %v", p.is(FlagFail), !on)
		}
		if got := n.reporter(n.myself); got == on {
			t.Fatalf("slot-less master reporter=%v", got)
		}
	})
}

// TestReplicaRankTieByNodeID (clusterGetReplicaRank, valkey#762): equal
// offsets rank by node ID in Valkey; Redis gives both rank 0.
func TestReplicaRankTieByNodeID(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		n := candidate(t, cfg, 10*time.Second)
		sib := n.addPeer(tid(0), "10.0.0.9:6379")
		n.attachReplica(sib, n.byID[tid(1)])
		sib.flags |= FlagSlave
		sib.replOffset = n.replOffsetForHeader()
		want := 0
		if on {
			want = 1 // tid(0) < tid(4)
		}
		if got := n.slaveRank(); got != want {
			t.Fatalf("rank %d, want %d", got, want)
		}
	})
}

// TestReRankMovesElectionEarlier (clusterHandleReplicaFailover's re-rank,
// valkey#762): a better rank moves a scheduled election earlier in Valkey;
// Redis only ever adds delay.
func TestReRankMovesElectionEarlier(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		const now = 10 * time.Second
		n := candidate(t, cfg, now)
		n.at(now, func() { n.scheduleElection() })
		n.failoverAuthRank, n.failoverAuthTime = 2, n.failoverAuthTime+2*time.Second
		before := n.failoverAuthTime
		n.at(now+10*time.Millisecond, func() { n.reRank() })
		if moved := n.failoverAuthTime < before; moved != on {
			t.Fatalf("election moved earlier=%v, want %v", moved, on)
		}
	})
}

// TestSetPrimaryResetsElection (clusterSetPrimary, valkey#782): following
// a new primary forgets failover_auth_time in Valkey.
func TestSetPrimaryResetsElection(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		const now = 10 * time.Second
		n := candidate(t, cfg, now)
		n.at(now, func() { n.scheduleElection() })
		n.at(now+time.Second, func() { n.setMaster(n.byID[tid(2)]) })
		if reset := n.failoverAuthTime == never; reset != on {
			t.Fatalf("failover_auth_time reset=%v, want %v", reset, on)
		}
	})
}

// TestFullSyncRanksWithZeroOffset (clusterSetPrimary's full_sync_required,
// replicationGetReplicaOffset, valkey#885): a replica moved to another
// shard's primary announces offset 0 until its full sync is done.
func TestFullSyncRanksWithZeroOffset(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		n := candidate(t, cfg, 10*time.Second)
		n.repl.offset = 1000
		n.at(11*time.Second, func() { n.setMaster(n.byID[tid(2)]) })
		want := int64(1000)
		if on {
			want = 0
		}
		if got := n.replOffsetForHeader(); got != want {
			t.Fatalf("offset while syncing %d, want %d", got, want)
		}
		n.repl.state = replConnected
		if got := n.replOffsetForHeader(); got != 1000 {
			t.Fatalf("offset after sync %d, want 1000", got)
		}
	})
}

// TestReplicaOfSlotlessPrimaryElects (clusterHandleReplicaFailover's
// preconditions, valkey#445): a replica of a FAIL primary without slots
// schedules an election in Valkey; Redis requires the primary to serve
// slots.
func TestReplicaOfSlotlessPrimaryElects(t *testing.T) {
	forRuleSets(t, Valkey80, func(t *testing.T, cfg Config, on bool) {
		const now = 100 * time.Second
		n := candidate(t, cfg, now)
		n.at(now, func() {
			n.delNodeSlots(n.byID[tid(1)])
			n.handleSlaveFailover()
		})
		if got := n.failoverAuthTime != never; got != on {
			t.Fatalf("scheduled=%v, want %v", got, on)
		}
	})
}

// TestFailedPrimaryRank (clusterGetFailedPrimaryRank, valkey#1018): with
// two primaries FAIL, the replica of the later shard waits 500 ms more.
func TestFailedPrimaryRank(t *testing.T) {
	forRuleSets(t, Valkey81, func(t *testing.T, cfg Config, on bool) {
		const now = 100 * time.Second
		n := mk(t, cfg, tid(5)) // replica of tid(2)
		n.repl.state, n.repl.lastInteraction, n.repl.offset = replConnected, now, 100
		for _, id := range []ID{tid(1), tid(2)} {
			n.byID[id].flags |= FlagFail
			n.byID[id].failTime = now - time.Second
		}
		n.at(now, func() { n.scheduleElection() })
		want := 0
		if on {
			want = 1
		}
		if n.getFailedPrimaryRank() != 1 || n.failedPrimaryRank != want {
			t.Fatalf("failed primary rank %d, want %d", n.failedPrimaryRank, want)
		}
		fixed, _, perPrimary := n.electionDelays()
		delay := n.failoverAuthTime - now
		lo := fixed + time.Duration(want)*perPrimary
		if delay < lo || delay >= lo+fixed {
			t.Fatalf("delay %v, want in [%v, %v)", delay, lo, lo+fixed)
		}
	})
}

// TestEpochClaimResetsElection (clusterProcessPacket, valkey#1009 and
// #1339): a master claiming a config epoch ≥ my running election's makes
// me retry at once in Valkey 8.1; Redis waits for auth_retry_time.
func TestEpochClaimResetsElection(t *testing.T) {
	forRuleSets(t, Valkey81, func(t *testing.T, cfg Config, on bool) {
		const now = 10 * time.Second
		n := candidate(t, cfg, now)
		n.at(now, func() { n.scheduleElection() })
		at := n.failoverAuthTime
		n.at(at, func() { n.handleSlaveFailover() }) // request sent
		if !n.failoverAuthSent {
			t.Fatal("no request sent")
		}
		m3 := n.byID[tid(3)]
		conn := linkTo(n, m3, at)
		pong := n.pongOf(m3)
		pong.Header.ConfigEpoch = n.failoverAuthEpoch
		o := n.at(at+10*time.Millisecond, func() { n.processPacket(conn, pong) })
		if reset := hasEvent(o, trace.ElectionExpire, "epoch_claimed"); reset != on {
			t.Fatalf("election reset=%v, want %v", reset, on)
		}
		if rescheduled := hasEvent(o, trace.ElectionSched, ""); rescheduled != on {
			t.Fatalf("rescheduled at once=%v, want %v", rescheduled, on)
		}
	})
}

// TestVoteGatePerFailedPrimary (clusterSendFailoverAuthIfNeeded,
// valkey#1305 and #1356): Redis refuses a second vote for replicas of the
// same failed primary within 2T; Valkey 8.1 grants it in a new epoch.
func TestVoteGatePerFailedPrimary(t *testing.T) {
	forRuleSets(t, Valkey81, func(t *testing.T, cfg Config, on bool) {
		n := mk(t, cfg, tid(2))
		m1 := n.byID[tid(1)]
		m1.flags |= FlagFail
		m1.votedTime = 10 * time.Second
		n.currentEpoch, n.lastVoteEpoch = 8, 7
		req := n.byID[tid(4)]
		h := n.pongOf(req).Header
		h.CurrentEpoch = 8
		o := n.at(11*time.Second, func() { n.sendFailoverAuthIfNeeded(req, &h) })
		if granted := hasEvent(o, trace.VoteGranted, ""); granted != on {
			t.Fatalf("granted=%v, want %v", granted, on)
		}
	})
}

// TestForcedFailoverStartsAtOnce (clusterCommandSpecial's FORCE branch,
// valkey#1067): Valkey 8.1 schedules the election (delay 0) in the
// command's beforeSleep; Redis waits for the next clusterCron.
func TestForcedFailoverStartsAtOnce(t *testing.T) {
	forRuleSets(t, Valkey81, func(t *testing.T, cfg Config, on bool) {
		n := candidate(t, cfg, 10*time.Second)
		o := n.at(10*time.Second, func() { n.clusterFailoverCommand("FORCE") })
		if started := hasEvent(o, trace.ElectionSched, "delay=0ms rank=0"); started != on {
			t.Fatalf("election scheduled in the command=%v, want %v", started, on)
		}
	})
}

// TestManualFailoverTimeout (cluster-manual-failover-timeout, valkey#1690):
// the manual failover's deadline and the primary's pause follow the
// setting.
func TestManualFailoverTimeout(t *testing.T) {
	cfg := ruleCfg(t, Valkey81)
	cfg.ManualFailoverTimeout = 12 * time.Second
	n := candidate(t, cfg, 10*time.Second)
	n.byID[tid(1)].flags &^= FlagFail
	n.byID[tid(1)].link = &link{connected: true}
	n.at(10*time.Second, func() { n.clusterFailoverCommand("") })
	if n.mfEnd != 22*time.Second {
		t.Fatalf("mf_end %v, want 22s", n.mfEnd)
	}
}

// TestRelativeElectionDelay (clusterHandleReplicaFailover, valkey#2449):
// Valkey 9.0's fixed delay is min(500 ms, T/30) (T = 5 s: 166 ms), the
// random part below it, plus 500 ms at offset 0.
func TestRelativeElectionDelay(t *testing.T) {
	forRuleSets(t, Valkey90, func(t *testing.T, cfg Config, on bool) {
		for _, offset := range []int64{0, 100} {
			n := candidate(t, cfg, 10*time.Second)
			n.repl.offset = offset
			n.at(10*time.Second, func() { n.scheduleElection() })
			lo, width := electionFixedDelay, electionFixedDelay
			if on {
				lo, width = 166*time.Millisecond, 166*time.Millisecond
				if offset == 0 {
					lo += zeroOffsetDelay
				}
			}
			if d := n.failoverAuthTime - 10*time.Second; d < lo || d >= lo+width {
				t.Fatalf("offset %d: delay %v, want in [%v, %v)", offset, d, lo, lo+width)
			}
		}
	})
}

// TestBestRankedReplicaSkipsDelay (myselfIsBestRankedReplica,
// clusterAllReplicasThinkPrimaryIsFail, valkey#2227 and #2209): the only
// replica of a primary it learns FAIL handles it in the same call and
// starts the election with no delay in Valkey 9.0.
func TestBestRankedReplicaSkipsDelay(t *testing.T) {
	forRuleSets(t, Valkey90, func(t *testing.T, cfg Config, on bool) {
		const now = 100 * time.Second
		n := mk(t, cfg, tid(4))
		n.repl.state, n.repl.lastInteraction, n.repl.offset = replConnected, now, 100
		o := n.at(now, func() { n.processFail(n.byID[tid(3)], tid(1)) })
		if handled := hasEvent(o, trace.ElectionSched, ""); handled != on {
			t.Fatalf("election scheduled in the FAIL handler=%v, want %v", handled, on)
		}
		if on && (n.failoverAuthTime != now || !n.myself.is(FlagMyPrimaryFail)) {
			t.Fatalf("best-ranked replica waits %v, MY_PRIMARY_FAIL=%v",
				n.failoverAuthTime-now, n.myself.is(FlagMyPrimaryFail))
		}
	})
}

// TestReconnectBudget (clusterNodeCronHandleReconnect, valkey#2154):
// Redis dials every node without a link every cron; Valkey 9.0 dials a
// node it dialled less than T/2 ago only within its per-cron budget.
func TestReconnectBudget(t *testing.T) {
	forRuleSets(t, Valkey90, func(t *testing.T, cfg Config, on bool) {
		const now = 100 * time.Second
		n := mk(t, cfg, tid(1))
		for _, p := range n.nodes {
			if p != n.myself {
				p.link, p.reconnectTime, p.dataReceived = nil, now-time.Second, now-testT
			}
		}
		o := n.at(now, func() { n.cronReconnect() })
		want := len(n.nodes) - 1
		if on {
			want = 1 // ceil(6 × 100 ms / 2.5 s)
		}
		if len(o.Dials) != want {
			t.Fatalf("%d dials, want %d", len(o.Dials), want)
		}
	})
}
