package reports

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/vgimg"

	"github.com/rcsim/rcsim/checker"
)

// TestFitExponent: a cost that grows as N³ fits slope 3.
func TestFitExponent(t *testing.T) {
	var ps []ScalePoint
	for _, n := range []int{100, 200, 600, 2000} {
		ps = append(ps, ScalePoint{Series: "Scale", Nodes: n, CPUPerSec: 1e-6 * math.Pow(float64(n), 3)})
	}
	if e, ok := FitExponent(ps, "Scale", 200, 2000); !ok || math.Abs(e-3) > 1e-9 {
		t.Errorf("exponent %v %v, want 3", e, ok)
	}
	if _, ok := FitExponent(ps, "Scale", 2000, 2000); ok {
		t.Error("one size fitted")
	}
}

// TestParseScaleBench reads benchmark lines, skipping the rest, and names
// the line of a result without the cost metric.
func TestParseScaleBench(t *testing.T) {
	in := "goos: linux\nBenchmarkScale/nodes=600         \t       1\t138917724693 ns/op\t     1.480 cpu-s/virtual-s\t 594.8 peak-heap-MiB\n" +
		"BenchmarkScaleMassFailure/nodes=60-2 1 5 ns/op 0.002 cpu-s/virtual-s\nPASS\n"
	ps, err := ParseScaleBench(strings.NewReader(in))
	if err != nil || len(ps) != 2 || ps[0].Nodes != 600 || ps[0].CPUPerSec != 1.48 || ps[0].Metrics["peak-heap-MiB"] != 594.8 ||
		ps[1].Series != "ScaleMassFailure" || ps[1].Nodes != 60 {
		t.Fatalf("%+v %v", ps, err)
	}
	if _, err := ParseScaleBench(strings.NewReader("x\nBenchmarkScale/nodes=6 1 5 ns/op\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err %v", err)
	}
}

// TestScalePlot draws the README's scaling figure from the benchmark data
// kept in testdata/scale-bench.txt (make bench-scale rewrites both). The
// golden is the data behind the plot; -update also redraws scale.png and
// scale.svg beside it.
func TestScalePlot(t *testing.T) {
	f, err := os.Open("testdata/scale-bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := ParseScaleBench(f)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := ScaleFigure(ps)
	if err != nil {
		t.Fatal(err)
	}
	if fig.XLabel != "nodes" || fig.YLabel != "CPU seconds per virtual second" || !strings.Contains(fig.Title, "cluster size") {
		t.Errorf("labels %q %q %q", fig.Title, fig.XLabel, fig.YLabel)
	}
	b, err := json.MarshalIndent(fig, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "scale-plot.golden.json", append(b, '\n'))
	if *update {
		if _, err := fig.Save("testdata"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecoveryFigure: one box per group of recovery_ms, the runs that never
// recovered counted, elections averaged per failed master; no figure when
// no run lost more than one master.
func TestRecoveryFigure(t *testing.T) {
	ms := func(v int64) *int64 { return &v }
	run := func(rec *int64, elections ...int) Run {
		r := Run{}
		r.Recovery = &checker.Recovery{RecoveryMs: rec}
		for i, e := range elections {
			fm := checker.MasterRecovery{Elections: e, PromotedMs: ms(int64(1000 * (i + 1)))}
			if rec == nil && i == 0 {
				fm.PromotedMs = nil // its shard never recovered
				r.Recovery.Unrecovered++
			}
			r.Recovery.Masters = append(r.Recovery.Masters, fm)
		}
		return r
	}
	m := Meta{Scenario: "mass", Axes: []Axis{{Key: "faults[0].crash.masters", Values: []string{"10%", "50%"}}}, Seeds: []uint64{1, 2}}
	groups := []Group{
		{Label: "10%", Runs: []Run{run(ms(2000), 1, 1), run(ms(3000), 1, 3)}},
		{Label: "50%", Runs: []Run{run(nil, 2, 2), run(nil, 4, 4)}},
	}
	f := Recovery(m, groups)
	if f == nil {
		t.Fatal("no figure")
	}
	rows := f.Data.([]RecoveryRow)
	if len(rows) != 2 || rows[0].RecoveryMs.N != 2 || rows[0].RecoveryMs.Max != 3000 || rows[0].Elections != 1.5 ||
		rows[0].PromotionMs.N != 4 || rows[0].PromotionMs.Max != 2000 ||
		rows[1].Unrecovered != 2 || rows[1].Elections != 3 || rows[1].PromotionMs.N != 2 || rows[1].UnrecoveredShards != 2 {
		t.Errorf("rows %+v", rows)
	}
	if !strings.Contains(f.Title, "faults[0].crash.masters") || f.YLabel == "" {
		t.Errorf("title %q y %q", f.Title, f.YLabel)
	}
	if Recovery(m, []Group{{Label: "1", Runs: []Run{run(ms(5), 1)}}}) != nil {
		t.Error("a figure for single failovers")
	}
}

// TestScalePlotFillsHeight: the log-scale figure's data reaches up to just
// under the title. gonum/plot sized the plot around its Y label as if the
// label sat near the top of a log axis, which left a sixth of the image
// blank under the title (Figure.drawPlot works around it).
func TestScalePlotFillsHeight(t *testing.T) {
	ps := []ScalePoint{{Series: "Scale", Nodes: 6, CPUPerSec: 3e-5}, {Series: "Scale", Nodes: 2000, CPUPerSec: 60}}
	fig, err := ScaleFigure(ps)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fig.Render("png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	plotW := int(fig.Width.Dots(vgimg.DefaultDPI)) // the legend's column is right of it
	top := -1                                      // the first row with a coloured (not grey) pixel left of the legend
	for y := r.Min.Y; y < r.Max.Y && top < 0; y++ {
		for x := r.Min.X; x < r.Min.X+plotW; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr != cg || cg != cb {
				top = y - r.Min.Y
				break
			}
		}
	}
	if top < 0 || top > r.Dy()/10 {
		t.Errorf("the highest point is drawn %d px below the top of a %d px image; want within a tenth", top, r.Dy())
	}
	if fig.Plot.Y.Label.Text != "CPU seconds per virtual second" {
		t.Errorf("Render left the Y label as %q", fig.Plot.Y.Label.Text)
	}
}
