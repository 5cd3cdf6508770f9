// Failure detection beyond PFAIL: failure reports, escalation to FAIL, FAIL
// messages and clearing FAIL (clusterNodeAddFailureReport,
// clusterNodeCleanupFailureReports, markNodeAsFailingIfNeeded,
// clusterSendFail, clearNodeFailureIfNeeded).

package node

import "github.com/rcsim/rcsim/node/trace"

// FailureRules are the rule switches of failure detection.
type FailureRules struct {
	// VotingPrimaries: only a master that serves slots is a failure
	// reporter, and counts itself toward FAIL (clusterNodeIsVotingPrimary in
	// markNodeAsFailingIfNeeded and clusterProcessGossipSection,
	// valkey#634, Valkey 8.0). Redis 7.0 counts every master, so slot-less
	// masters can make a node FAIL with a minority of the slot owners.
	VotingPrimaries bool
}

// reporter is whether p's failure reports count (and, for myself, whether
// I count toward FAIL): any master in Redis, a master with slots
// (clusterNodeIsVotingPrimary) under VotingPrimaries.
func (n *Node) reporter(p *peer) bool {
	if n.cfg.Rules.VotingPrimaries {
		return p.is(FlagMaster) && p.numSlots > 0
	}
	return p.is(FlagMaster)
}

// addFailureReport is clusterNodeAddFailureReport: add or refresh the
// report of reporter about p.
func (n *Node) addFailureReport(p, reporter *peer) {
	for i := range p.failReports {
		if p.failReports[i].reporter == reporter.id {
			p.failReports[i].time = n.now
			return
		}
	}
	p.failReports = append(p.failReports, failReport{reporter.id, n.now})
	p.reported = true
}

// cleanupFailureReports is clusterNodeCleanupFailureReports: drop reports
// older than 2T (CLUSTER_FAIL_REPORT_VALIDITY_MULT).
func (n *Node) cleanupFailureReports(p *peer) {
	if !p.reported {
		return
	}
	maxAge := n.cfg.NodeTimeout * 2
	kept := p.failReports[:0]
	for _, r := range p.failReports {
		if n.now-r.time <= maxAge {
			kept = append(kept, r)
		}
	}
	p.failReports = kept
	p.reported = len(kept) > 0
}

// delFailureReport is clusterNodeDelFailureReport.
func (n *Node) delFailureReport(p, reporter *peer) {
	if !p.reported {
		return // the common case, kept off the second cache line of p
	}
	n.cleanupFailureReports(p)
	for i, r := range p.failReports {
		if r.reporter == reporter.id {
			p.failReports = append(p.failReports[:i], p.failReports[i+1:]...)
			p.reported = len(p.failReports) > 0
			return
		}
	}
}

// failureReportsCount is clusterNodeFailureReportsCount.
func (n *Node) failureReportsCount(p *peer) int {
	if !p.reported {
		return 0
	}
	n.cleanupFailureReports(p)
	return len(p.failReports)
}

// markNodeAsFailingIfNeeded escalates PFAIL to FAIL on a majority of
// reports (I count myself if I am a master) and broadcasts FAIL.
func (n *Node) markNodeAsFailingIfNeeded(p *peer) {
	if !p.is(FlagPFail) || p.is(FlagFail) {
		return
	}
	failures := n.failureReportsCount(p)
	if n.reporter(n.myself) {
		failures++
	}
	if failures < n.quorum() {
		return
	}
	p.flags &^= FlagPFail
	p.flags |= FlagFail
	p.failTime = n.now
	n.emit(trace.Fail, p, 0, "quorum")
	n.broadcast(&Message{Type: MsgFail, Header: n.header(MsgFail), About: p.id})
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	n.myPrimaryFailed(p)
}

// processFail handles a FAIL message: the node is failed, no questions.
func (n *Node) processFail(sender *peer, about ID) {
	p := n.byID[about]
	if p == nil || p.is(FlagFail|FlagMyself) {
		return
	}
	p.flags |= FlagFail
	p.failTime = n.now
	p.flags &^= FlagPFail
	n.emit(trace.Fail, p, 0, "message")
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	n.myPrimaryFailed(p)
}

// clearNodeFailureIfNeeded clears FAIL on a PONG: at once for replicas and
// slot-less masters, after 2T (CLUSTER_FAIL_UNDO_TIME_MULT) for masters that
// still own slots.
func (n *Node) clearNodeFailureIfNeeded(p *peer) {
	if p.is(FlagSlave) || p.numSlots == 0 ||
		n.now-p.failTime > n.cfg.NodeTimeout*2 {
		p.flags &^= FlagFail
		n.emit(trace.FailCleared, p, 0, "")
		n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	}
}
