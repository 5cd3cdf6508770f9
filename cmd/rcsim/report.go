package main

// `rcsim report`: draw a sweep directory (latency, anatomy, CDFs, lost
// writes, one run's timeline) or a single run's directory (its timeline).

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"rcsim/checker"
	"rcsim/node/trace"
	"rcsim/reports"
	"rcsim/sim"
	"rcsim/sim/sweep"
)

func newReportCmd(stdout io.Writer) *cobra.Command {
	var out string
	timelineRun := -1
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Draw a sweep's or a run's results (PNG, SVG, report.html, summary.csv)",
		Long: `Draw the results in DIR. For a sweep (sweep.json, runs.jsonl): failover latency
against the swept setting as box plots with the median line, the anatomy of a
failover as stacked phases, CDFs per setting, lost writes against partition
length (when a partition was in force), and the per-node timeline of one run
(rerun from its seed; --timeline-run picks which). For a run's --out directory
(trace.jsonl, summary.json): its timeline. Writes PNG and SVG files,
plots.json (the data behind them), summary.csv and a self-contained
report.html into --out (default DIR/report).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			if out == "" {
				out = filepath.Join(dir, "report")
			}
			var path string
			var err error
			if _, serr := os.Stat(filepath.Join(dir, sweep.SpecFile)); serr == nil {
				path, err = reportSweep(dir, out, timelineRun, stdout)
			} else {
				path, err = reportRun(dir, out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "report: %s\n", path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output directory (default DIR/report)")
	cmd.Flags().IntVar(&timelineRun, "timeline-run", -1, "run index whose timeline to draw (default: the median crash→promotion of the first setting)")
	return cmd
}

func reportSweep(dir, out string, timelineRun int, stdout io.Writer) (string, error) {
	spec, sh, err := sweep.ReadSpec(dir)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	runs, err := reports.LoadRuns(filepath.Join(dir, sweep.RunsFile))
	if err != nil {
		return "", badInput("report: %v", err)
	}
	if len(runs) == 0 {
		return "", badInput("report: %s has no runs", filepath.Join(dir, sweep.RunsFile))
	}
	if sh.Count > 1 {
		fmt.Fprintf(os.Stderr, "rcsim: report: %s holds shard %s only; merge the shards for the whole sweep\n", dir, sh)
	}
	m := reports.Meta{Source: spec.Source, Scenario: spec.Scenario, ScenarioYAML: spec.ScenarioYAML, Seeds: spec.Seeds}
	for _, a := range spec.Axes {
		m.Axes = append(m.Axes, reports.Axis{Key: a.Key, Values: a.Values})
	}
	groups := reports.Groups(m, runs)
	if len(groups) == 0 {
		return "", badInput("report: no run in %s has the settings %s lists", filepath.Join(dir, sweep.RunsFile), sweep.SpecFile)
	}
	if timelineRun < 0 {
		timelineRun = medianRun(groups[0].Runs)
	}
	tl, err := sweepTimeline(spec, timelineRun)
	if err != nil {
		return "", err
	}
	path, err := reports.WriteSweep(out, m, runs, tl)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	if err := sweepComparisons(stdout, out, spec, groups); err != nil {
		return "", err
	}
	return path, nil
}

// sweepComparisons is rcsim compare's paired view of a sweep over one
// setting: each later value (B) against the first (A), seed by seed, printed
// and written as compare.csv/json/png (compare-VALUE.* when the setting
// takes more than two values).
func sweepComparisons(stdout io.Writer, out string, spec sweep.Spec, groups []reports.Group) error {
	if len(spec.Axes) != 1 || len(groups) < 2 {
		return nil
	}
	key := spec.Axes[0].Key
	side := func(g reports.Group) (reports.Side, []checker.Summary) {
		kv := key + "=" + g.Settings[0]
		s := reports.Side{Label: kv, Source: spec.Source, Sets: []string{kv}}
		sums := make([]checker.Summary, len(g.Runs))
		for i, r := range g.Runs {
			sums[i] = r.Summary
		}
		return s, sums
	}
	sa, a := side(groups[0])
	for _, g := range groups[1:] {
		sb, b := side(g)
		c, err := reports.Compare(spec.Scenario, sa, sb, a, b)
		if err != nil {
			fmt.Fprintf(stdout, "report: no paired view of %s: %v (an incomplete sweep?)\n", sb.Label, err)
			continue
		}
		printComparison(stdout, c)
		stem := "compare"
		if len(groups) > 2 {
			stem += "-" + g.Settings[0]
		}
		if err := writePaired(out, stem, c); err != nil {
			return err
		}
	}
	return nil
}

// medianRun is the index of the run with the median crash→promotion among
// runs (the first run when none was promoted).
func medianRun(runs []reports.Run) int {
	var withP []reports.Run
	for _, r := range runs {
		if len(r.Failovers) > 0 && r.Failovers[0].PromotedMs != nil {
			withP = append(withP, r)
		}
	}
	if len(withP) == 0 {
		return runs[0].Run
	}
	slices.SortStableFunc(withP, func(a, b reports.Run) int {
		return int(*a.Failovers[0].PromotedMs - *b.Failovers[0].PromotedMs)
	})
	return withP[(len(withP)-1)/2].Run
}

// sweepTimeline reruns run i of the sweep, keeping its trace, and draws its
// timeline.
func sweepTimeline(spec sweep.Spec, i int) (*reports.Figure, error) {
	if i < 0 || i >= spec.Runs() {
		return nil, badInput("report: --timeline-run %d: the sweep has runs 0..%d", i, spec.Runs()-1)
	}
	sw, err := sweep.FromSpec(spec)
	if err != nil {
		return nil, badInput("report: %v", err)
	}
	s, seed := sw.Scenario(i), spec.Seed(i)
	res, err := sim.Run(s, sim.Options{Seed: seed, KeepTrace: true, AllowBugs: spec.AllowBugs})
	if err != nil {
		return nil, badInput("report: run %d: %v", i, err)
	}
	title := reports.TimelineTitle(s.Name, seed)
	for a, v := range spec.Point(i) {
		title += fmt.Sprintf(", %s=%s", spec.Axes[a].Key, v)
	}
	return reports.Timeline(title, reports.TimelineOf(res.Trace)), nil
}

// reportRun draws a single run's directory as `rcsim run --out` left it.
func reportRun(dir, out string) (string, error) {
	sb, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return "", badInput("report: %s is neither a sweep (no %s) nor a run: %v", dir, sweep.SpecFile, err)
	}
	var sum checker.Summary
	if err := json.Unmarshal(sb, &sum); err != nil {
		return "", badInput("report: %s: %v", filepath.Join(dir, "summary.json"), err)
	}
	tf, err := os.Open(filepath.Join(dir, "trace.jsonl"))
	if err != nil {
		return "", badInput("report: %v", err)
	}
	defer tf.Close()
	events, err := trace.Read(filepath.Join(dir, "trace.jsonl"), tf)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	tl := reports.Timeline(reports.TimelineTitle(sum.Scenario, sum.Seed), reports.TimelineOf(events))
	path, err := reports.WriteRun(out, sum, tl)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	return path, nil
}
