package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestNaglePromotionReachesOthersLate: the promoted replica's PONG
// broadcast goes out on its outbound links right after its
// FAILOVER_AUTH_REQUEST broadcast, which no peer answers on the same
// connection. On loopback (one segment per message) Nagle's algorithm
// holds the PONG until the peer's delayed ACK (40 ms, on the 4 ms jiffy
// grid) comes back, so the other nodes learn of the promotion 36–40 ms
// (plus latencies) after the winner, as on a real 7.0 cluster (less when
// the segment waiting for its ACK was sent earlier than the request); on
// Ethernet every bus message is bigger than a segment, the ACK comes at
// once, and they learn of it one latency later.
func TestNaglePromotionReachesOthersLate(t *testing.T) {
	for _, c := range []struct {
		mtu         int
		median, max time.Duration // at least this median, at most this
	}{
		{65536, 36 * time.Millisecond, 41 * time.Millisecond},
		{1500, 0, time.Millisecond},
	} {
		t.Run(fmt.Sprintf("mtu=%d", c.mtu), func(t *testing.T) {
			s := parseInline(t, fmt.Sprintf(`name: nagle
description: d
duration: 12s
cluster: {masters: 3, replicas-per-master: 1, config: {cluster-node-timeout: 1000}}
network: {latency: {dist: constant, value: 50us}, mtu: %d}
faults:
  - {at: 5s, crash: m0}
`, c.mtu))
			var all []time.Duration
			for seed := uint64(1); seed <= 10; seed++ {
				res, err := Run(s, Options{Seed: seed, KeepTrace: true})
				if err != nil {
					t.Fatal(err)
				}
				var promoted time.Duration
				seen := map[string]time.Duration{}
				for _, e := range res.Trace {
					switch {
					case e.Kind == trace.Promoted && e.Peer == "m0":
						promoted = e.At
					case e.Kind == trace.Slots && e.Peer == "m0r0" && promoted > 0:
						seen[e.Node] = e.At - promoted
					}
				}
				if promoted == 0 || len(seen) != 4 {
					t.Fatalf("seed %d: promoted at %v, seen by %v; want m0r0 promoted and the 4 others learning it", seed, promoted, seen)
				}
				for n, d := range seen {
					if d <= 0 || d > c.max {
						t.Errorf("seed %d: %s learned of the promotion %v after it, want within (0, %v]", seed, n, d, c.max)
					}
					all = append(all, d)
				}
			}
			slices.Sort(all)
			if med := all[len(all)/2]; med < c.median {
				t.Errorf("the others learned of the promotion %v after it at the median, want at least %v (all %v)", med, c.median, all)
			}
		})
	}
}
