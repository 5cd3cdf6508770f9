package reports

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCalibrationSamples: calibration-samples.csv as `rcsim calibrate`
// writes it gives real points on the latency figures (x the timeout) and
// a real-vs-sim table per phase.
func TestCalibrationSamples(t *testing.T) {
	cal, err := LoadCalibration("testdata/calibration-samples.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows := CalibrationRows(cal)
	if len(rows) != 4 || rows[1].Phase != "promotion" || rows[1].Real.N != 2 || rows[1].Sim.N != 2 ||
		rows[1].Real.P50 != 1890.25 || rows[3].TimeoutMs != 1000 {
		t.Fatalf("rows %+v", rows)
	}
	pts := calibrationPoints(crashMeta, cal, false)
	if len(pts) != 2 || len(pts[0].xys) != 3 || pts[0].xys[2].X != 1000 || pts[0].xys[2].Y != 2.75075 {
		t.Fatalf("promotion points %+v", pts)
	}
	if per := calibrationPoints(crashMeta, cal, true); per[0].xys[0].Y != 1890.25/500 {
		t.Errorf("per timeout: %+v", per[0].xys)
	}
	if calibrationPoints(partMeta, cal, false) != nil {
		t.Error("points drawn on an x axis that is not the node timeout")
	}
	dir := t.TempDir()
	path, err := WriteSweep(dir, crashMeta, loadRuns(t, "crash-runs.jsonl"), Extras{Calibration: cal})
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(path)
	for _, want := range []string{"Calibration against a real server", "real Redis: crash → promotion (3 trials)", "1890.2"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestCalibrationSamplesBad(t *testing.T) {
	for _, c := range []struct{ csv, want string }{
		{"server,fault,timeout,phase,source,trial,ms\n", "x.csv:1: header"},
		{"server,fault,timeout_ms,phase,source,trial,ms\nr,kill,500,pfail,real,0,1\nr,kill,500,vote,real,0,1\n", "x.csv:3: phase: want one of"},
		{"server,fault,timeout_ms,phase,source,trial,ms\nr,kill,500,pfail,fake,0,1\n", "x.csv:2: source"},
		{"server,fault,timeout_ms,phase,source,trial,ms\nr,kill,500,pfail,real,0,abc\n", "x.csv:2: ms"},
		{"server,fault,timeout_ms,phase,source,trial,ms\nr,kill,500,pfail,real,0\n", "wrong number of fields"},
	} {
		if _, err := ReadCalibration("x.csv", strings.NewReader(c.csv)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.csv, err, c.want)
		}
	}
}

// TestComparison: compare.csv and compare.json give the median diff per
// metric and the seeds whose verdict differs, in their own section.
func TestComparison(t *testing.T) {
	c, ok, err := LoadComparison("testdata/compare")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if c.A != "redis-7.0" || c.B != "valkey-8.0" || len(c.Metrics) != 2 ||
		c.Metrics[0] != (CompareMetric{"promotion_ms", 2, -245, 1}) || len(c.VerdictSeeds) != 1 || c.VerdictSeeds[0].Seed != 1 {
		t.Fatalf("%+v", c)
	}
	if _, ok, err := LoadComparison(t.TempDir()); ok || err != nil {
		t.Errorf("no compare.csv: ok %v, err %v", ok, err)
	}
	path, err := WriteSweep(t.TempDir(), crashMeta, loadRuns(t, "crash-runs.jsonl"), Extras{Comparison: c})
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(path)
	for _, want := range []string{"Paired comparison: redis-7.0 vs valkey-8.0", "<td>promotion_ms</td><td>2</td><td>-245.0</td>", "<td>1</td><td>ok</td><td>illegal</td>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	bad := t.TempDir()
	_ = os.WriteFile(filepath.Join(bad, CompareCSV), []byte("seed,metric,a,b,diff\nx,promotion_ms,1,2,1\n"), 0o644)
	if _, _, err := LoadComparison(bad); err == nil || !strings.Contains(err.Error(), "compare.csv:2: seed") {
		t.Errorf("bad seed: %v", err)
	}
}

// TestFailureGroupsAndFindings: failed runs group by what failed with one
// command; lossy runs are listed one by one with theirs.
func TestFailureGroupsAndFindings(t *testing.T) {
	runs := loadRuns(t, "partition-runs.jsonl")
	groups := FailureGroups(partMeta, runs)
	finds, more := RunFindings(partMeta, runs, 2)
	if len(finds) == 0 {
		t.Fatal("the partition runs lose writes; no finding listed")
	}
	want := "rcsim run minority-partition --seed " + strconv.FormatUint(finds[0].Seed, 10) + " --set 'faults[1].at=" + runs[finds[0].Run].Settings["faults[1].at"] + "' --set duration=40s"
	if finds[0].Command != want {
		t.Errorf("command %q, want %q", finds[0].Command, want)
	}
	total := 0
	for _, g := range groups {
		total += g.Count
		if !strings.HasPrefix(g.Command, "rcsim run minority-partition --seed ") {
			t.Errorf("group %q: command %q", g.What, g.Command)
		}
	}
	failed := 0
	lossy := 0
	for _, r := range runs {
		if !r.OK {
			failed++
		}
		if r.Check.LostWrites > 0 || len(r.Invariants) > 0 {
			lossy++
		}
	}
	if total != failed || len(finds)+more != lossy {
		t.Errorf("groups cover %d of %d failed runs; findings %d+%d of %d", total, failed, len(finds), more, lossy)
	}
}
