// Manual failover: CLUSTER FAILOVER [FORCE|TAKEOVER] and its protocol
// (clusterCommand's FAILOVER branch, clusterSendMFStart, the MFSTART handler,
// resetManualFailover, manualFailoverCheckTimeout, clusterHandleManualFailover).

package node

import (
	"strings"
	"time"
)

// Manual failover timings.
const (
	mfTimeout   = 5000 * time.Millisecond // CLUSTER_MF_TIMEOUT
	mfPauseMult = 2                       // CLUSTER_MF_PAUSE_MULT
)

// ManualRules are the rule switches of manual failover.
type ManualRules struct {
	// ForceStartsAtOnce: CLUSTER FAILOVER FORCE handles the failover in
	// this beforeSleep rather than the next cron, up to 100 ms sooner
	// (CLUSTER_TODO_HANDLE_MANUALFAILOVER in clusterCommandSpecial,
	// valkey#1067, Valkey 8.1).
	ForceStartsAtOnce bool
}

// clusterFailoverCommand is CLUSTER FAILOVER [FORCE|TAKEOVER]; clusterCommand
// reads the option with strcasecmp, so any letter case is accepted.
func (n *Node) clusterFailoverCommand(mode string) Reply {
	force, takeover := strings.EqualFold(mode, "FORCE"), strings.EqualFold(mode, "TAKEOVER")
	if mode != "" && !force && !takeover {
		return errReply(ReplyError, "ERR syntax error")
	}
	me := n.myself
	if me.is(FlagMaster) {
		return errReply(ReplyError, "ERR You should send CLUSTER FAILOVER to a replica")
	}
	if me.master == nil {
		return errReply(ReplyError, "ERR I'm a replica but my master is unknown to me")
	}
	if !force && !takeover && (me.master.is(FlagFail) || me.master.link == nil) {
		return errReply(ReplyError, "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE")
	}
	n.resetManualFailover()
	n.mfEnd = n.now + n.cfg.ManualFailoverTimeout
	switch {
	case takeover:
		n.bumpConfigEpochWithoutConsensus("takeover")
		n.failoverReplaceYourMaster()
	case force:
		n.mfCanStart = true
		if n.cfg.Rules.ForceStartsAtOnce {
			n.doBeforeSleep(todoHandleManualFailover)
		}
	default:
		n.sendTo(me.master, &Message{Type: MsgMFStart, Header: n.header(MsgMFStart)})
	}
	return Reply{Kind: ReplyOK, Value: "OK"}
}

// processMFStart is the MFSTART handler on the master: pause writes and
// ping the replica every tick until the failover ends.
func (n *Node) processMFStart(conn ConnID, sender *peer) {
	if sender.master != n.myself || !n.myself.is(FlagMaster) {
		return
	}
	n.resetManualFailover()
	n.mfEnd = n.now + n.cfg.ManualFailoverTimeout
	n.mfReplica = sender
	n.pausedUntil = n.now + n.cfg.ManualFailoverTimeout*mfPauseMult
	// The PING goes back on the connection MFSTART came in on and does
	// not set ping_sent.
	n.out.Msgs = append(n.out.Msgs, Envelope{Conn: conn, Msg: n.buildPing(sender, MsgPing)})
}

// resetManualFailover is resetManualFailover (unpausing on a master).
func (n *Node) resetManualFailover() {
	if n.mfReplica != nil {
		n.pausedUntil = 0
	}
	n.mfEnd = 0
	n.mfCanStart = false
	n.mfReplica = nil
	n.mfMasterOffset = -1
}

// manualFailoverCheckTimeout aborts a manual failover past its deadline.
func (n *Node) manualFailoverCheckTimeout() {
	if n.mfEnd != 0 && n.mfEnd < n.now {
		n.resetManualFailover()
	}
}

// handleManualFailover is clusterHandleManualFailover: the replica may
// start once it processed exactly the offset its paused master announced.
func (n *Node) handleManualFailover() {
	if n.mfEnd == 0 || n.mfCanStart || n.mfMasterOffset == -1 {
		return
	}
	if n.mfMasterOffset == n.replOffsetForHeader() {
		n.mfCanStart = true
		n.doBeforeSleep(todoHandleFailover)
	}
}
