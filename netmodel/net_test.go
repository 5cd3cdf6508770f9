package netmodel

import (
	"fmt"
	"math/rand/v2"

	"github.com/rcsim/rcsim/scenarios/rng"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// streams returns a stream function in the kernel's style: one PCG per
// directed link derived from seed, and a count of the calls per link.
func streams(seed uint64, n int) (func(from, to int) rng.Stream, []int) {
	calls := make([]int, n*n)
	return func(from, to int) rng.Stream {
		calls[from*n+to]++
		return rng.StreamOf(rand.NewPCG(seed, uint64(from*n+to)))
	}, calls
}

func newNet(t testing.TB, cfg Config, n int) *Net {
	t.Helper()
	s, _ := streams(42, n)
	net, err := New(cfg, n, s)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func constant(d time.Duration) Dist { return Dist{Kind: KindConstant, Value: d} }

var lognormal = Dist{Kind: KindLognormal, Median: 200 * us, P99: 2 * time.Millisecond}

func TestNewErrors(t *testing.T) {
	s, _ := streams(1, 3)
	for _, c := range []struct {
		name string
		cfg  Config
		n    int
		s    func(int, int) rng.Stream
		err  string
	}{
		{"bad latency", Config{Latency: Dist{Kind: "pareto"}}, 3, s, "unknown distribution kind"},
		{"bad loss", Config{Latency: constant(us), Loss: Ratio{2, 1}}, 3, s, "above 1"},
		{"loss without denominator", Config{Latency: constant(us), Loss: Ratio{1, 0}}, 3, s, "above 1"},
		{"bad bandwidth", Config{Latency: constant(us), Bandwidth: -1}, 3, s, "negative"},
		{"no endpoints", Config{Latency: constant(us)}, 0, s, "need at least one"},
		{"no streams", Config{Latency: constant(us)}, 3, nil, "nil stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, c.n, c.s)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("New = %v, want an error containing %q", err, c.err)
			}
		})
	}
}

func TestStreamsAreLazy(t *testing.T) {
	s, calls := streams(1, 3)
	net, err := New(Config{Latency: lognormal}, 3, s)
	if err != nil {
		t.Fatal(err)
	}
	net.Send(0, 0, 1)
	net.Send(1, 0, 1)
	net.Latency(2, 0)
	net.Partition([][]int{{0}, {1, 2}})
	net.Send(2, 1, 0) // blocked: needs no stream
	want := []int{0, 1, 0, 0, 0, 0, 1, 0, 0}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("stream calls per link = %v, want %v", calls, want)
	}
}

// TestFIFO: whatever the send times, Dues on one link never decrease and
// never precede the send (TCP delivers in order).
func TestFIFO(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := Config{Latency: lognormal}
		if rapid.Bool().Draw(t, "lossy") {
			cfg.Loss = Ratio{1, 4}
		}
		if rapid.Bool().Draw(t, "bandwidth") {
			cfg.Bandwidth = 1 << 20
		}
		s, _ := streams(rapid.Uint64().Draw(t, "seed"), 3)
		net, err := New(cfg, 3, s)
		if err != nil {
			t.Fatal(err)
		}
		last := make([]time.Duration, 9)
		now := time.Duration(0)
		for i, steps := 0, rapid.IntRange(1, 200).Draw(t, "steps"); i < steps; i++ {
			now += time.Duration(rapid.IntRange(0, 3000).Draw(t, "gap")) * us
			from, to := rapid.IntRange(0, 2).Draw(t, "from"), rapid.IntRange(0, 2).Draw(t, "to")
			v := net.SendSize(now, from, to, rapid.IntRange(0, 4096).Draw(t, "size"))
			if v.Lost {
				continue
			}
			if v.Due < now || v.Due < last[from*3+to] {
				t.Fatalf("send %d at %v on %d->%d: Due %v, before now or the previous Due %v",
					i, now, from, to, v.Due, last[from*3+to])
			}
			last[from*3+to] = v.Due
		}
	})
}

func TestFIFOHoldsBehindSlowMessage(t *testing.T) {
	net := newNet(t, Config{Latency: Dist{Kind: KindUniform, Min: 0, Max: 10 * time.Millisecond}}, 2)
	first := net.Send(0, 0, 1)
	for now := time.Duration(0); now < first.Due; now += 100 * us {
		if v := net.Send(now, 0, 1); v.Due < first.Due {
			t.Fatalf("message sent at %v due %v, before the first one (%v)", now, v.Due, first.Due)
		}
	}
}

