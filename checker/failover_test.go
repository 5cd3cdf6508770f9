package checker

// Failover timings, convergence and the whole Check on a hand-written trace:
// m0 crashes and m0r0 takes over; later m1 is cut off in a minority and
// never replaced.

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

var update = flag.Bool("update", false, "rewrite golden files")

// parseTrace reads lines "ms node kind peer value" ("-" for empty; value
// is the rest of the line).
func parseTrace(t *testing.T, text string) []trace.Event {
	t.Helper()
	var out []trace.Event
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			t.Fatalf("bad line %q", line)
		}
		var ms int64
		if err := json.Unmarshal([]byte(f[0]), &ms); err != nil {
			t.Fatalf("bad time in %q", line)
		}
		dash := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		if len(f) == 3 {
			f = append(f, "-")
		}
		e := trace.Event{At: time.Duration(ms) * time.Millisecond, Node: dash(f[1]), Kind: trace.Kind(f[2]),
			Peer: dash(f[3]), Value: strings.Join(f[4:], " ")}
		if !e.Kind.Valid() {
			t.Fatalf("bad kind in %q", line)
		}
		trace.Decode(&e)
		out = append(out, e)
	}
	return out
}

const crashTrace = `
0 m0 boot - master 0-5460
0 m1 boot - master 5461-10922
0 m2 boot - master 10923-16383
0 m0r0 boot m0 replica
0 m1r0 boot m1 replica
0 m2r0 boot m2 replica
100 m0 state - ok
100 m1 state - ok
100 m2 state - ok
100 m0r0 state - ok
100 m1r0 state - ok
100 m2r0 state - ok
10000 m0 crash - persist
15000 m1 pfail m0
15100 m2 pfail m0
17000 m1 fail m0 quorum
17000 m1 state - fail
17001 m2 fail m0 message
17001 m2 state - fail
17001 m1r0 state - fail
17200 m2r0 election_start
17400 m0r0 election_start
17700 m0r0 election_start
18000 m0r0 promoted m0 0-5460
18100 m1 slots m0r0 0-5460
18100 m2 slots m0r0 0-5460
18100 m1r0 slots m0r0 0-5460
18100 m2r0 slots m0r0 0-5460
18500 m1 state - ok
18500 m2 state - ok
18500 m1r0 state - ok
30000 m0 restart
30500 m0 role m0r0 replica
31000 m0 state - ok
40000 - partition - m1 client-0 | m0 m0r0 m2 m1r0 m2r0 client-1
45000 m2 pfail m1
45500 m1 state - fail
50000 - heal
51000 m1 state - ok
60000 - finish - duration
`

func ms(v int64) *int64 { return &v }

