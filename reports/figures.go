package reports

// The sweep figures: latency box plots against the swept setting, the
// anatomy of a failover as stacked phases, CDFs per setting, and lost writes
// against partition length.

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one plot and the data behind it. Tests pin Data, the title and
// the labels; the PNG and SVG are drawn from Plot.
type Figure struct {
	Name   string     `json:"name"` // file stem: latency, anatomy, …
	Title  string     `json:"title"`
	XLabel string     `json:"x_label"`
	YLabel string     `json:"y_label"`
	Legend []string   `json:"legend"`
	Data   any        `json:"data"`
	Plot   *plot.Plot `json:"-"`
	Width  vg.Length  `json:"-"`
	Height vg.Length  `json:"-"`
}

// headroom raises the top of the y axis so the legend, at the top left,
// does not cover the data.
// plot.Add has already widened the axes to the data.
// The top is rounded up to a multiple of a 1-2-5 step, so the default
// ticks land on round numbers.
func headroom(p *plot.Plot, frac float64) {
	top := p.Y.Min + (p.Y.Max-p.Y.Min)*frac
	step := math.Pow(10, math.Floor(math.Log10(top/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top/(m*step) <= 6 {
			step *= m
			break
		}
	}
	p.Y.Max = math.Ceil(top/step) * step
}

// newFigure starts a figure with its title, labels and a legend at the
// top left.
func newFigure(name, title, x, y string) *Figure {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	return &Figure{Name: name, Title: title, XLabel: x, YLabel: y, Data: nil, Plot: p, Width: 8 * vg.Inch, Height: 5 * vg.Inch}
}

// legend adds an entry to the plot's legend and to f.Legend.
func (f *Figure) legend(name string, th plot.Thumbnailer) {
	f.Plot.Legend.Add(name, th)
	f.Legend = append(f.Legend, name)
}

// Render returns the figure as "png" or "svg" bytes.
func (f *Figure) Render(format string) ([]byte, error) {
	wt, err := f.Plot.WriterTo(f.Width, f.Height, format)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Save writes DIR/NAME.png and DIR/NAME.svg and returns the SVG.
func (f *Figure) Save(dir string) ([]byte, error) {
	var svg []byte
	for _, format := range []string{"png", "svg"} {
		b, err := f.Render(format)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %v", f.Name, format, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name+"."+format), b, 0o644); err != nil {
			return nil, err
		}
		svg = b
	}
	return svg, nil
}

// seconds turns the non-nil ms values into seconds for plotting.
func seconds(vs []*int64) plotter.Values {
	var out plotter.Values
	for _, v := range vs {
		if v != nil {
			out = append(out, float64(*v)/1000)
		}
	}
	return out
}

func light(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8)/3 + 170) }
	return color.RGBA{mix(r), mix(g), mix(b), 255}
}

// LatencyRow is the data of the latency figure for one group.
type LatencyRow struct {
	Group         string `json:"group"`
	Promoted      Stats  `json:"promoted_ms"`
	WritesResumed Stats  `json:"writes_resumed_ms"`
}

// Latency draws crash → promotion and crash → writes resumed as box plots
// (quartiles, whiskers to 1.5 IQR, outliers) per group, with a line through
// the medians.
func Latency(m Meta, groups []Group) *Figure {
	f := newFigure("latency", fmt.Sprintf("Failover latency vs %s — %s, %d seeds", AxisTitle(m.Axes), m.Scenario, len(m.Seeds)),
		AxisTitle(m.Axes), "time after the crash or partition (s)")
	var rows []LatencyRow
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = g.Label
		rows = append(rows, LatencyRow{g.Label, StatsOf(Promoted.values(g.Runs)), StatsOf(WritesResumed.values(g.Runs))})
	}
	for k, metric := range []Metric{Promoted, WritesResumed} {
		c := plotutil.Color(k)
		off := -0.18 + 0.36*float64(k)
		var medians plotter.XYs
		for i, g := range groups {
			vals := seconds(metric.values(g.Runs))
			if len(vals) == 0 {
				continue
			}
			box, err := plotter.NewBoxPlot(vg.Points(16), float64(i)+off, vals)
			if err != nil {
				continue
			}
			box.FillColor, box.BoxStyle.Color, box.WhiskerStyle.Color = light(c), c, c
			box.MedianStyle.Color, box.MedianStyle.Width = c, vg.Points(2)
			box.GlyphStyle.Color = c
			f.Plot.Add(box)
			medians = append(medians, plotter.XY{X: float64(i) + off, Y: box.Median})
		}
		if len(medians) == 0 {
			continue
		}
		line, err := plotter.NewLine(medians)
		if err == nil {
			line.Color, line.Width, line.Dashes = c, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(2)}
			f.Plot.Add(line)
			f.legend(metric.Title+" (box: quartiles; line: median)", line)
		}
	}
	groupAxis(f, labels)
	f.Data = rows
	return f
}

