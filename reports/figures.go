package reports

// The figure machinery (a legend in its own column, 1-2-5 ticks) and the
// sweep figures besides latency: the anatomy of a failover as stacked
// phases, CDFs per setting, and lost writes against partition length.

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one plot and the data behind it. Tests pin Data, the title and
// the labels; the PNG and SVG are drawn from Plot, with the legend in its
// own column right of the plot so it never covers data.
type Figure struct {
	Name   string     `json:"name"` // file stem: latency, anatomy, …
	Title  string     `json:"title"`
	XLabel string     `json:"x_label"`
	YLabel string     `json:"y_label"`
	Legend []string   `json:"legend"`
	Data   any        `json:"data"`
	Plot   *plot.Plot `json:"-"`
	Width  vg.Length  `json:"-"` // of the plot; the legend's column is added
	Height vg.Length  `json:"-"`
	leg    plot.Legend
}

// newFigure starts a figure with its title, labels, a grid and 1-2-5
// ticks on both axes.
func newFigure(name, title, x, y string) *Figure {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Title.Padding = vg.Points(10)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(10)
	leg.Padding = vg.Points(2)
	return &Figure{Name: name, Title: title, XLabel: x, YLabel: y, Plot: p, Width: 8 * vg.Inch, Height: 5 * vg.Inch, leg: leg}
}

// legend adds an entry to the figure's legend and to f.Legend.
func (f *Figure) legend(name string, th ...plot.Thumbnailer) {
	f.leg.Add(name, th...)
	f.Legend = append(f.Legend, name)
}

// legendGap separates the plot from its legend column.
const legendGap = vg.Length(12)

// Render returns the figure as "png" or "svg" bytes: the plot, then the
// legend in a column to its right, level with the top of the data.
func (f *Figure) Render(format string) ([]byte, error) {
	var legW vg.Length
	if len(f.Legend) > 0 {
		legW = f.leg.Rectangle(draw.Canvas{}).Size().X + legendGap + vg.Points(8)
	}
	c, err := draw.NewFormattedCanvas(f.Width+legW, f.Height, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	f.drawPlot(draw.Crop(dc, 0, -legW, 0, 0))
	if legW > 0 {
		top := vg.Length(0)
		if f.Plot.Title.Text != "" {
			top = f.Plot.Title.TextStyle.Rectangle(f.Plot.Title.Text).Size().Y + f.Plot.Title.Padding
		}
		f.leg.Draw(draw.Crop(dc, f.Width+legendGap, 0, 0, -top))
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// drawPlot draws the plot into c. On a logarithmic Y axis it draws the
// axis label itself: gonum/plot (v0.17.0, verticalAxis.GlyphBoxes) sizes
// the plot around a centred label placed at the arithmetic midpoint of the
// axis range, which a log scale maps near the top, so the label's box
// seemed to stick out far above the data and the plot was shrunk to make
// room for it (a sixth of scale.png was blank under the title). The label
// is drawn where gonum draws it, level with the middle of the data area.
func (f *Figure) drawPlot(c draw.Canvas) {
	p := f.Plot
	if _, log := p.Y.Scale.(plot.LogScale); !log || p.Y.Label.Text == "" {
		p.Draw(c)
		return
	}
	text, sty := p.Y.Label.Text, p.Y.Label.TextStyle
	h, descent := sty.Height(text), sty.FontExtents().Descent
	strip := h + descent + p.Y.Label.Padding
	p.Y.Label.Text = ""
	defer func() { p.Y.Label.Text = text }()
	rest := draw.Crop(c, strip, 0, 0, 0)
	p.Draw(rest)
	data := p.DataCanvas(rest)
	sty.Rotation += math.Pi / 2
	c.FillText(sty, vg.Point{X: c.Min.X + h - descent, Y: data.Center().Y}, text)
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

// niceTicks puts labelled ticks on a 1-2-5 step (at most 8 steps across
// the axis), with as few decimals as the step needs, and a minor tick
// halfway between each pair.
type niceTicks struct{}

// Ticks returns the ticks in [lo, hi].
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	step := niceStep(hi - lo)
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		v := i * step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v+0, 'f', prec, 64)})
		if m := v + step/2; m < hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}

// niceStep is the smallest 1-2-5 step that cuts span into at most 8 parts.
func niceStep(span float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(span/8)))
	for _, m := range []float64{1, 2, 5} {
		if span/(m*mag) <= 8+1e-9 {
			return m * mag
		}
	}
	return 10 * mag
}

