package checker

// Trace invariants on hand-written traces, one behaviour per case.

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// epochTrace reads lines "ms node kind peer epoch value" ("-" for empty;
// value is the rest of the line).
func epochTrace(t *testing.T, text string) []trace.Event {
	t.Helper()
	var out []trace.Event
	dash := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		for len(f) < 5 {
			f = append(f, "-")
		}
		ms, err1 := strconv.ParseInt(f[0], 10, 64)
		ep, err2 := strconv.ParseUint(strings.ReplaceAll(f[4], "-", "0"), 10, 64)
		e := trace.Event{At: time.Duration(ms) * time.Millisecond, Node: dash(f[1]), Kind: trace.Kind(f[2]),
			Peer: dash(f[3]), Epoch: ep, Value: strings.Join(f[5:], " ")}
		if err1 != nil || err2 != nil || !e.Kind.Valid() {
			t.Fatalf("bad line %q", line)
		}
		trace.Decode(&e)
		out = append(out, e)
	}
	return out
}

const bootThree = `
0 m0 boot - - master 0-5460
0 m1 boot - - master 5461-10922
0 m2 boot - - master 10923-16383
0 m0r0 boot m0 - replica
0 m1r0 boot m1 - replica
0 m2r0 boot m2 - replica
1000 m0 state - - ok
1000 m1 state - - ok
1000 m2 state - - ok
1000 m0r0 state - - ok
1000 m1r0 state - - ok
1000 m2r0 state - - ok
`

