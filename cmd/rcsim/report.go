package main

// `rcsim report`: draw a sweep directory (latency, anatomy, CDFs, lost
// writes, one run's timeline) or a single run's directory (its timeline).

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/reports"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/sweep"
)

func newReportCmd(stdout io.Writer) *cobra.Command {
	var out, calibration string
	timelineRun := -1
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Draw a sweep's or a run's results (PNG, SVG, report.html, summary.csv)",
		Long: `Draw the results in DIR. For a sweep (sweep.json, runs.jsonl): failover latency
against the swept setting as box plots with the median line, the anatomy of a
failover as stacked phases, CDFs per setting, lost writes against partition
length (when a partition was in force), and the per-node timeline of one run
(rerun from its seed; --timeline-run picks which) with its failover zoomed and
client availability per shard. For a run's --out directory (trace.jsonl,
history.jsonl, summary.json): its timeline and availability. A sweep's report
adds a calibration section and real-server points when DIR holds
calibration-samples.csv (rcsim calibrate) or --calibration names one, and a
paired comparison when DIR holds compare.json and compare.csv (rcsim compare). Writes PNG and
SVG files, plots.json (the data behind them), summary.csv and a
self-contained report.html into --out (default DIR/report).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			if out == "" {
				out = filepath.Join(dir, "report")
			}
			var path string
			var err error
			if _, serr := os.Stat(filepath.Join(dir, sweep.SpecFile)); serr == nil {
				path, err = reportSweep(dir, out, timelineRun, calibration, stdout)
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
	cmd.Flags().StringVar(&calibration, "calibration", "", "calibration-samples.csv from rcsim calibrate (default: DIR/"+reports.CalibrationFile+" if present)")
	return cmd
}

func reportSweep(dir, out string, timelineRun int, calibration string, stdout io.Writer) (string, error) {
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
	sw, err := sweep.FromSpec(spec)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	m := reports.Meta{Source: spec.Source, Scenario: spec.Scenario, ScenarioYAML: spec.ScenarioYAML, Seeds: spec.Seeds}
	for _, a := range spec.Axes {
		m.Axes = append(m.Axes, reports.Axis{Key: a.Key, Values: a.Values})
	}
	for p := 0; p < spec.Points(); p++ {
		s := sw.Scenario(p * len(spec.Seeds))
		y, err := scenarios.Marshal(s)
		if err != nil {
			return "", badInput("report: %v", err)
		}
		m.Points = append(m.Points, reports.Point{Settings: spec.Point(p * len(spec.Seeds)), YAML: string(y),
			NodeTimeoutMs: int64(s.Cluster.Config.NodeTimeoutMs)})
	}
	groups := reports.Groups(m, runs)
	if len(groups) == 0 {
		return "", badInput("report: no run in %s has the settings %s lists", filepath.Join(dir, sweep.RunsFile), sweep.SpecFile)
	}
	if timelineRun < 0 {
		timelineRun = medianRun(groups[0].Runs)
	}
	var x reports.Extras
	if x.Run, err = sweepRunFigures(spec, sw, timelineRun); err != nil {
		return "", err
	}
	if calibration == "" {
		if p := filepath.Join(dir, reports.CalibrationFile); fileExists(p) {
			calibration = p
		}
	}
	if calibration != "" {
		if x.Calibration, err = reports.LoadCalibration(calibration); err != nil {
			return "", badInput("report: %v", err)
		}
	}
	// The paired view of a one-setting sweep is written first, so the
	// page can show it; a compare.json in DIR (rcsim compare's) wins.
	if err := sweepComparisons(stdout, mkdirAll(out), spec, groups); err != nil {
		return "", err
	}
	for _, d := range []string{dir, out} {
		var ok bool
		if x.Comparison, ok, err = reports.LoadComparison(d); err != nil {
			return "", badInput("report: %v", err)
		} else if ok {
			break
		}
	}
	path, err := reports.WriteSweep(out, m, runs, x)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	return path, nil
}

// mkdirAll creates dir (an error shows when writing into it) and returns it.
func mkdirAll(dir string) string {
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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
		stem := "compare"
		if len(groups) > 2 {
			stem += "-" + g.Settings[0]
		}
		printComparison(stdout, c, filepath.Join(out, stem+".csv"))
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

// sweepRunFigures reruns run i of the sweep, keeping its trace and
// history, and draws its timeline, failover and availability.
func sweepRunFigures(spec sweep.Spec, sw *sweep.Sweep, i int) ([]*reports.Figure, error) {
	if i < 0 || i >= spec.Runs() {
		return nil, badInput("report: --timeline-run %d: the sweep has runs 0..%d", i, spec.Runs()-1)
	}
	s, seed := sw.Scenario(i), spec.Seed(i)
	res, err := sim.Run(s, sim.Options{Seed: seed, KeepTrace: true, AllowBugs: spec.AllowBugs})
	if err != nil {
		return nil, badInput("report: run %d: %v", i, err)
	}
	title := reports.RunName(s.Name, seed)
	for a, v := range spec.Point(i) {
		if len(spec.Axes[a].Values) > 1 {
			title += fmt.Sprintf(", %s=%s", spec.Axes[a].Key, v)
		}
	}
	return reports.RunFigures(title, res.Trace, res.History, res.VirtualEnd.Milliseconds()), nil
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
	events, err := readFile(filepath.Join(dir, "trace.jsonl"), trace.Read)
	if err != nil {
		return "", err
	}
	var hist []history.Op
	if p := filepath.Join(dir, "history.jsonl"); fileExists(p) {
		if hist, err = readFile(p, history.Read); err != nil {
			return "", err
		}
	}
	figs := reports.RunFigures(reports.RunName(sum.Scenario, sum.Seed), events, hist, sum.VirtualMs)
	cmd := fmt.Sprintf("rcsim run %s --seed %d", sum.Scenario, sum.Seed)
	for _, k := range slices.Sorted(maps.Keys(sum.Settings)) {
		cmd += " --set " + reports.ShellQuote(k+"="+sum.Settings[k])
	}
	path, err := reports.WriteRun(out, sum, figs, cmd)
	if err != nil {
		return "", badInput("report: %v", err)
	}
	return path, nil
}

// readFile opens path and reads it with read, for the JSONL readers.
func readFile[T any](path string, read func(string, io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badInput("report: %v", err)
	}
	defer f.Close()
	out, err := read(path, f)
	if err != nil {
		return nil, badInput("report: %v", err)
	}
	return out, nil
}
