package reports

// The scaling figure: CPU seconds per virtual second against cluster size,
// log–log, from `go test -bench Scale` output (make bench-scale), with the
// growth exponent fitted between sizes.

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScalePoint is one benchmark result: a cluster size and its costs.
type ScalePoint struct {
	Series    string             `json:"series"` // the benchmark: Scale, ScaleMassFailure
	Nodes     int                `json:"nodes"`
	CPUPerSec float64            `json:"cpu_s_per_virtual_s"`
	Metrics   map[string]float64 `json:"-"` // every metric of the line, by unit
}

// ParseScaleBench reads the lines of `go test -bench 'Scale'` output of the
// form "BenchmarkScale/nodes=600  1  123 ns/op  1.48 cpu-s/virtual-s …".
// Other lines are skipped; a matching line without cpu-s/virtual-s is an
// error naming its line.
func ParseScaleBench(r io.Reader) ([]ScalePoint, error) {
	var out []ScalePoint
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name, size, ok := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "/nodes=")
		if !ok {
			continue
		}
		size, _, _ = strings.Cut(size, "-") // the -GOMAXPROCS suffix
		n, err := strconv.Atoi(size)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad node count %q", line, size)
		}
		p := ScalePoint{Series: name, Nodes: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				p.Metrics[f[i+1]] = v
			}
		}
		cpu, ok := p.Metrics["cpu-s/virtual-s"]
		if !ok {
			return nil, fmt.Errorf("line %d: %s has no cpu-s/virtual-s", line, f[0])
		}
		p.CPUPerSec = cpu
		out = append(out, p)
	}
	return out, sc.Err()
}

// FitExponent is the least-squares slope of log(cost) against log(nodes)
// over the points of series with lo ≤ nodes ≤ hi: cost grows as nodes^slope.
// ok is false with fewer than two distinct sizes.
func FitExponent(points []ScalePoint, series string, lo, hi int) (slope float64, ok bool) {
	var xs, ys []float64
	for _, p := range points {
		if p.Series == series && p.Nodes >= lo && p.Nodes <= hi && p.CPUPerSec > 0 {
			xs, ys = append(xs, math.Log(float64(p.Nodes))), append(ys, math.Log(p.CPUPerSec))
		}
	}
	if len(xs) < 2 || slices.Min(xs) == slices.Max(xs) {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return num / den, true
}

// ScaleFigure draws CPU seconds per virtual second against nodes, log–log,
// one line per series (points in the order of the data, by size), with the
// exponent between its two largest sizes in the legend.
func ScaleFigure(points []ScalePoint) (*Figure, error) {
	f := newFigure("scale", "Cost against cluster size (one core)", "nodes", "CPU seconds per virtual second")
	f.Plot.X.Scale, f.Plot.Y.Scale = plot.LogScale{}, plot.LogScale{}
	f.Plot.X.Tick.Marker, f.Plot.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	var series []string
	for _, p := range points {
		if !slices.Contains(series, p.Series) {
			series = append(series, p.Series)
		}
	}
	type data struct {
		Series   string       `json:"series"`
		Points   []ScalePoint `json:"points"`
		Exponent *float64     `json:"exponent"` // between the two largest sizes
		From     int          `json:"exponent_from_nodes"`
		To       int          `json:"exponent_to_nodes"`
	}
	var all []data
	for i, s := range series {
		var xys plotter.XYs
		d := data{Series: s}
		for _, p := range points {
			if p.Series == s {
				xys = append(xys, plotter.XY{X: float64(p.Nodes), Y: p.CPUPerSec})
				d.Points = append(d.Points, ScalePoint{Series: p.Series, Nodes: p.Nodes, CPUPerSec: p.CPUPerSec})
			}
		}
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("scale %s: %v", s, err)
		}
		c := plotutil.Color(i)
		line.Color, line.Width, pts.Color, pts.Shape = c, vg.Points(1.5), c, draw.CircleGlyph{}
		f.Plot.Add(line, pts)
		name := s
		if n := len(d.Points); n >= 2 {
			lo, hi := d.Points[n-2].Nodes, d.Points[n-1].Nodes
			if e, ok := FitExponent(points, s, lo, hi); ok {
				name = fmt.Sprintf("%s: cost ~ N^%.2f from %d to %d nodes", s, e, lo, hi)
				d.Exponent, d.From, d.To = &e, lo, hi
			}
		}
		f.legend(name, line)
		all = append(all, d)
	}
	f.Data = all
	return f, nil
}