// groupAxis finishes a figure with one box per group: the groups' labels
// along x, y from 0 with room for the legend.
func groupAxis(f *Figure, labels []string) {
	f.Plot.NominalX(labels...)
	f.Plot.X.Min, f.Plot.X.Max = -0.6, float64(len(labels))-0.4
	f.Plot.Y.Min = 0
	headroom(f.Plot, 1.2)
}

// Phases name the stacked steps of a failover.
var Phases = []string{"crash → PFAIL (detection)", "PFAIL → FAIL", "FAIL → election start",
	"election start → promotion", "promotion → writes resumed"}

// AnatomyRow is the data of the anatomy figure for one group: the mean of
// each phase, in ms, over the N runs that went through every step.
type AnatomyRow struct {
	Group  string  `json:"group"`
	N      int     `json:"n"`
	MeanMs []int64 `json:"mean_ms"` // one per Phases entry
}

// phases splits a run's first failover into Phases, or false if a step is
// missing.
func phases(r Run) ([]int64, bool) {
	if len(r.Failovers) == 0 {
		return nil, false
	}
	f := r.Failovers[0]
	steps := []*int64{f.PFailMs, f.FailMs, f.ElectionMs, f.PromotedMs, f.WritesResumedMs}
	out := make([]int64, len(steps))
	var prev int64
	for i, s := range steps {
		if s == nil {
			return nil, false
		}
		out[i], prev = *s-prev, *s
	}
	return out, true
}

// Anatomy draws the mean of each phase of a failover, stacked, per group:
// where the time between the crash and the first write goes.
func Anatomy(m Meta, groups []Group) *Figure {
	f := newFigure("anatomy", fmt.Sprintf("Anatomy of a failover — %s, mean of each phase", m.Scenario),
		AxisTitle(m.Axes), "time after the crash (s)")
	var rows []AnatomyRow
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = g.Label
		row := AnatomyRow{Group: g.Label, MeanMs: make([]int64, len(Phases))}
		sum := make([]int64, len(Phases))
		for _, r := range g.Runs {
			if ps, ok := phases(r); ok {
				row.N++
				for k, p := range ps {
					sum[k] += p
				}
			}
		}
		for k := range sum {
			if row.N > 0 {
				row.MeanMs[k] = (sum[k] + int64(row.N)/2) / int64(row.N)
			}
		}
		rows = append(rows, row)
	}
	var below *plotter.BarChart
	for k, name := range Phases {
		vals := make(plotter.Values, len(rows))
		for i, r := range rows {
			vals[i] = float64(r.MeanMs[k]) / 1000
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			continue
		}
		bars.Color, bars.LineStyle.Width = plotutil.Color(k), 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		f.Plot.Add(bars)
		f.legend(name, bars)
	}
	f.Plot.NominalX(labels...)
	headroom(f.Plot, 1.45)
	f.Data = rows
	return f
}

// CDFRow is the data of a CDF for one group: the sorted values in ms and
// the runs where the step never happened (the curve stops below 1).
type CDFRow struct {
	Group   string  `json:"group"`
	Missing int     `json:"missing"`
	Ms      []int64 `json:"ms"`
}

