package main

// `rcsim compare`: the same seeds under two choices (two scenario files, or
// one scenario and two sets of --set overrides), compared seed by seed.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/reports"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/sweep"
)

// compareFlags are the options of `rcsim compare`.
type compareFlags struct {
	a, b      []string
	seeds     string
	out       string
	jobs      int
	allowBugs bool
	quiet     bool
}

func newCompareCmd(stdout, stderr io.Writer) *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare A [B] [--a KEY=VALUE …] [--b KEY=VALUE …] --seeds 1..20 [--out DIR]",
		Short: "Run the same seeds under two choices and compare them in pairs",
		Long: `Run every seed under A and under B: two scenario files or built-ins, or one
scenario with two sets of overrides (--a and --b, each KEY=VALUE as --set takes
it, repeatable), e.g. 'rcsim compare multi-primary-crash --a rules=redis-7.0
--b rules=valkey-9.0'. Each seed gets the same fault schedule, node IDs and
client streams on both sides, so the differences are paired: the command prints
per metric (promotion and write downtime per shard, writes resumed, recovery,
lost writes, verdicts) the medians, the median of B − A with a seeded 95%
bootstrap interval, the per-seed differences, and the seeds whose verdict
differs with the two 'rcsim run' lines that show it. --out DIR keeps both
sweeps (DIR/a, DIR/b) and writes compare.csv (seed,metric,a,b,diff),
compare.json and compare.png/svg. Differences are findings: exit 0; 2 on bad
input; 3 if the simulator panicked.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error { return runCompare(args, f, stdout, stderr) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.a, "a", nil, "KEY=VALUE override for side A (repeatable)")
	fl.StringArrayVar(&f.b, "b", nil, "KEY=VALUE override for side B (repeatable)")
	fl.StringVar(&f.seeds, "seeds", "1..20", "seeds: N, A..B, or a comma-separated mix")
	fl.StringVarP(&f.out, "out", "o", "", "directory for both sweeps and compare.csv/json/png (default: none kept)")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "runs at once (default: all cores)")
	fl.BoolVar(&f.allowBugs, "allow-bugs", false, "allow the scenarios' x-bugs switches")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// compareSide resolves one side into a sweep of the seeds with its
// overrides as single-valued axes (so each run's summary names them).
func compareSide(source string, sets []string, seeds []uint64, allowBugs bool) (*sweep.Sweep, reports.Side, error) {
	side := reports.Side{Source: source, Sets: sets}
	s, err := scenarios.Resolve(source)
	if err != nil {
		return nil, side, inputError{err}
	}
	var axes []sweep.Axis
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, side, badInput("compare: %q: want KEY=VALUE", kv)
		}
		axes = append(axes, sweep.Axis{Key: k, Values: []string{v}})
	}
	sw, err := sweep.New(source, s, axes, seeds, allowBugs)
	if err != nil {
		return nil, side, inputError{err}
	}
	return sw, side, nil
}

func runCompare(args []string, f compareFlags, stdout, stderr io.Writer) error {
	if len(args) == 1 && len(f.a) == 0 && len(f.b) == 0 {
		return badInput("compare: one scenario needs --a and/or --b overrides to compare (or give two scenarios)")
	}
	seeds, err := sweep.ParseSeeds(f.seeds)
	if err != nil {
		return inputError{err}
	}
	swA, sideA, err := compareSide(args[0], f.a, seeds, f.allowBugs)
	if err != nil {
		return err
	}
	swB, sideB, err := compareSide(args[len(args)-1], f.b, seeds, f.allowBugs)
	if err != nil {
		return err
	}
	sideA.Label, sideB.Label = sideLabel(args, 0, f.a), sideLabel(args, len(args)-1, f.b)
	dir := f.out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "rcsim-compare-"); err != nil {
			return badInput("compare: %v", err)
		}
		defer os.RemoveAll(dir)
	}
	sums := make([][]checker.Summary, 2)
	for i, sw := range []*sweep.Sweep{swA, swB} {
		if sums[i], err = runSide(sw, filepath.Join(dir, string(rune('a'+i))), f, stderr); err != nil {
			return err
		}
	}
	c, err := reports.Compare(swA.Spec.Scenario, sideA, sideB, sums[0], sums[1])
	if err != nil {
		return simBugError{err.Error()}
	}
	if f.out == "" {
		printComparison(stdout, c, "") // nothing written to point at
		return nil
	}
	printComparison(stdout, c, filepath.Join(f.out, "compare.csv"))
	return writeComparison(stdout, f.out, c)
}

// sideLabel names a side by its overrides, or by its scenario when the
// two sides are different scenarios.
func sideLabel(args []string, i int, sets []string) string {
	parts := []string{}
	if len(args) == 2 {
		parts = append(parts, args[i])
	}
	parts = append(parts, sets...)
	if len(parts) == 0 {
		return args[i]
	}
	return strings.Join(parts, " ")
}

// runSide runs one side's sweep into dir and returns its summaries in seed
// order.
func runSide(sw *sweep.Sweep, dir string, f compareFlags, stderr io.Writer) ([]checker.Summary, error) {
	bar := newProgress(stderr, f.quiet)
	res, err := sw.Run(dir, sweep.Options{Jobs: f.jobs, Progress: bar.update})
	bar.finish()
	if err != nil {
		return nil, badInput("compare: %v", err)
	}
	if len(res.Panics) > 0 {
		return nil, simBugError{fmt.Sprintf("rcsim: the simulator panicked in %d runs of %s; see \"panic\" in %s",
			len(res.Panics), sw.Spec.Source, filepath.Join(dir, sweep.RunsFile))}
	}
	runs, err := reports.LoadRuns(filepath.Join(dir, sweep.RunsFile))
	if err != nil {
		return nil, simBugError{err.Error()}
	}
	out := make([]checker.Summary, len(runs))
	for i, r := range runs {
		out[i] = r.Summary
	}
	return out, nil
}

// maxNodeRows is how many per-node metrics (promotion_ms:m0 and the like)
// the terminal gets: a failure of 300 masters at 2,000 nodes has about a
// thousand, which made a report print 200 KB of table no one reads there.
// The CSV and JSON beside it keep them all.
const maxNodeRows = 24

// printComparison prints the statistics, the per-seed differences and the
// seeds whose verdict differs: every run-level metric and the first
// maxNodeRows per-node ones; the rest are counted, with where to find
// them (rest: the CSV that holds them all, or "" if none is written).
func printComparison(w io.Writer, c reports.Comparison, rest string) {
	fmt.Fprintf(w, "compare %s, seeds %s: A = %s, B = %s\n", c.Scenario, reports.SeedText(c.Seeds), c.A.Label, c.B.Label)
	var shown []int // indices into c.Metrics
	hidden := 0
	for i, st := range c.Metrics {
		if strings.Contains(st.Metric, ":") {
			if hidden++; hidden > maxNodeRows {
				continue
			}
		}
		shown = append(shown, i)
	}
	hidden = max(hidden-maxNodeRows, 0)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tpairs\tonly A\tonly B\tdiffer\tmedian A\tmedian B\tmedian B−A\t95% CI of B−A\t")
	num := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f", *v)
	}
	for _, m := range shown {
		st := c.Metrics[m]
		ci := "-"
		if st.CILow != nil {
			ci = fmt.Sprintf("[%s, %s]", num(st.CILow), num(st.CIHigh))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", st.Metric, st.N, st.OnlyA, st.OnlyB, st.Differ,
			num(st.MedianA), num(st.MedianB), num(st.MedianDiff), ci)
	}
	tw.Flush()
	if hidden > 0 {
		where := "rerun with --out to write them all"
		if rest != "" {
			where = "all are in " + rest
		}
		fmt.Fprintf(w, "and %d more per-node metrics, left out here and below; %s\n", hidden, where)
	}
	fmt.Fprintln(w, "per seed, B − A (= same, a→b where one side has none):")
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "seed\t")
	for _, m := range shown {
		fmt.Fprintf(tw, "%s\t", c.Metrics[m].Metric)
	}
	fmt.Fprintln(tw)
	for i, seed := range c.Seeds {
		fmt.Fprintf(tw, "%d\t", seed)
		for _, m := range shown {
			fmt.Fprintf(tw, "%s\t", cellText(c.Rows[m*len(c.Seeds)+i]))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(c.VerdictDiffers) == 0 {
		fmt.Fprintln(w, "verdicts: the same at every seed")
		return
	}
	fmt.Fprintf(w, "verdicts differ at %d of %d seeds:\n", len(c.VerdictDiffers), len(c.Seeds))
	for _, d := range c.VerdictDiffers {
		fmt.Fprintf(w, "  seed %d: A %s; B %s\n    %s\n    %s\n", d.Seed, d.A, d.B, d.RunA, d.RunB)
	}
}

// writePaired writes DIR/STEM.csv, STEM.json and STEM.png/svg.
func writePaired(dir, stem string, c reports.Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput("compare: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, stem+".csv"), c.CSV(), 0o644); err != nil {
		return badInput("compare: %v", err)
	}
	js, err := c.JSON()
	if err != nil {
		return simBugError{err.Error()}
	}
	if err := os.WriteFile(filepath.Join(dir, stem+".json"), js, 0o644); err != nil {
		return badInput("compare: %v", err)
	}
	f := reports.PairedFigure(c)
	f.Name = stem
	if _, err := f.Save(dir); err != nil {
		return badInput("compare: %v", err)
	}
	return nil
}

// cellText is one per-seed cell: the difference, "=" when zero.
func cellText(r reports.PairRow) string {
	v := func(p *int64) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	switch {
	case r.Diff != nil && *r.Diff == 0:
		return "="
	case r.Diff != nil:
		return fmt.Sprintf("%+d", *r.Diff)
	case r.A == nil && r.B == nil:
		return "-"
	default:
		return v(r.A) + "→" + v(r.B)
	}
}

// writeComparison writes compare.csv, compare.json and the figure.
func writeComparison(stdout io.Writer, dir string, c reports.Comparison) error {
	if err := writePaired(dir, "compare", c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s and %s/a, %s/b\n", filepath.Join(dir, "compare.csv"),
		filepath.Join(dir, "compare.json"), filepath.Join(dir, "compare.png"), dir, dir)
	return nil
}
