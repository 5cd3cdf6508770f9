package reports

// The written report: the figures as PNG and SVG, plots.json (the data
// behind them), summary.csv (percentiles per setting) and a self-contained
// report.html with the SVGs inline.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// GroupSummary is one row of summary.csv and of the HTML tables.
type GroupSummary struct {
	Group         string
	Settings      []string
	Runs, OK      int
	Verdicts      [3]int // ok, illegal, unknown
	LostWrites    int    // summed over the runs
	LossyRuns     int    // runs that lost at least one acknowledged write
	Panics        int
	Promoted      Stats
	WritesResumed Stats
	Anatomy       AnatomyRow
	// Downtime is, per shard, the p50 and max over the runs of the time
	// its clients got no successful answer (checker.Summary.Downtime).
	Downtime []ShardStats
}

// ShardStats are one shard's downtime percentiles over a group's runs.
type ShardStats struct {
	Shard string
	Stats Stats
}

// Summarize computes the per-group rows.
func Summarize(groups []Group) []GroupSummary {
	var out []GroupSummary
	shards := shardNames(groups)
	rows := anatomyRows(groups)
	for i, g := range groups {
		s := GroupSummary{Group: g.Label, Settings: g.Settings, Runs: len(g.Runs),
			Promoted: StatsOf(Promoted.values(g.Runs)), WritesResumed: StatsOf(WritesResumed.values(g.Runs)), Anatomy: rows[i]}
		for _, r := range g.Runs {
			if r.OK {
				s.OK++
			}
			switch r.Check.Verdict {
			case checker.VerdictOK:
				s.Verdicts[0]++
			case checker.VerdictIllegal:
				s.Verdicts[1]++
			default:
				s.Verdicts[2]++
			}
			s.LostWrites += r.Check.LostWrites
			if r.Check.LostWrites > 0 {
				s.LossyRuns++
			}
			if r.Panic != "" {
				s.Panics++
			}
		}
		for _, sh := range shards {
			var vs []*int64
			for _, r := range g.Runs {
				for _, d := range r.Downtime {
					if d.Shard == sh {
						v := d.DowntimeMs
						vs = append(vs, &v)
					}
				}
			}
			s.Downtime = append(s.Downtime, ShardStats{sh, StatsOf(vs)})
		}
		out = append(out, s)
	}
	return out
}

