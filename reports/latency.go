package reports

// Failover latency against the swept setting: box plots per group, dodged
// so series never overlap, on a numeric x axis when the setting is a
// number; and the median with its p10–p90 band, raw and divided by the
// node timeout, with real-server calibration points when there are some.

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LatencyRow is the data of the latency figures for one group.
type LatencyRow struct {
	Group         string  `json:"group"`
	X             float64 `json:"x"`
	Series        string  `json:"series,omitempty"`
	NodeTimeoutMs int64   `json:"node_timeout_ms,omitempty"`
	Promoted      Stats   `json:"promoted_ms"`
	WritesResumed Stats   `json:"writes_resumed_ms"`
}

func latencyRows(groups []Group) []LatencyRow {
	var rows []LatencyRow
	for _, g := range groups {
		rows = append(rows, LatencyRow{g.Label, g.X, g.Series, g.NodeTimeoutMs,
			StatsOf(Promoted.values(g.Runs)), StatsOf(WritesResumed.values(g.Runs))})
	}
	return rows
}

// seriesOf lists the groups' series names in order of first appearance.
func seriesOf(groups []Group) []string {
	var out []string
	for _, g := range groups {
		if !slices.Contains(out, g.Series) {
			out = append(out, g.Series)
		}
	}
	return out
}

// seriesName is a metric's legend entry within a series.
func seriesName(metric Metric, series string) string {
	if series == "" {
		return metric.Title
	}
	return metric.Title + ", " + series
}

