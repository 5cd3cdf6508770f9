package workload

// What the client does with each answer: finish, follow a redirection,
// retry after a backoff, or reload the slot map (go-redis's
// ClusterClient._process loop and clusterStateHolder.LazyReload).

import (
	"strconv"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
)

// handle processes the answer to seq, from a node or from the client's own
// connection layer.
func (c *Client) handle(now time.Duration, seq uint64, r *node.Reply, net Net) {
	if seq == c.reloadSeq {
		c.reloadDone(now, r, net)
		return
	}
	a := c.cur
	if a == nil || seq != a.cmd.Seq {
		return
	}
	switch {
	case a.applied:
		c.waitDone(now, r)
	case r.Kind == node.ReplyOK || r.Kind == node.ReplyNil:
		c.executed(now, r, net)
	case r.Kind == node.ReplyMoved || r.Kind == node.ReplyAsk:
		c.redirect(now, r, net)
	case r.Kind == node.ReplyClusterDown || r.Kind == node.ReplyTryAgain:
		c.retry(now, r.Err, a.tries == 1)
	case isConnError(r):
		// redis-py reinitializes the slot map on a connection error;
		// go-redis retries the same node once, then the map's choice.
		c.reload(now, a.addr, net)
		c.retry(now, r.Err, a.tries == 1)
	default:
		c.finish(now, history.Fail, r.Err)
	}
}

// redirect follows MOVED (learning the slot and reloading the map lazily,
// as go-redis does) or ASK (one try with ASKING, the map untouched).
func (c *Client) redirect(now time.Duration, r *node.Reply, net Net) {
	a := c.cur
	to := c.nodeAt(r.Addr)
	if to < 0 {
		c.finish(now, history.Fail, r.Err)
		return
	}
	if r.Kind == node.ReplyMoved {
		c.slots.learn(r.Slot, to)
		c.reload(now, -1, net)
	} else {
		a.cmd.Asking = true
	}
	a.addr = to
	c.retry(now, r.Err, true)
}

// retry schedules the next try after go-redis's backoff, or fails the
// operation once MaxRedirects tries followed the first. keep sends the next
// try to the node chosen so far (a redirection's target, or go-redis's
// "first retry the same node"); otherwise the route is recomputed from the
// slot map, which a reload may have refreshed meanwhile.
func (c *Client) retry(now time.Duration, errText string, keep bool) {
	a := c.cur
	if a.tries > maxRedirects {
		c.finish(now, history.Fail, errText)
		return
	}
	a.sameNode = keep
	a.retryAt = now + retryBackoff(c, a.tries)
	a.op.Err = errText
}

// retryBackoff is go-redis's internal.RetryBackoff: uniform in
// [0, MinRetryBackoff << retry), capped at MaxRetryBackoff. A zero draw
// still waits a microsecond, so a retry is always a later event.
func retryBackoff(c *Client, retry int) time.Duration {
	b := minRetryBackoff << retry
	if b > maxRetryBackoff || b < minRetryBackoff {
		b = maxRetryBackoff
	}
	return max(time.Duration(c.rnd.Int64N(int64(b))), time.Microsecond)
}

// executed handles a command a node executed: the end of a read, or of a
// write unless WAIT must confirm it.
func (c *Client) executed(now time.Duration, r *node.Reply, net Net) {
	a := c.cur
	if c.cfg.Wait > 0 && !isRead(a.cmd.Op) {
		a.applied, a.result = true, *r
		wait := node.Cmd{Op: node.OpWait, Replicas: c.cfg.Wait, Timeout: max(a.deadline-now, time.Millisecond)}
		a.cmd = wait
		c.transmit(now, a, net)
		return
	}
	c.finishOK(now, r)
}

// waitDone ends a write once WAIT answered: acknowledged when enough
// replicas have it, otherwise of unknown outcome.
func (c *Client) waitDone(now time.Duration, r *node.Reply) {
	a := c.cur
	if r.Kind == node.ReplyOK && r.Int >= int64(c.cfg.Wait) {
		c.finishOK(now, &a.result)
		return
	}
	why := r.Err
	if why == "" {
		why = "WAIT " + strconv.Itoa(c.cfg.Wait) + ": " + strconv.FormatInt(r.Int, 10) + " replicas acked"
	}
	a.op.Err = why
	c.finish(now, history.Unknown, why)
}

func (c *Client) finishOK(now time.Duration, r *node.Reply) {
	a := c.cur
	switch a.op.Kind {
	case "get":
		a.op.Result, a.op.Nil = r.Value, r.Kind == node.ReplyNil
	case "set":
		a.op.Result = "OK"
	case "incr", "rpush":
		a.op.Result = strconv.FormatInt(r.Int, 10)
	case "lrange":
		a.op.List = append([]string{}, r.List...)
	}
	a.op.Err = ""
	c.finish(now, history.OK, "")
}

// finishTimeout ends an operation whose deadline passed: unknown if it may
// have executed (a try on the wire, or a write waiting for WAIT), failed
// if every try got a definite error or never left the client.
func (c *Client) finishTimeout(now time.Duration) {
	a := c.cur
	if a.inFlight || a.applied {
		c.finish(now, history.Unknown, "timeout")
		return
	}
	errText := a.op.Err
	switch {
	case !a.waitSlots && c.conns[a.addr].state == connDialing:
		errText = ErrDialTimeout // the deadline cut the dial short
	case errText == "":
		errText = "timeout before sending"
	}
	c.finish(now, history.Fail, errText)
}

func (c *Client) finish(now time.Duration, st history.Status, errText string) {
	a := c.cur
	a.op.Status = st
	a.op.Return = now
	if st != history.OK {
		a.op.Err = errText
	}
	if st == history.Unknown {
		a.op.Result = ""
	}
	c.record(a.op)
	c.cur = nil
	jitter := time.Duration(c.rnd.Int64N(int64(c.interval()) + 1))
	c.next = now + c.interval()/2 + jitter
}

// Abort ends the operation in flight when the run stops, as a timeout.
func (c *Client) Abort(now time.Duration) {
	if c.cur != nil {
		c.finishTimeout(now)
	}
}

// reload is LazyReload: a CLUSTER SLOTS to a random node (not avoid), whose
// answer replaces the map. At most one is outstanding (until reloadTimeout)
// and none starts within reloadCooldown of the last answer.
func (c *Client) reload(now time.Duration, avoid int, net Net) {
	if c.reloadSeq != 0 && now < c.reloadEnd || now < c.reloadIdle {
		return
	}
	i := c.randomNode(now, avoid)
	c.seq++
	c.reloadSeq, c.reloadEnd, c.reloadAddr = c.seq, now+reloadTimeout, i
	c.request(now, i, node.Cmd{Op: node.OpClusterSlots, Seq: c.seq}, net)
}

// reloadDone takes a CLUSTER SLOTS answer (or its failure) and lets an
// operation waiting for the first map go.
func (c *Client) reloadDone(now time.Duration, r *node.Reply, net Net) {
	c.reloadSeq = 0
	if r.Kind == node.ReplyOK {
		c.slots.load(now, r.Slots, c.nodeAt)
		c.reloadIdle = now + reloadCooldown
	}
	if a := c.cur; a != nil && a.waitSlots {
		c.try(now, net)
	}
}