// shardNames lists the shards any run reported downtime for, sorted.
func shardNames(groups []Group) []string {
	var out []string
	for _, g := range groups {
		for _, r := range g.Runs {
			for _, d := range r.Downtime {
				if !slices.Contains(out, d.Shard) {
					out = append(out, d.Shard)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// SummaryCSV renders the rows: settings, counts, then n, missing, p50, p90,
// p99 and max (ms) of both latencies, the mean of each phase (ms), and
// each shard's client-observed downtime, p50 and max (ms).
func SummaryCSV(m Meta, rows []GroupSummary) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h := []string{}
	for _, a := range m.Axes {
		h = append(h, a.Key)
	}
	h = append(h, "runs", "expectations_ok", "linearizable", "illegal", "unknown", "lost_writes", "runs_with_lost_writes", "panics")
	for _, p := range []string{"promoted", "writes_resumed"} {
		for _, s := range []string{"n", "never", "p50_ms", "p90_ms", "p99_ms", "max_ms"} {
			h = append(h, p+"_"+s)
		}
	}
	h = append(h, "crash_to_pfail_mean_ms", "pfail_to_fail_mean_ms", "fail_to_election_mean_ms",
		"election_to_promoted_mean_ms", "promoted_to_writes_resumed_mean_ms")
	if len(rows) > 0 {
		for _, d := range rows[0].Downtime {
			h = append(h, "downtime_"+d.Shard+"_p50_ms", "downtime_"+d.Shard+"_max_ms")
		}
	}
	_ = w.Write(h)
	itoa := strconv.Itoa
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, r := range rows {
		row := append([]string{}, r.Settings...)
		row = append(row, itoa(r.Runs), itoa(r.OK), itoa(r.Verdicts[0]), itoa(r.Verdicts[1]), itoa(r.Verdicts[2]),
			itoa(r.LostWrites), itoa(r.LossyRuns), itoa(r.Panics))
		for _, s := range []Stats{r.Promoted, r.WritesResumed} {
			row = append(row, itoa(s.N), itoa(s.Missing), i64(s.P50), i64(s.P90), i64(s.P99), i64(s.Max))
		}
		for _, v := range r.Anatomy.MeanMs {
			row = append(row, i64(v))
		}
		for _, d := range r.Downtime {
			row = append(row, i64(d.Stats.P50), i64(d.Stats.Max))
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// Extras are the optional parts of a sweep report.
type Extras struct {
	Run         []*Figure           // one run's figures (RunFigures), drawn after the sweep's
	Calibration []CalibrationSample // `rcsim calibrate`'s samples, if any
	Comparison  *Comparison         // `rcsim compare`'s results (LoadComparison), if any
}

// SweepFigures builds every figure of a sweep report, then appends the
// extra run figures.
func SweepFigures(m Meta, groups []Group, x Extras) []*Figure {
	figs := []*Figure{Latency(m, groups, x.Calibration)}
	for _, f := range []*Figure{LatencyBand(m, groups, x.Calibration, false), LatencyBand(m, groups, x.Calibration, true)} {
		if f != nil {
			figs = append(figs, f)
		}
	}
	figs = append(figs, Anatomy(m, groups), CDF(m, groups, Promoted), CDF(m, groups, WritesResumed))
	if f := LostWrites(m, groups); f != nil {
		figs = append(figs, f)
	}
	if f := Recovery(m, groups); f != nil {
		figs = append(figs, f)
	}
	if x.Comparison != nil {
		figs = append(figs, PairedFigure(*x.Comparison))
	}
	for _, f := range x.Run {
		if f != nil {
			figs = append(figs, f)
		}
	}
	return figs
}

// RunFigures are the figures of one run (named by RunName, with any
// settings) from its trace and history: the whole timeline, the timeline
// zoomed on the failover, and client availability per shard (the last two
// nil when the run had no fault or no client operation).
func RunFigures(run string, events []trace.Event, hist []history.Op, endMs int64) []*Figure {
	d := TimelineOf(events)
	endMs = max(endMs, d.EndMs)
	d.EndMs = endMs
	av := checker.Availability(events, hist, checker.AvailabilityBucket, endMs)
	return []*Figure{Timeline(TimelineTitle(run), d),
		TimelineFailover("The failover of "+run+", zoomed: who flagged whom, and when", d),
		Availability("Client availability per shard, "+run+": outcome of the operations in each 100 ms", av, d)}
}

// page is what report.html's template shows.
type page struct {
	Title       string
	Meta        Meta
	Fixed       string
	SeedText    string
	Runs        int
	AxisTitle   string
	Rows        []GroupSummary
	Shards      []string
	FewRuns     bool // a p90 or p99 rests on fewer than 10 or 100 runs
	Phases      []string
	Figures     []pageFigure
	Failures    []FailureGroup
	Findings    []RunFinding
	MoreFinds   int
	Calibration []CalibrationRow
	Comparison  *Comparison
	Run         *checker.Summary // a single run's report
	RunCommand  string
}

type pageFigure struct {
	Title string
	Name  string
	SVG   template.HTML
}

// WriteSweep writes the figures (PNG, SVG), plots.json, summary.csv and
// report.html of a sweep into out and returns the path of report.html.
func WriteSweep(out string, m Meta, runs []Run, x Extras) (string, error) {
	groups := Groups(m, runs)
	rows := Summarize(groups)
	pg := page{Title: "rcsim sweep report: " + m.Scenario, Meta: m, Fixed: Fixed(m.Axes), SeedText: SeedText(m.Seeds), Runs: len(runs),
		AxisTitle: categoryTitle(m.Axes), Rows: rows, Shards: shardNames(groups), Phases: Phases,
		Failures: FailureGroups(m, runs), Calibration: CalibrationRows(x.Calibration), Comparison: x.Comparison}
	for _, r := range rows {
		pg.FewRuns = pg.FewRuns || r.Promoted.N < 100 || r.WritesResumed.N < 100
	}
	pg.Findings, pg.MoreFinds = RunFindings(m, runs, maxFindings)
	if err := os.WriteFile(filepath.Join(mkdir(out), "summary.csv"), SummaryCSV(m, rows), 0o644); err != nil {
		return "", err
	}
	return writePage(out, pg, SweepFigures(m, groups, x))
}

// WriteRun writes the report of one run (its figures, failovers and
// verdict) into out and returns the path of report.html. command is the
// `rcsim run` line that reproduces it.
func WriteRun(out string, sum checker.Summary, figs []*Figure, command string) (string, error) {
	pg := page{Title: fmt.Sprintf("rcsim run report: %s seed %d", sum.Scenario, sum.Seed), Run: &sum,
		Meta: Meta{Scenario: sum.Scenario}, Phases: Phases, RunCommand: command}
	return writePage(out, pg, slices.DeleteFunc(slices.Clone(figs), func(f *Figure) bool { return f == nil }))
}

func mkdir(dir string) string {
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// writePage saves the figures and plots.json and renders report.html.
func writePage(out string, pg page, figs []*Figure) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	for _, f := range figs {
		svg, err := f.Save(out)
		if err != nil {
			return "", err
		}
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:] // drop the XML prolog: the SVG sits inside HTML
		}
		pg.Figures = append(pg.Figures, pageFigure{f.Title, f.Name, template.HTML(svg)})
	}
	data, err := json.MarshalIndent(figs, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(out, "plots.json"), append(data, '\n'), 0o644); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, pg); err != nil {
		return "", err
	}
	path := filepath.Join(out, "report.html")
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

// ms prints a step in ms after the fault, or "never".
func ms(p *int64) string {
	if p == nil {
		return "never"
	}
	return strconv.FormatInt(*p, 10)
}

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": ms,
	// few marks a percentile resting on fewer runs than it needs to be
	// more than the largest value seen.
	"few": func(n, need int) bool { return n > 0 && n < need },
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"pf1": func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'f', 1, 64)
	},
}).Parse(pageHTML))
