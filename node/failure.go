// Failure detection beyond PFAIL: failure reports, escalation to FAIL, FAIL
// messages and clearing FAIL (clusterNodeAddFailureReport,
// clusterNodeCleanupFailureReports, markNodeAsFailingIfNeeded,
// clusterSendFail, clearNodeFailureIfNeeded).

package node

import (
	"cmp"
	"slices"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

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

// The failure reports about a node are kept sorted by reporter, so that
// adding or refreshing one is a binary search where Redis walks the list:
// after a mass failure every live master reports every failed one, and each
// gossip entry about a failed node adds or refreshes a report. Only their
// number is ever read, so their order is free.

// findReport is the index of reporter's report about p, or where it would go.
func findReport(p *peer, reporter uint32) (int, bool) {
	return slices.BinarySearchFunc(p.failReports, reporter, func(r failReport, ref uint32) int {
		return cmp.Compare(r.reporter, ref)
	})
}

// addFailureReport is clusterNodeAddFailureReport: add or refresh the
// report of reporter about p.
func (n *Node) addFailureReport(p, reporter *peer) {
	now := n.nowMs()
	i, ok := findReport(p, reporter.ref)
	if ok {
		p.failReports[i].ms = now
		return
	}
	if len(p.failReports) == 0 {
		p.oldestReport = now // else the oldest stays the oldest: now is the newest
	}
	p.failReports = slices.Insert(p.failReports, i, failReport{now, reporter.ref})
	p.reported = true
}

// nowMs is mstime() modulo 2³², the clock of failure reports (see
// failReport).
func (n *Node) nowMs() uint32 { return uint32(n.now / time.Millisecond) }

// cleanupFailureReports is clusterNodeCleanupFailureReports: drop reports
// older than 2T (CLUSTER_FAIL_REPORT_VALIDITY_MULT). It runs on every count,
// as in Redis; the walk is skipped while even the oldest report is valid.
func (n *Node) cleanupFailureReports(p *peer) {
	if !p.reported {
		return
	}
	maxAge := int64(n.cfg.NodeTimeout * 2 / time.Millisecond)
	now := n.nowMs()
	if int64(now-p.oldestReport) <= maxAge {
		return
	}
	kept := p.failReports[:0]
	var oldest uint32 // the largest age kept
	for _, r := range p.failReports {
		if age := now - r.ms; int64(age) <= maxAge {
			if len(kept) == 0 || age > oldest {
				oldest, p.oldestReport = age, r.ms
			}
			kept = append(kept, r)
		}
	}
	p.failReports = kept
	p.reported = len(kept) > 0
}

// delFailureReport is clusterNodeDelFailureReport.
func (n *Node) delFailureReport(p, reporter *peer) {
	if !p.reported {
		return // the common case, kept off p's struct
	}
	n.cleanupFailureReports(p)
	if i, ok := findReport(p, reporter.ref); ok {
		p.failReports = slices.Delete(p.failReports, i, i+1)
		p.reported = len(p.failReports) > 0
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
