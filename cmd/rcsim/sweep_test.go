package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const shortCrash = "../../sim/sweep/testdata/short-crash.yaml"

// sweepArgs is a small sweep: 2 node timeouts × 2 seeds of a short crash.
func sweepArgs(out string, extra ...string) []string {
	return append([]string{"sweep", shortCrash, "--set", "cluster-node-timeout=500,1000", "--seeds", "1..2",
		"--out", out, "-q"}, extra...)
}

func TestSweepReportMerge(t *testing.T) {
	whole := filepath.Join(t.TempDir(), "whole")
	code, out, errs := runCLI(t, sweepArgs(whole, "--jobs", "2")...)
	if code != exitOK || !strings.Contains(out, "4 runs of short-crash") {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, errs)
	}
	var shards []string
	for _, sh := range []string{"0/2", "1/2"} {
		dir := filepath.Join(t.TempDir(), "shard")
		if code, out, errs := runCLI(t, sweepArgs(dir, "--shard", sh)...); code != exitOK {
			t.Fatalf("shard %s: exit %d\n%s\n%s", sh, code, out, errs)
		}
		shards = append(shards, dir)
	}
	merged := filepath.Join(t.TempDir(), "merged")
	if code, out, errs := runCLI(t, append(append([]string{"merge"}, shards...), "--out", merged)...); code != exitOK {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"sweep.json", "runs.jsonl", "runs.csv"} {
		a, _ := os.ReadFile(filepath.Join(whole, f))
		b, _ := os.ReadFile(filepath.Join(merged, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: merged shards differ from the whole sweep", f)
		}
	}
	cal, err := os.ReadFile("../../reports/testdata/calibration-samples.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(merged, "calibration-samples.csv"), cal, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "report", merged)
	if code != exitOK || !strings.Contains(out, filepath.Join(merged, "report", "report.html")) {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"latency.png", "latency.svg", "latency_band.svg", "latency_per_timeout.svg", "anatomy.svg",
		"cdf_promoted.png", "timeline.png", "timeline_failover.png", "availability.png", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(merged, "report", f)); err != nil {
			t.Error(err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(merged, "report", "report.html"))
	for _, want := range []string{"Scenario as run, per setting", "cluster-node-timeout: 500", "cluster-node-timeout: 1000",
		"Calibration against a real server", "real Redis: crash → promotion"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(merged, "report", "summary.csv"))
	if !strings.Contains(string(csv), "downtime_m1_p50_ms,downtime_m1_max_ms") {
		t.Errorf("summary.csv lacks the per-shard downtime:\n%s", csv)
	}
}

func TestReportOfOneRun(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "run", shortCrash, "--seed", "3", "--out", dir, "-q"); code != exitOK {
		t.Fatalf("run: %s", errs)
	}
	code, out, errs := runCLI(t, "report", dir, "--out", filepath.Join(dir, "r"))
	if code != exitOK || !strings.Contains(out, "report.html") {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"timeline.png", "timeline_failover.png", "availability.png"} {
		if _, err := os.Stat(filepath.Join(dir, "r", f)); err != nil {
			t.Error(err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "r", "report.html"))
	if !strings.Contains(string(html), "rcsim run short-crash --seed 3") {
		t.Errorf("the run's report lacks its command")
	}
}

// TestRunSet: rcsim run --set overrides a setting as a sweep point does,
// and the summary records it.
func TestRunSet(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runCLI(t, "run", shortCrash, "--seed", "3", "--set", "cluster-node-timeout=500", "--out", dir, "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if !strings.Contains(string(b), `"cluster-node-timeout": "500"`) {
		t.Errorf("summary.json lacks the setting:\n%s", b)
	}
	if code, _, errs := runCLI(t, "run", shortCrash, "--set", "cluster-node-timout=500", "--out", t.TempDir()); code != exitBadInput ||
		!strings.Contains(errs, `did you mean "cluster-node-timeout"?`) {
		t.Errorf("bad --set: exit %d, %q", code, errs)
	}
}

// TestSweepBadInputExits2: every bad flag or directory names what is wrong
// and exits 2.
func TestSweepBadInputExits2(t *testing.T) {
	used := filepath.Join(t.TempDir(), "used")
	if code, _, errs := runCLI(t, sweepArgs(used)...); code != exitOK {
		t.Fatal(errs)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no --out", []string{"sweep", "master-crash"}, "--out DIR is required"},
		{"unknown setting", []string{"sweep", "master-crash", "--set", "nope=1", "--out", t.TempDir()}, "set nope: unknown setting"},
		{"bad value", []string{"sweep", "master-crash", "--set", "cluster-node-timeout=1000,-5", "--out", t.TempDir()}, "cluster-node-timeout=-5"},
		{"set without values", []string{"sweep", "master-crash", "--set", "masters", "--out", t.TempDir()}, "want KEY=V1,V2"},
		{"bad seeds", []string{"sweep", "master-crash", "--seeds", "5..1", "--out", t.TempDir()}, "--seeds"},
		{"bad shard", []string{"sweep", "master-crash", "--shard", "2/2", "--out", t.TempDir()}, "--shard"},
		{"negative jobs", []string{"sweep", "master-crash", "--jobs", "-1", "--out", t.TempDir()}, "--jobs"},
		{"unknown scenario", []string{"sweep", "no-such", "--out", t.TempDir()}, "no-such"},
		{"dir already used", sweepArgs(used), "--resume"},
		{"resume with other seeds", append(sweepArgs(used), "--seeds", "3..4", "--resume"), "different sweep"},
		{"merge without --out", []string{"merge", used}, "--out DIR is required"},
		{"merge of nothing", []string{"merge", t.TempDir(), "--out", t.TempDir()}, "sweep.json"},
		{"report of nothing", []string{"report", t.TempDir()}, "neither a sweep"},
		{"timeline run out of range", []string{"report", used, "--timeline-run", "99"}, "--timeline-run 99"},
		{"seeds overflow", []string{"sweep", "master-crash", "--seeds", "18446744073709551616", "--out", t.TempDir()}, "bad part"},
		{"seeds over the cap together", []string{"sweep", "master-crash", "--seeds", "1..6000000,7000000..12000000", "--out", t.TempDir()},
			"more than 10000000 seeds in all"},
		{"a run over --max-events", []string{"sweep", "master-crash", "--max-events", "1000", "--out", t.TempDir()},
			"the run needs at least 27600 events"},
		{"runs stopped at --max-events", []string{"sweep", "master-crash", "--seeds", "1..2", "--max-events", "30000", "-q", "--out", t.TempDir()},
			"2 runs stopped at the event limit (--max-events 30000)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != exitBadInput || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, c.want)
			}
		})
	}
}

