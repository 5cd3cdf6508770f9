package main

// `rcsim replay FILE --real`: a scenario run against real redis-server
// processes, the real clients' history checked with the same checker, and
// with --compare the simulated run beside it.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/realredis"
)

// realFlags are the options every real-server command shares.
type realFlags struct {
	server, cli string
	port        int
}

func (f *realFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "redis-server", "the server binary (any redis-server compatible build, e.g. valkey-server)")
	fl.StringVar(&f.cli, "cli", "redis-cli", "the CLI that forms the cluster (redis-cli --cluster create)")
	fl.IntVar(&f.port, "port", defaultPort(), "first port on 127.0.0.1 (the 100 ports from it and their bus ports +10000 may be used; default $RCSIM_CALIBRATE_PORT or 21000); inside a private namespace any port is free")
}

// defaultPort is $RCSIM_CALIBRATE_PORT, so that users sharing a machine
// each keep to their own range, else 21000.
func defaultPort() int {
	var p int
	if _, err := fmt.Sscan(os.Getenv("RCSIM_CALIBRATE_PORT"), &p); err == nil && p > 0 && p < 55000 {
		return p
	}
	return 21000
}

// portSpan is how many ports from --port a run may use.
const portSpan = 100

type replayFlags struct {
	realFlags
	real, compare bool
	seed          uint64
	out           string
}

