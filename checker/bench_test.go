package checker

// Speed of the whole checker on a large linearizable register history.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// genRegister builds a linearizable register history: clients each keep one
// op in flight on a random key; each op takes effect at one instant inside
// its interval, so concurrency per key stays about clients/keys.
func genRegister(seed uint64, n, keys, clients int) []history.Op {
	return genRegisterValues(seed, n, keys, clients, 0)
}

// genRegisterValues is genRegister with set values drawn from 0..alphabet-1
// (0: every value unique).
func genRegisterValues(seed uint64, n, keys, clients, alphabet int) []history.Op {
	rnd := rand.New(rand.NewPCG(seed, 0))
	values := make([]string, keys) // current value per key ("" = missing)
	next := make([]time.Duration, clients)
	type pending struct {
		op     history.Op
		effect time.Duration
	}
	var inflight []pending
	for i := 0; i < n; i++ {
		c := i % clients
		inv := next[c]
		lat := time.Duration(1+rnd.IntN(40)) * time.Microsecond
		eff := inv + time.Duration(rnd.Int64N(int64(lat)+1))
		k := rnd.IntN(keys)
		op := history.Op{Client: c, Key: fmt.Sprintf("k%d", k), Slot: k, Invoke: inv, Return: inv + lat, Status: history.OK}
		if rnd.IntN(2) == 0 {
			op.Kind, op.Value, op.Result = "set", fmt.Sprintf("c%d-%d", c, i), "OK"
			if alphabet > 0 {
				op.Value = strconv.Itoa(rnd.IntN(alphabet))
			}
		} else {
			op.Kind = "get"
		}
		inflight = append(inflight, pending{op, eff})
		next[c] = op.Return + time.Duration(1+rnd.IntN(3))*time.Microsecond
	}
	// Apply effects in effect order (ties by creation order) to fill reads.
	order := make([]int, len(inflight))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return inflight[order[a]].effect < inflight[order[b]].effect })
	for _, i := range order {
		p := &inflight[i]
		k := p.op.Slot
		if p.op.Kind == "set" {
			values[k] = p.op.Value
		} else if values[k] == "" {
			p.op.Nil = true
		} else {
			p.op.Result = values[k]
		}
	}
	ops := make([]history.Op, len(inflight))
	for i, p := range inflight {
		ops[i] = p.op
	}
	return ops
}

func TestGeneratedHistoryIsLinearizable(t *testing.T) {
	ops := genRegister(1, 5000, 20, 10)
	res, err := CheckLinearizable("register", ops, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != VerdictOK {
		t.Fatalf("verdict %s on a generated linearizable history: %+v", res.Verdict, res.Keys)
	}
	// One wrong read makes it illegal, and is named.
	for i := range ops {
		if ops[i].Kind == "get" && !ops[i].Nil && i > 2500 {
			ops[i].Result = "never-written"
			res, err = CheckLinearizable("register", ops, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != VerdictIllegal || len(res.Keys) != 1 {
				t.Fatalf("verdict %s, keys %d after a bad read", res.Verdict, len(res.Keys))
			}
			named := false
			for _, o := range res.Keys[0].Ops {
				named = named || o.Result == "never-written"
			}
			if !named {
				t.Fatalf("the bad read is not named: %+v", res.Keys[0].Ops)
			}
			return
		}
	}
	t.Fatal("no read to corrupt")
}

// BenchmarkCheck50k checks 50,000 ops over 100 keys with 50 clients (about
// one op in flight per two keys).
func BenchmarkCheck50k(b *testing.B) {
	ops := genRegister(42, 50000, 100, 50)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		s, err := Check(Input{History: ops, Model: "register", Budget: time.Minute})
		if err != nil || s.Check.Verdict != VerdictOK {
			b.Fatalf("verdict %s, err %v", s.Check.Verdict, err)
		}
	}
}

// BenchmarkCheck1M checks 1,000,000 ops over 1,000 keys with 100 clients.
func BenchmarkCheck1M(b *testing.B) {
	ops := genRegister(42, 1_000_000, 1000, 100)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		s, err := Check(Input{History: ops, Model: "register", Budget: 10 * time.Minute})
		if err != nil || s.Check.Verdict != VerdictOK {
			b.Fatalf("verdict %s, err %v", s.Check.Verdict, err)
		}
	}
}

// BenchmarkOneKeySetsThenNilReads2000 is the case that was cubic: one key,
// 2,000 sets, then 2,000 nil reads (every read missed every set; every
// set is lost). The whole check, Porcupine included, should take well
// under a second.
func BenchmarkOneKeySetsThenNilReads2000(b *testing.B) {
	const n = 2000
	var ops []history.Op
	for i := 0; i < 2*n; i++ {
		op := history.Op{Client: i % 2, Key: "k", Invoke: time.Duration(10 * i), Return: time.Duration(10*i + 5), Status: history.OK}
		if i < n {
			op.Kind, op.Value, op.Result = "set", strconv.Itoa(i), "OK"
		} else {
			op.Kind, op.Nil = "get", true
		}
		ops = append(ops, op)
	}
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		s, err := Check(Input{History: ops, Model: "register", Budget: time.Minute})
		if err != nil || s.Check.Verdict != VerdictIllegal || s.Check.LostWrites != n {
			b.Fatalf("verdict %s, %d lost, err %v", s.Check.Verdict, s.Check.LostWrites, err)
		}
	}
}

