package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	code, out, errs = runCLI(t, "report", merged)
	if code != exitOK || !strings.Contains(out, filepath.Join(merged, "report", "report.html")) {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"latency.png", "latency.svg", "anatomy.svg", "cdf_promoted.png", "timeline.png", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(merged, "report", f)); err != nil {
			t.Error(err)
		}
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
	if _, err := os.Stat(filepath.Join(dir, "r", "timeline.png")); err != nil {
		t.Error(err)
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

func TestProgressBar(t *testing.T) {
	line := barLine(50, 200, 0, 10e9)
	for _, want := range []string{"50/200", " 25%", "5.0 runs/s", "ETA 30s"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	var b bytes.Buffer
	p := newProgress(&b, false) // not a terminal: silent
	p.update(1, 2)
	p.finish()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", b.String())
	}
}