func TestPartitions(t *testing.T) {
	type step struct {
		do   func(*Net)
		want string // reachability matrix of 4 endpoints, row = from
	}
	full := "1111 1111 1111 1111"
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"healed at start", []step{{func(*Net) {}, full}}},
		{"two groups", []step{{func(n *Net) { n.Partition([][]int{{0, 1}, {2, 3}}) }, "1100 1100 0011 0011"}}},
		{"missing endpoint is isolated", []step{{func(n *Net) { n.Partition([][]int{{0, 1, 2}}) }, "1110 1110 1110 0001"}}},
		{"partition replaces partition", []step{
			{func(n *Net) { n.Partition([][]int{{0}, {1, 2, 3}}) }, "1000 0111 0111 0111"},
			{func(n *Net) { n.Partition([][]int{{0, 1, 2}, {3}}) }, "1110 1110 1110 0001"},
		}},
		{"heal", []step{
			{func(n *Net) { n.Partition([][]int{{0}, {1, 2, 3}}); n.Block(1, 2) }, "1000 0101 0111 0111"},
			{func(n *Net) { n.Heal() }, full},
		}},
		{"one-way block", []step{
			{func(n *Net) { n.Block(0, 1) }, "1011 1111 1111 1111"},
			{func(n *Net) { n.Block(2, 0); n.Block(2, 1) }, "1011 1111 0011 1111"},
			{func(n *Net) { n.Unblock(0, 1) }, "1111 1111 0011 1111"},
		}},
		{"blocks survive a new partition", []step{
			{func(n *Net) { n.Block(0, 1) }, "1011 1111 1111 1111"},
			{func(n *Net) { n.Partition([][]int{{0, 1}, {2, 3}}) }, "1000 1100 0011 0011"},
			{func(n *Net) { n.Partition([][]int{{0, 1, 2, 3}}) }, "1011 1111 1111 1111"},
		}},
		{"unblock keeps the partition", []step{
			{func(n *Net) { n.Partition([][]int{{0, 1}, {2, 3}}); n.Block(0, 2); n.Unblock(0, 2) }, "1100 1100 0011 0011"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			net := newNet(t, Config{Latency: constant(100 * us)}, 4)
			for i, s := range c.steps {
				s.do(net)
				if got := matrix(net); got != s.want {
					t.Errorf("after step %d: reachability %s, want %s", i, got, s.want)
				}
			}
		})
	}
}

