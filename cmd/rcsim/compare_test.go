package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcsim/rcsim/reports"
)

// TestCompareSameRulesNoDifferences: the same seeds under the same rule set
// give zero differences and the same verdicts; exit 0.
func TestCompareSameRulesNoDifferences(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "compare", "master-crash", "--a", "rules=valkey-9.0", "--b", "rules=valkey-9.0",
		"--seeds", "1..2", "-q", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "verdicts: the same at every seed") {
		t.Fatalf("verdicts differ:\n%s", out)
	}
	f, err := os.Open(filepath.Join(dir, "compare.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "seed,metric,a,b,diff" {
		t.Fatalf("compare.csv: %v %v", err, rows)
	}
	for _, r := range rows[1:] {
		if r[4] != "" && r[4] != "0" || r[2] != r[3] {
			t.Fatalf("difference under the same rules: %v", r)
		}
	}
}

// TestCompareRuleSets: redis-7.0 against valkey-9.0 on the multi-primary
// crash prints the paired statistics and writes compare.json with both
// labels; exit 0 whatever the differences.
func TestCompareRuleSets(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "compare", "multi-primary-crash", "--a", "rules=redis-7.0", "--b", "rules=valkey-9.0",
		"--seeds", "1..2", "-q", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"median B−A", "95% CI of B−A", "promotion_ms:m0", "downtime_ms:m4", "per seed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "compare.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		A, B struct{ Label string }
	}
	if err := json.Unmarshal(b, &c); err != nil || c.A.Label != "rules=redis-7.0" || c.B.Label != "rules=valkey-9.0" {
		t.Fatalf("compare.json labels %+v (%v)", c, err)
	}
	if code, _, _ := runCLI(t, "compare", "multi-primary-crash", "--seeds", "1"); code != exitBadInput {
		t.Fatalf("one scenario without --a/--b: exit %d, want %d", code, exitBadInput)
	}
}

// TestReportPairedView: rcsim report of a sweep over one setting prints the
// paired view and writes compare.csv and compare.json beside the report.
func TestReportPairedView(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runCLI(t, "sweep", "master-crash", "--set", "rules=redis-7.0,valkey-9.0", "--seeds", "1..2",
		"-q", "--out", dir); code != exitOK {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := runCLI(t, "report", dir)
	if code != exitOK || !strings.Contains(out, "A = rules=redis-7.0, B = rules=valkey-9.0") {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"compare.csv", "compare.json", "compare.png"} {
		if _, err := os.Stat(filepath.Join(dir, "report", f)); err != nil {
			t.Error(err)
		}
	}
}

// TestPrintComparisonCapsNodeRows: a comparison with more per-node metrics
// than maxNodeRows prints every run-level metric, the first maxNodeRows
// per-node ones, in both tables, and how many it left out and where they
// are.
func TestPrintComparisonCapsNodeRows(t *testing.T) {
	v := int64(7)
	c := reports.Comparison{Scenario: "s", Seeds: []uint64{1}}
	c.Metrics = append(c.Metrics, reports.PairedStats{Metric: "recovery_ms", N: 1})
	c.Rows = append(c.Rows, reports.PairRow{Seed: 1, Metric: "recovery_ms", A: &v, B: &v, Diff: new(int64)})
	for i := range maxNodeRows + 5 {
		m := fmt.Sprintf("promotion_ms:m%d", i)
		c.Metrics = append(c.Metrics, reports.PairedStats{Metric: m, N: 1})
		c.Rows = append(c.Rows, reports.PairRow{Seed: 1, Metric: m, A: &v, B: &v, Diff: new(int64)})
	}
	for _, tc := range []struct{ rest, where string }{{"d/compare.csv", "all are in d/compare.csv"}, {"", "rerun with --out"}} {
		var b strings.Builder
		printComparison(&b, c, tc.rest)
		out := b.String()
		last := fmt.Sprintf("promotion_ms:m%d", maxNodeRows-1)
		if strings.Count(out, "recovery_ms") != 2 || strings.Count(out, last) != 2 || strings.Contains(out, fmt.Sprintf("promotion_ms:m%d", maxNodeRows)) {
			t.Errorf("rows shown:\n%s", out)
		}
		if !strings.Contains(out, "and 5 more per-node metrics") || !strings.Contains(out, tc.where) {
			t.Errorf("no count of the rows left out, or not where they are (%q):\n%s", tc.where, out)
		}
	}
}