func TestCheckInvariants(t *testing.T) {
	cases := []struct {
		name  string
		trace string
		want  []string // "rule node" per violation, in order
	}{
		{name: "a clean failover breaks nothing", trace: bootThree + `
10000 m0 crash - - persist
15000 m1 vote m0r0 7
15000 m2 vote m0r0 7
15001 m0r0 epoch - 7 election
15002 m0r0 config_epoch - 7 election
15002 m0r0 promoted m0 7 0-5460
15002 m0r0 role - - master
15003 m1 slots m0r0 7 0-5460
15003 m2 slots m0r0 7 0-5460
20000 m0 restart
20100 m0 slots m0r0 7 0-5460
20100 m0 role m0r0 - replica
`},
		{name: "two nodes claiming a slot in one configEpoch are caught", trace: bootThree + `
10000 m0r0 config_epoch - 7 takeover
10000 m0r0 promoted m0 7 0-5460
10500 m1r0 config_epoch - 7 takeover
10500 m1 slots m1r0 7 100-200 5461-10922
`, want: []string{"one_master_per_slot_epoch m1r0"}},
		{name: "a second vote in one epoch is caught", trace: bootThree + `
15000 m1 vote m0r0 7
15100 m1 vote m2r0 7
`, want: []string{"one_vote_per_epoch m1"}},
		{name: "votes in different epochs are fine", trace: bootThree + `
15000 m1 vote m0r0 7
25000 m1 vote m2r0 8
`},
		{name: "currentEpoch going down is caught", trace: bootThree + `
15000 m1 epoch - 7 header
16000 m1 epoch - 6 header
`, want: []string{"epochs_monotonic m1"}},
		{name: "configEpoch going down is caught", trace: bootThree + `
15000 m0r0 config_epoch - 7 election
15000 m0r0 promoted m0 7 0-5460
16000 m0r0 config_epoch - 5 collision
`, want: []string{"epochs_monotonic m0r0"}},
		{name: "epochs start over after a crash that lost nodes.conf", trace: bootThree + `
15000 m1 epoch - 7 header
16000 m1 crash - - wipe
17000 m1 restart
18000 m1 epoch - 2 header
`},
		{name: "epochs survive a crash with nodes.conf", trace: bootThree + `
15000 m1 epoch - 7 header
16000 m1 crash - - persist
17000 m1 restart
18000 m1 epoch - 2 header
`, want: []string{"epochs_monotonic m1"}},
		{name: "two masters sharing a configEpoch after convergence are caught", trace: bootThree + `
10000 m0 config_epoch - 9 bump
10000 m1 config_epoch - 9 bump
`, want: []string{"unique_config_epoch "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, v := range CheckInvariants(epochTrace(t, c.trace)) {
				got = append(got, v.Rule+" "+v.Node)
				if v.Detail == "" {
					t.Errorf("%s: no detail", v.Rule)
				}
			}
			if strings.Join(got, "; ") != strings.Join(c.want, "; ") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestSlotConflictNamesNodesSlotsAndEpoch(t *testing.T) {
	vs := CheckInvariants(epochTrace(t, bootThree+`
10000 m0r0 config_epoch - 7 takeover
10000 m0r0 promoted m0 7 0-5460
10500 m1 slots m2r0 7 5000-5010
`))
	if len(vs) != 1 {
		t.Fatalf("got %v", vs)
	}
	want := "m0r0 and m2r0 both claim slots 5000-5010 with configEpoch 7 (m0r0 since 10.000s)"
	if vs[0].Detail != want || vs[0].At != 10500*time.Millisecond {
		t.Errorf("got %q at %s, want %q at 10.500s", vs[0].Detail, vs[0].At, want)
	}
}

func TestCheckConvergence(t *testing.T) {
	cases := []struct {
		name, trace string
		bound       time.Duration
		violated    bool
		how         string
	}{
		{name: "converging within the bound holds", trace: bootThree + "4000 m0 state - - fail\n5000 - heal\n6000 m0 state - - ok\n",
			bound: 5 * time.Second, how: "converged 1.000s after the last fault or admin step at 5.000s (bound 5s)"},
		{name: "converging late is a violation", trace: bootThree + "4000 m0 state - - fail\n5000 - heal\n12000 m0 state - - ok\n",
			bound: 5 * time.Second, violated: true, how: "converged too late"},
		{name: "never converging past the bound is a violation", trace: bootThree + "4000 m0 state - - fail\n5000 - heal\n20000 - finish - - duration\n",
			bound: 5 * time.Second, violated: true, how: "not converged"},
		{name: "a run ending inside the bound is not judged", trace: bootThree + "4000 m0 state - - fail\n5000 - heal\n7000 - finish - - duration\n",
			bound: 5 * time.Second, how: "not judged: the run ended 2.000s after the last fault or admin step, inside the bound 5s (state not ok: m0=fail)"},
		{name: "an unhealed partition is not judged", trace: bootThree + "5000 - partition - - m0 | m1 m2\n60000 - finish - - duration\n",
			bound: 5 * time.Second, how: "not judged: a partition is still in place at the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs, how := CheckConvergence(epochTrace(t, c.trace), c.bound)
			if (len(vs) > 0) != c.violated || how != c.how {
				t.Errorf("got %v %q, want violated=%v %q", vs, how, c.violated, c.how)
			}
		})
	}
}

func TestViolationJSONRoundTrip(t *testing.T) {
	v := Violation{Rule: RuleOneVote, At: 1500 * time.Microsecond, Node: "m1", Detail: "twice"}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"rule":"one_vote_per_epoch","at_us":1500,"node":"m1","detail":"twice"}` {
		t.Errorf("got %s", b)
	}
	var back Violation
	if err := json.Unmarshal(b, &back); err != nil || back != v {
		t.Errorf("round trip: %v %v", back, err)
	}
}

func TestCheckFailsOnAnInvariant(t *testing.T) {
	events := epochTrace(t, bootThree+"15000 m1 vote m0r0 7\n15100 m1 vote m2r0 7\n")
	s, err := Check(Input{Trace: events})
	if err != nil {
		t.Fatal(err)
	}
	if s.OK || len(s.Invariants) != 1 || s.Invariants[0].Rule != RuleOneVote {
		t.Fatalf("ok %v, invariants %v; want not ok with one_vote_per_epoch", s.OK, s.Invariants)
	}
	if s, _ = Check(Input{Trace: epochTrace(t, bootThree)}); !s.OK || len(s.Invariants) != 0 {
		t.Fatalf("a clean trace: ok %v, invariants %v", s.OK, s.Invariants)
	}
}
