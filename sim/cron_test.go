package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// runObserved runs s at seed as Run does, calling observe after each event.
func runObserved(t *testing.T, s *scenarios.Scenario, seed uint64, observe func(w *world, ev *event)) *Result {
	t.Helper()
	w, err := newWorld(s, Options{Seed: seed, Until: s.Duration, MaxEvents: DefaultMaxEvents, KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	w.observe = func(ev *event) { observe(w, ev) }
	w.run()
	return w.result()
}

func parseInline(t *testing.T, y string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("inline.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cronLog records, per host, the moments its serverCron ran and the PINGs
// each cron sent (by peer ID).
type cronLog struct {
	armed []time.Duration // each host's cronArmed when last seen
	runs  [][]time.Duration
	pings []map[node.ID][]time.Duration
}

func newCronLog(n int) *cronLog {
	l := &cronLog{armed: make([]time.Duration, n), runs: make([][]time.Duration, n), pings: make([]map[node.ID][]time.Duration, n)}
	for i := range l.pings {
		l.pings[i] = map[node.ID][]time.Duration{}
	}
	return l
}

// observe notes a cron that ran at this event: runCron re-armed the timer
// (cronArmed moved) and left its Output in w.out.
func (l *cronLog) observe(w *world, ev *event) {
	if ev.kind != evTick && ev.kind != evDeliver && ev.kind != evCommand && ev.kind != evLink || ev.dst >= len(w.hosts) {
		return
	}
	h := w.hosts[ev.dst]
	if !h.up || h.cronArmed == l.armed[h.idx] {
		return
	}
	l.armed[h.idx] = h.cronArmed
	l.runs[h.idx] = append(l.runs[h.idx], w.now)
	for _, env := range w.out.Msgs {
		if env.Msg.Type == node.MsgPing && env.Conn.Dialer == h.id {
			l.pings[h.idx][env.Conn.Peer] = append(l.pings[h.idx][env.Conn.Peer], w.now)
		}
	}
}

const quietCluster = `name: quiet
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 1, config: {cluster-node-timeout: 1000}}
network: {latency: {dist: constant, value: 100us}}
faults:
  - {at: 20s, pause: m1}
`

// TestCronTimerDrifts: ae re-arms serverCron's timer after the handler
// ran (processTimeEvents: when = now + 100 ms), so each tick comes the
// handler's time plus epoll's wake-up late, never exactly 100 ms after the
// last; and a deadline on a tick boundary passes on that tick: a node
// pings a peer T/2 plus a few ms after its last PONG (clusterCron's
// now - pong_received > ping interval), and flags an unanswering one PFAIL
// T plus a few ms after the ping (now - ping_sent > node_timeout), where
// exact 100 ms ticks made both a whole tick (100 ms) later.
func TestCronTimerDrifts(t *testing.T) {
	s := parseInline(t, quietCluster)
	l := newCronLog(len(s.Cluster.NodeNames()))
	res := runObserved(t, s, 1, l.observe)
	T := time.Duration(s.Cluster.Config.NodeTimeoutMs) * time.Millisecond
	for i, runs := range l.runs {
		var gaps []time.Duration
		for j := 1; j < len(runs) && runs[j] < 20*time.Second; j++ {
			gaps = append(gaps, runs[j]-runs[j-1])
		}
		slices.Sort(gaps)
		lo, hi := node.CronPeriod+cronOverheadMin, node.CronPeriod+cronOverheadMax+time.Millisecond
		if gaps[0] < lo || gaps[len(gaps)-1] > hi {
			t.Errorf("host %d: tick gaps %v..%v, want within [%v, %v]", i, gaps[0], gaps[len(gaps)-1], lo, hi)
		}
	}
	// m0 pings m1 (a healthy peer until 20s) every T/2 and a little.
	m0, m1 := 0, 1
	id1 := res.Nodes[m1].ID
	pings := l.pings[m0][node.ID(id1)]
	var gaps []time.Duration
	for j := 1; j < len(pings) && pings[j] < 20*time.Second; j++ {
		gaps = append(gaps, pings[j]-pings[j-1])
	}
	slices.Sort(gaps)
	if med := gaps[len(gaps)/2]; med <= T/2 || med > T/2+10*time.Millisecond {
		t.Errorf("m0 pings m1 every %v at the median, want just over T/2 = %v (all %v)", med, T/2, gaps)
	}
	// m1 stops at 20s: m0's first ping after that goes unanswered, and m0
	// flags m1 PFAIL at its first cron more than T after that ping.
	var sent time.Duration
	for _, p := range pings {
		if p >= 20*time.Second {
			sent = p
			break
		}
	}
	var pfail time.Duration
	for _, e := range res.Trace {
		if e.Kind == trace.PFail && e.Node == "m0" && e.Peer == "m1" {
			pfail = e.At
			break
		}
	}
	if sent == 0 || pfail == 0 {
		t.Fatalf("no ping after 20s (%v) or no PFAIL (%v)", sent, pfail)
	}
	if d := pfail - sent; d <= T || d > T+10*time.Millisecond {
		t.Errorf("PFAIL %v after the unanswered ping, want just over T = %v", d, T)
	}
}

// TestPingRoundsSpreadOverTheSecond: each node's once-a-second random PING
// (clusterCron's iteration%10 == 0) comes at a phase of the second drawn
// per node at boot, its cron's sub-tick phase and its cronloops, so within
// one run the nodes' rounds do not share a tenth of a second, and over
// runs they cover the whole second.
func TestPingRoundsSpreadOverTheSecond(t *testing.T) {
	s := parseInline(t, quietCluster)
	s.Duration = 3 * time.Second // the first rounds are enough
	var deciles [10]int
	for seed := uint64(1); seed <= 20; seed++ {
		l := newCronLog(len(s.Cluster.NodeNames()))
		var loops []uint64
		runObserved(t, s, seed, func(w *world, ev *event) {
			if loops == nil {
				for _, h := range w.hosts {
					loops = append(loops, h.cfg.CronLoops)
				}
			}
			l.observe(w, ev)
		})
		var first []time.Duration
		for i, runs := range l.runs {
			for k, at := range runs {
				if (loops[i]+uint64(k)+1)%10 == 0 { // this cron's iteration
					first = append(first, at)
					deciles[at/(100*time.Millisecond)]++
					break
				}
			}
		}
		if len(first) != len(l.runs) || slices.Max(first) >= time.Second+10*time.Millisecond {
			t.Fatalf("seed %d: first rounds %v, want one per node within the first second", seed, first)
		}
		if spread := slices.Max(first) - slices.Min(first); spread < 100*time.Millisecond {
			t.Errorf("seed %d: every node's ping round within %v of each other (%v)", seed, spread, first)
		}
	}
	for d, n := range deciles {
		if n == 0 {
			t.Errorf("no node's ping round in [%d00ms, %d00ms) over 20 seeds: %v", d, d+1, deciles)
		}
	}
}

// TestFaultJitter: a fault with jitter: 1s fires at a moment of [at,
// at+1s) drawn from the seed: the same for a seed, different across seeds,
// spread over the whole second; its For counts from that moment.
func TestFaultJitter(t *testing.T) {
	s := parseInline(t, `name: jitter
description: d
duration: 15s
cluster: {masters: 3, replicas-per-master: 1}
faults:
  - {at: 10s, jitter: 1s, pause: m0, for: 2s}
`)
	faultTimes := func(seed uint64) (pause, resume time.Duration) {
		res, err := Run(s, Options{Seed: seed, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Trace {
			if e.Kind == trace.Fault && e.Detail != nil {
				switch e.Detail.Fault {
				case "pause":
					pause = e.At
				case "resume":
					resume = e.At
				}
			}
		}
		return pause, resume
	}
	var deciles [10]int
	seen := map[time.Duration]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		at, end := faultTimes(seed)
		if at < 10*time.Second || at >= 11*time.Second || end-at != 2*time.Second {
			t.Fatalf("seed %d: pause at %v, resume at %v; want the pause in [10s, 11s) and the resume 2s later", seed, at, end)
		}
		if again, _ := faultTimes(seed); again != at {
			t.Fatalf("seed %d: pause at %v, then at %v", seed, at, again)
		}
		seen[at] = true
		deciles[(at-10*time.Second)/(100*time.Millisecond)]++
	}
	if len(seen) < 40 {
		t.Errorf("40 seeds gave %d distinct moments", len(seen))
	}
	for d, n := range deciles {
		if n == 0 {
			t.Errorf("no pause in [10.%ds, 10.%ds) over 40 seeds: %v", d, d+1, deciles)
		}
	}
}
