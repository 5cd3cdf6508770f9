package main

// `rcsim sweep`: many seeds × settings of one scenario, in parallel, into a
// directory that `rcsim report` draws and `rcsim merge` joins.

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/reports"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/sweep"
)

// sweepFlags are the options of `rcsim sweep`.
type sweepFlags struct {
	sets       []string
	seeds      string
	out        string
	jobs       int
	resume     bool
	shard      string
	shardCount int
	allowBugs  bool
	quiet      bool
	maxEvents  int
}

func newSweepCmd(stdout, stderr io.Writer) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep FILE|NAME --set KEY=V1,V2 … --seeds 1..200 --out DIR",
		Short: "Run a scenario over settings × seeds in parallel",
		Long: `Run the cross product of the --set values and the seeds, each run single
threaded and deterministic, --jobs at a time. Results go to DIR/runs.jsonl and
DIR/runs.csv as each run ends; a finished sweep leaves them in run order, the
same whatever --jobs. --resume finishes an interrupted sweep; --shard I/N (or
JOB_COMPLETION_INDEX with --shard-count, or SLURM_ARRAY_TASK_ID and
SLURM_ARRAY_TASK_COUNT) runs one slice, and 'rcsim merge' joins the slices.
Runs whose expectations fail are data, not errors: the sweep says how many
and exits 0. Exit 2 on bad input, 3 when the simulator panicked in some run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return runSweep(args[0], f, stdout, stderr) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.sets, "set", nil, "KEY=V1,V2,… a setting and its values (repeatable: the cross product is run)")
	fl.StringVar(&f.seeds, "seeds", "1..20", "seeds: N, A..B, or a comma-separated mix")
	fl.StringVarP(&f.out, "out", "o", "", "output directory (required)")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "runs at once (default: all cores)")
	fl.BoolVar(&f.resume, "resume", false, "keep the runs already in --out and run only the missing ones")
	fl.StringVar(&f.shard, "shard", "", "run only slice I of N (I/N, 0 <= I < N)")
	fl.IntVar(&f.shardCount, "shard-count", 0, "number of shards when the index comes from JOB_COMPLETION_INDEX")
	fl.BoolVar(&f.allowBugs, "allow-bugs", false, "allow the scenario's x-bugs switches")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.IntVar(&f.maxEvents, "max-events", sim.DefaultMaxEvents, "stop each run after this many kernel events; a run that needs more is refused up front")
	return cmd
}

// sweepOf resolves the scenario and checks the flags that define the sweep.
func sweepOf(arg string, f sweepFlags) (*sweep.Sweep, sweep.Options, error) {
	var opt sweep.Options
	if f.out == "" {
		return nil, opt, badInput("sweep: --out DIR is required")
	}
	if f.jobs < 0 {
		return nil, opt, badInput("sweep: --jobs %d: want a positive number", f.jobs)
	}
	s, err := scenarios.Resolve(arg)
	if err != nil {
		return nil, opt, inputError{err}
	}
	var axes []sweep.Axis
	for _, set := range f.sets {
		a, err := sweep.ParseAxis(set)
		if err != nil {
			return nil, opt, inputError{err}
		}
		axes = append(axes, a)
	}
	seeds, err := sweep.ParseSeeds(f.seeds)
	if err != nil {
		return nil, opt, inputError{err}
	}
	sw, err := sweep.New(arg, s, axes, seeds, f.allowBugs)
	if err == nil {
		err = sw.SetMaxEvents(f.maxEvents)
	}
	if err != nil {
		return nil, opt, inputError{err}
	}
	opt = sweep.Options{Jobs: f.jobs, Resume: f.resume}
	if f.shard != "" {
		if opt.Shard, err = sweep.ParseShard(f.shard); err != nil {
			return nil, opt, inputError{err}
		}
	} else if opt.Shard, _, err = sweep.ShardFromEnv(os.Getenv, f.shardCount); err != nil {
		return nil, opt, inputError{err}
	}
	return sw, opt, nil
}

func runSweep(arg string, f sweepFlags, stdout, stderr io.Writer) error {
	sw, opt, err := sweepOf(arg, f)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, f.quiet)
	opt.Progress = bar.update
	start := time.Now()
	stopInterrupt := onInterrupt(func() {
		bar.finish()
		done, total := bar.counts()
		fmt.Fprintf(stderr, "rcsim: interrupted with %d of %d runs in %s; finish the sweep with:\n  %s\n",
			done, total, filepath.Join(f.out, sweep.RunsFile), resumeCommand(arg, f))
	})
	res, err := sw.Run(f.out, opt)
	stopInterrupt()
	bar.finish()
	if err != nil {
		return badInput("sweep: %v", err)
	}
	what := fmt.Sprintf("%d runs", res.Total)
	if opt.Shard.Count > 1 {
		what += " (shard " + opt.Shard.String() + ")"
	}
	fmt.Fprintf(stdout, "%s of %s: %d run now, %d resumed, in %s; wrote %s and %s\n", what, sw.Spec.Scenario,
		res.Ran, res.Resumed, trace.FormatTime(time.Since(start)),
		filepath.Join(f.out, sweep.RunsFile), filepath.Join(f.out, sweep.CSVFile))
	if len(res.Panics) > 0 {
		return simBugError{fmt.Sprintf("rcsim: the simulator panicked in %d runs (indices %s); see \"panic\" in %s",
			len(res.Panics), joinInts(res.Panics, 10), filepath.Join(f.out, sweep.RunsFile))}
	}
	if n := len(res.Truncated); n > 0 {
		return badInput("sweep: %d runs stopped at the event limit (--max-events %d), so their records cover only part of the run (indices %s); raise --max-events",
			n, f.maxEvents, joinInts(res.Truncated, 10))
	}
	if failed := countFailed(f.out); failed > 0 {
		fmt.Fprintf(stdout, "%d of %d runs failed an expectation (see the \"ok\" column of %s)\n", failed, res.Total,
			filepath.Join(f.out, sweep.CSVFile))
	}
	return nil
}

// interruptExit ends the process after an interrupt was reported (a
// variable so a test can watch it instead).
var interruptExit = func() { os.Exit(130) }

// onInterrupt runs report, then exits 130, on SIGINT or SIGTERM until the
// returned stop is called. The sweep's files need no cleanup: runs.jsonl
// holds whole lines up to the last run written, and --resume cuts a torn
// last line.
func onInterrupt(report func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case <-ch:
			report()
			interruptExit()
		case <-quit:
		}
	}()
	return func() { signal.Stop(ch); close(quit) }
}

// resumeCommand is the command line that finishes the sweep arg, f
// describes: the same scenario, settings, seeds and directory, with
// --resume.
func resumeCommand(arg string, f sweepFlags) string {
	parts := []string{"rcsim", "sweep", reports.ShellQuote(arg)}
	for _, set := range f.sets {
		parts = append(parts, "--set", reports.ShellQuote(set))
	}
	parts = append(parts, "--seeds", reports.ShellQuote(f.seeds), "--out", reports.ShellQuote(f.out))
	if f.jobs > 0 {
		parts = append(parts, "--jobs", strconv.Itoa(f.jobs))
	}
	if f.shard != "" {
		parts = append(parts, "--shard", f.shard)
	}
	if f.shardCount > 0 {
		parts = append(parts, "--shard-count", strconv.Itoa(f.shardCount))
	}
	if f.maxEvents != 0 && f.maxEvents != sim.DefaultMaxEvents {
		parts = append(parts, "--max-events", strconv.Itoa(f.maxEvents))
	}
	if f.allowBugs {
		parts = append(parts, "--allow-bugs")
	}
	return strings.Join(append(parts, "--resume"), " ")
}

// countFailed counts the runs in dir whose expectations did not all hold.
func countFailed(dir string) int {
	runs, err := reports.LoadRuns(filepath.Join(dir, sweep.RunsFile))
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range runs {
		if !r.OK {
			n++
		}
	}
	return n
}

// joinInts prints up to max numbers, then "…".
func joinInts(xs []int, max int) string {
	var parts []string
	for i, x := range xs {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, " ")
}
