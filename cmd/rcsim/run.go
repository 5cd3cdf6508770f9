package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// runFlags are the options of `rcsim run`.
type runFlags struct {
	seed      uint64
	out       string
	until     time.Duration
	hashEvery int
	dumpAt    []time.Duration
	allowBugs bool
	quiet     bool
	converge  time.Duration
	maxEvents int
	sets      []string // KEY=VALUE overrides, as one point of a sweep
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE|NAME",
		Short: "Run one scenario and check it",
		Long: `Run a scenario file or built-in scenario for one seed. Writes trace.jsonl,
history.jsonl and summary.json to --out, prints the failover timings and the
checker's verdict, and exits 0 if every expectation held, 1 if one failed,
2 on bad input and 3 if the simulator itself failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return runOne(args[0], f, stdout, stderr) },
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the run (0: the scenario's own seed)")
	fl.StringArrayVar(&f.sets, "set", nil, "KEY=VALUE: override one setting, as rcsim sweep --set does (repeatable)")
	fl.StringVarP(&f.out, "out", "o", "", "output directory (default out/NAME-seedN)")
	fl.DurationVar(&f.until, "until", 0, "stop at this virtual time (default: the scenario's duration)")
	fl.IntVar(&f.hashEvery, "trace-hash-every", 0, "print a running trace hash every N events (to find where two runs diverge)")
	fl.DurationSliceVar(&f.dumpAt, "dump-at", nil, "dump every node's state at these virtual times (e.g. 12s,30s)")
	fl.BoolVar(&f.allowBugs, "allow-bugs", false, "allow the scenario's x-bugs switches (deliberately broken Redis rules)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary line")
	fl.IntVar(&f.maxEvents, "max-events", sim.DefaultMaxEvents,
		"stop after this many kernel events (an error, exit 2); a run that needs more is refused up front")
	fl.DurationVar(&f.converge, "converge-within", 0,
		"bound of the convergence invariant after the last fault or admin step (default: the scenario's converged-within, else 30s)")
	return cmd
}

func runOne(arg string, f runFlags, stdout, stderr io.Writer) error {
	s, err := scenarios.Resolve(arg)
	if err != nil {
		return inputError{err}
	}
	settings, err := applySets(s, f.sets)
	if err != nil {
		return err
	}
	if s.Bugs.Any() && !f.allowBugs {
		return badInput("%s: x-bugs: the scenario breaks Redis rules on purpose; rerun with --allow-bugs", s.File)
	}
	if err := checkRunFlags(s, f); err != nil {
		return err
	}
	seed := f.seed
	if seed == 0 {
		seed = s.Seed
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", fmt.Sprintf("%s-seed%d", s.Name, seed))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput("%v", err)
	}
	res, err := simulate(s, seed, dir, f, stdout)
	if err != nil {
		return err
	}
	sum, err := checkRun(s, res, settings, f.converge)
	if err != nil {
		return err
	}
	if err := writeOutputs(dir, s, res, sum); err != nil {
		return err
	}
	printSummary(stdout, s, sum, dir, f.quiet)
	if res.StopReason == "event limit" {
		return badInput("%s seed %d: stopped at the event limit (--max-events %d) at virtual %s of %s: the verdict covers only that part; raise --max-events or shorten the run",
			s.Name, seed, f.maxEvents, trace.FormatTime(res.VirtualEnd), trace.FormatTime(end(s, f)))
	}
	if !sum.OK {
		return failedError{fmt.Sprintf("%s seed %d: an expectation failed (see %s)", s.Name, seed, filepath.Join(dir, "summary.json"))}
	}
	return nil
}

// applySets applies --set KEY=VALUE overrides to s and returns them as a
// summary's settings (nil when there are none).
func applySets(s *scenarios.Scenario, sets []string) (map[string]string, error) {
	var settings map[string]string
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, badInput("--set %q: want KEY=VALUE", kv)
		}
		if err := s.Set(k, v); err != nil {
			return nil, inputError{err}
		}
		if settings == nil {
			settings = map[string]string{}
		}
		settings[k] = v
	}
	return settings, nil
}

// checkRunFlags checks --until, --dump-at and --max-events against s.
func checkRunFlags(s *scenarios.Scenario, f runFlags) error {
	if f.until < 0 || f.until > scenarios.MaxDuration {
		return badInput("--until %s: want 0 (the scenario's duration) up to %s", f.until, scenarios.MaxDuration)
	}
	if f.maxEvents <= 0 {
		return badInput("--max-events %d: want a positive number", f.maxEvents)
	}
	for _, at := range f.dumpAt {
		if at < 0 || at > end(s, f) {
			return badInput("--dump-at %s: want a time from 0 to the end of the run (%s)", at, trace.FormatTime(end(s, f)))
		}
	}
	return nil
}

// end is the virtual time the run stops at.
func end(s *scenarios.Scenario, f runFlags) time.Duration {
	if f.until > 0 {
		return f.until
	}
	return s.Duration
}

// simulate runs the scenario, writing trace.jsonl as it goes; a panic inside
// the simulator becomes exit 3 with the line that reproduces it.
func simulate(s *scenarios.Scenario, seed uint64, dir string, f runFlags, stdout io.Writer) (res *sim.Result, err error) {
	tf, err := os.Create(filepath.Join(dir, "trace.jsonl"))
	if err != nil {
		return nil, badInput("%v", err)
	}
	defer tf.Close()
	bw := bufio.NewWriterSize(tf, 1<<20)
	opt := sim.Options{Seed: seed, Until: f.until, MaxEvents: f.maxEvents, Trace: bw, KeepTrace: true, AllowBugs: f.allowBugs,
		HashEvery: f.hashEvery, HashOut: stdout, DumpAt: f.dumpAt}
	var dumpErr error
	if len(f.dumpAt) > 0 {
		dumps := filepath.Join(dir, "dumps")
		if err := os.MkdirAll(dumps, 0o755); err != nil {
			return nil, badInput("%v", err)
		}
		opt.Dump = func(at time.Duration, name, text string) {
			path := filepath.Join(dumps, dumpFile(at, name))
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil && dumpErr == nil {
				dumpErr = badInput("--dump-at: %v", err)
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = simBugError{fmt.Sprintf("rcsim: simulator failure: %v\nscenario %s, seed %d\nreproduce with: rcsim run %s --seed %d\n%s",
				r, s.File, seed, s.File, seed, debug.Stack())}
		}
	}()
	res, err = sim.Run(s, opt)
	if err != nil {
		return nil, inputError{err}
	}
	if err := bw.Flush(); err != nil {
		return nil, badInput("writing trace: %v", err)
	}
	return res, dumpErr
}

// dumpFile names the file of one node's state at one time under DIR/dumps:
// "12.000s-m0.txt", the time as every timeline prints it.
func dumpFile(at time.Duration, node string) string {
	return trace.FormatTime(at) + "-" + node + ".txt"
}

// checkRun judges a run: linearizability, lost writes, failover timings and
// the scenario's expectations.
// converge bounds the convergence invariant (0: the scenario's
// converged-within, else checker.DefaultConvergeWithin).
func checkRun(s *scenarios.Scenario, res *sim.Result, settings map[string]string, converge time.Duration) (checker.Summary, error) {
	in := checker.Input{
		Scenario: s.Name, Seed: res.Seed, VirtualMs: res.VirtualEnd.Milliseconds(), Events: res.Events,
		TraceSHA256: res.TraceSHA256, Settings: settings, Trace: res.Trace, History: res.History,
		Model: modelOf(s), Expect: expectOf(s.Expect), Budget: 30 * time.Second, EndMs: res.VirtualEnd.Milliseconds(),
		ConvergeWithin: converge,
	}
	sum, err := checker.Check(in)
	if err != nil {
		return sum, simBugError{fmt.Sprintf("rcsim: checker: %v", err)}
	}
	sum.OpenSlots = res.OpenSlots
	return sum, nil
}

func modelOf(s *scenarios.Scenario) string {
	if s.Workload.Kind == "none" {
		return ""
	}
	return s.Workload.Kind
}

func expectOf(e scenarios.Expect) checker.Expect {
	return checker.Expect{FailoverWithin: e.FailoverWithin, Linearizable: e.Linearizable,
		ConvergedWithin: e.ConvergedWithin, MaxLostWrites: e.MaxLostWrites, ClusterOK: e.ClusterOK,
		AdminOK: e.AdminOK}
}

func writeOutputs(dir string, s *scenarios.Scenario, res *sim.Result, sum checker.Summary) error {
	hf, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return badInput("%v", err)
	}
	bw := bufio.NewWriter(hf)
	if err := history.Write(bw, res.History); err != nil {
		hf.Close()
		return badInput("writing history: %v", err)
	}
	if err := bw.Flush(); err != nil {
		hf.Close()
		return badInput("writing history: %v", err)
	}
	hf.Close()
	if err := writeJSONFile(filepath.Join(dir, "summary.json"), sum); err != nil {
		return err
	}
	// The visualization of every run with a workload, linearizable or not.
	if m := modelOf(s); m != "" && len(res.History) > 0 {
		return writeVisualization(filepath.Join(dir, "linearizability.html"), checker.Visual{Model: m, Ops: res.History,
			Keys: sum.Check.Keys, Trace: res.Trace, Budget: 30 * time.Second, Title: s.Name})
	}
	return nil
}

// findingsShown caps each list of findings `rcsim run` prints; summary.json
// and `rcsim check` have them all.
const findingsShown = 5

// printSummary prints what a person wants to see after a run.
func printSummary(w io.Writer, s *scenarios.Scenario, sum checker.Summary, dir string, quiet bool) {
	fmt.Fprintf(w, "%s seed %d: %s virtual, %d events, trace_sha256 %s\n", sum.Scenario, sum.Seed,
		trace.FormatTime(time.Duration(sum.VirtualMs)*time.Millisecond), sum.Events, sum.TraceSHA256)
	if quiet {
		return
	}
	for _, fo := range sum.Failovers {
		promoted := ms(fo.PromotedMs)
		if fo.PromotedNode != "" {
			promoted = fo.PromotedNode + " " + promoted
		}
		fmt.Fprintf(w, "failover of %s at %s: pfail %s, fail %s, promoted %s, cluster ok %s, writes resumed %s\n",
			fo.FailedNode, trace.FormatTime(time.Duration(fo.FaultAtMs)*time.Millisecond),
			ms(fo.PFailMs), ms(fo.FailMs), promoted, ms(fo.ClusterOKMs), ms(fo.WritesResumedMs))
	}
	printRecovery(w, sum.Recovery)
	for _, o := range sum.OpenSlots {
		fmt.Fprintf(w, "slot left open at the end: %s\n", o)
	}
	c := sum.Check
	fmt.Fprintf(w, "check: %s (%d ops, %d unknown, %d failed), %d acknowledged writes lost, %d stale reads\n",
		c.Verdict, c.Ops, c.Unknown, c.Failed, c.LostWrites, c.StaleReads)
	fmt.Fprintf(w, "invariants: %d violated; convergence: %s\n", len(sum.Invariants), sum.Convergence)
	printFindings(w, sum, true, findingsShown)
	for _, e := range sum.Expectations {
		mark := "ok"
		if !e.OK {
			mark = "FAILED"
		}
		fmt.Fprintf(w, "expect %s %s: %s (got %s)\n", e.Name, e.Want, mark, e.Got)
	}
	wrote := []string{filepath.Join(dir, "trace.jsonl"), filepath.Join(dir, "history.jsonl"), filepath.Join(dir, "summary.json")}
	if modelOf(s) != "" && sum.Check.Ops > 0 {
		wrote = append(wrote, filepath.Join(dir, "linearizability.html"))
	}
	if dumps, _ := filepath.Glob(filepath.Join(dir, "dumps", "*.txt")); len(dumps) > 0 {
		wrote = append(wrote, fmt.Sprintf("%s (%d node dumps)", filepath.Join(dir, "dumps"), len(dumps)))
	}
	fmt.Fprintf(w, "wrote %s\n", strings.Join(wrote, " "))
}

// ms prints a time after the fault, or "never".
func ms(p *int64) string {
	if p == nil {
		return "never"
	}
	return "+" + trace.FormatTime(time.Duration(*p)*time.Millisecond)
}

// printRecovery prints recovery_ms and the election figures when more than
// one master went down (one is what the failover line already shows).
func printRecovery(w io.Writer, r *checker.Recovery) {
	if r == nil || len(r.Masters) < 2 {
		return
	}
	elections, split, promoted := 0, 0, 0
	var slowest int64
	for _, m := range r.Masters {
		elections += m.Elections
		if m.Elections > 1 {
			split++
		}
		if m.PromotedMs != nil {
			promoted++
			slowest = max(slowest, *m.PromotedMs)
		}
	}
	fmt.Fprintf(w, "recovery: %d masters down at %s, first pfail %s, recovery_ms %s; %d promoted (slowest %s), "+
		"%d elections (%d shards needed more than one), %d shards never recovered\n",
		len(r.Masters), trace.FormatTime(time.Duration(r.FaultMs)*time.Millisecond),
		trace.FormatTime(time.Duration(r.FirstPFailMs)*time.Millisecond), ms(r.RecoveryMs), promoted,
		trace.FormatTime(time.Duration(slowest)*time.Millisecond), elections, split, r.Unrecovered)
}
