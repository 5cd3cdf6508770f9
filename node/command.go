// Client commands: processCommand with getNodeByQuery's redirection (MOVED,
// CLUSTERDOWN), clients paused by a manual failover, WAIT, CLUSTER SLOTS and
// CLUSTER FAILOVER.

package node

import (
	"fmt"
	"slices"
	"time"
)

// pendingCmd is a client command held while writes are paused.
type pendingCmd struct {
	client ClientID
	cmd    Cmd
}

// waiter is a client blocked in WAIT.
type waiter struct {
	client   ClientID
	seq      uint64
	offset   int64
	replicas int
	deadline time.Duration // 0: forever
}

func isWrite(op Op) bool {
	return op == OpSet || op == OpIncr || op == OpDel || op == OpRPush || op == OpMigrate
}

func (n *Node) reply(c ClientID, seq uint64, r Reply) {
	n.out.Replies = append(n.out.Replies, ClientReply{Client: c, Seq: seq, Reply: r})
}

func errReply(kind ReplyKind, msg string) Reply { return Reply{Kind: kind, Err: msg} }

// processCommand runs one command.
func (n *Node) processCommand(c ClientID, cmd Cmd) {
	switch cmd.Op {
	case OpGet, OpSet, OpIncr, OpDel, OpRPush, OpLRange:
		n.keyedCommand(c, cmd)
	case OpWait:
		n.waitCommand(c, cmd)
	case OpClusterSlots:
		n.reply(c, cmd.Seq, Reply{Kind: ReplyOK, Slots: n.clusterSlots()})
	case OpClusterFailover:
		n.reply(c, cmd.Seq, n.clusterFailoverCommand(cmd.Value))
	case OpCluster:
		n.reply(c, cmd.Seq, n.clusterCommand(cmd.Value))
	case OpMigrate:
		n.migrateCommand(c, cmd)
	default:
		n.reply(c, cmd.Seq, errReply(ReplyError, "ERR unknown command"))
	}
}

// redirect is getNodeByQuery for one key: nil when I serve it.
func (n *Node) redirect(cmd Cmd) *Reply {
	slot := KeySlot(cmd.Key)
	owner := n.slots.owner(slot)
	write := isWrite(cmd.Op)
	if owner == nil {
		r := errReply(ReplyClusterDown, "CLUSTERDOWN Hash slot not served")
		return &r
	}
	if !n.stateOK {
		if !n.cfg.AllowReadsWhenDown {
			r := errReply(ReplyClusterDown, "CLUSTERDOWN The cluster is down")
			return &r
		}
		if write {
			r := errReply(ReplyClusterDown, "CLUSTERDOWN The cluster is down and only accepts read commands")
			return &r
		}
	}
	if r, done := n.openSlotRedirect(cmd, slot); done {
		return r
	}
	if cmd.ReadOnly && !write && n.myself.is(FlagSlave) && n.myself.master == owner {
		return nil
	}
	if owner != n.myself {
		r := Reply{Kind: ReplyMoved, Slot: slot, Addr: owner.addr,
			Err: fmt.Sprintf("MOVED %d %s", slot, owner.addr)}
		return &r
	}
	return nil
}

// keyedCommand redirects, waits out a pause, or executes.
func (n *Node) keyedCommand(c ClientID, cmd Cmd) {
	if r := n.redirect(cmd); r != nil {
		n.reply(c, cmd.Seq, *r)
		return
	}
	if !isWrite(cmd.Op) {
		n.reply(c, cmd.Seq, n.db.read(cmd.Op, cmd.Key))
		return
	}
	// processCommand checks min-replicas before postponing a paused client.
	if !n.goodReplicasOK() {
		n.reply(c, cmd.Seq, errReply(ReplyError, "NOREPLICAS Not enough good replicas to write."))
		return
	}
	if n.now < n.pausedUntil {
		n.paused = append(n.paused, pendingCmd{c, cmd})
		return
	}
	w := Write{Op: cmd.Op, Key: cmd.Key, Value: cmd.Value}
	r := n.db.apply(w)
	if r.Kind == ReplyOK && !(cmd.Op == OpDel && r.Int == 0) {
		n.propagate(w, false)
		n.repl.woff[c] = n.repl.offset
	}
	n.reply(c, cmd.Seq, r)
}

// refreshGoodSlavesCount counts online replicas whose last ACK is at most
// min-replicas-max-lag seconds old. Redis compares whole seconds
// (server.unixtime − repl_ack_time) and refreshes the count only in
// replicationCron, when a replica comes online and when one is freed, so a
// master keeps accepting writes for up to a second after its replicas went
// quiet past the lag.
func (n *Node) refreshGoodSlavesCount() {
	r := &n.repl
	r.goodSlaves = 0
	if n.cfg.MinReplicasToWrite == 0 || n.cfg.MinReplicasMaxLag == 0 {
		return
	}
	maxLag := int64(n.cfg.MinReplicasMaxLag / time.Second)
	for _, c := range r.replicas {
		if !c.waiting && unixSeconds(n.now)-unixSeconds(c.ackTime) <= maxLag {
			r.goodSlaves++
		}
	}
}

