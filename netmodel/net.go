// Package netmodel is the network between the endpoints of a run, as link
// arithmetic: for a message sent now from one endpoint to another it says when
// the message arrives, or that it never will. It never sees a payload and knows
// endpoints (nodes and clients alike) only by their index 0..n-1, which the
// kernel assigns.
//
// Every directed link behaves like one TCP connection (the cluster bus is TCP):
// messages arrive in the order they were sent, once each, after a latency drawn
// from the link's distribution. A lost segment is retransmitted, so loss delays
// a message (and every message behind it) rather than dropping it. Partitions,
// symmetric or one-way, make a send fail at once, and Deliverable lets the
// kernel re-check a message in flight when it is due.
//
// A Net draws only from the streams the kernel hands it, one per directed link,
// and every delay it adds is a whole number of microseconds, so a run is a
// function of its seed on every architecture.
package netmodel

import (
	"errors"
	"fmt"
	"github.com/rcsim/rcsim/scenarios/rng"
	"time"
)

// Config is the network every link starts with.
type Config struct {
	Latency Dist  // one-way latency of every link
	Loss    Ratio // per-transmission loss on every link; a loss delays (see Send)
	// Bandwidth is every link's capacity in bytes per second, charged by
	// SendSize; 0 means unlimited.
	Bandwidth int64
}

// Validate reports whether c can build a Net.
func (c Config) Validate() error {
	return errors.Join(c.Latency.Validate(), c.Loss.Validate(), validBandwidth(c.Bandwidth))
}

// Verdict is the fate of one message.
type Verdict struct {
	// Due is when the message arrives. When Lost, it is when the sender learns
	// that the message will never arrive: now for a partitioned link, the
	// moment TCP gives up (ETIMEDOUT) when retransmissions are exhausted.
	Due time.Duration
	// Lost means the message never arrives: the link was blocked at send time,
	// or MaxRetries retransmissions were lost too, which breaks the connection.
	Lost bool
	// Retries is how many retransmissions the message took (0 without loss).
	Retries int
}

// Net is the state of every link between n endpoints: FIFO horizon, stream,
// overrides, partition groups and one-way blocks. Links are stored in slices
// indexed by from*n+to, never in maps. A Net is not safe for concurrent use;
// a run uses it from its one goroutine.
type Net struct {
	n      int
	profs  []profile // link.prof's targets; profs[0] is the Net's default
	stream func(from, to int) rng.Stream
	links  []link
	group  []int // partition group of each endpoint; all equal when healed
	blocks int   // links with blocked set, so that Heal of none is O(1)
}

// link is the state of one directed link: one TCP connection.
//
// It is 48 bytes with no pointer: at 2,000 nodes there are 4 million links,
// which the collector then never scans, and a connect's two latency draws
// and reachability checks read two records, one cache line each.
type link struct {
	rnd       rng.Stream    // the link's own stream, held here (see rng.Stream); drawn once seeded
	lastDue   time.Duration // Due of the last message sent: FIFO's horizon
	busyUntil time.Duration // when the link has finished serialising its last message
	fault     Ratio         // loss set by a fault (SetFaultLoss); used instead of the profile's when Den > 0
	prof      uint32        // index in Net.profs; 0: the Net's default
	seeded    bool          // rnd was set from the stream function
	blocked   bool          // a one-way block (Block)
}

// profile is what a link draws from: latency, loss and bandwidth.
type profile struct {
	lat       *sampler
	loss      Ratio
	bandwidth int64 // bytes per second; 0 unlimited
}

// New returns a healed network of endpoints endpoints with every link
// configured by cfg. stream(from, to) must return the link's own random
// stream; New calls it lazily, once per directed link, the first time that
// link sends or draws a latency.
func New(cfg Config, endpoints int, stream func(from, to int) rng.Stream) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if endpoints <= 0 {
		return nil, fmt.Errorf("netmodel: %d endpoints; need at least one", endpoints)
	}
	if stream == nil {
		return nil, errors.New("netmodel: nil stream function")
	}
	lat, err := compile(cfg.Latency)
	if err != nil {
		return nil, err
	}
	n := &Net{
		n:      endpoints,
		profs:  []profile{{lat: lat, loss: cfg.Loss, bandwidth: cfg.Bandwidth}},
		stream: stream,
		group:  make([]int, endpoints),
	}
	n.links = newLinks(n, endpoints*endpoints)
	return n, nil
}

// Endpoints returns the number of endpoints the Net was built for.
func (n *Net) Endpoints() int { return n.n }

// Send is SendSize for a message whose size does not count: bandwidth, if
// limited, costs it nothing.
func (n *Net) Send(now time.Duration, from, to int) Verdict {
	return n.SendSize(now, from, to, 0)
}

