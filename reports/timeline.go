package reports

// The per-node timeline of one run: each node's role (master, replica,
// crashed) and cluster state over virtual time, the PFAIL and FAIL flags
// raised about it, its promotion, and the faults, read from trace.jsonl.

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/rcsim/rcsim/node/trace"
)

// Span is a stretch of virtual time a node spent in one condition:
// "master", "replica", "crashed", or "cluster_fail" (its cluster_state was
// fail).
type Span struct {
	Node   string `json:"node"`
	Kind   string `json:"kind"`
	FromMs int64  `json:"from_ms"`
	ToMs   int64  `json:"to_ms"`
}

// Mark is an instant on a node's row: "pfail" and "fail" (the first time
// any node flagged it, By naming who), "promoted", "crash", "restart".
type Mark struct {
	Node string `json:"node"`
	Kind string `json:"kind"`
	AtMs int64  `json:"at_ms"`
	By   string `json:"by,omitempty"`
}

// TimelineData is what the timeline figure draws.
type TimelineData struct {
	Nodes      []string        `json:"nodes"` // in boot order, drawn top to bottom
	Spans      []Span          `json:"spans"`
	Marks      []Mark          `json:"marks"`
	Partitions []PartitionSpan `json:"partitions"`
	EndMs      int64           `json:"end_ms"`
}

// PartitionSpan is a partition in force from FromMs to ToMs, with the
// nodes and clients on each side (the trace's "m0 client-0 | m1 …").
type PartitionSpan struct {
	FromMs int64      `json:"from_ms"`
	ToMs   int64      `json:"to_ms"`
	Sides  [][]string `json:"sides"`
}

// timelineState is the running picture TimelineOf keeps per node.
type timelineState struct {
	role      map[string]string
	crashedAs map[string]string // the role a node had when it crashed
	roleAt    map[string]int64
	failAt    map[string]int64 // cluster_state fail since; absent when ok
	flagged   map[string]string
	partition *PartitionSpan // in force, not yet healed
	d         *TimelineData
}

// TimelineOf reads a run's trace into spans and marks.
func TimelineOf(events []trace.Event) TimelineData {
	d := &TimelineData{}
	st := &timelineState{role: map[string]string{}, crashedAs: map[string]string{}, roleAt: map[string]int64{}, failAt: map[string]int64{},
		flagged: map[string]string{}, d: d}
	for _, e := range events {
		st.apply(e)
		d.EndMs = max(d.EndMs, e.At.Milliseconds())
	}
	for _, n := range d.Nodes {
		st.setRole(n, "", d.EndMs)
		st.setFail(n, false, d.EndMs)
	}
	if st.partition != nil {
		st.partition.ToMs = d.EndMs
		d.Partitions = append(d.Partitions, *st.partition)
	}
	slices.SortStableFunc(d.Spans, func(a, b Span) int {
		return slices.Index(d.Nodes, a.Node) - slices.Index(d.Nodes, b.Node)
	})
	return *d
}

func (st *timelineState) apply(e trace.Event) {
	at := e.At.Milliseconds()
	d := st.d
	switch e.Kind {
	case trace.Boot:
		d.Nodes = append(d.Nodes, e.Node)
		st.setRole(e.Node, strings.Fields(e.Value + " x")[0], at)
		st.failAt[e.Node] = at
	case trace.Role:
		st.setRole(e.Node, e.Value, at)
	case trace.Promoted:
		st.setRole(e.Node, "master", at)
		d.Marks = append(d.Marks, Mark{Node: e.Node, Kind: "promoted", AtMs: at})
	case trace.Crash:
		st.setFail(e.Node, false, at)
		st.crashedAs[e.Node] = st.role[e.Node]
		st.setRole(e.Node, "crashed", at)
		d.Marks = append(d.Marks, Mark{Node: e.Node, Kind: "crash", AtMs: at})
	case trace.Restart:
		st.setRole(e.Node, st.crashedAs[e.Node], at) // nodes.conf kept it; a Role event corrects it
		st.failAt[e.Node] = at
		delete(st.flagged, e.Node)
		d.Marks = append(d.Marks, Mark{Node: e.Node, Kind: "restart", AtMs: at})
	case trace.State:
		st.setFail(e.Node, e.Value == "fail", at)
	case trace.PFail, trace.Fail:
		if st.flagged[e.Peer] != string(e.Kind) && st.flagged[e.Peer] != "fail" {
			st.flagged[e.Peer] = string(e.Kind)
			d.Marks = append(d.Marks, Mark{Node: e.Peer, Kind: string(e.Kind), AtMs: at, By: e.Node})
		}
	case trace.FailCleared, trace.PFailCleared:
		delete(st.flagged, e.Peer)
	case trace.Partition:
		if st.partition != nil { // a new partition replaces the one in force
			st.partition.ToMs = at
			d.Partitions = append(d.Partitions, *st.partition)
		}
		st.partition = &PartitionSpan{FromMs: at, Sides: partitionSides(e.Value)}
	case trace.Heal:
		if st.partition != nil {
			st.partition.ToMs = at
			d.Partitions = append(d.Partitions, *st.partition)
			st.partition = nil
		}
	}
}

