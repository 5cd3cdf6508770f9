// Loss with TCP semantics: a lost segment is retransmitted after a timeout
// that doubles per consecutive loss (tcp_retransmit_timer), so loss delays a
// message and only a long run of losses breaks the connection.

package netmodel

import (
	"fmt"
	"github.com/rcsim/rcsim/scenarios/rng"
	"time"
)

// Retransmission constants, as Linux sets them for an established connection.
const (
	// RTOMin is the first retransmission timeout (TCP_RTO_MIN). Linux's RTO
	// is max(RTOMin, srtt + 4·rttvar); with the sub-millisecond round trips
	// of a cluster network the minimum always wins.
	RTOMin = 200 * time.Millisecond
	// RTOMax caps the doubling timeout (TCP_RTO_MAX).
	RTOMax = 120 * time.Second
	// MaxRetries is how many retransmissions may be lost before the
	// connection breaks (net.ipv4.tcp_retries2 = 15, about 924.6 s).
	MaxRetries = 15
)

// Ratio is a probability Num/Den, kept as integers so that a configuration
// hashes exactly. The zero value means never; Num == Den means always.
type Ratio struct{ Num, Den uint32 }

// Validate reports whether r is a probability: Num <= Den, and Den > 0 unless
// Num is 0.
func (r Ratio) Validate() error {
	if r.Num > r.Den {
		return fmt.Errorf("netmodel: loss ratio %d/%d is above 1", r.Num, r.Den)
	}
	return nil
}

// hit draws once from rnd and reports whether the event of probability r
// happened. A zero ratio draws nothing.
func (r Ratio) hit(rnd *rng.Stream) bool {
	if r.Num == 0 {
		return false
	}
	return rnd.Uint32N(r.Den) < r.Num
}

// retransmit draws the losses of one message: wait is the sum of the
// retransmission timeouts spent, retries the number of retransmissions, and
// ok false if MaxRetries retransmissions were lost too (then wait is when the
// sender gives up, after the last timeout).
func retransmit(loss Ratio, rnd *rng.Stream) (wait time.Duration, retries int, ok bool) {
	rto := RTOMin
	for loss.hit(rnd) {
		wait += rto
		if retries == MaxRetries {
			return wait, retries, false
		}
		retries++
		rto = min(2*rto, RTOMax)
	}
	return wait, retries, true
}
