package workload

// The client's TCP connections, one per node address, as a connection pool
// of one: a command to a node without a connection first dials it. A dial
// is answered by the node's host (connected, or refused when no process
// listens) or, across a partition, not at all: it then fails at the dial
// timeout, like a SYN that never gets an answer. A command that never left
// because its dial failed definitely did not execute.

import (
	"time"

	"github.com/rcsim/rcsim/node"
)

// Connection states.
const (
	connNone    = iota // no connection
	connDialing        // SYN sent, no answer yet
	connUp             // established
)

// dialTimeout is go-redis's Options.DialTimeout default.
const dialTimeout = 5 * time.Second

// Error texts a client records for connection failures (the command never
// reached a process: a definite failure).
const (
	// ErrRefused: the node's host answered the SYN with a reset (no process
	// listening) or reset an established connection (the process died).
	ErrRefused = "ECONNREFUSED connection refused"
	// ErrDialTimeout: the SYN was never answered (a partition).
	ErrDialTimeout = "dial tcp: i/o timeout"
)

// conn is the client's connection to one node address.
type conn struct {
	state   uint8
	dialEnd time.Duration // connDialing: when the dial gives up
	pending []node.Cmd    // written once the connection is up
}

// request writes cmd to the node at seeds[i], dialing first if needed. It
// reports whether cmd went on the wire now.
func (c *Client) request(now time.Duration, i int, cmd node.Cmd, net Net) bool {
	k := &c.conns[i]
	switch k.state {
	case connUp:
		net.Send(c.seeds[i], cmd)
		return true
	case connNone:
		k.state, k.dialEnd = connDialing, now+dialTimeout
		net.Dial(c.seeds[i])
	}
	k.pending = append(k.pending, cmd)
	return false
}

// OnDial tells the client how its dial to addr ended: connected, or
// refused by the host. Commands queued on the connection are written, or
// fail with ErrRefused.
func (c *Client) OnDial(now time.Duration, addr string, ok bool, net Net) time.Duration {
	i := c.index(addr)
	if i < 0 || c.conns[i].state != connDialing {
		return c.wakeAt()
	}
	k := &c.conns[i]
	pending := k.pending
	k.pending = nil
	if !ok {
		k.state = connNone
		c.failPending(now, i, pending, ErrRefused, net)
		return c.wakeAt()
	}
	k.state = connUp
	for _, cmd := range pending {
		if !c.wanted(cmd.Seq) {
			continue
		}
		net.Send(addr, cmd)
		if a := c.cur; a != nil && a.cmd.Seq == cmd.Seq {
			a.inFlight = true
		}
	}
	return c.wakeAt()
}

// expireDials fails the dials whose timeout passed.
func (c *Client) expireDials(now time.Duration, net Net) {
	for i := range c.conns {
		k := &c.conns[i]
		if k.state == connDialing && now >= k.dialEnd {
			pending := k.pending
			k.state, k.pending = connNone, nil
			c.failPending(now, i, pending, ErrDialTimeout, net)
		}
	}
}

// failPending answers queued commands with a local connection error.
func (c *Client) failPending(now time.Duration, i int, pending []node.Cmd, errText string, net Net) {
	c.markFailing(now, i)
	for _, cmd := range pending {
		if c.wanted(cmd.Seq) {
			c.handle(now, cmd.Seq, &node.Reply{Kind: node.ReplyError, Err: errText}, net)
		}
	}
}

// connReset forgets an established connection the host reset.
func (c *Client) connReset(now time.Duration, i int) {
	c.conns[i] = conn{}
	c.markFailing(now, i)
}

// nextDialEnd is the earliest dial timeout still pending, or Never.
func (c *Client) nextDialEnd() time.Duration {
	t := Never
	for i := range c.conns {
		if c.conns[i].state == connDialing {
			t = min(t, c.conns[i].dialEnd)
		}
	}
	return t
}

// isConnError reports whether an error reply is a local connection
// failure: the command did not reach a node process.
func isConnError(r *node.Reply) bool {
	return r.Kind == node.ReplyError && (r.Err == ErrRefused || r.Err == ErrDialTimeout)
}