// partitionSides splits a partition event's value into its sides.
func partitionSides(v string) [][]string {
	var out [][]string
	for _, side := range strings.Split(v, "|") {
		if f := strings.Fields(side); len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// setRole closes the node's current role span at `at` and opens role ("":
// close only).
func (st *timelineState) setRole(node, role string, at int64) {
	if old, ok := st.role[node]; ok && old != "" && old != role {
		if at > st.roleAt[node] {
			st.d.Spans = append(st.d.Spans, Span{node, old, st.roleAt[node], at})
		}
	} else if ok && old == role {
		return
	}
	st.role[node], st.roleAt[node] = role, at
}

// setFail opens or closes the node's cluster_fail span.
func (st *timelineState) setFail(node string, fail bool, at int64) {
	from, open := st.failAt[node]
	switch {
	case fail && !open:
		st.failAt[node] = at
	case !fail && open:
		if at > from {
			st.d.Spans = append(st.d.Spans, Span{node, "cluster_fail", from, at})
		}
		delete(st.failAt, node)
	}
}

// spanColors are the fills of the span kinds, in legend order.
var spanColors = []struct {
	kind, label string
	c           color.RGBA
}{
	{"master", "master", color.RGBA{66, 114, 196, 255}},
	{"replica", "replica", color.RGBA{112, 173, 71, 255}},
	{"crashed", "crashed (process down)", color.RGBA{150, 150, 150, 255}},
	{"cluster_fail", "cluster_state fail (as the node sees it)", color.RGBA{220, 50, 47, 255}},
}

// markStyles are the glyphs of the mark kinds, in legend order.
var markStyles = []struct {
	kind, label string
	g           draw.GlyphStyle
}{
	{"pfail", "PFAIL: first flagged about this node", draw.GlyphStyle{Color: color.RGBA{255, 140, 0, 255}, Radius: vg.Points(4), Shape: draw.RingGlyph{}}},
	{"fail", "FAIL: first flagged about this node", draw.GlyphStyle{Color: color.RGBA{200, 0, 0, 255}, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}},
	{"promoted", "promoted to master", draw.GlyphStyle{Color: color.RGBA{128, 0, 128, 255}, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}},
	{"crash", "crash", draw.GlyphStyle{Color: color.Black, Radius: vg.Points(4), Shape: draw.BoxGlyph{}}},
	{"restart", "restart", draw.GlyphStyle{Color: color.Black, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}},
}

// sideColors tint a node's row by the side of a partition it was on.
var sideColors = []color.RGBA{{250, 215, 160, 255}, {190, 215, 240, 255}, {215, 240, 200, 255}, {235, 200, 235, 255}}

// Timeline draws d: one row per node, roles as wide bars, cluster_state
// fail as a thin band under them, each node's row tinted by its side while
// a partition was in force, and the marks as glyphs on the row of the node
// they are about.
func Timeline(title string, d TimelineData) *Figure {
	return timeline("timeline", title, d, 0, d.EndMs, false)
}

// TimelineFailover is Timeline zoomed on the first failover: from half a
// second before the first fault to a second after the last promotion
// that followed it, with each flag labelled with who raised it first. It
// returns nil when the run had no fault.
func TimelineFailover(title string, d TimelineData) *Figure {
	from, to := int64(-1), int64(-1)
	for _, p := range d.Partitions {
		from = p.FromMs
		break
	}
	for _, m := range d.Marks {
		if m.Kind == "crash" && (from < 0 || m.AtMs < from) {
			from = m.AtMs
		}
	}
	if from < 0 {
		return nil
	}
	for _, m := range d.Marks {
		if m.AtMs >= from && (m.Kind == "promoted" || to < 0 && (m.Kind == "fail" || m.Kind == "pfail")) {
			to = max(to, m.AtMs)
		}
	}
	if to < 0 {
		to = min(d.EndMs, from+10000)
	}
	lo, hi := max(0, from-500), min(d.EndMs, to+1000)
	return timeline("timeline_failover", title, d, lo, hi, true)
}

// timeline draws d between fromMs and toMs; labels adds the flaggers'
// names beside the flags.
func timeline(name, title string, d TimelineData, fromMs, toMs int64, labels bool) *Figure {
	f := newFigure(name, title, "virtual time (s)", "node")
	f.Width, f.Height = 10*vg.Inch, vg.Length(1.6+0.42*float64(len(d.Nodes)))*vg.Inch
	row := func(node string) float64 { return float64(len(d.Nodes) - 1 - slices.Index(d.Nodes, node)) }
	var bg rects
	for _, p := range d.Partitions {
		for si, side := range p.Sides {
			for _, n := range side {
				if slices.Contains(d.Nodes, n) {
					y := row(n)
					bg = append(bg, rect{float64(p.FromMs) / 1000, float64(p.ToMs) / 1000, y - 0.5, y + 0.5, sideColors[si%len(sideColors)]})
				}
			}
		}
	}
	f.Plot.Add(bg)
	if len(d.Partitions) > 0 {
		p := d.Partitions[0]
		for si, side := range p.Sides {
			f.legend(fmt.Sprintf("partition side %d: %s", si+1, shortList(side, 6)), swatch(sideColors[si%len(sideColors)]))
		}
	}
	var fg rects
	for _, s := range d.Spans {
		y := row(s.Node)
		y0, y1 := y-0.25, y+0.25
		if s.Kind == "cluster_fail" {
			y0, y1 = y-0.38, y-0.28
		}
		for _, sc := range spanColors {
			if sc.kind == s.Kind {
				fg = append(fg, rect{float64(s.FromMs) / 1000, float64(s.ToMs) / 1000, y0, y1, sc.c})
			}
		}
	}
	f.Plot.Add(fg)
	for _, sc := range spanColors {
		f.legend(sc.label, swatch(sc.c))
	}
	f.addMarks(d, row, labels, fromMs, toMs)
	names := slices.Clone(d.Nodes)
	slices.Reverse(names)
	f.Plot.NominalY(names...)
	f.Plot.Y.Min, f.Plot.Y.Max = -0.6, float64(len(d.Nodes))-0.4
	f.Plot.X.Min, f.Plot.X.Max = float64(fromMs)/1000, float64(toMs)/1000
	f.Data = d
	return f
}

// addMarks draws the marks as glyphs on the row of the node they are
// about and, with labels, "PFAIL by m1" beside the flags in [fromMs, toMs].
func (f *Figure) addMarks(d TimelineData, row func(string) float64, labels bool, fromMs, toMs int64) {
	for _, ms := range markStyles {
		var pts plotter.XYs
		var text []string
		for _, m := range d.Marks {
			if m.Kind == ms.kind {
				pts = append(pts, plotter.XY{X: float64(m.AtMs) / 1000, Y: row(m.Node)})
				text = append(text, markLabel(m))
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			continue
		}
		sc.GlyphStyle = ms.g
		f.Plot.Add(sc)
		f.legend(ms.label, sc)
		if !labels {
			continue
		}
		var in plotter.XYLabels
		for i, p := range pts {
			if at := int64(p.X * 1000); at >= fromMs && at <= toMs && text[i] != "" {
				in.XYs, in.Labels = append(in.XYs, p), append(in.Labels, text[i])
			}
		}
		if len(in.XYs) == 0 {
			continue
		}
		if l, err := plotter.NewLabels(in); err == nil {
			// PFAIL labels sit above the row's bar, FAIL labels below it,
			// so the two flags of one node, often a few ms apart, do not
			// print over each other.
			align, dy := draw.YBottom, vg.Points(9)
			if ms.kind == "fail" {
				align, dy = draw.YTop, -vg.Points(9)
			}
			for i := range l.TextStyle {
				l.TextStyle[i].Font.Size = vg.Points(8)
				l.TextStyle[i].YAlign = align
			}
			l.Offset = vg.Point{X: vg.Points(4), Y: dy}
			f.Plot.Add(l)
		}
	}
}

// markLabel is the text beside a flag: "PFAIL by m1", "FAIL by m2".
func markLabel(m Mark) string {
	switch m.Kind {
	case "pfail", "fail":
		if m.By != "" {
			return strings.ToUpper(m.Kind) + " by " + m.By
		}
	case "promoted":
		return "promoted"
	}
	return ""
}

// shortList prints up to n names, then "…".
func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, " ")
	}
	return strings.Join(names[:n], " ") + " …"
}