// minGap is the smallest distance between two distinct x values (1 when
// there is one value).
func minGap(groups []Group) float64 {
	xs := make([]float64, 0, len(groups))
	for _, g := range groups {
		xs = append(xs, g.X)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	gap := math.Inf(1)
	for i := 1; i < len(xs); i++ {
		gap = min(gap, xs[i]-xs[i-1])
	}
	if math.IsInf(gap, 1) {
		return 1
	}
	return gap
}

// Latency draws crash → promotion and crash → writes resumed as box plots
// (quartiles, whiskers to 1.5 IQR, outliers) per group. The boxes of one
// x are dodged side by side; on a numeric axis a line joins each series'
// medians at the true x (so a series that is never below another is
// never drawn below it), on a categorical axis no line crosses between
// categories. Calibration points of a real server are added when the x
// axis is the node timeout.
func Latency(m Meta, groups []Group, cal []CalibrationSample) *Figure {
	title := fmt.Sprintf("Failover latency vs %s — %s, %d seeds", AxisTitle(m.Axes), m.Scenario, len(m.Seeds))
	if fx := Fixed(m.Axes); fx != "" {
		title += ", " + fx
	}
	f := newFigure("latency", title, AxisTitle(m.Axes), "time after the crash or partition (s)")
	numericX := xAxisOf(m.Axes) >= 0
	series := seriesOf(groups)
	metrics := []Metric{Promoted, WritesResumed}
	k := len(series) * len(metrics)
	gap := minGap(groups)
	slot := gap * 0.8 / float64(k)
	boxW := vg.Points(max(6, min(22, 300/float64(len(groups)*k))))
	hi := 0.0
	for si, sname := range series {
		for mi, metric := range metrics {
			j := si*len(metrics) + mi
			c := plotutil.Color(j)
			off := (float64(j) - float64(k-1)/2) * slot
			var medians plotter.XYs
			drawn := false
			for _, g := range groups {
				vals := seconds(metric.values(g.Runs))
				if g.Series != sname || len(vals) == 0 {
					continue
				}
				box, err := plotter.NewBoxPlot(boxW, g.X+off, vals)
				if err != nil {
					continue
				}
				box.FillColor, box.BoxStyle.Color, box.WhiskerStyle.Color = light(c), c, c
				box.MedianStyle.Color, box.MedianStyle.Width = c, vg.Points(2)
				box.GlyphStyle.Color = c
				f.Plot.Add(box)
				drawn = true
				medians = append(medians, plotter.XY{X: g.X, Y: box.Median})
				hi = max(hi, slices.Max(vals))
			}
			if !drawn {
				continue
			}
			if numericX && len(medians) > 1 {
				if line, err := plotter.NewLine(medians); err == nil {
					line.Color, line.Width, line.Dashes = c, vg.Points(1.2), []vg.Length{vg.Points(4), vg.Points(2)}
					f.Plot.Add(line)
					f.legend(seriesName(metric, sname)+" (box: quartiles; line: medians)", swatch(light(c)), line)
					continue
				}
			}
			f.legend(seriesName(metric, sname)+" (box: quartiles, median)", swatch(light(c)))
		}
	}
	if pts := calibrationPoints(m, cal, false); len(pts) > 0 {
		f.addCalibration(pts)
		hi = max(hi, maxY(pts))
	}
	xs := make([]float64, len(groups))
	for i, g := range groups {
		xs[i] = g.X
	}
	if numericX {
		f.Plot.X.Min, f.Plot.X.Max = slices.Min(xs)-gap*0.6, slices.Max(xs)+gap*0.6
	} else {
		labels := make([]string, len(groups))
		for i, g := range groups {
			labels[i] = tickLabel(m.Axes, g)
		}
		f.Plot.NominalX(labels...)
		f.Plot.X.Min, f.Plot.X.Max = -0.6, float64(len(groups))-0.4
	}
	f.Plot.Y.Min, f.Plot.Y.Max = 0, niceMax(0, hi*1.02)
	f.Data = latencyRows(groups)
	return f
}

// LatencyBand draws the median crash → promotion and crash → writes
// resumed with their p10–p90 band along the numeric x axis; perTimeout
// divides each by the group's cluster-node-timeout T, which shows how
// much of the failover scales with T (Redis: detection after T, FAIL after
// up to T more) and how much is fixed (the election delay of 500 ms plus
// up to 500 ms, rank × 1 s). It returns nil without a numeric axis, or for
// perTimeout when a group's T is unknown.
func LatencyBand(m Meta, groups []Group, cal []CalibrationSample, perTimeout bool) *Figure {
	if xAxisOf(m.Axes) < 0 {
		return nil
	}
	name, ylabel, unit := "latency_band", "time after the crash or partition (s)", 1000.0
	what := "Median failover latency with its p10–p90 band"
	if perTimeout {
		name, ylabel, what = "latency_per_timeout", "time after the crash ÷ cluster-node-timeout (T)", "Failover latency in node timeouts"
		for _, g := range groups {
			if g.NodeTimeoutMs <= 0 {
				return nil
			}
		}
	}
	f := newFigure(name, fmt.Sprintf("%s — %s, %d seeds", what, m.Scenario, len(m.Seeds)), AxisTitle(m.Axes), ylabel)
	hi := 0.0
	for si, sname := range seriesOf(groups) {
		for mi, metric := range []Metric{Promoted, WritesResumed} {
			c := plotutil.Color(si*2 + mi)
			var mid, band plotter.XYs
			var top plotter.XYs
			for _, g := range groups {
				st := StatsOf(metric.values(g.Runs))
				if g.Series != sname || st.N == 0 {
					continue
				}
				div := unit
				if perTimeout {
					div = float64(g.NodeTimeoutMs)
				}
				mid = append(mid, plotter.XY{X: g.X, Y: float64(st.P50) / div})
				band = append(band, plotter.XY{X: g.X, Y: float64(st.P10) / div})
				top = append(top, plotter.XY{X: g.X, Y: float64(st.P90) / div})
				hi = max(hi, float64(st.P90)/div)
			}
			if len(mid) == 0 {
				continue
			}
			slices.Reverse(top)
			poly, err := plotter.NewPolygon(append(band, top...))
			if err != nil {
				continue
			}
			l := light(c)
			fill := color.RGBAModel.Convert(color.NRGBA{l.R, l.G, l.B, 120}).(color.RGBA) // translucent: bands overlap
			poly.Color, poly.LineStyle.Width = fill, 0
			line, points, err := plotter.NewLinePoints(mid)
			if err != nil {
				continue
			}
			line.Color, line.Width = c, vg.Points(1.5)
			points.Color, points.Shape, points.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
			f.Plot.Add(poly, line, points)
			f.legend(seriesName(metric, sname)+": median", line, points)
			f.legend(seriesName(metric, sname)+": p10–p90", swatch(fill))
		}
	}
	if pts := calibrationPoints(m, cal, perTimeout); len(pts) > 0 {
		f.addCalibration(pts)
		hi = max(hi, maxY(pts))
	}
	f.Plot.Y.Min, f.Plot.Y.Max = 0, niceMax(0, hi*1.05)
	gap := minGap(groups)
	xs := make([]float64, len(groups))
	for i, g := range groups {
		xs[i] = g.X
	}
	f.Plot.X.Min, f.Plot.X.Max = slices.Min(xs)-gap*0.3, slices.Max(xs)+gap*0.3
	f.Data = latencyRows(groups)
	return f
}

// calibrationPhases are the calibration phases drawn on the latency
// figures, with their glyphs: the real server's promotions and first
// writes.
var calibrationPhases = []struct {
	phase, label string
	shape        draw.GlyphDrawer
}{
	{"promotion", "real Redis: crash → promotion", draw.CrossGlyph{}},
	{"writes_resumed", "real Redis: crash → writes resumed", draw.PlusGlyph{}},
}

// calPoints are one phase's real-server points.
type calPoints struct {
	label string
	shape draw.GlyphDrawer
	xys   plotter.XYs
}

// calibrationPoints places the real-server samples on the latency x axis
// when that axis is the node timeout: x the trial's timeout, y its time
// (s, or ÷ T).
func calibrationPoints(m Meta, cal []CalibrationSample, perTimeout bool) []calPoints {
	xa := xAxisOf(m.Axes)
	if xa < 0 || !isNodeTimeout(m.Axes[xa].Key) {
		return nil
	}
	var out []calPoints
	for _, cp := range calibrationPhases {
		p := calPoints{label: cp.label, shape: cp.shape}
		for _, s := range cal {
			if s.Source == "real" && s.Phase == cp.phase && s.TimeoutMs > 0 {
				y := s.Ms / 1000
				if perTimeout {
					y = s.Ms / float64(s.TimeoutMs)
				}
				p.xys = append(p.xys, plotter.XY{X: float64(s.TimeoutMs), Y: y})
			}
		}
		if len(p.xys) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// addCalibration draws the real-server points in black.
func (f *Figure) addCalibration(pts []calPoints) {
	for _, p := range pts {
		sc, err := plotter.NewScatter(p.xys)
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3.5), Shape: p.shape}
		f.Plot.Add(sc)
		f.legend(fmt.Sprintf("%s (%d trials)", p.label, len(p.xys)), sc)
	}
}

func maxY(pts []calPoints) float64 {
	hi := 0.0
	for _, p := range pts {
		for _, xy := range p.xys {
			hi = max(hi, xy.Y)
		}
	}
	return hi
}