func newReplayCmd(stdout, stderr io.Writer) *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay FILE|NAME --real",
		Short: "Run a scenario against a real Redis cluster on loopback and check its history",
		Long: `Run a scenario's topology, settings, workload and faults against real
redis-server processes on loopback, in real time. Crash, restart, pause,
resume, partition, heal and end are applied to the processes (SIGKILL,
SIGSTOP, SIGCONT, firewall rules); other faults are refused by name.
Partitions need a private network namespace (root). Writes history.jsonl
(rcsim's format), observed.jsonl (the polled trace: pfail, fail, elections,
promotions, cluster state) and summary.json to --out, and checks the history
with the same checker as rcsim check. --compare also simulates the scenario
and prints both side by side. Every process started is killed on exit.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return replay(args[0], f, stdout, stderr) },
	}
	f.realFlags.add(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&f.real, "real", false, "run against real servers (required: the simulator is `rcsim run`)")
	fl.BoolVar(&f.compare, "compare", false, "also simulate the scenario and print both results side by side")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the clients and of --compare's simulation (0: the scenario's)")
	fl.StringVarP(&f.out, "out", "o", "", "output directory (default out/NAME-real)")
	return cmd
}

func replay(arg string, f replayFlags, stdout, stderr io.Writer) error {
	if !f.real {
		return badInput("replay: --real is required (rcsim run simulates a scenario)")
	}
	s, err := scenarios.Resolve(arg)
	if err != nil {
		return inputError{err}
	}
	problems, netns := realredis.Unsupported(s)
	if len(problems) > 0 {
		return badInput("%s", strings.Join(problems, "\n"))
	}
	if err := realredis.Preflight(f.server, f.cli); err != nil {
		return badInput("%v", err)
	}
	if netns && !realredis.InNamespace() {
		if err := realredis.NamespaceSupport(); err != nil {
			return badInput("%s partitions the network: %v", s.Name, err)
		}
		return reexec(stdout, stderr)
	}
	seed := f.seed
	if seed == 0 {
		seed = s.Seed
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", s.Name+"-real")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput("%v", err)
	}
	res, err := runReal(s, f.realFlags, seed, filepath.Join(dir, "servers"), stderr)
	if err != nil {
		return err
	}
	sum, err := checkReal(s, res, seed)
	if err != nil {
		return err
	}
	if err := writeReal(dir, s, res, sum); err != nil {
		return err
	}
	if !f.compare {
		fmt.Fprintf(stdout, "%s on %s (real, %s): %d ops\n", s.Name, f.server, trace.FormatTime(res.End), len(res.History))
		printFailovers(stdout, sum.Failovers)
		printCheck(stdout, sum)
	} else if err := compareSim(stdout, s, seed, sum, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join([]string{filepath.Join(dir, "history.jsonl"),
		filepath.Join(dir, "observed.jsonl"), filepath.Join(dir, "summary.json")}, " "))
	if !sum.OK {
		return failedError{fmt.Sprintf("%s (real): an expectation failed (see %s)", s.Name, filepath.Join(dir, "summary.json"))}
	}
	return nil
}

// reexec runs this command again inside new network and PID namespaces,
// with the arguments it was given.
func reexec(stdout, stderr io.Writer) error {
	code, err := realredis.Reexec(cmdArgs, stdout, stderr)
	if err != nil {
		return badInput("re-executing in a network namespace: %v", err)
	}
	return childExit{code}
}

// runReal replays s on real servers, with Ctrl-C and SIGTERM stopping it
// (every server killed) and progress on stderr.
func runReal(s *scenarios.Scenario, f realFlags, seed uint64, dir string, stderr io.Writer) (*realredis.Result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopSignals := realredis.OnSignal(func(sig os.Signal) {
		fmt.Fprintf(stderr, "rcsim: %v: stopping, killing every server\n", sig)
		cancel()
	})
	defer stopSignals()
	if err := os.RemoveAll(dir); err != nil {
		return nil, badInput("%v", err)
	}
	res, err := realredis.Run(ctx, s, realredis.Options{Server: f.server, CLI: f.cli, Dir: dir, BasePort: f.port,
		PortSpan: portSpan, Seed: seed, Progress: func(format string, a ...any) {
			fmt.Fprintf(stderr, "real: "+format+"\n", a...)
		}})
	if ctx.Err() != nil {
		return nil, failedError{"interrupted; every server was killed"}
	}
	if err != nil {
		return nil, failedError{fmt.Sprintf("real run of %s: %v", s.Name, err)}
	}
	return res, nil
}

// checkReal judges a real run with the checker: the history's
// linearizability and lost writes, failovers timed from the observed trace,
// and the scenario's expectations that a real run can show.
func checkReal(s *scenarios.Scenario, res *realredis.Result, seed uint64) (checker.Summary, error) {
	x := expectOf(s.Expect)
	x.FailoverWithin, x.ConvergedWithin, x.ClusterOK = nil, nil, nil // judged below, or not at all
	sum, err := checker.Check(checker.Input{Scenario: s.Name, Seed: seed, VirtualMs: res.End.Milliseconds(),
		Events: len(res.Events), History: res.History, Model: modelOf(s), Expect: x, Budget: 30 * time.Second,
		EndMs: res.End.Milliseconds()})
	if err != nil {
		return sum, simBugError{fmt.Sprintf("rcsim: checker: %v", err)}
	}
	sum.Failovers = checker.Failovers(res.Events, res.History)
	if sum.Failovers == nil {
		sum.Failovers = []checker.Failover{}
	}
	sum.Invariants = []checker.Violation{}
	sum.Convergence = "not judged on real servers (the trace is polled, not complete)"
	if d := s.Expect.FailoverWithin; d != nil {
		sum.Expectations = append(sum.Expectations, failoverWithin(*d, sum.Failovers))
	}
	if ok := s.Expect.ClusterOK; ok != nil {
		sum.Expectations = append(sum.Expectations, clusterOKAtEnd(*ok, res.Events))
	}
	sum.OK = true
	for _, e := range sum.Expectations {
		sum.OK = sum.OK && e.OK
	}
	return sum, nil
}

// failoverWithin: at least one failover, each promoted within d.
func failoverWithin(d time.Duration, fs []checker.Failover) checker.ExpectResult {
	r := checker.ExpectResult{Name: "failover_within", Want: trace.FormatTime(d), OK: len(fs) > 0, Got: "no failover"}
	for _, f := range fs {
		if f.PromotedMs == nil {
			r.OK, r.Got = false, f.FailedNode+" never promoted away"
			break
		}
		got := time.Duration(*f.PromotedMs) * time.Millisecond
		r.Got = trace.FormatTime(got)
		r.OK = r.OK && got <= d
	}
	return r
}

// clusterOKAtEnd: every node not crashed last reported cluster_state:ok.
func clusterOKAtEnd(want bool, events []trace.Event) checker.ExpectResult {
	state, down := map[string]string{}, map[string]bool{}
	for _, e := range events {
		switch e.Kind {
		case trace.State:
			state[e.Node] = e.Value
		case trace.Crash:
			down[e.Node] = true
		case trace.Restart:
			down[e.Node] = false
		}
	}
	var bad []string
	for n, st := range state {
		if !down[n] && st != "ok" {
			bad = append(bad, n)
		}
	}
	got := "ok"
	if len(bad) > 0 {
		got = "not ok on " + strings.Join(bad, " ")
	}
	return checker.ExpectResult{Name: "cluster_ok", Want: fmt.Sprint(want), Got: got, OK: (len(bad) == 0) == want}
}

func writeReal(dir string, s *scenarios.Scenario, res *realredis.Result, sum checker.Summary) error {
	if err := writeFileWith(filepath.Join(dir, "history.jsonl"), func(w io.Writer) error { return history.Write(w, res.History) }); err != nil {
		return err
	}
	err := writeFileWith(filepath.Join(dir, "observed.jsonl"), func(w io.Writer) error {
		tw := trace.NewWriter(w)
		for _, e := range res.Events {
			if err := tw.Write(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(dir, "summary.json"), sum); err != nil {
		return err
	}
	if m := modelOf(s); m != "" && len(res.History) > 0 {
		return writeVisualization(filepath.Join(dir, "linearizability.html"), checker.Visual{Model: m, Ops: res.History,
			Keys: sum.Check.Keys, Trace: res.Events, Budget: 30 * time.Second, Title: s.Name})
	}
	return nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return badInput("%v", err)
	}
	defer fh.Close()
	bw := bufio.NewWriter(fh)
	if err := write(bw); err != nil {
		return badInput("writing %s: %v", path, err)
	}
	if err := bw.Flush(); err != nil {
		return badInput("writing %s: %v", path, err)
	}
	return nil
}

func printFailovers(w io.Writer, fs []checker.Failover) {
	for _, fo := range fs {
		fmt.Fprintf(w, "failover of %s at %s: pfail %s, fail %s, election %s, promoted %s %s, cluster ok %s, writes resumed %s\n",
			fo.FailedNode, trace.FormatTime(time.Duration(fo.FaultAtMs)*time.Millisecond),
			ms(fo.PFailMs), ms(fo.FailMs), ms(fo.ElectionMs), fo.PromotedNode, ms(fo.PromotedMs), ms(fo.ClusterOKMs), ms(fo.WritesResumedMs))
	}
}

func printCheck(w io.Writer, sum checker.Summary) {
	c := sum.Check
	fmt.Fprintf(w, "check: %s (%d ops, %d unknown, %d failed), %d acknowledged writes lost, %d stale reads\n",
		c.Verdict, c.Ops, c.Unknown, c.Failed, c.LostWrites, c.StaleReads)
	printFindings(w, sum, false, findingsShown)
	for _, e := range sum.Expectations {
		mark := "ok"
		if !e.OK {
			mark = "FAILED"
		}
		fmt.Fprintf(w, "expect %s %s: %s (got %s)\n", e.Name, e.Want, mark, e.Got)
	}
}