// RunName names a run in titles: "master-crash, seed 7".
func RunName(scenario string, seed uint64) string {
	return fmt.Sprintf("%s, seed %d", scenario, seed)
}

// TimelineTitle is the title of a run's timeline.
func TimelineTitle(run string) string {
	return "Timeline of " + run + ": roles, flags and faults per node"
}

// rect is a filled rectangle in data coordinates.
type rect struct {
	x0, x1, y0, y1 float64
	c              color.RGBA
}

// rects is a plot.Plotter of filled rectangles.
type rects []rect

// Plot draws the rectangles.
func (rs rects) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, r := range rs {
		pts := []vg.Point{{X: trX(r.x0), Y: trY(r.y0)}, {X: trX(r.x1), Y: trY(r.y0)},
			{X: trX(r.x1), Y: trY(r.y1)}, {X: trX(r.x0), Y: trY(r.y1)}}
		c.FillPolygon(r.c, c.ClipPolygonXY(pts))
	}
}

// DataRange is the rectangles' extent.
func (rs rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(rs) == 0 {
		return 0, 0, 0, 0
	}
	xmin, xmax, ymin, ymax = rs[0].x0, rs[0].x1, rs[0].y0, rs[0].y1
	for _, r := range rs[1:] {
		xmin, xmax, ymin, ymax = min(xmin, r.x0), max(xmax, r.x1), min(ymin, r.y0), max(ymax, r.y1)
	}
	return
}

// swatch is a legend thumbnail filled with one colour.
type swatch color.RGBA

// Thumbnail fills the legend entry's box.
func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	c.FillPolygon(color.RGBA(s), c.ClipPolygonY(pts))
}
