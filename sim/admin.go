// The admin client: it runs a scenario's admin steps the way redis-cli
// --cluster does, sending the same cluster commands one at a time over the
// simulated network, each after the previous reply, so a fault can land
// between any two of them. A step is a chain of calls: each call names the
// node, the command and what to do with the reply.

package sim

import (
	"fmt"
	"time"

	"rcsim/node"
	"rcsim/scenarios"
	"rcsim/sim/trace"
	"rcsim/sim/workload"
)

// adminTimeout is how long the admin client waits for one reply before it
// abandons the step. redis-cli has no command timeout (it would wait until
// TCP gives up); a bounded wait lets later steps run.
const adminTimeout = 10 * time.Second

// migrateTimeout is redis-cli's CLUSTER_MANAGER_MIGRATE_TIMEOUT, passed to
// MIGRATE.
const migrateTimeout = 60 * time.Second

// adminClient is the one admin endpoint (named "admin").
type adminClient struct {
	idx    int // endpoint index
	client int // the client number nodes see: one past the workload's
	seq    uint64
	call   *adminCall // the command in flight, or waiting for its pace
	queue  []int      // steps due while another one runs, in order
	run    *adminRun  // the step being run
}

// adminCall is one command of a step.
type adminCall struct {
	seq  uint64
	to   *host
	cmd  node.Cmd
	then func(node.Reply)
}

// adminRun is one step in progress.
type adminRun struct {
	step scenarios.AdminStep
	desc string
}

// bootAdmin creates the admin endpoint when the scenario has admin steps and
// schedules them.
func (w *world) bootAdmin(idx int) {
	if len(w.s.Admin) == 0 {
		return
	}
	w.admin = &adminClient{idx: idx, client: idx - len(w.hosts)}
	for i := range w.s.Admin {
		w.q.push(event{at: w.s.Admin[i].At, kind: evAdminStep, fault: i})
	}
}

// adminStepDue starts step i, or queues it behind the one running.
func (w *world) adminStepDue(i int) {
	a := w.admin
	if a.run != nil {
		a.queue = append(a.queue, i)
		return
	}
	st := w.s.Admin[i]
	a.run = &adminRun{step: st, desc: describeStep(st)}
	w.emit(trace.Event{Kind: trace.Admin, Node: "admin", Value: a.run.desc + ": start"})
	w.startStep(a.run)
}

// adminDone ends the running step with outcome ("ok" or "failed: …") and
// starts the next queued one.
func (w *world) adminDone(outcome string) {
	a := w.admin
	w.emit(trace.Event{Kind: trace.Admin, Node: "admin", Value: a.run.desc + ": " + outcome})
	a.run, a.call = nil, nil
	if len(a.queue) > 0 {
		next := a.queue[0]
		a.queue = a.queue[1:]
		w.adminStepDue(next)
	}
}

// adminFail ends the running step because a command failed.
func (w *world) adminFail(h *host, what string, r node.Reply) {
	w.adminDone(fmt.Sprintf("failed: %s on %s: %s", what, h.name, r.Err))
}

// adminCmd sends cmd to h after the step's pace; then runs on the reply.
func (w *world) adminCmd(h *host, cmd node.Cmd, then func(node.Reply)) {
	a := w.admin
	a.seq++
	cmd.Seq = a.seq
	a.call = &adminCall{seq: a.seq, to: h, cmd: cmd, then: then}
	w.q.push(event{at: w.now + a.run.step.Pace, kind: evAdminSend, gen: a.seq})
}

// cluster sends "CLUSTER <line>" to h.
func (w *world) cluster(h *host, line string, then func(node.Reply)) {
	w.adminCmd(h, node.Cmd{Op: node.OpCluster, Value: line}, then)
}

// ok wraps then: an error reply fails the step instead.
func (w *world) ok(h *host, what string, then func(node.Reply)) func(node.Reply) {
	return func(r node.Reply) {
		if isErr(r) {
			w.adminFail(h, what, r)
			return
		}
		then(r)
	}
}

func isErr(r node.Reply) bool { return r.Kind != node.ReplyOK && r.Kind != node.ReplyNil }

// adminSend transmits the current call if it is still the one numbered seq,
// and arms its timeout.
func (w *world) adminSend(seq uint64) {
	a := w.admin
	if a.call == nil || a.call.seq != seq {
		return
	}
	c := a.call
	if c.to == nil { // a sleep (sleepThen), not a command
		a.call = nil
		c.then(node.Reply{})
		return
	}
	v := w.net.Send(w.now, a.idx, c.to.idx)
	if !v.Lost {
		w.q.push(event{at: v.Due, kind: evCommand, dst: c.to.idx, cmd: &clientCmd{client: a.client, cmd: c.cmd}})
	}
	w.q.push(event{at: w.now + adminTimeout, kind: evAdminTimeout, gen: seq})
}

