package main

// `rcsim calibrate`: real failovers against simulated ones, phase by phase.

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/reports"
	"github.com/rcsim/rcsim/sim/calibrate"
	"github.com/rcsim/rcsim/sim/realredis"
)

type calibrateFlags struct {
	realFlags
	masters, replicas int
	timeouts          []int
	trials, seeds     int
	faults            []string
	out               string
}

func newCalibrateCmd(stdout, stderr io.Writer) *cobra.Command {
	var f calibrateFlags
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Compare failover phases on real servers with the simulator's, per fault and node timeout",
		Long: `Start real redis-server processes on loopback, form a cluster with redis-cli
--cluster create, and time failovers of the master of slot 0: kill (SIGKILL),
stop (SIGSTOP, SIGCONT later) and partition (the master and a client cut off;
needs root for a private network namespace, skipped with a message without).
Every node's CLUSTER NODES and CLUSTER INFO are polled every 10 ms while
clients write to every shard; election starts come from the server logs.
The same scenario is simulated over --seeds seeds, and a table per fault and
node timeout gives each phase's real and simulated median, p10, p90, range,
the median error and the two-sample KS distance with its p-value. Writes
calibration-samples.csv, calibration-summary.csv and calibration.html to
--out. Every process it starts is killed on exit, Ctrl-C included.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return calibrateCmd(f, stdout, stderr) },
	}
	f.realFlags.add(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.masters, "masters", 3, "masters of the cluster")
	fl.IntVar(&f.replicas, "replicas", 1, "replicas per master (at least 1: a failover needs one)")
	fl.IntSliceVar(&f.timeouts, "timeouts", []int{1000, 2000}, "cluster-node-timeout values to calibrate, ms")
	fl.IntVar(&f.trials, "trials", 4, "real trials per fault and timeout")
	fl.IntVar(&f.seeds, "seeds", 100, "simulated seeds per fault and timeout")
	fl.StringSliceVar(&f.faults, "faults", calibrate.Faults, "faults to inject: kill, stop, partition")
	fl.StringVarP(&f.out, "out", "o", filepath.Join("out", "calibrate"), "output directory")
	return cmd
}

func (f calibrateFlags) validate() error {
	switch {
	case f.masters < 1 || f.masters > 20:
		return badInput("--masters: want 1..20, got %d", f.masters)
	case f.replicas < 1 || f.replicas > 5:
		return badInput("--replicas: want 1..5, got %d", f.replicas)
	case f.trials < 1:
		return badInput("--trials: want at least 1, got %d", f.trials)
	case f.seeds < 1:
		return badInput("--seeds: want at least 1, got %d", f.seeds)
	case len(f.timeouts) == 0:
		return badInput("--timeouts: give at least one")
	case f.masters*(1+f.replicas) > portSpan:
		return badInput("--masters and --replicas: at most %d nodes", portSpan)
	}
	for _, t := range f.timeouts {
		if t < 100 || t > 60000 {
			return badInput("--timeouts: %d ms is outside 100..60000", t)
		}
	}
	for _, x := range f.faults {
		if !slices.Contains(calibrate.Faults, x) {
			return badInput("--faults: unknown fault %q (want kill, stop, partition)", x)
		}
	}
	return nil
}

func calibrateCmd(f calibrateFlags, stdout, stderr io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	if err := realredis.Preflight(f.server, f.cli); err != nil {
		return badInput("%v", err)
	}
	if slices.Contains(f.faults, calibrate.Partition) && !realredis.InNamespace() {
		if err := realredis.NamespaceSupport(); err != nil {
			fmt.Fprintf(stderr, "calibrate: partition skipped: %v\n", err)
			f.faults = slices.DeleteFunc(slices.Clone(f.faults), func(x string) bool { return x == calibrate.Partition })
		} else {
			return reexec(stdout, stderr)
		}
	}
	if len(f.faults) == 0 {
		return badInput("calibrate: no fault left to inject")
	}
	server := serverVersion(f.server)
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return badInput("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := realredis.OnSignal(func(sig os.Signal) {
		fmt.Fprintf(stderr, "rcsim: %v: stopping, killing every server\n", sig)
		cancel()
	})
	defer stop()
	var points []calibrate.Point
	for _, t := range f.timeouts {
		for _, fault := range f.faults {
			sp := calibrate.Spec{Masters: f.masters, Replicas: f.replicas, TimeoutMs: t, Fault: fault}
			p, err := calibratePoint(ctx, sp, f, stderr)
			if ctx.Err() != nil {
				return failedError{"interrupted; every server was killed"}
			}
			if err != nil {
				return err
			}
			p.Server = server
			printPoint(stdout, p, f.trials, f.seeds)
			points = append(points, p)
		}
	}
	return writeCalibration(f.out, points, stdout)
}

// calibratePoint simulates and runs one fault at one node timeout.
func calibratePoint(ctx context.Context, sp calibrate.Spec, f calibrateFlags, stderr io.Writer) (calibrate.Point, error) {
	p := calibrate.Point{Fault: sp.Fault, TimeoutMs: sp.TimeoutMs}
	s, err := calibrate.Scenario(sp)
	if err != nil {
		return p, simBugError{fmt.Sprintf("rcsim: calibration scenario: %v", err)}
	}
	label := fmt.Sprintf("%s, cluster-node-timeout %d ms", sp.Fault, sp.TimeoutMs)
	start := time.Now()
	sims, err := calibrate.Simulate(ctx, s, f.seeds, func(done int) {
		if done == f.seeds || done%20 == 0 {
			fmt.Fprintf(stderr, "sim  %s: %d/%d seeds\n", label, done, f.seeds)
		}
	})
	if err != nil {
		return p, inputError{err}
	}
	fmt.Fprintf(stderr, "sim  %s: %d seeds in %v\n", label, f.seeds, trace.FormatTime(time.Since(start)))
	var reals []calibrate.Trial
	for i := 1; i <= f.trials; i++ {
		dir := filepath.Join(f.out, "servers", fmt.Sprintf("%s-%d-trial%d", sp.Fault, sp.TimeoutMs, i))
		_ = os.RemoveAll(dir)
		t0 := time.Now()
		res, err := realredis.Run(ctx, s, realredis.Options{Server: f.server, CLI: f.cli, Dir: dir, BasePort: f.port,
			PortSpan: portSpan, Seed: uint64(i)})
		if err != nil {
			return p, failedError{fmt.Sprintf("real %s trial %d: %v", label, i, err)}
		}
		tr := calibrate.Measure(res.Events, res.History)
		reals = append(reals, tr)
		fmt.Fprintf(stderr, "real %s: trial %d/%d in %v: %s\n", label, i, f.trials, trace.FormatTime(time.Since(t0)), trialLine(tr))
	}
	p.Real, p.Sim = reals, sims
	p.Rows = calibrate.Rows(sp, reals, sims)
	return p, nil
}

func trialLine(t calibrate.Trial) string {
	var parts []string
	for _, ph := range calibrate.Phases {
		if v, ok := t.Phases[ph]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", ph, fmtMs(v)))
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("lost %d", t.Lost)), ", ")
}

// serverVersion is "redis-server 7.0.15" from `--version`.
func serverVersion(server string) string {
	out, _ := exec.Command(server, "--version").Output()
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return filepath.Base(server) + " " + v
		}
	}
	return filepath.Base(server)
}

// printPoint prints one point's per-phase table; times in ms after the fault.
func printPoint(w io.Writer, p calibrate.Point, trials, seeds int) {
	fmt.Fprintf(w, "\n%s, %s, cluster-node-timeout %d ms: %d real trials, %d simulated seeds (ms after the fault)\n",
		p.Server, faultDesc[p.Fault], p.TimeoutMs, trials, seeds)
	fmt.Fprintf(w, "%-22s %4s %7s %7s %7s %13s | %4s %7s %7s %7s %13s | %14s %5s %6s\n",
		"phase", "n", "median", "p10", "p90", "range", "n", "median", "p10", "p90", "range", "median error", "KS D", "p")
	for _, r := range p.Rows {
		fmt.Fprintf(w, "%-22s %s | %s | %14s %5s %6s\n", r.Phase, sampleCols(r.Real), sampleCols(r.Sim),
			errCol(r), fmtF(r.KSD, 2), fmtF(r.KSP, 3))
	}
}

var faultDesc = map[string]string{
	calibrate.Kill:      "kill (SIGKILL of the master of slot 0)",
	calibrate.Stop:      "stop (SIGSTOP of the master of slot 0, SIGCONT after 3T+2s)",
	calibrate.Partition: "partition (the master of slot 0 and client-0 cut off for 3T+2s)",
}

func sampleCols(s calibrate.Sample) string {
	if s.N == 0 {
		return fmt.Sprintf("%4d %7s %7s %7s %13s", 0, "-", "-", "-", "-")
	}
	return fmt.Sprintf("%4d %7s %7s %7s %13s", s.N, fmtMs(s.Median), fmtMs(s.P10), fmtMs(s.P90), fmtMs(s.Min)+".."+fmtMs(s.Max))
}

func errCol(r calibrate.Row) string {
	if math.IsNaN(r.MedianErr) {
		return "-"
	}
	if math.IsNaN(r.MedianErrPct) || math.IsInf(r.MedianErrPct, 0) {
		return fmtMs(r.MedianErr)
	}
	return fmt.Sprintf("%+.0f (%+.0f%%)", r.MedianErr, r.MedianErrPct)
}

func fmtMs(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', -1, 64) }

func fmtF(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// writeCalibration writes the samples (#19's report reads them), the
// summary and the standalone HTML with overlaid CDFs.
func writeCalibration(dir string, points []calibrate.Point, stdout io.Writer) error {
	samples := [][]string{{"server", "fault", "timeout_ms", "phase", "source", "trial", "ms"}}
	summary := [][]string{{"server", "fault", "timeout_ms", "phase", "real_n", "real_median", "real_p10", "real_p90",
		"real_min", "real_max", "sim_n", "sim_median", "sim_p10", "sim_p90", "sim_min", "sim_max",
		"median_error", "median_error_pct", "ks_d", "ks_p"}}
	for _, p := range points {
		for _, src := range []string{"real", "sim"} {
			trials := p.Real
			if src == "sim" {
				trials = p.Sim
			}
			for i, t := range trials {
				for _, ph := range calibrate.Phases {
					if v, ok := t.Phases[ph]; ok {
						samples = append(samples, []string{p.Server, p.Fault, strconv.Itoa(p.TimeoutMs), ph, src,
							strconv.Itoa(i + 1), strconv.FormatFloat(v, 'f', -1, 64)})
					}
				}
			}
		}
		for _, r := range p.Rows {
			line := []string{p.Server, p.Fault, strconv.Itoa(p.TimeoutMs), r.Phase}
			for _, s := range []calibrate.Sample{r.Real, r.Sim} {
				line = append(line, strconv.Itoa(s.N), csvF(s.Median), csvF(s.P10), csvF(s.P90), csvF(s.Min), csvF(s.Max))
			}
			summary = append(summary, append(line, csvF(r.MedianErr), csvF(r.MedianErrPct), csvF(r.KSD), csvF(r.KSP)))
		}
	}
	paths := []string{filepath.Join(dir, "calibration-samples.csv"), filepath.Join(dir, "calibration-summary.csv")}
	for i, rows := range [][][]string{samples, summary} {
		err := writeFileWith(paths[i], func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.WriteAll(rows)
			return cw.Error()
		})
		if err != nil {
			return err
		}
	}
	html := filepath.Join(dir, "calibration.html")
	if err := writeFileWith(html, func(w io.Writer) error { return reports.CalibrationHTML(w, calibrationTables(points)) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s %s %s\n", paths[0], paths[1], html)
	return nil
}

// csvF writes a figure rounded to 4 decimals; NaN (no sample) is empty.
func csvF(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// calibrationTables is the HTML's view of the points: each table as the
// terminal shows it, and the real and simulated samples of each phase.
func calibrationTables(points []calibrate.Point) []reports.CalibrationTable {
	var out []reports.CalibrationTable
	for _, p := range points {
		t := reports.CalibrationTable{
			Heading: fmt.Sprintf("%s, %s, cluster-node-timeout %d ms", p.Server, faultDesc[p.Fault], p.TimeoutMs),
			Header: []string{"phase", "real n", "median", "p10", "p90", "range", "sim n", "median", "p10", "p90", "range",
				"median error", "KS D", "p"},
		}
		for _, r := range p.Rows {
			row := []string{r.Phase}
			for _, s := range []calibrate.Sample{r.Real, r.Sim} {
				if s.N == 0 {
					row = append(row, "0", "-", "-", "-", "-")
					continue
				}
				row = append(row, strconv.Itoa(s.N), fmtMs(s.Median), fmtMs(s.P10), fmtMs(s.P90), fmtMs(s.Min)+".."+fmtMs(s.Max))
			}
			t.Rows = append(t.Rows, append(row, errCol(r), fmtF(r.KSD, 2), fmtF(r.KSP, 3)))
			if r.Phase != "lost_writes" {
				t.Plots = append(t.Plots, reports.CalibrationPlot{Phase: r.Phase, Real: r.Real.Values, Sim: r.Sim.Values})
			}
		}
		out = append(out, t)
	}
	return out
}
