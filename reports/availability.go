package reports

// Client-observed availability over time, one row per shard: in each
// 100 ms bucket, the fractions of the operations started on that shard
// that succeeded, got CLUSTERDOWN, timed out, were refused or failed
// otherwise (grey where none started), over the fault windows shaded
// across all rows.

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/vg"

	"github.com/rcsim/rcsim/checker"
)

// outcomeColors fill the outcome classes, in checker.Outcomes order.
var outcomeColors = []struct {
	label string
	c     color.RGBA
}{
	{"ok", color.RGBA{112, 173, 71, 255}},
	{"CLUSTERDOWN (cluster_state fail)", color.RGBA{220, 50, 47, 255}},
	{"timeout (no answer)", color.RGBA{120, 120, 120, 255}},
	{"connection refused (process down)", color.RGBA{40, 40, 40, 255}},
	{"other error", color.RGBA{255, 160, 0, 255}},
}

// faultShade is the background of the fault windows; idleColor fills a
// bucket in which no operation of the shard started.
var (
	faultShade = color.RGBA{255, 236, 179, 255}
	idleColor  = color.RGBA{215, 215, 215, 255}
)

// AvailabilityData is what the availability figure draws.
type AvailabilityData struct {
	Shards []checker.ShardAvailability `json:"shards"`
	// Faults are [from_ms, to_ms] windows: a node crashed until its
	// restart, or a partition in force.
	Faults [][2]int64 `json:"faults"`
	EndMs  int64      `json:"end_ms"`
}

// faultWindows are a timeline's crash→restart spans and partitions.
func faultWindows(d TimelineData) [][2]int64 {
	var out [][2]int64
	down := map[string]int64{}
	var order []string
	for _, m := range d.Marks {
		switch m.Kind {
		case "crash":
			if _, ok := down[m.Node]; !ok {
				order = append(order, m.Node)
			}
			down[m.Node] = m.AtMs
		case "restart":
			if at, ok := down[m.Node]; ok && at >= 0 {
				out = append(out, [2]int64{at, m.AtMs})
				down[m.Node] = -1
			}
		}
	}
	for _, n := range order {
		if at := down[n]; at >= 0 {
			out = append(out, [2]int64{at, d.EndMs})
		}
	}
	for _, p := range d.Partitions {
		out = append(out, [2]int64{p.FromMs, p.ToMs})
	}
	return out
}

// Availability draws av over the fault windows of d. It returns nil when
// no shard had an operation.
func Availability(title string, av []checker.ShardAvailability, d TimelineData) *Figure {
	ops := 0
	for _, s := range av {
		for _, c := range s.Counts {
			ops += c[0] + c[1] + c[2] + c[3] + c[4]
		}
	}
	if ops == 0 {
		return nil
	}
	f := newFigure("availability", title, "virtual time (s)", "shard")
	f.Width, f.Height = 10*vg.Inch, vg.Length(1.6+0.7*float64(len(av)))*vg.Inch
	data := AvailabilityData{Shards: av, Faults: faultWindows(d), EndMs: d.EndMs}
	n := len(av)
	var bg rects
	for _, w := range data.Faults {
		bg = append(bg, rect{float64(w[0]) / 1000, float64(w[1]) / 1000, -0.5, float64(n) - 0.5, faultShade})
	}
	f.Plot.Add(bg)
	if len(bg) > 0 {
		f.legend("fault in force (crash until restart, partition until heal)", swatch(faultShade))
	}
	var fg rects
	names := make([]string, n)
	for i, s := range av {
		y := float64(n - 1 - i)
		names[n-1-i] = fmt.Sprintf("%s (%s)", s.Shard, s.Slots)
		fg = append(fg, shardBars(s, y-0.4, 0.8)...)
	}
	f.Plot.Add(fg)
	for _, oc := range outcomeColors {
		f.legend(oc.label, swatch(oc.c))
	}
	f.legend("no operation started (clients waiting on earlier ones)", swatch(idleColor))
	f.Plot.NominalY(names...)
	f.Plot.Y.Min, f.Plot.Y.Max = -0.6, float64(n)-0.4
	f.Plot.X.Min, f.Plot.X.Max = 0, float64(d.EndMs)/1000
	f.Data = data
	return f
}

// shardBars stacks each bucket's outcome fractions from y0 over height h,
// merging neighbouring buckets with the same counts into one rectangle.
func shardBars(s checker.ShardAvailability, y0, h float64) rects {
	var out rects
	w := float64(s.BucketMs) / 1000
	for i := 0; i < len(s.Counts); {
		j := i + 1
		for j < len(s.Counts) && fractions(s.Counts[j]) == fractions(s.Counts[i]) {
			j++
		}
		fr := fractions(s.Counts[i])
		if fr == ([5]float64{}) {
			out = append(out, rect{float64(i) * w, float64(j) * w, y0, y0 + h, idleColor})
		}
		y := y0
		for k, v := range fr {
			if v > 0 {
				out = append(out, rect{float64(i) * w, float64(j) * w, y, y + v*h, outcomeColors[k].c})
				y += v * h
			}
		}
		i = j
	}
	return out
}

// fractions turns a bucket's counts into fractions (all zero without ops).
func fractions(c [5]int) [5]float64 {
	total := c[0] + c[1] + c[2] + c[3] + c[4]
	var out [5]float64
	if total == 0 {
		return out
	}
	for k, v := range c {
		out[k] = float64(v) / float64(total)
	}
	return out
}