// matrix renders Reachable for every pair and checks that Send, Deliverable
// and Reachable agree.
func matrix(n *Net) string {
	var b strings.Builder
	for from := range n.Endpoints() {
		if from > 0 {
			b.WriteByte(' ')
		}
		for to := range n.Endpoints() {
			r := n.Reachable(from, to)
			if n.Deliverable(0, from, to) != r || n.Send(0, from, to).Lost == r {
				return "inconsistent"
			}
			b.WriteByte("01"[btoi(r)])
		}
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPartitionInFlight(t *testing.T) {
	net := newNet(t, Config{Latency: constant(time.Millisecond)}, 2)
	v := net.Send(0, 0, 1)
	if v.Lost || v.Due != time.Millisecond {
		t.Fatalf("Send = %+v, want due at 1ms", v)
	}
	net.Partition([][]int{{0}, {1}})
	if net.Deliverable(v.Due, 0, 1) {
		t.Error("message in flight deliverable across a partition made after it was sent")
	}
	if got := net.Send(500*us, 0, 1); !got.Lost || got.Due != 500*us {
		t.Errorf("Send across the partition = %+v, want Lost at 500µs", got)
	}
	net.Heal()
	if !net.Deliverable(v.Due, 0, 1) {
		t.Error("not deliverable after Heal")
	}
}

func TestLossDelaysLikeTCP(t *testing.T) {
	t.Run("always lost breaks the connection", func(t *testing.T) {
		net := newNet(t, Config{Latency: constant(100 * us), Loss: Ratio{1, 1}}, 2)
		v := net.Send(time.Second, 0, 1)
		// 200ms doubling to 102.4s is 204.6s over 10 timeouts, then 6 × 120s.
		want := Verdict{Due: time.Second + 924600*time.Millisecond, Lost: true, Retries: MaxRetries}
		if v != want {
			t.Errorf("Send = %+v, want %+v", v, want)
		}
		if v := net.Send(0, 1, 0); !v.Lost {
			t.Errorf("reverse link = %+v, want Lost", v)
		}
	})
	t.Run("lossy link delays by whole timeouts and keeps order", func(t *testing.T) {
		net := newNet(t, Config{Latency: constant(100 * us), Loss: Ratio{1, 4}}, 2)
		valid := map[time.Duration]int{}
		for rto, sum, k := RTOMin, time.Duration(0), 0; k <= MaxRetries; k++ {
			valid[sum] = k
			sum += rto
			rto = min(2*rto, RTOMax)
		}
		var last time.Duration
		retried, heldBack := 0, 0
		for i := range 2000 {
			now := time.Duration(i) * time.Second
			v := net.Send(now, 0, 1)
			if v.Lost {
				t.Fatalf("message %d lost at loss 1/4", i)
			}
			if v.Due < last {
				t.Fatalf("message %d due %v before its predecessor (%v)", i, v.Due, last)
			}
			own := v.Due - now - 100*us
			if k, ok := valid[own]; ok && k == v.Retries {
				retried += btoi(k > 0)
			} else if v.Due == last {
				heldBack++
			} else {
				t.Fatalf("message %d: Due %v after %d retries is neither its own delay nor held back", i, v.Due, v.Retries)
			}
			last = v.Due
		}
		t.Logf("retried %d, held back %d", retried, heldBack)
		if retried < 400 || retried > 600 || heldBack == 0 {
			t.Errorf("retried %d and held back %d of 2000, want about 500 retried and some held back", retried, heldBack)
		}
	})
}

func TestBandwidth(t *testing.T) {
	net := newNet(t, Config{Latency: constant(100 * us), Bandwidth: 1_000_000}, 2)
	// 1000 bytes at 1 MB/s take 1ms each; three at once queue behind each other.
	for i, want := range []time.Duration{1100 * us, 2100 * us, 3100 * us} {
		if v := net.SendSize(0, 0, 1, 1000); v.Due != want {
			t.Errorf("message %d: Due %v, want %v", i, v.Due, want)
		}
	}
	if v := net.SendSize(10*time.Millisecond, 0, 1, 1); v.Due != 10*time.Millisecond+101*us {
		t.Errorf("a byte on an idle link: Due %v, want 10.101ms (rounded up to a microsecond)", v.Due)
	}
	if v := net.Send(0, 1, 0); v.Due != 100*us {
		t.Errorf("Send without a size: Due %v, want 100µs", v.Due)
	}
}

func TestLinkOverrides(t *testing.T) {
	net := newNet(t, Config{Latency: constant(100 * us)}, 4)
	slow := LinkOverride{Latency: constant(5 * time.Millisecond)}
	if err := net.SetLink(0, 1, slow); err != nil {
		t.Fatal(err)
	}
	if err := net.SetLinks([]int{2, 3}, []int{0, 2, 3}, LinkOverride{Loss: Ratio{1, 1}}); err != nil {
		t.Fatal(err)
	}
	due := func(from, to int) string {
		v := net.Send(0, from, to)
		if v.Lost {
			return "lost"
		}
		return v.Due.String()
	}
	check := func(step string, want []string) {
		t.Helper()
		var got []string
		for _, l := range [][2]int{{0, 1}, {1, 0}, {2, 0}, {2, 3}, {3, 2}, {2, 1}, {0, 2}} {
			got = append(got, due(l[0], l[1]))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: Dues %v, want %v", step, got, want)
		}
	}
	check("set", []string{"5ms", "100µs", "lost", "lost", "lost", "100µs", "100µs"})
	net.ClearLinks([]int{2}, []int{0, 3})
	check("cleared 2->0 and 2->3", []string{"5ms", "100µs", "100µs", "100µs", "lost", "100µs", "100µs"})
	net.Heal()
	net.ClearLink(0, 1)
	check("heal keeps overrides", []string{"5ms", "100µs", "100µs", "100µs", "lost", "100µs", "100µs"})
	if err := net.SetLink(3, 2, LinkOverride{Loss: Ratio{0, 1}}); err != nil {
		t.Fatal(err)
	}
	if v := net.Send(time.Hour, 3, 2); v.Lost || v.Due != time.Hour+100*us {
		t.Errorf("explicitly lossless 3->2: %+v", v)
	}
	for _, bad := range []LinkOverride{
		{Latency: Dist{Kind: "normal", Mean: -us}},
		{Loss: Ratio{3, 2}},
		{Loss: Ratio{1, 0}},
	} {
		if err := net.SetLink(0, 1, bad); err == nil {
			t.Errorf("SetLink(%+v) accepted", bad)
		}
	}
}

func TestReset(t *testing.T) {
	net := newNet(t, Config{Latency: constant(100 * us), Loss: Ratio{1, 1}}, 2)
	if err := net.SetLink(0, 1, LinkOverride{Loss: Ratio{0, 1}, Latency: constant(time.Second)}); err != nil {
		t.Fatal(err)
	}
	net.Send(0, 0, 1)
	if err := net.SetLink(0, 1, LinkOverride{Loss: Ratio{0, 1}}); err != nil {
		t.Fatal(err)
	}
	if v := net.Send(0, 0, 1); v.Due != time.Second {
		t.Errorf("before Reset: Due %v, want 1s (behind the slow message)", v.Due)
	}
	net.Reset(0, 1)
	if v := net.Send(0, 0, 1); v.Due != 100*us {
		t.Errorf("after Reset: Due %v, want 100µs", v.Due)
	}
}

func TestLatencyLeavesFIFOAlone(t *testing.T) {
	net := newNet(t, Config{Latency: constant(time.Millisecond), Loss: Ratio{1, 1}}, 2)
	if err := net.SetLink(0, 1, LinkOverride{Loss: Ratio{0, 1}}); err != nil {
		t.Fatal(err)
	}
	net.Send(0, 0, 1)
	if err := net.SetLink(0, 1, LinkOverride{Loss: Ratio{0, 1}, Latency: constant(100 * us)}); err != nil {
		t.Fatal(err)
	}
	// Latency ignores loss (always lost here) and the slow message ahead.
	if got := net.Latency(0, 1); got != 100*us {
		t.Errorf("Latency = %v, want 100µs", got)
	}
	if v := net.Send(0, 0, 1); v.Due != time.Millisecond {
		t.Errorf("Send after Latency: Due %v, want 1ms (FIFO behind the first)", v.Due)
	}
}

// TestDeterminism: two Nets with the same streams give the same verdicts
// through the same calls, faults included.
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) []Verdict {
		s, _ := streams(seed, 5)
		net, err := New(Config{Latency: lognormal, Loss: Ratio{1, 20}, Bandwidth: 10_000_000}, 5, s)
		if err != nil {
			t.Fatal(err)
		}
		plan := rand.New(rand.NewPCG(seed, 0))
		var out []Verdict
		for i := range 5000 {
			now := time.Duration(i) * 50 * us
			switch plan.IntN(100) {
			case 0:
				net.Partition([][]int{{0, 1}, {2, 3, 4}})
			case 1:
				net.Heal()
			case 2:
				net.Block(plan.IntN(2), 2+plan.IntN(3))
			}
			out = append(out, net.SendSize(now, plan.IntN(5), plan.IntN(5), plan.IntN(2000)))
			out = append(out, Verdict{Due: net.Latency(plan.IntN(5), plan.IntN(5))})
		}
		return out
	}
	a, b, c := run(9), run(9), run(10)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("same streams, different verdicts")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different streams, same verdicts")
	}
}

