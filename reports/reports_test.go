package reports

// The golden of a figure is the data behind it (testdata/*.golden.json)
// plus checks that titles, axis labels with units and legends are there;
// PNG and SVG bytes change between gonum versions and are not compared.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/node/trace"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The inputs were captured from small sweeps and one run:
//
//	rcsim sweep sim/sweep/testdata/short-crash.yaml --set cluster-node-timeout=500,1000 --seeds 1..3
//	rcsim sweep minority-partition --set 'faults[1].at=15s,20s' --set duration=40s --seeds 1..2
//	rcsim run sim/sweep/testdata/short-crash.yaml --seed 3
var (
	crashMeta = Meta{Source: "short-crash.yaml", Scenario: "short-crash", ScenarioYAML: "name: short-crash\n",
		Axes: []Axis{{"cluster-node-timeout", []string{"500", "1000"}}}, Seeds: []uint64{1, 2, 3}}
	partMeta = Meta{Source: "minority-partition", Scenario: "minority-partition",
		Axes: []Axis{{"faults[1].at", []string{"15s", "20s"}}, {"duration", []string{"40s"}}}, Seeds: []uint64{1, 2}}
)

func loadRuns(t *testing.T, name string) []Run {
	t.Helper()
	runs, err := LoadRuns(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func runTimeline(t *testing.T) *Figure {
	t.Helper()
	f, err := os.Open("testdata/run-trace.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := trace.Read("testdata/run-trace.jsonl", f)
	if err != nil {
		t.Fatal(err)
	}
	return Timeline(TimelineTitle(RunName("short-crash", 3)), TimelineOf(events))
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", path, got)
	}
}

func TestFigureDataGolden(t *testing.T) {
	crash := SweepFigures(crashMeta, Groups(crashMeta, loadRuns(t, "crash-runs.jsonl")), Extras{Run: []*Figure{runTimeline(t)}})
	part := SweepFigures(partMeta, Groups(partMeta, loadRuns(t, "partition-runs.jsonl")), Extras{})
	for _, c := range []struct {
		name  string
		figs  []*Figure
		names string
	}{
		{"crash-plots.golden.json", crash, "latency latency_band latency_per_timeout anatomy cdf_promoted cdf_writes_resumed timeline"},
		{"partition-plots.golden.json", part, "latency latency_band anatomy cdf_promoted cdf_writes_resumed lost_writes"},
	} {
		var names []string
		for _, f := range c.figs {
			names = append(names, f.Name)
		}
		if strings.Join(names, " ") != c.names {
			t.Errorf("%s: figures %v, want %s", c.name, names, c.names)
		}
		b, err := json.MarshalIndent(c.figs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, append(b, '\n'))
	}
}

// unit matches a label that ends with its unit: "time after the crash (s)".
var unit = regexp.MustCompile(`\((ms|s|count)\)$`)

// unitless are the labels whose quantity has no unit.
var unitless = map[string]bool{"fraction of runs": true, "node": true, "shard": true,
	"time after the crash ÷ cluster-node-timeout (T)": true, "faults[1].at (s) / duration (s)": true}

func TestFiguresHaveTitlesLabelsAndLegends(t *testing.T) {
	figs := SweepFigures(partMeta, Groups(partMeta, loadRuns(t, "partition-runs.jsonl")), Extras{Run: []*Figure{runTimeline(t)}})
	figs = append(figs, SweepFigures(crashMeta, Groups(crashMeta, loadRuns(t, "crash-runs.jsonl")), Extras{})...)
	for _, f := range figs {
		t.Run(f.Name, func(t *testing.T) {
			if f.Title == "" || f.Plot.Title.Text != f.Title {
				t.Errorf("title %q, plot title %q", f.Title, f.Plot.Title.Text)
			}
			for _, l := range []string{f.XLabel, f.YLabel} {
				if !unit.MatchString(l) && !unitless[l] {
					t.Errorf("axis label %q has no unit", l)
				}
			}
			if f.Plot.X.Label.Text != f.XLabel || f.Plot.Y.Label.Text != f.YLabel {
				t.Errorf("plot labels %q %q differ from %q %q", f.Plot.X.Label.Text, f.Plot.Y.Label.Text, f.XLabel, f.YLabel)
			}
			if len(f.Legend) < 2 {
				t.Errorf("legend %v: want an entry per series", f.Legend)
			}
			svg, err := f.Render("svg")
			if err != nil {
				t.Fatal(err)
			}
			if png, err := f.Render("png"); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Errorf("png: %v", err)
			}
			for _, text := range append([]string{f.XLabel, f.YLabel}, f.Legend...) {
				if !bytes.Contains(svg, []byte(xmlEscape(text))) {
					t.Errorf("svg lacks %q", text)
				}
			}
		})
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func TestWriteSweepReport(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteSweep(dir, crashMeta, loadRuns(t, "crash-runs.jsonl"), Extras{Run: []*Figure{runTimeline(t)}})
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "Failover latency vs cluster-node-timeout (ms)", "Anatomy of a failover",
		"Checker verdicts", "seeds 1..3", "name: short-crash", "crash → writes resumed", "Timeline of short-crash"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, f := range []string{"latency.png", "latency.svg", "anatomy.png", "timeline.svg", "plots.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "crash-summary.golden.csv", csv)
}

func TestWriteRunReport(t *testing.T) {
	b, err := os.ReadFile("testdata/run-summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var sum checker.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	path, err := WriteRun(t.TempDir(), sum, []*Figure{runTimeline(t)}, "rcsim run short-crash.yaml --seed 3")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(path)
	for _, want := range []string{"short-crash seed 3", "Failovers (ms after the fault)", "failover_within", "<svg"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestStatsNearestRank(t *testing.T) {
	var vs []*int64
	for i := int64(1); i <= 10; i++ {
		v := i * 100
		vs = append(vs, &v)
	}
	vs = append(vs, nil)
	got := StatsOf(vs)
	want := Stats{N: 10, Missing: 1, Min: 100, P10: 100, P25: 300, P50: 500, P75: 800, P90: 900, P99: 1000, Max: 1000}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if (StatsOf([]*int64{nil}) != Stats{Missing: 1}) {
		t.Errorf("no values: %+v", StatsOf([]*int64{nil}))
	}
}

func TestTimelineOfCrash(t *testing.T) {
	f, _ := os.Open("testdata/run-trace.jsonl")
	defer f.Close()
	events, err := trace.Read("run-trace.jsonl", f)
	if err != nil {
		t.Fatal(err)
	}
	d := TimelineOf(events)
	var m0 []string
	for _, s := range d.Spans {
		if s.Node == "m0" && s.Kind != "cluster_fail" {
			m0 = append(m0, s.Kind)
		}
	}
	if strings.Join(m0, " ") != "master crashed" {
		t.Errorf("m0's spans %v, want master then crashed", m0)
	}
	var kinds []string
	for _, m := range d.Marks {
		kinds = append(kinds, m.Node+":"+m.Kind)
	}
	if strings.Join(kinds, " ") != "m0:crash m0:pfail m0:fail m0r0:promoted" {
		t.Errorf("marks %v", kinds)
	}
}

func TestSeedText(t *testing.T) {
	if got := SeedText([]uint64{1, 2, 3, 7, 9, 10}); got != "1..3, 7, 9..10" {
		t.Errorf("got %q", got)
	}
}

func xmlEscapeTo(b *bytes.Buffer, s string) error { return xml.EscapeText(b, []byte(s)) }