// unixSeconds is the whole-second clock server.unixtime reads.
func unixSeconds(t time.Duration) int64 { return int64(t / time.Second) }

// goodReplicasOK is checkGoodReplicasStatus: a replica, or a master without
// min-replicas-to-write/max-lag, always passes.
func (n *Node) goodReplicasOK() bool {
	return n.myself.is(FlagSlave) || n.cfg.MinReplicasToWrite == 0 || n.cfg.MinReplicasMaxLag == 0 ||
		n.repl.goodSlaves >= n.cfg.MinReplicasToWrite
}

// ackedReplicas is replicationCountAcksByOffset.
func (n *Node) ackedReplicas(offset int64) int {
	c := 0
	for _, r := range n.repl.replicas {
		if r.ackOffset >= offset {
			c++
		}
	}
	return c
}

// waitCommand is WAIT numreplicas timeout.
func (n *Node) waitCommand(c ClientID, cmd Cmd) {
	if n.myself.is(FlagSlave) {
		n.reply(c, cmd.Seq, errReply(ReplyError, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."))
		return
	}
	off := n.repl.woff[c]
	if got := n.ackedReplicas(off); got >= cmd.Replicas {
		n.reply(c, cmd.Seq, Reply{Kind: ReplyOK, Int: int64(got)})
		return
	}
	w := waiter{client: c, seq: cmd.Seq, offset: off, replicas: cmd.Replicas}
	if cmd.Timeout > 0 {
		w.deadline = n.now + cmd.Timeout
	}
	n.repl.waiters = append(n.repl.waiters, w)
	// REPLCONF GETACK: ask replicas to ack now.
	if len(n.repl.replicas) > 0 {
		m := &Message{Type: MsgReplData, Repl: &Repl{ReplID: n.repl.replID, Offset: n.repl.offset, GetAck: true}}
		for _, r := range n.repl.replicas {
			n.out.Msgs = append(n.out.Msgs, Envelope{Conn: r.conn, Msg: m})
		}
	}
}

// checkWaiters is processClientsWaitingReplicas plus the WAIT timeouts of
// handleBlockedClientsTimeout (replyToBlockedClientTimedOut answers with the
// count of replicas that acked so far). Timeouts are seen at the next cron
// tick or ACK, so a WAIT may answer up to a cron period late.
func (n *Node) checkWaiters() {
	kept := n.repl.waiters[:0]
	for _, w := range n.repl.waiters {
		got := n.ackedReplicas(w.offset)
		if got >= w.replicas || (w.deadline != 0 && n.now >= w.deadline) {
			n.reply(w.client, w.seq, Reply{Kind: ReplyOK, Int: int64(got)})
			continue
		}
		kept = append(kept, w)
	}
	n.repl.waiters = kept
}

// disconnectAllBlockedClients answers every client blocked in WAIT with
// an error when this master turns into a replica (replicationSetMaster):
// Redis 7.0 unblocks them with -UNBLOCKED and closes their connections.
// Clients postponed by a pause are kept: they are re-run later and get MOVED.
func (n *Node) disconnectAllBlockedClients() {
	for _, w := range n.repl.waiters {
		n.reply(w.client, w.seq, errReply(ReplyError,
			"UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"))
	}
	n.repl.waiters = nil
}

// clientsCron times out WAITs and releases paused writes.
func (n *Node) clientsCron() {
	n.checkWaiters()
	n.unpauseIfDue()
}

// unpauseIfDue re-runs the commands held by a pause once it is over.
func (n *Node) unpauseIfDue() {
	if n.now < n.pausedUntil || len(n.paused) == 0 {
		return
	}
	held := n.paused
	n.paused = nil
	for _, p := range held {
		n.processCommand(p.client, p.cmd)
	}
}

// clusterSlots is CLUSTER SLOTS: one entry per contiguous range of one
// owner; replicas are listed unless FAIL.
func (n *Node) clusterSlots() []SlotOwner {
	// From each owner's ranges (cached with its bitmap) rather than a walk
	// over the 16,384 slots: clients ask often while a failover settles.
	var out []SlotOwner
	for _, o := range n.nodes {
		if o.numSlots == 0 {
			continue
		}
		var replicas []string
		for _, r := range o.replicas {
			if !r.is(FlagFail) {
				replicas = append(replicas, r.addr)
			}
		}
		for _, r := range o.slotRanges() {
			out = append(out, SlotOwner{SlotRange: r, Master: o.addr, Replicas: replicas})
		}
	}
	slices.SortFunc(out, func(a, b SlotOwner) int { return a.Start - b.Start })
	return out
}