// SendSize says when a message of size bytes sent now from from to to arrives.
//
// If from->to is blocked by a partition now, the message is Lost with Due now,
// and nothing is drawn. Otherwise, in this order (which fixes the draws):
//
//  1. With a bandwidth limit, the message waits until the link has finished
//     sending earlier messages, then takes size/bandwidth to serialise
//     (rounded up to a whole microsecond).
//  2. With loss, each transmission is lost with the link's Ratio (one draw
//     each). A loss costs a retransmission timeout: RTOMin, doubling per
//     consecutive loss up to RTOMax, as Linux does on an established
//     connection. After MaxRetries lost retransmissions the connection breaks:
//     Lost, with Due the moment TCP gives up, and no latency is drawn.
//  3. One latency is drawn from the link's distribution.
//
// Due is the sum, but never earlier than the Due of the previous message on
// the link: messages on a link arrive in order, and one delayed by
// retransmissions holds back those behind it (head-of-line blocking). A Lost
// message does not move the link's FIFO horizon.
func (n *Net) SendSize(now time.Duration, from, to, size int) Verdict {
	return n.send(now, from, to, size, &n.links[n.index(from, to)].lastDue)
}

// SendOn is SendSize for a message on one of several connections that share
// the link from->to: fifo is that connection's own horizon (the Due of its
// previous message), which SendOn honours and advances instead of the
// link's. Each TCP connection is its own ordered stream: a message held back
// by retransmissions on a connection that has since died must not delay a
// new connection's. Bandwidth stays shared by every connection on the link.
func (n *Net) SendOn(now time.Duration, from, to, size int, fifo *time.Duration) Verdict {
	if fifo == nil {
		panic("netmodel: invariant: SendOn with a nil FIFO horizon")
	}
	n.index(from, to)
	return n.send(now, from, to, size, fifo)
}

func (n *Net) send(now time.Duration, from, to, size int, fifo *time.Duration) Verdict {
	i := n.index(from, to)
	if size < 0 {
		panic(fmt.Sprintf("netmodel: invariant: message size %d is negative", size))
	}
	if !n.reachable(i, from, to) {
		return Verdict{Due: now, Lost: true}
	}
	l := &n.links[i]
	p := n.profileOf(l)
	r := n.rnd(l, from, to)
	at := now
	if p.bandwidth > 0 {
		at = max(at, l.busyUntil) + txTime(size, p.bandwidth)
		l.busyUntil = at
	}
	loss := p.loss
	if l.fault.Den > 0 {
		loss = l.fault
	}
	wait, retries, ok := retransmit(loss, r)
	if !ok {
		return Verdict{Due: at + wait, Lost: true, Retries: retries}
	}
	due := max(at+wait+p.lat.draw(r), *fifo)
	*fifo = due
	return Verdict{Due: due, Retries: retries}
}

// Deliverable reports whether a message due now on from->to may be delivered:
// false if a partition or block made by now stops it in flight. The kernel
// calls it at arrival time; the answer depends only on the current blocks.
func (n *Net) Deliverable(now time.Duration, from, to int) bool {
	return n.reachable(n.index(from, to), from, to)
}

// Reachable reports whether from can send to to now: same partition group
// and no one-way block from->to. An endpoint always reaches itself.
func (n *Net) Reachable(from, to int) bool {
	return n.reachable(n.index(from, to), from, to)
}

// Latency returns one fresh draw from the latency distribution of from->to,
// for example for the round trip of a connection setup. It uses the link's
// stream but touches neither its FIFO state nor its bandwidth, draws no loss,
// and ignores partitions.
func (n *Net) Latency(from, to int) time.Duration {
	l := &n.links[n.index(from, to)]
	return n.profileOf(l).lat.draw(n.rnd(l, from, to))
}

// Reset forgets the FIFO and bandwidth state of from->to, as when its TCP
// connection is torn down and a new one is opened: messages sent afterwards
// are not ordered behind those sent before. The kernel, which owns
// connection generations, decides what happens to messages still in flight.
// The link keeps its stream and its overrides.
func (n *Net) Reset(from, to int) {
	l := &n.links[n.index(from, to)]
	l.lastDue, l.busyUntil = 0, 0
}

func (n *Net) reachable(i, from, to int) bool {
	return from == to || (n.group[from] == n.group[to] && !n.links[i].blocked)
}

func (n *Net) profileOf(l *link) *profile {
	return &n.profs[l.prof]
}

func (n *Net) rnd(l *link, from, to int) *rng.Stream {
	if !l.seeded {
		l.rnd, l.seeded = n.stream(from, to), true
	}
	return &l.rnd
}

// index returns the slot of from->to, panicking on an endpoint out of range:
// the kernel numbers endpoints, so a bad index is a kernel bug.
func (n *Net) index(from, to int) int {
	n.check(from)
	n.check(to)
	return from*n.n + to
}

func (n *Net) check(e int) {
	if e < 0 || e >= n.n {
		panic(fmt.Sprintf("netmodel: invariant: endpoint %d out of range [0, %d)", e, n.n))
	}
}

// txTime is how long size bytes take to serialise at bandwidth bytes per
// second, rounded up to a whole microsecond.
func txTime(size int, bandwidth int64) time.Duration {
	us := (int64(size)*int64(time.Second/time.Microsecond) + bandwidth - 1) / bandwidth
	return time.Duration(us) * time.Microsecond
}

func validBandwidth(b int64) error {
	if b < 0 {
		return fmt.Errorf("netmodel: bandwidth %d bytes/s is negative", b)
	}
	return nil
}
