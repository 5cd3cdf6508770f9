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
	"strconv"
	"strings"

	"rcsim/checker"
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
}

// Summarize computes the per-group rows.
func Summarize(groups []Group) []GroupSummary {
	var out []GroupSummary
	for _, g := range groups {
		s := GroupSummary{Group: g.Label, Settings: g.Settings, Runs: len(g.Runs),
			Promoted: StatsOf(Promoted.values(g.Runs)), WritesResumed: StatsOf(WritesResumed.values(g.Runs))}
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
		s.Anatomy = Anatomy(Meta{}, []Group{g}).Data.([]AnatomyRow)[0]
		out = append(out, s)
	}
	return out
}

// SummaryCSV renders the rows: settings, counts, then n, missing, p50, p90,
// p99 and max (ms) of both latencies, then the mean of each phase (ms).
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
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// SweepFigures builds every figure of a sweep report; timeline, if not
// nil, is one run's timeline.
func SweepFigures(m Meta, groups []Group, timeline *Figure) []*Figure {
	figs := []*Figure{Latency(m, groups), Anatomy(m, groups), CDF(m, groups, Promoted), CDF(m, groups, WritesResumed)}
	if f := LostWrites(m, groups); f != nil {
		figs = append(figs, f)
	}
	if f := Recovery(m, groups); f != nil {
		figs = append(figs, f)
	}
	if timeline != nil {
		figs = append(figs, timeline)
	}
	return figs
}

// page is what report.html's template shows.
type page struct {
	Title     string
	Meta      Meta
	SeedText  string
	Runs      int
	AxisTitle string
	Rows      []GroupSummary
	Phases    []string
	Figures   []pageFigure
	Failed    []Run // runs whose expectations failed, the first 50
	MoreFail  int
	Run       *checker.Summary // a single run's report
}

type pageFigure struct {
	Title string
	Name  string
	SVG   template.HTML
}

// WriteSweep writes the figures (PNG, SVG), plots.json, summary.csv and
// report.html of a sweep into out and returns the path of report.html.
func WriteSweep(out string, m Meta, runs []Run, timeline *Figure) (string, error) {
	groups := Groups(m, runs)
	rows := Summarize(groups)
	pg := page{Title: "rcsim sweep report: " + m.Scenario, Meta: m, SeedText: SeedText(m.Seeds), Runs: len(runs),
		AxisTitle: AxisTitle(m.Axes), Rows: rows, Phases: Phases}
	for _, r := range runs {
		if !r.OK {
			if len(pg.Failed) < 50 {
				pg.Failed = append(pg.Failed, r)
			} else {
				pg.MoreFail++
			}
		}
	}
	if err := os.WriteFile(filepath.Join(mkdir(out), "summary.csv"), SummaryCSV(m, rows), 0o644); err != nil {
		return "", err
	}
	return writePage(out, pg, SweepFigures(m, groups, timeline))
}

// WriteRun writes the report of one run (its timeline, failovers and
// verdict) into out and returns the path of report.html.
func WriteRun(out string, sum checker.Summary, timeline *Figure) (string, error) {
	pg := page{Title: fmt.Sprintf("rcsim run report: %s seed %d", sum.Scenario, sum.Seed), Run: &sum,
		Meta: Meta{Scenario: sum.Scenario}, Phases: Phases}
	return writePage(out, pg, []*Figure{timeline})
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

// failedExpectations lists the names of the expectations a run failed.
func failedExpectations(r Run) string {
	var out []string
	for _, e := range r.Expectations {
		if !e.OK {
			out = append(out, e.Name+" (got "+e.Got+")")
		}
	}
	if r.Panic != "" {
		out = append(out, "simulator panic")
	}
	return strings.Join(out, "; ")
}

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": ms, "failed": failedExpectations,
	"settings": func(s map[string]string) string {
		b, _ := json.Marshal(s)
		return string(b)
	},
}).Parse(pageHTML))
