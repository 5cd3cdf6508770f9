package reports

// The standalone calibration page of `rcsim calibrate`: each fault and node
// timeout's per-phase table and, per phase, the real and simulated
// empirical CDFs overlaid (inline SVG, no scripts, one file).

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// CalibrationTable is one fault at one node timeout.
type CalibrationTable struct {
	Heading string
	Header  []string
	Rows    [][]string
	Plots   []CalibrationPlot
}

// CalibrationPlot is one phase's two samples, ms after the fault, sorted.
type CalibrationPlot struct {
	Phase     string
	Real, Sim []float64
}

var calibrationPage = template.Must(template.New("cal").Funcs(template.FuncMap{"cdf": cdfSVG}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>rcsim calibration</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,th:first-child{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}
figcaption{font-size:12px;text-align:center}
.real{stroke:#c0392b}.sim{stroke:#2471a3}
</style></head><body>
<h1>Calibration: real servers against the simulator</h1>
<p>Times are ms after the fault. Each plot overlays the empirical CDFs of one phase:
<span style="color:#c0392b">real trials</span> and <span style="color:#2471a3">simulated seeds</span>.
The KS distance is the largest vertical gap between the two curves.</p>
{{range .}}<h2>{{.Heading}}</h2>
<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
<div class="plots">{{range .Plots}}<figure>{{cdf .}}<figcaption>{{.Phase}}</figcaption></figure>{{end}}</div>
{{end}}</body></html>
`))

// CalibrationHTML writes the page.
func CalibrationHTML(w io.Writer, tables []CalibrationTable) error {
	return calibrationPage.Execute(w, tables)
}

// cdfSVG draws both step CDFs on one x axis from the smallest to the
// largest value of either sample.
func cdfSVG(p CalibrationPlot) template.HTML {
	const w, h, pad = 260.0, 160.0, 30.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range [][]float64{p.Real, p.Sim} {
		if len(xs) > 0 {
			lo, hi = math.Min(lo, xs[0]), math.Max(hi, xs[len(xs)-1])
		}
	}
	if math.IsInf(lo, 0) {
		return ""
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	x := func(v float64) float64 { return pad + (v-lo)/(hi-lo)*(w-2*pad) }
	y := func(f float64) float64 { return h - pad - f*(h-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg" font-size="10">`, w, h)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, pad, y(0), w-pad, y(0))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, pad, y(0), pad, y(1))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%.0f</text><text x="%.0f" y="%.0f" text-anchor="end">%.0f ms</text>`,
		pad, h-pad+12, lo, w-pad, h-pad+12, hi)
	fmt.Fprintf(&b, `<text x="2" y="%.0f">1</text><text x="2" y="%.0f">0</text>`, y(1)+4, y(0))
	for _, s := range []struct {
		class string
		xs    []float64
	}{{"sim", p.Sim}, {"real", p.Real}} {
		if len(s.xs) == 0 {
			continue
		}
		pts := fmt.Sprintf("%.1f,%.1f", x(lo), y(0))
		for i, v := range s.xs {
			pts += fmt.Sprintf(" %.1f,%.1f %.1f,%.1f", x(v), y(float64(i)/float64(len(s.xs))), x(v), y(float64(i+1)/float64(len(s.xs))))
		}
		pts += fmt.Sprintf(" %.1f,%.1f", x(hi), y(1))
		fmt.Fprintf(&b, `<polyline class="%s" fill="none" stroke-width="1.5" points="%s"/>`, s.class, pts)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