// BenchmarkHotListKey: two clients on one list key, 4,000 rpushes and
// 4,000 lranges of the growing list (8 million elements read in all).
func BenchmarkHotListKey(b *testing.B) {
	var ops []history.Op
	var list []string
	for i := 0; i < 8000; i++ {
		op := history.Op{Client: i % 2, Key: "l", Invoke: time.Duration(10 * i), Return: time.Duration(10*i + 5), Status: history.OK}
		if i%2 == 0 {
			v := strconv.Itoa(i)
			list = append(list, v)
			op.Kind, op.Value, op.Result = "rpush", v, strconv.Itoa(len(list))
		} else {
			op.Kind, op.List = "lrange", list[:len(list):len(list)]
		}
		ops = append(ops, op)
	}
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		s, err := Check(Input{History: ops, Model: "list", Budget: time.Minute})
		if err != nil || s.Check.Verdict != VerdictOK {
			b.Fatalf("verdict %s, err %v", s.Check.Verdict, err)
		}
	}
}

// BenchmarkAnalyze50k is the lost/stale analysis alone on the 50k history.
func BenchmarkAnalyze50k(b *testing.B) {
	ops := genRegister(42, 50000, 100, 50)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		if a := Analyze("register", ops, time.Time{}); len(a.Lost)+len(a.Stale) != 0 {
			b.Fatal("anomalies in a linearizable history")
		}
	}
}

// reportCPU reports the process's CPU time (user + system, every thread)
// per op as cpu-s/op when the returned func runs: on a shared machine the
// wall time says little.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric((cpu()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

// failoverTrace is a run of 10 masters with a replica each in which every
// master in turn crashes, is suspected and failed by every other node, and
// is replaced by its replica, which the cluster then agrees on; rounds
// times over, with currentEpoch gossip between the failovers.
func failoverTrace(rounds int) []trace.Event {
	const shards = 10
	master := make([]string, shards)
	replica := make([]string, shards)
	var ev []trace.Event
	at := time.Duration(0)
	add := func(e trace.Event) { e.At = at; ev = append(ev, e) }
	per := numSlots / shards
	slots := func(i int) []trace.SlotRange {
		return []trace.SlotRange{{Start: i * per, End: min((i+1)*per, numSlots) - 1}}
	}
	for i := range shards {
		master[i], replica[i] = fmt.Sprintf("m%d", i), fmt.Sprintf("m%dr0", i)
		add(trace.Event{Node: master[i], Kind: trace.Boot, Epoch: uint64(i + 1), Detail: &trace.Detail{Slots: slots(i)}})
	}
	for i := range shards {
		add(trace.Event{Node: replica[i], Kind: trace.Boot, Peer: master[i]})
	}
	all := append(slices.Clone(master), replica...)
	for _, n := range all {
		add(trace.Event{Node: n, Kind: trace.State, Value: "ok"})
	}
	epoch := uint64(shards)
	for r := range rounds {
		i := r % shards
		m, p := master[i], replica[i]
		at += time.Second
		add(trace.Event{Node: m, Kind: trace.Crash, Value: "persist"})
		at += 5 * time.Second
		for _, n := range all {
			if n != m {
				add(trace.Event{Node: n, Kind: trace.PFail, Peer: m})
			}
		}
		at += time.Second
		for _, n := range all {
			if n != m {
				add(trace.Event{Node: n, Kind: trace.Fail, Peer: m})
				add(trace.Event{Node: n, Kind: trace.State, Value: "fail"})
			}
		}
		at += 500 * time.Millisecond
		add(trace.Event{Node: p, Kind: trace.ElectionStart})
		epoch++
		at += 100 * time.Millisecond
		add(trace.Event{Node: p, Kind: trace.Promoted, Peer: m, Epoch: epoch, Detail: &trace.Detail{Slots: slots(i)}})
		for _, n := range all {
			if n != m && n != p {
				add(trace.Event{Node: n, Kind: trace.Slots, Peer: p, Epoch: epoch, Detail: &trace.Detail{Slots: slots(i)}})
				add(trace.Event{Node: n, Kind: trace.Epoch, Epoch: epoch, Value: "gossip"})
			}
		}
		at += 200 * time.Millisecond
		for _, n := range all {
			if n != m {
				add(trace.Event{Node: n, Kind: trace.State, Value: "ok"})
			}
		}
		at += 2 * time.Second
		add(trace.Event{Node: m, Kind: trace.Restart})
		add(trace.Event{Node: m, Kind: trace.Role, Value: "replica", Peer: p})
		add(trace.Event{Node: m, Kind: trace.State, Value: "ok"})
		master[i], replica[i] = p, m
	}
	return ev
}

// BenchmarkCheckTrace checks the trace stages of a run of 200 failovers
// (23,640 events) with no client history.
func BenchmarkCheckTrace(b *testing.B) {
	events := failoverTrace(200)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		s, err := Check(Input{Trace: events})
		if err != nil || len(s.Failovers) != 200 || !s.OK {
			b.Fatalf("failovers %d, ok %v, err %v, %v", len(s.Failovers), s.OK, err, s.Invariants)
		}
	}
}