// niceMax rounds hi up to the next labelled tick of [lo, hi].
func niceMax(lo, hi float64) float64 {
	if !(hi > lo) {
		return hi
	}
	step := niceStep(hi - lo)
	return math.Ceil(hi/step-1e-9) * step
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

// light is c mixed two thirds with white, for fills under lines.
func light(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8)/3 + 170) }
	return color.RGBA{mix(r), mix(g), mix(b), 255}
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

// anatomyRows averages each group's phases.
func anatomyRows(groups []Group) []AnatomyRow {
	var rows []AnatomyRow
	for _, g := range groups {
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
	return rows
}

// Anatomy draws the mean of each phase of a failover, stacked, per group:
// where the time between the crash and the first write goes. Each phase's
// mean is written beside its segment, so phases of a few milliseconds,
// too thin to see, are still read.
func Anatomy(m Meta, groups []Group) *Figure {
	f := newFigure("anatomy", fmt.Sprintf("Anatomy of a failover — %s, mean of each phase", m.Scenario),
		categoryTitle(m.Axes), "time after the crash (s)")
	rows := anatomyRows(groups)
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = tickLabel(m.Axes, g)
	}
	var below *plotter.BarChart
	top := 0.0
	for k, name := range Phases {
		vals := make(plotter.Values, len(rows))
		for i, r := range rows {
			vals[i] = float64(r.MeanMs[k]) / 1000
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(36))
		if err != nil {
			continue
		}
		bars.Color, bars.LineStyle.Width = plotutil.Color(k), 0
		bars.Offset = -vg.Points(14)
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		f.Plot.Add(bars)
		f.legend(name, bars)
	}
	for _, r := range rows {
		var sum int64
		for _, v := range r.MeanMs {
			sum += v
		}
		top = max(top, float64(sum)/1000)
	}
	f.Plot.Add(segmentLabels(rows))
	f.Plot.NominalX(labels...)
	f.Plot.X.Min, f.Plot.X.Max = -0.6, float64(len(rows))-0.2
	f.Plot.Y.Min, f.Plot.Y.Max = 0, niceMax(0, top*1.02)
	f.Data = rows
	return f
}

// segmentLabels writes each phase's mean right of its bar segment, moved
// apart where segments are too thin for their labels to fit, with a
// leader line from label to segment.
type segmentLabels []AnatomyRow

// Plot draws the labels.
func (rows segmentLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.TextStyle{Color: color.Black, Font: p.X.Tick.Label.Font, Handler: p.X.Tick.Label.Handler, YAlign: draw.YCenter}
	sty.Font.Size = vg.Points(8)
	h := sty.Rectangle("0").Size().Y * 1.15
	lead := draw.LineStyle{Color: color.Gray{150}, Width: vg.Points(0.5)}
	for i, r := range rows {
		x := trX(float64(i)) + vg.Points(6)
		var at float64
		last := vg.Length(math.Inf(-1))
		for _, v := range r.MeanMs {
			mid := trY((at + float64(v)/2) / 1000)
			at += float64(v)
			y := max(mid, last+h)
			c.StrokeLine2(lead, x, mid, x+vg.Points(5), y)
			c.FillText(sty, vg.Point{X: x + vg.Points(6), Y: y}, msText(v))
			last = y
		}
	}
}

// msText prints a mean phase: "2 ms", "640 ms", "5.62 s".
func msText(v int64) string {
	if v < 1000 {
		return strconv.FormatInt(v, 10) + " ms"
	}
	return strconv.FormatFloat(float64(v)/1000, 'f', 2, 64) + " s"
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
	f := newFigure(name, fmt.Sprintf("CDF of %s — %s, per %s", metric.Title, m.Scenario, categoryTitle(m.Axes)),
		"time after the crash (s)", "fraction of runs")
	var rows []CDFRow
	hi := 0.0
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
		hi = max(hi, pts[len(pts)-1].X)
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.Color, line.Width = plotutil.Color(i), vg.Points(1.5)
		line.Dashes = plotutil.Dashes(i / 7)
		f.Plot.Add(line)
		f.legend(legendLabel(m, g.Label), line)
	}
	f.Plot.Y.Min, f.Plot.Y.Max = 0, 1
	f.Plot.X.Min, f.Plot.X.Max = 0, niceMax(0, hi*1.02)
	f.Data = rows
	return f
}