// CDF draws the empirical distribution of metric per group, one step line
// each, over all the group's runs.
func CDF(m Meta, groups []Group, metric Metric) *Figure {
	name := "cdf_" + metric.Name[:len(metric.Name)-len("_ms")]
	f := newFigure(name, fmt.Sprintf("CDF of %s — %s, per %s", metric.Title, m.Scenario, AxisTitle(m.Axes)),
		"time after the crash (s)", "fraction of runs")
	var rows []CDFRow
	for i, g := range groups {
		vs := metric.values(g.Runs)
		st := StatsOf(vs)
		row := CDFRow{Group: g.Label, Missing: st.Missing}
		for _, v := range vs {
			if v != nil {
				row.Ms = append(row.Ms, *v)
			}
		}
		slices.Sort(row.Ms)
		rows = append(rows, row)
		if len(row.Ms) == 0 {
			continue
		}
		n := float64(len(vs))
		pts := plotter.XYs{{X: float64(row.Ms[0]) / 1000, Y: 0}}
		for j, v := range row.Ms {
			x := float64(v) / 1000
			pts = append(pts, plotter.XY{X: x, Y: float64(j) / n}, plotter.XY{X: x, Y: float64(j+1) / n})
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.Color, line.Width = plotutil.Color(i), vg.Points(1.5)
		f.Plot.Add(line)
		f.legend(legendLabel(m, g.Label), line)
	}
	f.Plot.Y.Min, f.Plot.Y.Max = 0, 1
	// The legend sits at the bottom right, in room left free for it.
	f.Plot.Legend.Top, f.Plot.Legend.Left = false, false
	f.Plot.X.Min, f.Plot.X.Max = 0, f.Plot.X.Max*1.4
	f.Data = rows
	return f
}

// legendLabel prefixes a lone axis value with its key: "cluster-node-timeout=5000".
func legendLabel(m Meta, group string) string {
	if len(m.Axes) == 1 {
		return m.Axes[0].Key + "=" + group
	}
	return group
}

// LostRow is the data of the lost-writes figure for one group: a
// [partition_ms, lost_writes] pair per run.
type LostRow struct {
	Group  string     `json:"group"`
	Points [][2]int64 `json:"points"`
}

// LostWrites draws acknowledged writes lost against how long a partition
// was in force, one point per run. It returns nil when no run had a
// partition.
func LostWrites(m Meta, groups []Group) *Figure {
	partitioned := false
	for _, g := range groups {
		for _, r := range g.Runs {
			partitioned = partitioned || r.PartitionMs > 0
		}
	}
	if !partitioned {
		return nil
	}
	f := newFigure("lost_writes", fmt.Sprintf("Lost writes vs partition length — %s", m.Scenario),
		"partition length (s)", "acknowledged writes lost (count)")
	defer func() { headroom(f.Plot, 1.3) }()
	var rows []LostRow
	for i, g := range groups {
		row := LostRow{Group: g.Label}
		var pts plotter.XYs
		for _, r := range g.Runs {
			row.Points = append(row.Points, [2]int64{r.PartitionMs, int64(r.Check.LostWrites)})
			pts = append(pts, plotter.XY{X: float64(r.PartitionMs) / 1000, Y: float64(r.Check.LostWrites)})
		}
		rows = append(rows, row)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(i), Radius: vg.Points(3), Shape: plotutil.Shape(i)}
		f.Plot.Add(sc)
		f.legend(legendLabel(m, g.Label), sc)
	}
	f.Plot.X.Min, f.Plot.Y.Min = 0, 0
	f.Plot.X.Max *= 1.05 // keep the longest partition's points off the edge
	f.Data = rows
	return f
}

// RecoveryRow is the data of the recovery figure for one group: recovery_ms
// over the runs that recovered, how many did not, and the mean number of
// elections per failed master.
type RecoveryRow struct {
	Group       string  `json:"group"`
	RecoveryMs  Stats   `json:"recovery_ms"`
	Unrecovered int     `json:"runs_not_recovered"`
	Elections   float64 `json:"elections_per_failed_master"`
}

// Recovery draws recovery_ms (first PFAIL → every live node ok with every
// slot served; summary.recovery) as a box plot per group, the figure for a
// sweep over the share of masters a mass failure takes. It returns nil when
// no run has more than one failed master.
func Recovery(m Meta, groups []Group) *Figure {
	mass := false
	for _, g := range groups {
		for _, r := range g.Runs {
			mass = mass || r.Recovery != nil && len(r.Recovery.Masters) > 1
		}
	}
	if !mass {
		return nil
	}
	f := newFigure("recovery", fmt.Sprintf("Recovery vs %s — %s, %d seeds", AxisTitle(m.Axes), m.Scenario, len(m.Seeds)),
		AxisTitle(m.Axes), "first PFAIL → all ok, all slots served (s)")
	c := plotutil.Color(0)
	var rows []RecoveryRow
	var medians plotter.XYs
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = g.Label
		row := RecoveryRow{Group: g.Label}
		var vals []*int64
		masters, elections := 0, 0
		for _, r := range g.Runs {
			if r.Recovery == nil {
				continue
			}
			vals = append(vals, r.Recovery.RecoveryMs)
			if r.Recovery.RecoveryMs == nil {
				row.Unrecovered++
			}
			for _, fm := range r.Recovery.Masters {
				masters, elections = masters+1, elections+fm.Elections
			}
		}
		row.RecoveryMs = StatsOf(vals)
		if masters > 0 {
			row.Elections = float64(elections) / float64(masters)
		}
		rows = append(rows, row)
		if box, err := plotter.NewBoxPlot(vg.Points(20), float64(i), seconds(vals)); err == nil {
			box.FillColor, box.BoxStyle.Color, box.WhiskerStyle.Color = light(c), c, c
			box.MedianStyle.Color, box.MedianStyle.Width, box.GlyphStyle.Color = c, vg.Points(2), c
			f.Plot.Add(box)
			medians = append(medians, plotter.XY{X: float64(i), Y: box.Median})
		}
	}
	if line, err := plotter.NewLine(medians); err == nil {
		line.Color, line.Width, line.Dashes = c, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(2)}
		f.Plot.Add(line)
		f.legend("recovery_ms of the runs that recovered (box: quartiles; line: median)", line)
	}
	groupAxis(f, labels)
	f.Data = rows
	return f
}