func TestFailovers(t *testing.T) {
	events := parseTrace(t, crashTrace)
	set := func(slot, inv, ret int) history.Op {
		return history.Op{Kind: "set", Key: "k", Slot: slot, Value: "v", Status: history.OK, Result: "OK",
			Invoke: time.Duration(inv) * time.Millisecond, Return: time.Duration(ret) * time.Millisecond}
	}
	failed := set(100, 17500, 18150)
	failed.Status = history.Fail
	ops := []history.Op{
		set(100, 9000, 9500),    // before the fault
		set(6000, 17000, 18100), // m1's slot
		failed,                  // failed
		set(100, 18300, 18400),  // later than the next
		set(100, 17500, 18200),  // the first write to resume
		set(100, 17900, 17950),  // returned before the promotion
	}
	got := Failovers(events, ops)
	want := []Failover{
		{FailedNode: "m0", FaultAtMs: 10000, PFailMs: ms(5000), FailMs: ms(7000), ElectionMs: ms(7400), PromotedMs: ms(8000),
			ClusterOKMs: ms(8500), WritesResumedMs: ms(8200), PromotedNode: "m0r0"},
		{FailedNode: "m1", FaultAtMs: 40000, PFailMs: ms(5000)},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

// TestConvergenceNeedsLiveOwners: right after a master's crash the others
// still mark it ok and agree it owns its slots; that is no convergence.
func TestConvergenceNeedsLiveOwners(t *testing.T) {
	cut := strings.Index(crashTrace, "15000 m1 pfail")
	events := parseTrace(t, crashTrace[:cut]+"12000 - finish - duration\n")
	if last, at, ok, why := convergence(events); ok || last != 10*time.Second ||
		why != "slot 0 is served by m0, which is down" {
		t.Fatalf("got last=%v at=%v ok=%v why=%q", last, at, ok, why)
	}
}

// TestConvergenceAfterAdminStep: a reshard's SETSLOT NODE binds the slot on
// the node it runs on, and convergence is judged from the step's end.
func TestConvergenceAfterAdminStep(t *testing.T) {
	events := parseTrace(t, crashTrace[:strings.Index(crashTrace, "10000 m0 crash")]+`
5000 admin admin - reshard 1 slots m0->m1: start
5100 m1 setslot m1 0 node
5150 m0 slots m1 0
5150 m0r0 slots m1 0
5150 m1r0 slots m1 0
5200 m2 slots m1 0
5300 m2r0 slots m1 0
5300 admin admin - reshard 1 slots m0->m1: ok
9000 - finish - duration
`)
	if last, at, ok, why := convergence(events); !ok || last != 5300*time.Millisecond || at != 5300*time.Millisecond {
		t.Fatalf("got last=%v at=%v ok=%v why=%q", last, at, ok, why)
	}
}

func TestFailoversNotAMaster(t *testing.T) {
	events := parseTrace(t, `
0 m0 boot - master 0-16383
0 m0r0 boot m0 replica
10 m0r0 crash - wipe
20 - partition - m0r0 | m0
`)
	if got := Failovers(events, nil); len(got) != 0 {
		t.Fatalf("a replica's crash or isolation is no failover: %+v", got)
	}
}

func TestConvergence(t *testing.T) {
	tests := []struct {
		name    string
		extra   string
		ok      bool
		at, why string
	}{
		{"converges after heal", "", true, "51.000s", ""},
		{"stale slot view", "51000 m2r0 slots m0 0-5460", false, "",
			"m0 and m2r0 disagree on slot 0 (m0r0 vs m0)"},
		{"a node stays fail", "51000 m2 state - fail", false, "", "state not ok: m2=fail"},
		{"a node fails after converging", "55000 m2 state - fail", false, "", "state not ok: m2=fail"},
		{"converged again after a lapse", "55000 m2 state - fail\n56000 m2 state - ok", true, "56.000s", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The extra line lands at the moment the cluster would converge.
			events := parseTrace(t, strings.Replace(crashTrace, "51000 m1 state - ok\n", "51000 m1 state - ok\n"+tc.extra+"\n", 1))
			last, at, ok, why := convergence(events)
			if last != 50*time.Second || ok != tc.ok || why != tc.why || ok && trace.FormatTime(at) != tc.at {
				t.Fatalf("got last=%v at=%v ok=%v why=%q", last, at, ok, why)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	hist := readHistory(t, "testdata/good/register.jsonl")
	dur := func(d time.Duration) *time.Duration { return &d }
	yes, zero := true, 0
	in := Input{Scenario: "crash-then-minority", Seed: 7, VirtualMs: 60000, Events: 40, TraceSHA256: "abc",
		Settings: map[string]string{"cluster-node-timeout": "5000"}, Trace: parseTrace(t, crashTrace),
		History: hist, Model: "register", Budget: time.Second, EndMs: 60000,
		Expect: Expect{FailoverWithin: dur(10 * time.Second), Linearizable: &yes,
			ConvergedWithin: dur(5 * time.Second), MaxLostWrites: &zero, ClusterOK: &yes}}
	s, err := Check(in)
	if err != nil {
		t.Fatal(err)
	}
	if s.OK {
		t.Errorf("OK, but m1 was never replaced")
	}
	var failed []string
	for _, e := range s.Expectations {
		if !e.OK {
			failed = append(failed, e.Name)
		}
	}
	if !reflect.DeepEqual(failed, []string{"failover_within"}) {
		t.Errorf("failed expectations %v, want [failover_within]", failed)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/summary.golden.json"
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("summary differs from %s (go test -update to accept):\n%s", golden, b.String())
	}
}

func TestCheckIllegal(t *testing.T) {
	hist := readHistory(t, "testdata/bad/register-lost-write.jsonl")
	no, one := false, 1
	s, err := Check(Input{History: hist, Model: "register", Expect: Expect{Linearizable: &no, MaxLostWrites: &one}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.OK || s.Check.Verdict != VerdictIllegal || s.Check.Linearizable || s.Check.LostWrites != 1 ||
		len(s.Check.Keys) != 1 || len(s.Check.Keys[0].Ops) != 2 {
		t.Fatalf("got %+v", s)
	}
	if s.Expectations[0].Got != "false (1 illegal keys)" {
		t.Errorf("got %q", s.Expectations[0].Got)
	}
}

// TestFailoversFromOtherFaults: a pause or a one-way cut counts as the start
// of a failover only once a promotion over that master follows; the latest
// such fault naming the master is the start, its end ("resume", "… end")
// never is, and a fault that costs nobody their slots leaves no record.
func TestFailoversFromOtherFaults(t *testing.T) {
	boot := `
0 m0 boot - master 0-5460
0 m1 boot - master 5461-10922
0 m2 boot - master 10923-16383
0 m0r0 boot m0 replica
`
	cases := []struct {
		name, trace string
		want        []Failover
	}{
		{"pause", boot + `
5000 m1 fault - clock jump +2s
10000 m0 fault - pause
16000 m1 pfail m0
17000 m0r0 promoted m0 0-5460
20000 m0 fault - resume backlog=3
`, []Failover{{FailedNode: "m0", FaultAtMs: 10000, PFailMs: ms(6000), PromotedMs: ms(7000), PromotedNode: "m0r0"}}},
		{"one_way", boot + `
2000 - fault - one-way m2 -> m0 m1 m0r0
3000 - fault - one-way end m2 -> m0 m1 m0r0
10000 - fault - one-way m0 -> m1 m2 m0r0 client-0
12000 - fault - one-way end m0 -> m1 m2 m0r0 client-0
17000 m0r0 promoted m0 0-5460
`, []Failover{{FailedNode: "m0", FaultAtMs: 10000, PromotedMs: ms(7000), PromotedNode: "m0r0"}}},
		{"no_promotion", boot + `
10000 m0 fault - pause
11000 m0 fault - resume backlog=0
`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Failovers(parseTrace(t, c.trace), nil)
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(c.want)
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
}