// adminTimedOut abandons the step if call seq is still unanswered.
func (w *world) adminTimedOut(seq uint64) {
	a := w.admin
	if a.call == nil || a.call.seq != seq {
		return
	}
	w.adminDone(fmt.Sprintf("failed: no reply from %s within %s", a.call.to.name, adminTimeout))
}

// adminReply hands a reply to the call waiting for it.
func (w *world) adminReply(seq uint64, r node.Reply) {
	a := w.admin
	if a.call == nil || a.call.seq != seq {
		return
	}
	c := a.call
	a.call = nil
	c.then(r)
}

// startStep runs the first command of a step.
func (w *world) startStep(run *adminRun) {
	st := run.step
	switch st.Kind {
	case scenarios.Reshard:
		w.reshard(w.host(st.From), w.host(st.To), st.Slots)
	case scenarios.Rebalance:
		w.rebalance(st)
	case scenarios.Failover:
		h := w.host(st.Node)
		w.adminCmd(h, node.Cmd{Op: node.OpClusterFailover, Value: st.Mode},
			w.ok(h, "CLUSTER FAILOVER", func(node.Reply) { w.adminDone("ok") }))
	case scenarios.AddNode:
		w.addNode(w.host(st.Node), st.Master)
	case scenarios.DelNode:
		w.delNode(w.host(st.Node))
	case scenarios.Create:
		w.create()
	default:
		panic("sim: invariant: admin step of unknown kind " + string(st.Kind))
	}
}

// host is the host of a node name the scenario checked.
func (w *world) host(name string) *host {
	idx, ok := w.names[name]
	if !ok || idx >= len(w.hosts) {
		panic("sim: invariant: admin step names unknown node " + name)
	}
	return w.hosts[idx]
}

// describeStep is the trace's name for a step.
func describeStep(st scenarios.AdminStep) string {
	switch st.Kind {
	case scenarios.Reshard:
		return fmt.Sprintf("reshard %d slots %s->%s", st.Slots, st.From, st.To)
	case scenarios.Failover:
		if st.Mode != "" {
			return "failover " + st.Node + " " + st.Mode
		}
		return "failover " + st.Node
	case scenarios.AddNode:
		if st.Master != "" {
			return "add_node " + st.Node + " replica of " + st.Master
		}
		return "add_node " + st.Node
	case scenarios.DelNode:
		return "del_node " + st.Node
	}
	return string(st.Kind)
}

// migrate carries out a MIGRATE that src started (node.Output.Migrates): the
// target's RESTORE-ASKING and the source's completion run at this instant,
// before anything else reaches src, as Redis's MIGRATE blocks the source's
// event loop until the target answered. A target that is down or cut off
// from src answers nothing: the source reports a connection error and keeps
// its keys.
func (w *world) migrate(src *host, req node.MigrateRequest) {
	var answers []string
	connErr := node.ErrMigrateConnect
	if i, ok := w.byAddr[req.Target]; ok && w.hosts[i].up && !w.hosts[i].paused && w.net.Reachable(src.idx, i) && w.net.Reachable(i, src.idx) {
		dst := w.hosts[i]
		connErr = ""
		w.out.Reset()
		answers = dst.n.RestoreAsking(w.clock(dst), req.Keys, req.Replace, &w.out)
		w.apply(dst)
	}
	w.out.Reset()
	src.n.MigrateDone(w.clock(src), req, answers, connErr, &w.out)
	w.apply(src)
}

// reportOpenSlots records, when the run ends, every slot a live node still
// has MIGRATING or IMPORTING: what an interrupted reshard leaves behind and
// `redis-cli --cluster fix` would have to close.
func (w *world) reportOpenSlots() {
	for _, h := range w.hosts {
		if !h.up {
			continue
		}
		for _, o := range h.n.OpenSlots() {
			v := fmt.Sprintf("%d migrating to %s", o.Slot, w.nameOf(o.Migrating))
			if o.Migrating == "" {
				v = fmt.Sprintf("%d importing from %s", o.Slot, w.nameOf(o.Importing))
			}
			w.emit(trace.Event{Kind: trace.OpenSlot, Node: h.name, Value: v})
			w.openSlots = append(w.openSlots, h.name+": "+v)
		}
	}
}

// adminCommand runs an admin command that reached h. The admin client opens
// no lasting connections: a process that is down refuses it.
func (w *world) adminCommand(h *host, cmd node.Cmd) {
	if !h.up {
		w.replyTo(h.idx, w.admin.client, cmd.Seq, node.Reply{Kind: node.ReplyError, Err: workload.ErrRefused})
		return
	}
	w.out.Reset()
	h.n.Command(w.clock(h), node.ClientID(w.admin.client), cmd, &w.out)
	w.apply(h)
}