// legendLabel prefixes a lone axis value with its key: "cluster-node-timeout=5000".
func legendLabel(m Meta, group string) string {
	var varying []Axis
	for _, a := range m.Axes {
		if a.varies() {
			varying = append(varying, a)
		}
	}
	if len(varying) == 1 {
		return varying[0].Key + "=" + group
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
	var rows []LostRow
	hiX, hiY := 0.0, 0.0
	for i, g := range groups {
		row := LostRow{Group: g.Label}
		var pts plotter.XYs
		for _, r := range g.Runs {
			row.Points = append(row.Points, [2]int64{r.PartitionMs, int64(r.Check.LostWrites)})
			pts = append(pts, plotter.XY{X: float64(r.PartitionMs) / 1000, Y: float64(r.Check.LostWrites)})
			hiX, hiY = max(hiX, float64(r.PartitionMs)/1000), max(hiY, float64(r.Check.LostWrites))
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
	f.Plot.X.Max, f.Plot.Y.Max = niceMax(0, hiX*1.05), niceMax(0, max(1, hiY*1.05))
	f.Data = rows
	return f
}

// RecoveryRow is the data of the recovery figure for one group: recovery_ms
// over the runs that recovered and how many did not; every failed master's
// promotion time, how many shards no live master serves at the end, and the
// mean number of elections per failed master.
type RecoveryRow struct {
	Group             string  `json:"group"`
	RecoveryMs        Stats   `json:"recovery_ms"`
	Unrecovered       int     `json:"runs_not_recovered"`
	PromotionMs       Stats   `json:"promotion_ms"`
	UnrecoveredShards int     `json:"shards_not_recovered"`
	Elections         float64 `json:"elections_per_failed_master"`
}

// Recovery draws, per group, recovery_ms (first PFAIL → every live node ok
// with every slot served; summary.recovery) and beside it the promotion
// time of every failed master (down → its replica promoted), as box
// plots: the figure for a sweep over the share of masters a mass failure
// takes. The second box is what shows the trend when some shard never
// recovers (a replica whose election lost waits 2 × failover_auth_timeout
// to retry, past the end of a 60 s run at the default node timeout): those
// runs have no recovery_ms, and the tick label counts them. It returns nil
// when no run has more than one failed master.
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
		AxisTitle(m.Axes), "seconds (box: quartiles; line: median)")
	series := []struct {
		name    string
		offset  float64
		medians plotter.XYs
	}{
		{name: "recovery_ms: first PFAIL → all ok, all slots served", offset: -0.18},
		{name: "each failed master: down → replica promoted", offset: 0.18},
	}
	var rows []RecoveryRow
	labels := make([]string, len(groups))
	for i, g := range groups {
		row := RecoveryRow{Group: g.Label}
		var rec, promo []*int64
		masters, elections := 0, 0
		for _, r := range g.Runs {
			if r.Recovery == nil {
				continue
			}
			rec = append(rec, r.Recovery.RecoveryMs)
			if r.Recovery.RecoveryMs == nil {
				row.Unrecovered++
			}
			row.UnrecoveredShards += r.Recovery.Unrecovered
			for _, fm := range r.Recovery.Masters {
				masters, elections = masters+1, elections+fm.Elections
				promo = append(promo, fm.PromotedMs)
			}
		}
		row.RecoveryMs, row.PromotionMs = StatsOf(rec), StatsOf(promo)
		if masters > 0 {
			row.Elections = float64(elections) / float64(masters)
		}
		rows = append(rows, row)
		labels[i] = tickLabel(m.Axes, g)
		if row.Unrecovered > 0 {
			shards := "shards"
			if row.UnrecoveredShards == 1 {
				shards = "shard"
			}
			labels[i] += fmt.Sprintf("\n%d/%d runs, %d %s unrecovered", row.Unrecovered, len(rec), row.UnrecoveredShards, shards)
		}
		for k, vals := range [][]*int64{rec, promo} {
			c := plotutil.Color(k)
			box, err := plotter.NewBoxPlot(vg.Points(14), float64(i)+series[k].offset, seconds(vals))
			if err != nil {
				continue // no value in this box
			}
			box.FillColor, box.BoxStyle.Color, box.WhiskerStyle.Color = light(c), c, c
			box.MedianStyle.Color, box.MedianStyle.Width, box.GlyphStyle.Color = c, vg.Points(2), c
			f.Plot.Add(box)
			series[k].medians = append(series[k].medians, plotter.XY{X: float64(i) + series[k].offset, Y: box.Median})
		}
	}
	for k, sr := range series {
		if len(sr.medians) == 0 {
			continue // no box of this kind (no run recovered)
		}
		if line, err := plotter.NewLine(sr.medians); err == nil {
			line.Color, line.Width, line.Dashes = plotutil.Color(k), vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(2)}
			f.Plot.Add(line)
			f.legend(sr.name, line)
		}
	}
	f.Plot.NominalX(labels...)
	f.Plot.X.Min, f.Plot.X.Max = -0.6, float64(len(labels))-0.4
	f.Plot.Y.Min = 0
	f.Plot.Y.Max = niceMax(0, f.Plot.Y.Max*1.02)
	f.Data = rows
	return f
}
