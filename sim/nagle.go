package sim

// Nagle's algorithm and the receiver's delayed ACK on a node's outbound
// cluster-bus link. Redis 7.0 sets TCP_NODELAY on the bus connections it
// accepts (clusterAcceptHandler) but not on those it dials
// (clusterNodeCronHandleReconnect's connConnect, clusterLinkConnectHandler),
// so the dialer's kernel runs Nagle's algorithm (Linux: Minshall's variant,
// tcp_nagle_check): while a segment smaller than the MSS it sent is not yet
// acknowledged, later data waits in the socket, and goes out, together,
// when the ACK comes. The peer's kernel acknowledges at once when more than
// one full-sized segment arrived (__tcp_ack_snd_check), rides the ACK on
// data it sends back (the PONG a PING gets is sent on the same connection),
// and otherwise delays it (the delayed-ACK timer, TCP_DELACK_MIN 40 ms,
// fired on the 4 ms jiffy grid of HZ=250). So a message written shortly
// after one the peer does not answer (a FAILOVER_AUTH_REQUEST, a broadcast
// PONG, a FAIL) waits up to 40 ms on loopback, where every bus message fits
// in one segment; on Ethernet (MSS 1448) every bus message is bigger than a
// segment and is acknowledged at once, so Nagle only costs a round trip.
//
// The other direction (the accepting side's messages, TCP_NODELAY), the
// replication links (the master sets TCP_NODELAY on its replicas' sockets,
// repl-disable-tcp-nodelay no) and clients' connections (Redis sets it on
// every client it accepts) are sent at once.

import (
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/scenarios"
)

// Linux's delayed ACK: TCP_DELACK_MIN (HZ/25 jiffies) on a HZ=250 kernel,
// whose timers fire on 4 ms jiffy boundaries.
const (
	delayedACK = 40 * time.Millisecond
	jiffy      = 4 * time.Millisecond
)

// tcpHeaders is what a TCP segment's MTU spends on headers: IPv4 (20),
// TCP (20) and the timestamps option Linux sends (12).
const tcpHeaders = 52

// mss is the segment size of the run's links.
func mss(nw scenarios.Network) int {
	mtu := nw.MTU
	if mtu <= 0 {
		mtu = scenarios.DefaultMTU
	}
	return mtu - tcpHeaders
}

// nagle is the state of Nagle's algorithm on a bus connection's dialer side.
type nagle struct {
	unacked  bool            // the last segments sent wait for their ACK
	sentAt   time.Duration   // when they were sent (data written at that same instant joins them)
	inflight int             // messages of those segments not yet arrived
	bytes    int             // their size, for the receiver's one-full-segment rule
	held     []*node.Message // written while unacked: sent when the ACK arrives
	replies  uint64          // messages the peer sent back on the connection
}

// sendOutbound sends m on c from its dialer (a node's outbound bus link)
// under Nagle's algorithm: at once if nothing is waiting for an ACK (or
// what is was written at this same instant: one write, one burst of
// segments), else held until the ACK.
func (w *world) sendOutbound(c *conn, m *node.Message) {
	ng := &c.nagle
	if len(ng.held) > 0 || ng.unacked && ng.sentAt != w.now {
		ng.held = append(ng.held, m)
		return
	}
	if !ng.unacked {
		ng.unacked, ng.sentAt, ng.inflight, ng.bytes = true, w.now, 0, 0
	}
	ng.inflight++
	ng.bytes += wireSize(m)
	w.transmit(c, 0, m)
}

// outboundArrived is told that a message of c's dialer's unacknowledged
// segments reached the peer at this instant (handled, or left in a
// stopped process's socket buffer: the kernel acknowledges either way),
// after the peer handled it; repliesBefore is c.nagle.replies before. With
// the last of them the peer's ACK leaves: at once after more than one
// full-sized segment, with the peer's reply if it answered on the
// connection, else when the delayed-ACK timer fires. It reaches the dialer
// one latency later, if the network lets it (else the dialer's later data
// stays held: TCP keeps retransmitting the unacknowledged segment).
func (w *world) outboundArrived(c *conn, repliesBefore uint64) {
	ng := &c.nagle
	if !ng.unacked || ng.inflight == 0 {
		return
	}
	ng.inflight--
	if ng.inflight > 0 {
		return
	}
	var at time.Duration
	switch {
	case ng.replies != repliesBefore:
		at = c.due[1] // the reply carries the ACK
	case ng.bytes > w.mss:
		at = w.now + w.net.Latency(c.peer, c.dialer)
	default:
		timer := (w.now/jiffy + delayedACK/jiffy) * jiffy
		at = timer + w.net.Latency(c.peer, c.dialer)
	}
	w.q.push(event{at: at, kind: evAck, dst: c.dialer, conn: c, gen: c.gen})
}

// acked is the peer's ACK reaching c's dialer: the data Nagle held goes out,
// as one write.
func (w *world) acked(ev *event) {
	c := ev.conn
	if c.gen != ev.gen || c.state != connOpen || !w.net.Deliverable(w.now, c.peer, c.dialer) {
		return
	}
	ng := &c.nagle
	ng.unacked = false
	held := ng.held
	ng.held = nil
	for _, m := range held {
		w.sendOutbound(c, m)
	}
}
