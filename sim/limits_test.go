package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/scenarios"
)

// TestCostBound: a run that cannot fit in MaxEvents is refused before it
// starts; one that reaches the limit stops there and says so.
func TestCostBound(t *testing.T) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	// 6 nodes × 600 ticks a minute, plus 2 × 200 ops/s × 60 s.
	if got := MinEvents(s, 0); got != 6*600+2*200*60 {
		t.Errorf("MinEvents %d", got)
	}
	if _, err := Run(s, Options{MaxEvents: 1000}); err == nil || !strings.Contains(err.Error(), "needs at least 27600 events") {
		t.Errorf("a run over the limit: %v", err)
	}
	res, err := Run(s, Options{MaxEvents: 30000})
	if err != nil || res.StopReason != "event limit" || res.Steps != 30000 || res.VirtualEnd >= s.Duration {
		t.Errorf("stopped at the limit: %v %+v", err, res)
	}
	if _, err := Run(s, Options{Until: -time.Second}); err == nil {
		t.Error("a negative Until ran")
	}
}

// TestAbort: Options.Abort gives a run up between events.
func TestAbort(t *testing.T) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := Run(s, Options{Abort: func() bool { calls++; return calls == 3 }})
	if err != nil || res.StopReason != "aborted" || res.Steps != 2*AbortEvery {
		t.Errorf("aborted run: %v, stop %q after %d steps", err, res.StopReason, res.Steps)
	}
}