func TestInvariantPanics(t *testing.T) {
	net := newNet(t, Config{Latency: constant(us)}, 3)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"send from -1", func() { net.Send(0, -1, 0) }},
		{"send to 3", func() { net.Send(0, 0, 3) }},
		{"negative size", func() { net.SendSize(0, 0, 1, -1) }},
		{"deliverable 3", func() { net.Deliverable(0, 3, 0) }},
		{"latency 9", func() { net.Latency(9, 0) }},
		{"block self", func() { net.Block(1, 1) }},
		{"partition 3", func() { net.Partition([][]int{{0, 1, 2, 3}}) }},
		{"endpoint in 2 groups", func() { net.Partition([][]int{{0, 1}, {1, 2}}) }},
		{"set link 5", func() { _ = net.SetLinks([]int{0}, []int{5}, LinkOverride{}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "netmodel: invariant: ") {
					t.Errorf("recovered %v, want a netmodel invariant panic", r)
				}
			}()
			c.f()
		})
	}
}

func BenchmarkSend(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"constant", Config{Latency: constant(100 * us)}},
		{"lognormal", Config{Latency: lognormal}},
		{"lognormal+loss+bandwidth", Config{Latency: lognormal, Loss: Ratio{1, 100}, Bandwidth: 1 << 27}},
	} {
		b.Run(c.name, func(b *testing.B) {
			net := newNet(b, c.cfg, 16)
			i := 0
			for b.Loop() {
				net.SendSize(time.Duration(i)*us, i&15, (i>>4)&15, 512)
				i++
			}
		})
	}
}
