// Replica elections and master votes: clusterHandleSlaveFailover,
// clusterGetSlaveRank, clusterRequestFailoverAuth,
// clusterSendFailoverAuthIfNeeded, the FAILOVER_AUTH_ACK handler and
// clusterFailoverReplaceYourMaster.
package node

import (
	"fmt"
	"time"

	"rcsim/node/trace"
)

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
		(n.cfg.ReplicaNoFailover && !manual) || me.master.numSlots == 0 {
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
		if r := n.slaveRank(); r > n.failoverAuthRank {
			n.failoverAuthTime += time.Duration(r-n.failoverAuthRank) * time.Second
			n.failoverAuthRank = r
			n.emit(trace.ElectionSched, nil, 0, fmt.Sprintf("delay=%dms rank=%d",
				(n.failoverAuthTime-n.now).Milliseconds(), r))
		}
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
	n.failoverAuthTime = n.now + 500*time.Millisecond +
		time.Duration(n.rnd.IntN(500))*time.Millisecond
	n.failoverAuthCount = 0
	n.failoverAuthSent = false
	n.failoverExpired = false
	n.failoverAuthRank = n.slaveRank()
	n.failoverAuthTime += time.Duration(n.failoverAuthRank) * time.Second
	if n.mfEnd != 0 {
		n.failoverAuthTime = n.now
		n.failoverAuthRank = 0
		n.doBeforeSleep(todoHandleFailover)
	}
	n.emit(trace.ElectionSched, nil, 0, fmt.Sprintf("delay=%dms rank=%d",
		(n.failoverAuthTime-n.now).Milliseconds(), n.failoverAuthRank))
	n.broadcastPong(true)
}

// slaveRank is clusterGetSlaveRank: how many other failover-capable
// replicas of my master advertised a larger offset than mine.
func (n *Node) slaveRank() int {
	m := n.myself.master
	if m == nil {
		return 0
	}
	my := n.replOffsetForHeader()
	rank := 0
	for _, r := range m.replicas {
		if r != n.myself && !r.is(FlagNoFailover) && r.replOffset > my {
			rank++
		}
	}
	return rank
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
	if n.now-master.votedTime < n.cfg.NodeTimeout*2 {
		refuse("voted_recently")
		return
	}
	if h.MySlots != nil {
		for s := 0; s < NumSlots; s++ {
			if !h.MySlots.Has(s) || n.notClaiming.Has(s) {
				continue
			}
			if o := n.slots[s]; o != nil && o.configEpoch > h.ConfigEpoch {
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
	var taken SlotSet
	for s := 0; s < NumSlots; s++ {
		if n.slots[s] == old {
			n.delSlot(s)
			n.addSlot(me, s)
			taken.Add(s)
		}
	}
	n.emitSlots(trace.Promoted, old, me.configEpoch, taken.Ranges())
	n.emit(trace.Role, nil, 0, "master")
	n.updateState()
	n.doBeforeSleep(todoSaveConfig)
	n.broadcastPong(false)
	n.resetManualFailover()
}
