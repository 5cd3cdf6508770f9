package reports

import (
	"reflect"
	"testing"

	"github.com/rcsim/rcsim/checker"
)

func sumOf(seed uint64, promoted int64, ok bool) checker.Summary {
	p := promoted
	return checker.Summary{Seed: seed, OK: ok, Failovers: []checker.Failover{{FailedNode: "m0", FaultAtMs: 10000,
		PromotedMs: &p}}, Check: checker.CheckSummary{Verdict: "ok", Linearizable: true}}
}

// TestComparePaired: the differences are B − A per seed, the median and
// the bootstrap interval are the same on every call, a metric one side
// lacks counts as only-A, and a verdict that differs names both run lines.
func TestComparePaired(t *testing.T) {
	a := []checker.Summary{sumOf(1, 1000, true), sumOf(2, 2000, true), sumOf(3, 3000, true)}
	b := []checker.Summary{sumOf(1, 1500, true), sumOf(2, 2100, false), sumOf(3, 3300, true)}
	b[2].Failovers[0].PromotedMs = nil
	sa, sb := Side{Label: "A", Source: "s", Sets: []string{"rules=redis-7.0"}}, Side{Label: "B", Source: "s"}
	c1, err := Compare("s", sa, sb, a, b)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := Compare("s", sa, sb, a, b)
	if !reflect.DeepEqual(c1, c2) {
		t.Fatal("Compare is not deterministic")
	}
	var st PairedStats
	for _, m := range c1.Metrics {
		if m.Metric == "promotion_ms:m0" {
			st = m
		}
	}
	if st.N != 2 || st.OnlyA != 1 || *st.MedianDiff != 300 || *st.CILow != 100 || *st.CIHigh != 500 {
		t.Fatalf("stats %+v", st)
	}
	if len(c1.VerdictDiffers) != 1 || c1.VerdictDiffers[0].Seed != 2 ||
		c1.VerdictDiffers[0].RunA != "rcsim run s --seed 2 --set 'rules=redis-7.0'" {
		t.Fatalf("verdict differences %+v", c1.VerdictDiffers)
	}
	if got := string(c1.CSV()); got[:len("seed,metric,a,b,diff\n")] != "seed,metric,a,b,diff\n" {
		t.Fatalf("csv header: %q", got)
	}
	f := PairedFigure(c1)
	if f.Title == "" || f.YLabel != "B − A (s)" || f.Data == nil {
		t.Fatalf("figure %+v", f)
	}
}