// fakeProgress is a progress on a buffer whose clock the test moves.
func fakeProgress(tty bool) (*progress, *bytes.Buffer, *time.Time) {
	var b bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &b, tty: tty, start: now, now: func() time.Time { return now }}
	if !tty {
		p.last = now
	}
	return p, &b, &now
}

// TestProgressLine: each redraw erases what a longer line left, the ETA
// comes from the rate since the first finished run (not from the start,
// when every job was still busy with its first run), and the line ends
// with a newline.
func TestProgressLine(t *testing.T) {
	p, b, now := fakeProgress(true)
	p.update(0, 200)
	*now = now.Add(8 * time.Second) // two jobs each finish their first run at 8s
	p.update(1, 200)
	p.update(2, 200)
	for i := 3; i <= 50; i++ { // then 5 runs/s
		*now = now.Add(200 * time.Millisecond)
		p.update(i, 200)
	}
	p.finish()
	frames := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\r")[1:]
	last := frames[len(frames)-1]
	for _, want := range []string{"50/200 runs", " 25%", "elapsed 0:18", "5.1 runs/s", "ETA 0:29", "\x1b[K"} {
		if !strings.Contains(last, want) {
			t.Errorf("%q lacks %q", last, want)
		}
	}
	for _, f := range frames {
		if !strings.HasSuffix(f, "\x1b[K") {
			t.Errorf("frame %q does not erase to the end of the line", f)
		}
	}
	if !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("finish left the line open: %q", b.String())
	}
	if got := clock(3725 * time.Second); got != "1:02:05" {
		t.Errorf("clock: %q", got)
	}
}

// TestProgressLog: without a terminal, one plain line per logEvery and
// one at the end, no carriage returns or escapes.
func TestProgressLog(t *testing.T) {
	p, b, now := fakeProgress(false)
	p.update(0, 100)
	for i := 1; i <= 100; i++ {
		*now = now.Add(time.Second / 2)
		p.update(i, 100)
	}
	p.finish()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 5 || strings.ContainsAny(b.String(), "\r\x1b") {
		t.Fatalf("want a plain line every 10s (the last at the end):\n%s", b.String())
	}
	if !strings.HasPrefix(lines[0], "sweep: 20/100 runs  20%  elapsed 0:10  2.0 runs/s  ETA 0:40") ||
		!strings.HasPrefix(lines[4], "sweep: 100/100 runs 100%") {
		t.Errorf("lines:\n%s", b.String())
	}
	var quiet bytes.Buffer
	q := newProgress(&quiet, true)
	q.update(1, 2)
	q.finish()
	if quiet.Len() != 0 {
		t.Errorf("-q wrote %q", quiet.String())
	}
}

func TestResumeCommand(t *testing.T) {
	f := sweepFlags{sets: []string{"cluster-node-timeout=1000,2000", "faults[1].at=15s"}, seeds: "1..20", out: "out/my sweep", jobs: 2}
	want := "rcsim sweep master-crash --set cluster-node-timeout=1000,2000 --set 'faults[1].at=15s' --seeds 1..20 --out 'out/my sweep' --jobs 2 --resume"
	if got := resumeCommand("master-crash", f); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
