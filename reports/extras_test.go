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

// TestComparison: report.html's paired section shows compare.json's own
// statistics (not a recomputation), its interval, the seeds whose verdict
// differs with their run lines, and the paired figure drawn from
// compare.csv's rows; malformed files are refused naming file and line.
func TestComparison(t *testing.T) {
	c, ok, err := LoadComparison("testdata/compare")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if c.A.Label != "cluster-node-timeout=1000" || c.B.Label != "cluster-node-timeout=5000" || len(c.Seeds) != 5 ||
		len(c.Metrics) == 0 || len(c.Rows) != 5*len(c.Metrics) || len(c.VerdictDiffers) != 1 || c.VerdictDiffers[0].Seed != 2 {
		t.Fatalf("loaded %+v", c)
	}
	if _, ok, err := LoadComparison(t.TempDir()); ok || err != nil {
		t.Errorf("no compare.json: ok %v, err %v", ok, err)
	}
	out := t.TempDir()
	path, err := WriteSweep(out, crashMeta, loadRuns(t, "crash-runs.jsonl"), Extras{Comparison: c})
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(path)
	for _, want := range []string{
		"Paired comparison: cluster-node-timeout=1000 vs cluster-node-timeout=5000",
		// writes_resumed_ms as compare.json has it: n 5, medians, diff and interval.
		"<td>writes_resumed_ms</td><td>5</td><td>0</td><td>0</td><td>5</td><td>2688.0</td><td>8060.0</td><td>5372.0</td><td>[4705.0, 6247.0]</td>",
		"<td>2</td><td class=\"text\">history ok, failed: linearizable<br><code class=\"cmd\">rcsim run minority-partition --seed 2 --set &#39;cluster-node-timeout=1000&#39;</code>",
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "compare.png")); err != nil {
		t.Errorf("the paired figure was not drawn: %v", err)
	}
	for _, bad := range []struct{ json, csv, want string }{
		{`{"scenario": "x", "seeds": [1], "metrics": [{"metric": "a", "n": "two"}]}`, "seed,metric,a,b,diff\n", "compare.json:1: json: cannot unmarshal string"},
		{"{\n\"scenario\": \"x\",\n\"sedes\": [1]}", "seed,metric,a,b,diff\n", `compare.json:3: json: unknown field "sedes"`},
		{`{"scenario": "x", "seeds": [1]}`, "seed,metric,a,b,diff\nx,promotion_ms,1,2,1\n", "compare.csv:2: seed"},
		{`{"scenario": "x", "seeds": [1]}`, "seed,metric,a,b,diff\n1,promotion_ms,1,2.5,1\n", "compare.csv:2: b: want an integer"},
		{`{"scenario": "x", "seeds": [1]}`, "", "compare.csv: missing beside compare.json"},
		{`{"seeds": [1]}`, "", "not an rcsim compare result"},
	} {
		dir := t.TempDir()
		_ = os.WriteFile(filepath.Join(dir, CompareJSON), []byte(bad.json), 0o644)
		if bad.csv != "" {
			_ = os.WriteFile(filepath.Join(dir, CompareCSV), []byte(bad.csv), 0o644)
		}
		if _, _, err := LoadComparison(dir); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q + %q: %v, want %q", bad.json, bad.csv, err, bad.want)
		}
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
