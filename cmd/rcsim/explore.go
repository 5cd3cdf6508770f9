package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/gen"
	"github.com/rcsim/rcsim/sim"
	"github.com/rcsim/rcsim/sim/explore"
)

// exploreFlags are the options of `rcsim explore`.
type exploreFlags struct {
	runs       int
	time       time.Duration
	out        string
	seed       uint64
	allowBugs  bool
	kinds      string
	minFaults  int
	maxFaults  int
	jobs       int
	shrinkRuns int
	maxEvents  int
}

func newExploreCmd(stdout io.Writer) *cobra.Command {
	var f exploreFlags
	cmd := &cobra.Command{
		Use:   "explore FILE|NAME --runs N --out DIR",
		Short: "Run random fault schedules around a scenario; shrink and save every failure",
		Long: `Run nemesis schedules (random faults drawn from a seed and a menu) around a
scenario file or built-in: its cluster, settings and workload, with its faults
replaced. Run i uses seed --seed+i. Each run is checked (the expectations every
schedule must meet, lost writes, linearizability, the trace invariants). The
first run of each failure class is shrunk to a minimal scenario (fewest faults,
shortest run, fewest clients, keys and operations) that fails the same way and
saved to --out with its seed, with the run it came from. --time is a hard
limit on all of it, and the first Ctrl-C stops early the same way: runs in
flight are given up, shrinking keeps what it has, the findings are saved.
Exits 0 when nothing failed, 1 when something did, 2 on bad input, 3 if the
simulator panicked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return exploreCmd(args[0], f, stdout) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.runs, "runs", 0, "number of schedules to run (0: until --time is up)")
	fl.DurationVar(&f.time, "time", 0, "wall-clock limit on the whole exploration, shrinking included (e.g. 10m); what was found by then is saved")
	fl.StringVarP(&f.out, "out", "o", "", "directory for the shrunk scenarios (default out/explore-NAME)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the first run")
	fl.BoolVar(&f.allowBugs, "allow-bugs", false, "allow the scenario's x-bugs switches (deliberately broken Redis rules)")
	fl.StringVar(&f.kinds, "kinds", "", "fault kinds to draw from, comma-separated (default all: "+kindNames()+")")
	fl.IntVar(&f.minFaults, "min-faults", gen.NemesisMenu().MinFaults, "fewest fault episodes per run")
	fl.IntVar(&f.maxFaults, "max-faults", gen.NemesisMenu().MaxFaults, "most fault episodes per run")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "runs in parallel (0: all cores)")
	fl.IntVar(&f.shrinkRuns, "shrink-runs", explore.DefaultShrinkRuns, "runs each shrinking may spend")
	fl.IntVar(&f.maxEvents, "max-events", sim.DefaultMaxEvents, "stop each run after this many kernel events; a schedule that reaches it ends the exploration (exit 2): its verdict would cover only part of the run")
	return cmd
}

func kindNames() string {
	var s []string
	for _, k := range gen.AllKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ",")
}

// exploreConfig checks the flags and builds the exploration.
func exploreConfig(arg string, f exploreFlags) (explore.Config, error) {
	base, err := scenarios.Resolve(arg)
	if err != nil {
		return explore.Config{}, inputError{err}
	}
	if base.Bugs.Any() && !f.allowBugs {
		return explore.Config{}, badInput("%s: x-bugs: the scenario breaks Redis rules on purpose; rerun with --allow-bugs", base.File)
	}
	if f.runs < 0 || f.time < 0 || f.runs == 0 && f.time == 0 {
		return explore.Config{}, badInput("explore: --runs N (N > 0) or --time D is required")
	}
	if f.jobs < 0 || f.shrinkRuns < 1 {
		return explore.Config{}, badInput("explore: --jobs must be >= 0 and --shrink-runs >= 1")
	}
	if f.maxEvents <= 0 {
		return explore.Config{}, badInput("--max-events %d: want a positive number", f.maxEvents)
	}
	menu := gen.NemesisMenu()
	menu.MinFaults, menu.MaxFaults = f.minFaults, f.maxFaults
	if f.kinds != "" {
		if menu.Kinds, err = gen.ParseKinds(f.kinds); err != nil {
			return explore.Config{}, badInput("--kinds: %v", err)
		}
	}
	if err := menu.Validate(); err != nil {
		return explore.Config{}, badInput("--min-faults/--max-faults: %v", err)
	}
	if f.seed == 0 {
		f.seed = 1
	}
	return explore.Config{Base: base, Menu: menu, Runs: f.runs, Time: f.time, Seed: f.seed, Workers: f.jobs,
		ShrinkRuns: f.shrinkRuns, Options: explore.Options{AllowBugs: f.allowBugs, MaxEvents: f.maxEvents}}, nil
}

func exploreCmd(arg string, f exploreFlags, stdout io.Writer) error {
	// The first Ctrl-C stops the exploration and saves what it found; a
	// second one kills the process as usual.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	var interrupted atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sig:
			interrupted.Store(true)
			signal.Stop(sig)
		case <-done:
		}
	}()
	cfg, err := exploreConfig(arg, f)
	if err != nil {
		return err
	}
	cfg.Stop = interrupted.Load
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", "explore-"+cfg.Base.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput("%v", err)
	}
	cfg.Progress = func(s *scenarios.Scenario, o explore.Outcome) {
		if o.Failed() {
			fmt.Fprintf(stdout, "%s seed %d: %s\n", s.Name, o.Seed, strings.Join(o.Classes, ", "))
		}
	}
	rep, err := explore.Explore(cfg)
	if err != nil {
		return inputError{err}
	}
	var b strings.Builder
	stopped := ""
	switch {
	case interrupted.Load():
		stopped = " (interrupted: runs in flight given up, shrinking cut short)"
	case rep.Stopped:
		stopped = fmt.Sprintf(" (stopped at --time %s: runs in flight given up, shrinking cut short)", f.time)
	}
	seeds := "no run finished"
	if rep.Runs > 0 {
		seeds = fmt.Sprintf("seeds %d..%d", cfg.Seed, cfg.Seed+uint64(rep.Runs)-1)
	}
	fmt.Fprintf(&b, "explored %s: %d runs (%s), %d failed, in %s%s\n", cfg.Base.Name, rep.Runs,
		seeds, rep.Failed, trace.FormatTime(rep.Elapsed), stopped)
	panicked := false
	for _, fd := range rep.Findings {
		line, err := saveFinding(dir, cfg.Base.Name, fd)
		if err != nil {
			return err
		}
		b.WriteString(line)
		panicked = panicked || fd.Class == explore.ClassPanic
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(b.String()), 0o644); err != nil {
		return badInput("%v", err)
	}
	fmt.Fprint(stdout, b.String())
	switch {
	case panicked:
		return simBugError{fmt.Sprintf("rcsim: the simulator panicked in a run; see %s", dir)}
	case len(rep.Findings) > 0:
		return failedError{fmt.Sprintf("explore %s: %d failure classes found (see %s)", cfg.Base.Name, len(rep.Findings), dir)}
	}
	return nil
}

// saveFinding writes a finding's shrunk scenario and the run it came from,
// and returns the summary lines about it.
func saveFinding(dir, base string, fd explore.Finding) (string, error) {
	slug := strings.NewReplacer(":", "-", "_", "-").Replace(fd.Class)
	name := fmt.Sprintf("%s-seed%d", slug, fd.Seed)
	sh := explore.Expecting(fd.Shrunk.Scenario, fd.Class)
	sh.Name = trimTo(base+"-"+slug, 64)
	sh.Description = fmt.Sprintf("Found by rcsim explore around %s (seed %d) and shrunk in %d runs: fails with %s.",
		base, fd.Seed, fd.Shrunk.Runs, fd.Class)
	orig := explore.Expecting(fd.Original, fd.Class)
	paths := []string{filepath.Join(dir, name+".yaml"), filepath.Join(dir, name+"-original.yaml")}
	for i, s := range []*scenarios.Scenario{sh, orig} {
		data, err := scenarios.Marshal(s)
		if err != nil {
			return "", simBugError{fmt.Sprintf("rcsim: writing %s: %v", paths[i], err)}
		}
		if err := os.WriteFile(paths[i], data, 0o644); err != nil {
			return "", badInput("%v", err)
		}
	}
	s, o := fd.Shrunk.Scenario, fd.Shrunk.Outcome
	bugs := ""
	if s.Bugs.Any() {
		bugs = " --allow-bugs"
	}
	shrunk := fmt.Sprintf("shrunk in %d runs to %d faults, %s, %d clients, %d keys, %d/s, %d ops", fd.Shrunk.Runs,
		len(s.Faults), s.Duration, s.Workload.Clients, s.Workload.Keys, s.Workload.Rate, o.Summary.Check.Ops)
	if fd.Shrunk.Runs == 0 {
		shrunk = "not shrunk (stopped first)"
	}
	return fmt.Sprintf("%s: %d runs, first seed %d; %s\n  %s (original: %s)\n  reproduce: rcsim run %s%s\n",
		fd.Class, fd.Count, fd.Seed, shrunk, paths[0], paths[1], paths[0], bugs), nil
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return strings.TrimRight(s[:n], "-")
	}
	return s
}
