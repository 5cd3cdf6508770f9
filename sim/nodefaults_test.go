package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// TestClockSkewAndDrift: a node's clock is now + skew, plus what a drift
// gained since it began; a drift's end keeps the gain; a jump adds to skew.
func TestClockSkewAndDrift(t *testing.T) {
	s, err := scenarios.Builtin("no-faults")
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorld(s, Options{Seed: 1, Until: s.Duration, MaxEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := w.hosts[0]
	steps := []struct {
		name string
		at   time.Duration
		do   func()
		want time.Duration
	}{
		{"no skew", time.Second, func() {}, time.Second},
		{"jump ahead", 2 * time.Second, func() { w.jumpClock(h, 10*time.Second) }, 12 * time.Second},
		{"drift 50% starts", 2 * time.Second, func() { w.setDrift(h, 50) }, 12 * time.Second},
		{"drifted 2s for 4s", 6 * time.Second, func() {}, 18 * time.Second},
		{"drift ends, gain kept", 6 * time.Second, func() { w.setDrift(h, 0) }, 18 * time.Second},
		{"no more drift", 8 * time.Second, func() {}, 20 * time.Second},
		{"jump back", 8 * time.Second, func() { w.jumpClock(h, -25*time.Second) }, -5 * time.Second},
	}
	for _, st := range steps {
		w.now = st.at
		st.do()
		if got := w.clock(h); got != st.want {
			t.Errorf("%s: clock at %v = %v, want %v", st.name, st.at, got, st.want)
		}
	}
}

// TestEveryFaultKindRuns runs the scenario holding every fault kind, then
// again after a Marshal/Parse round trip, checks both runs give one trace,
// and that each fault and its end is on it.
func TestEveryFaultKindRuns(t *testing.T) {
	s, err := scenarios.Load("../scenarios/testdata/good/faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func() *Result {
		res, err := Run(s, Options{Seed: 3, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := run()
	// Written back as a file and read again, the schedule replays the same
	// trace: what a generator saves is what runs.
	data, err := scenarios.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = scenarios.Parse("saved.yaml", data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if b := run(); a.TraceSHA256 != b.TraceSHA256 {
		t.Fatalf("saved and replayed: %s, original %s", b.TraceSHA256, a.TraceSHA256)
	}
	var lines []string
	for _, e := range a.Trace {
		switch e.Kind {
		case trace.Fault, trace.Heal, trace.Crash, trace.Restart, trace.Note:
			lines = append(lines, trace.Describe(e))
		}
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"1.000s fault one-way m0 -> ", "3.000s fault one-way end m0 -> ",
		"4.000s fault flap down m1 client-1 -> ", "4.250s fault flap up ", "6.000s fault flap end ",
		"7.000s fault loss 20/100 ", "9.000s heal",
		"10.000s fault reset m2 <-> m2r0 m2r1 connections=", " fault pause", " fault resume backlog=",
		"14.000s m2r0 fault slow 3ms", "19.000s m2r0 fault slow end",
		"20.000s m1r1 fault clock jump -2s", "21.000s m1r1 fault clock jump +2s",
		"22.000s m1r0 fault clock drift -10%", "25.000s m1r0 fault clock drift end skew=-300ms",
		" crash wipe", "30.000s ", "restart without nodes.conf",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
}
