// Replica elections and master votes: clusterHandleSlaveFailover,
// clusterGetSlaveRank, clusterRequestFailoverAuth,
// clusterSendFailoverAuthIfNeeded, the FAILOVER_AUTH_ACK handler and
// clusterFailoverReplaceYourMaster.

package node

import (
	"fmt"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// ElectionRules are the rule switches of replica elections and votes.
type ElectionRules struct {
	// RankByNodeID: replicas with equal offsets rank by node ID (the
	// smaller ID first), and a changed rank moves the election both ways,
	// not only later (clusterGetReplicaRank and the re-rank step of
	// clusterHandleReplicaFailover, valkey#762, Valkey 8.0).
	RankByNodeID bool
	// FullSyncRanksZero: a replica that must full-sync from a new primary in
	// another shard ranks and gossips with offset 0 until the sync is done
	// (clusterSetPrimary's full_sync_required clears cached_primary,
	// valkey#885, Valkey 8.0), instead of its old offset.
	FullSyncRanksZero bool
	// ReplicaOfEmptyPrimaryFailsOver: a replica of a primary without slots
	// may run an election (the numslots precondition of
	// clusterHandleReplicaFailover was dropped, valkey#445, Valkey 8.0).
	ReplicaOfEmptyPrimaryFailsOver bool
	// FailedPrimaryRank: when several primaries are FAIL, a replica adds
	// 500 ms × its primary's rank among them, by shard ID, so shards elect
	// one after another (clusterGetFailedPrimaryRank, valkey#1018, Valkey
	// 8.1). rcsim's shard ID is the failed primary's node ID.
	FailedPrimaryRank bool
	// NoVoteGatePerPrimary: a primary may vote again for replicas of the
	// same failed primary within 2 × node-timeout (the voted_time check of
	// clusterSendFailoverAuthIfNeeded removed: valkey#1305 for manual,
	// valkey#1356 for automatic failovers, Valkey 8.1).
	NoVoteGatePerPrimary bool
	// RelativeElectionDelay: the fixed election delay is
	// min(500 ms, node-timeout/30), the random part below it, each rank adds
	// twice it and each failed-primary rank once; a replica with offset 0
	// waits 500 ms more (clusterHandleReplicaFailover, valkey#2449, Valkey
	// 9.0).
	RelativeElectionDelay bool
	// BestRankedSkipsDelay: a replica handles its primary's FAIL at once
	// (valkey#2209) and, when it is the best-ranked replica of the first
	// failed primary and every sibling replica flags the primary failed
	// (CLUSTER_NODE_MY_PRIMARY_FAIL in its header), starts the election
	// with no delay (myselfIsBestRankedReplica, valkey#2227, Valkey 9.0).
	BestRankedSkipsDelay bool
}

// Election delays of Redis 7.0 (clusterHandleSlaveFailover).
const (
	electionFixedDelay = 500 * time.Millisecond  // fixed 500 ms: let FAIL propagate
	electionRankDelay  = 1000 * time.Millisecond // per replica rank
	failedPrimaryDelay = 500 * time.Millisecond  // per failed-primary rank (valkey#1018)
	zeroOffsetDelay    = 500 * time.Millisecond  // offset 0 (valkey#2449)
)

// electionDelays returns the fixed delay (the random part is below it),
// the delay per replica rank and the delay per failed-primary rank.
func (n *Node) electionDelays() (fixed, perRank, perPrimary time.Duration) {
	if !n.cfg.Rules.RelativeElectionDelay {
		return electionFixedDelay, electionRankDelay, failedPrimaryDelay
	}
	fixed = min(electionFixedDelay, n.cfg.NodeTimeout/30)
	fixed = fixed.Truncate(time.Millisecond)
	return fixed, 2 * fixed, fixed
}

// authTimeouts returns auth_timeout = max(2T, 2000) and auth_retry_time.
func (n *Node) authTimeouts() (timeout, retry time.Duration) {
	timeout = max(n.cfg.NodeTimeout*2, 2000*time.Millisecond)
	return timeout, timeout * 2
}

// dataAge is clusterHandleSlaveFailover's data age, in whole seconds as
// Redis computes it, minus T when larger than T.
func (n *Node) dataAge() time.Duration {
	unix := n.now / time.Second
	var age time.Duration
	switch {
	case n.repl.state == replConnected:
		age = (unix - n.repl.lastInteraction/time.Second) * time.Second
	case n.repl.downSince == never:
		return 1 << 62 // never connected: infinitely old
	default:
		age = (unix - n.repl.downSince/time.Second) * time.Second
	}
	if age > n.cfg.NodeTimeout {
		age -= n.cfg.NodeTimeout
	}
	return age
}

// handleSlaveFailover is clusterHandleSlaveFailover (reference 6).
func (n *Node) handleSlaveFailover() {
	n.todo &^= todoHandleFailover
	me := n.myself
	authAge := n.now - n.failoverAuthTime
	manual := n.mfEnd != 0 && n.mfCanStart
	authTimeout, authRetry := n.authTimeouts()
	if me.is(FlagMaster) || me.master == nil || (!me.master.is(FlagFail) && !manual) ||
		(n.cfg.ReplicaNoFailover && !manual) ||
		(me.master.numSlots == 0 && !n.cfg.Rules.ReplicaOfEmptyPrimaryFailsOver) {
		return
	}
	limit := n.cfg.ReplPingReplicaPeriod + n.cfg.NodeTimeout*time.Duration(n.cfg.ReplicaValidityFactor)
	if n.cfg.ReplicaValidityFactor != 0 && n.dataAge() > limit && !manual {
		return // CLUSTER_CANT_FAILOVER_DATA_AGE
	}
	if authAge > authRetry {
		n.scheduleElection()
		return
	}
	if !n.failoverAuthSent && n.mfEnd == 0 {
		n.reRank()
	}
	if n.now < n.failoverAuthTime {
		return // WAITING_DELAY
	}
	if authAge > authTimeout {
		n.reportElectionExpired()
		return // EXPIRED
	}
	if !n.failoverAuthSent {
		n.setCurrentEpoch(n.currentEpoch+1, "election")
		n.failoverAuthEpoch = n.currentEpoch
		n.requestFailoverAuth()
		n.failoverAuthSent = true
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
		return
	}
	if n.failoverAuthCount >= n.quorum() {
		if me.configEpoch < n.failoverAuthEpoch {
			me.configEpoch = n.failoverAuthEpoch
			n.emit(trace.ConfigEpoch, nil, me.configEpoch, "election")
		}
		n.failoverReplaceYourMaster()
	}
}

// reportElectionExpired emits ElectionExpire once, as soon as a sent
// request's auth_timeout has passed. clusterCron calls it on every replica
// before clusterHandleSlaveFailover, whose early returns (master no longer
// FAIL, data too old) would otherwise delay the report to whenever the
// function next got this far. Redis only logs "Failover attempt expired";
// the report changes no state.
func (n *Node) reportElectionExpired() {
	if !n.failoverAuthSent || n.failoverExpired {
		return
	}
	if timeout, _ := n.authTimeouts(); n.now-n.failoverAuthTime > timeout {
		n.failoverExpired = true
		n.emit(trace.ElectionExpire, nil, n.failoverAuthEpoch, "")
	}
}

// scheduleElection is clusterHandleSlaveFailover's step 3: a new attempt
// at now + 500 + random()%500 + rank·1000 ms (now, rank 0, for a manual
// failover), announced to my sibling replicas with a PONG.
func (n *Node) scheduleElection() {
	fixed, perRank, perPrimary := n.electionDelays()
	n.failoverAuthTime = n.now + fixed
	if ms := int(fixed.Milliseconds()); ms > 0 {
		n.failoverAuthTime += time.Duration(n.rnd.IntN(ms)) * time.Millisecond
	}
	n.failoverAuthCount = 0
	n.failoverAuthSent = false
	n.failoverExpired = false
	n.failoverAuthRank = n.slaveRank()
	n.failoverAuthTime += time.Duration(n.failoverAuthRank) * perRank
	if n.cfg.Rules.FailedPrimaryRank {
		n.failedPrimaryRank = n.getFailedPrimaryRank()
		n.failoverAuthTime += time.Duration(n.failedPrimaryRank) * perPrimary
	}
	if n.cfg.Rules.RelativeElectionDelay && n.replOffsetForHeader() == 0 {
		n.failoverAuthTime += zeroOffsetDelay // a new replica may not know its siblings yet
	}
	if n.bestRankedReplica() {
		n.failoverAuthTime = n.now
	}
	if n.mfEnd != 0 {
		n.failoverAuthTime = n.now
		n.failoverAuthRank = 0
		n.doBeforeSleep(todoHandleFailover)
	}
	n.emit(trace.ElectionSched, nil, 0, fmt.Sprintf("delay=%dms rank=%d",
		(n.failoverAuthTime-n.now).Milliseconds(), n.failoverAuthRank))
	n.broadcastPong(true)
}

// reRank is clusterHandleSlaveFailover's step 4: a sibling's newer offset
// (or, under FailedPrimaryRank, another shard's recovery) changes my rank
// and moves the election; Redis 7.0 only ever moves it later.
func (n *Node) reRank() {
	_, perRank, perPrimary := n.electionDelays()
	changed := false
	if r := n.slaveRank(); r > n.failoverAuthRank || (r != n.failoverAuthRank && n.cfg.Rules.RankByNodeID) {
		n.failoverAuthTime += time.Duration(r-n.failoverAuthRank) * perRank
		n.failoverAuthRank = r
		changed = true
	}
	if n.cfg.Rules.FailedPrimaryRank {
		if r := n.getFailedPrimaryRank(); r != n.failedPrimaryRank {
			n.failoverAuthTime += time.Duration(r-n.failedPrimaryRank) * perPrimary
			n.failedPrimaryRank = r
			changed = true
		}
	}
	if n.now < n.failoverAuthTime && n.bestRankedReplica() {
		n.failoverAuthTime = n.now
		changed = true
	}
	if changed {
		n.emit(trace.ElectionSched, nil, 0, fmt.Sprintf("delay=%dms rank=%d",
			(n.failoverAuthTime-n.now).Milliseconds(), n.failoverAuthRank))
	}
}

// slaveRank is clusterGetSlaveRank: how many other failover-capable
// replicas of my master advertised a larger offset than mine (or, under
// RankByNodeID, the same offset and a smaller node ID).
func (n *Node) slaveRank() int {
	m := n.myself.master
	if m == nil {
		return 0
	}
	my := n.replOffsetForHeader()
	rank := 0
	for _, r := range m.replicas {
		if r == n.myself || r.is(FlagNoFailover) {
			continue
		}
		if r.replOffset > my || (n.cfg.Rules.RankByNodeID && r.replOffset == my && r.id < n.self) {
			rank++
		}
	}
	return rank
}

// getFailedPrimaryRank is clusterGetFailedPrimaryRank (valkey#1018): how
// many FAIL primaries that serve slots, have replicas and failed recently
// enough for a replica to take over sort before mine by shard ID (rcsim:
// the primary's node ID).
func (n *Node) getFailedPrimaryRank() int {
	mine := n.myself.master
	if mine == nil {
		return 0
	}
	rank := 0
	for _, p := range n.nodes {
		if !p.is(FlagFail) || !p.is(FlagMaster) || p.numSlots == 0 || len(p.replicas) == 0 {
			continue
		}
		if f := n.cfg.ReplicaValidityFactor; f != 0 && n.now-p.failTime > n.cfg.NodeTimeout*time.Duration(f) {
			continue
		}
		if p.id < mine.id {
			rank++
		}
	}
	return rank
}

// bestRankedReplica is myselfIsBestRankedReplica under
// BestRankedSkipsDelay (valkey#2227): rank 0, failed-primary rank 0, and
// every sibling replica flags my primary failed
// (clusterAllReplicasThinkPrimaryIsFail), so no delay can change the winner.
func (n *Node) bestRankedReplica() bool {
	me := n.myself
	if !n.cfg.Rules.BestRankedSkipsDelay || n.mfEnd != 0 || !me.is(FlagMyPrimaryFail) ||
		n.failoverAuthRank != 0 || n.failedPrimaryRank != 0 {
		return false
	}
	for _, r := range me.master.replicas {
		if r != me && !r.is(FlagMyPrimaryFail) {
			return false
		}
	}
	return true
}

// myPrimaryFailed is what a replica does on marking or learning its primary
// FAIL under BestRankedSkipsDelay: flag CLUSTER_NODE_MY_PRIMARY_FAIL on
// myself (siblings read it from my header) and handle the failover in this
// beforeSleep rather than the next cron (valkey#2209, #2227).
func (n *Node) myPrimaryFailed(p *peer) {
	if !n.cfg.Rules.BestRankedSkipsDelay || !n.myself.is(FlagSlave) || n.myself.master != p {
		return
	}
	n.myself.flags |= FlagMyPrimaryFail
	n.doBeforeSleep(todoHandleFailover)
}

// electionOffset is the offset a replica ranks and gossips with: 0 under
// FullSyncRanksZero while a full sync from a new shard's primary is
// pending (valkey#885), else its replication offset.
func (n *Node) electionOffset(offset int64) int64 {
	if n.repl.state == replLoading {
		return 0 // replicationGetSlaveOffset: no master client yet, the cached one discarded
	}
	if n.fullSyncPending {
		if n.repl.state != replConnected {
			return 0
		}
		n.fullSyncPending = false
	}
	return offset
}

// requestFailoverAuth is clusterRequestFailoverAuth.
func (n *Node) requestFailoverAuth() {
	h := n.header(MsgAuthRequest)
	if n.mfEnd != 0 {
		h.MFlags |= MFlagForceAck
	}
	n.emit(trace.ElectionStart, nil, n.currentEpoch, "")
	n.broadcast(&Message{Type: MsgAuthRequest, Header: h})
}

// sendFailoverAuthIfNeeded is clusterSendFailoverAuthIfNeeded: the master's
// vote (reference 7), rules in Redis's order.
func (n *Node) sendFailoverAuthIfNeeded(req *peer, h *Header) {
	me := n.myself
	if me.is(FlagSlave) || me.numSlots == 0 {
		if me.is(FlagMaster) {
			n.emit(trace.VoteRefused, req, n.currentEpoch, "not_master_with_slots")
		}
		return
	}
	refuse := func(why string) { n.emit(trace.VoteRefused, req, n.currentEpoch, why) }
	if h.CurrentEpoch < n.currentEpoch {
		refuse("old_request_epoch")
		return
	}
	if n.lastVoteEpoch == n.currentEpoch && !n.cfg.Bugs.GrantTwoVotesPerEpoch {
		refuse("already_voted_epoch")
		return
	}
	master := req.master
	if req.is(FlagMaster) || master == nil {
		refuse("not_replica")
		return
	}
	if !master.is(FlagFail) && h.MFlags&MFlagForceAck == 0 {
		refuse("master_not_fail")
		return
	}
	if n.now-master.votedTime < n.cfg.NodeTimeout*2 && !n.cfg.Rules.NoVoteGatePerPrimary {
		refuse("voted_recently")
		return
	}
	if h.MySlots != nil {
		for s := 0; s < NumSlots; s++ {
			if !h.MySlots.Has(s) || n.notClaiming.Has(s) {
				continue
			}
			if o := n.slots.owner(s); o != nil && o.configEpoch > h.ConfigEpoch {
				refuse("stale_slot_epoch")
				return
			}
		}
	}
	n.lastVoteEpoch = n.currentEpoch
	master.votedTime = n.now
	n.doBeforeSleep(todoSaveConfig)
	n.emit(trace.VoteGranted, req, n.currentEpoch, "")
	n.sendTo(req, &Message{Type: MsgAuthAck, Header: n.header(MsgAuthAck)})
}

// processAuthAck counts a vote: from a master with slots, for my epoch.
func (n *Node) processAuthAck(sender *peer, h *Header) {
	if !sender.is(FlagMaster) || sender.numSlots == 0 || h.CurrentEpoch < n.failoverAuthEpoch {
		n.emit(trace.Ignored, sender, h.CurrentEpoch, "ack_not_counted")
		return
	}
	n.failoverAuthCount++
	n.emit(trace.VoteReceived, sender, n.failoverAuthEpoch,
		fmt.Sprintf("%d/%d", n.failoverAuthCount, n.quorum()))
	n.doBeforeSleep(todoHandleFailover)
}

// failoverReplaceYourMaster is clusterFailoverReplaceYourMaster: take my
// master's slots, update state, save, tell everyone.
func (n *Node) failoverReplaceYourMaster() {
	me := n.myself
	old := me.master
	if me.is(FlagMaster) || old == nil {
		return
	}
	n.setNodeAsMaster(me)
	n.replicationUnsetMaster()
	// Every slot of old's: delSlot and addSlot of each, a word at a time
	// (old.slots holds exactly the slots old owns in my table).
	var taken SlotSet
	for wi := range taken {
		if m := old.slots[wi]; m != 0 {
			n.moveSlots(wi, m, me)
			taken[wi] = m
		}
	}
	n.emitSlots(trace.Promoted, old, me.configEpoch, taken.Ranges())
	n.emit(trace.Role, nil, 0, "master")
	me.flags &^= FlagMyPrimaryFail
	n.fullSyncPending = false
	n.updateState()
	n.doBeforeSleep(todoSaveConfig)
	n.broadcastPong(false)
	n.resetManualFailover()
}
