// Package sweep runs many (settings, seed) points of a scenario in
// parallel: each run is still one goroutine and a function of its scenario
// and seed, so the results do not depend on how many run at once. Results
// are appended to DIR/runs.jsonl and DIR/runs.csv as each run ends (an
// interrupted sweep loses nothing finished), a resumed sweep runs only what
// is missing, and a finished sweep or merge rewrites both files in run-index
// order, so they are identical whatever the number of jobs, the
// interruptions or the sharding.
package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// Options tune how a sweep runs; none changes its results.
type Options struct {
	Jobs   int   // runs at once; 0 means runtime.NumCPU()
	Resume bool  // keep DIR's finished runs and run only the missing ones
	Shard  Shard // run only this slice; the zero value is the whole sweep
	// Progress, if set, is called after each run is written with the runs
	// done and the runs this invocation has to do in all (resumed runs
	// count as done from the start).
	Progress func(done, total int)
	// StopAfter, if positive, stops the sweep after writing that many new
	// runs, as if it were killed: the files are left unsorted. For tests.
	StopAfter int
	// Budget is the wall-clock budget of each run's whole check, Porcupine
	// included (0: 30s, as rcsim run uses). A run whose check exceeds it
	// records verdict unknown.
	Budget time.Duration
}

// Result says what a call of Run did.
type Result struct {
	Total    int   // runs in this shard
	Resumed  int   // runs found done in DIR
	Ran      int   // runs done by this call
	Complete bool  // every run of the shard is in DIR, files sorted
	Panics   []int // indices of runs whose simulator panicked
	// Truncated are the indices of runs stopped at the event limit
	// (Spec.MaxEvents): their records cover only part of the run.
	Truncated []int
}

// Run runs the sweep (or opt.Shard of it) into dir. Without opt.Resume,
// dir must not already hold runs. Its error is about dir or the files; a
// panicking simulation is recorded in its Record and listed in
// Result.Panics.
func (sw *Sweep) Run(dir string, opt Options) (Result, error) {
	if err := sw.checkCost(); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	have, err := sw.prepare(dir, opt)
	if err != nil {
		return Result{}, err
	}
	res := Result{Resumed: len(have)}
	done := make(map[int]bool, len(have))
	for _, l := range have {
		done[l.run] = true
	}
	var todo []int
	for i := 0; i < sw.Spec.Runs(); i++ {
		if opt.Shard.Has(i) {
			res.Total++
			if !done[i] {
				todo = append(todo, i)
			}
		}
	}
	lines, err := sw.execute(dir, todo, have, opt, &res)
	if err != nil {
		return res, err
	}
	for _, l := range lines {
		var r Record
		if json.Unmarshal(l.json, &r) != nil {
			continue
		}
		if r.Panic != "" {
			res.Panics = append(res.Panics, l.run)
		}
		if r.Stopped != "" {
			res.Truncated = append(res.Truncated, l.run)
		}
	}
	slices.Sort(res.Panics)
	slices.Sort(res.Truncated)
	if len(lines) < res.Total {
		return res, nil // stopped early: the next --resume finishes it
	}
	slices.SortFunc(lines, func(a, b line) int { return a.run - b.run })
	res.Complete = true
	return res, writeAll(dir, sw.Spec, lines)
}

// prepare checks dir against the sweep and returns the runs already done
// (with opt.Resume), cutting runs.jsonl back to its last whole line and
// rewriting runs.csv to match it.
func (sw *Sweep) prepare(dir string, opt Options) ([]line, error) {
	runsPath := filepath.Join(dir, RunsFile)
	old, oldShard, err := ReadSpec(dir)
	switch {
	case os.IsNotExist(err):
		// With or without --resume: runs without the sweep that made them
		// cannot be resumed, and are not ours to wipe.
		if st, err := os.Stat(runsPath); err == nil && st.Size() > 0 {
			return nil, fmt.Errorf("%s holds %s but no %s, so it cannot be resumed; use another --out", dir, RunsFile, SpecFile)
		}
		return nil, sw.fresh(dir, opt.Shard)
	case err != nil:
		return nil, err
	case !opt.Resume:
		return nil, fmt.Errorf("%s already holds a sweep; pass --resume to finish it, or use another --out", dir)
	case !sameSpec(old, sw.Spec):
		return nil, fmt.Errorf("%s: --resume with a different sweep (scenario, --set or --seeds differ from %s)",
			dir, filepath.Join(dir, SpecFile))
	case oldShard != opt.Shard && (oldShard.Count > 1 || opt.Shard.Count > 1):
		return nil, fmt.Errorf("%s holds shard %s; --resume it with the same --shard", dir, oldShard)
	}
	have, good, err := readRuns(runsPath)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	for _, l := range have {
		if l.run < 0 || l.run >= sw.Spec.Runs() || !opt.Shard.Has(l.run) || seen[l.run] {
			return nil, fmt.Errorf("%s: run %d does not belong to this sweep or shard, or appears twice", runsPath, l.run)
		}
		if err := sw.Spec.checkSeed(runsPath, l); err != nil {
			return nil, err
		}
		seen[l.run] = true
	}
	if err := os.Truncate(runsPath, good); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return have, sw.rewriteCSV(dir, have)
}

// fresh starts an empty sweep directory.
func (sw *Sweep) fresh(dir string, sh Shard) error {
	if err := writeSpec(dir, sw.Spec, sh); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, RunsFile), nil, 0o644); err != nil {
		return err
	}
	return sw.rewriteCSV(dir, nil)
}

// rewriteCSV makes runs.csv hold exactly the given runs, in that order.
func (sw *Sweep) rewriteCSV(dir string, lines []line) error {
	f, err := os.Create(filepath.Join(dir, CSVFile))
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	_ = cw.Write(csvHeader(sw.Spec))
	for _, l := range lines {
		var r Record
		if err := json.Unmarshal(l.json, &r); err != nil {
			f.Close()
			return fmt.Errorf("%s: run %d: %v", RunsFile, l.run, err)
		}
		_ = cw.Write(csvRow(sw.Spec, r))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// execute runs todo on opt.Jobs workers and appends each result to the
// files as it arrives. It returns every line now in runs.jsonl.
func (sw *Sweep) execute(dir string, todo []int, lines []line, opt Options, res *Result) ([]line, error) {
	jf, err := os.OpenFile(filepath.Join(dir, RunsFile), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	cf, err := os.OpenFile(filepath.Join(dir, CSVFile), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	results, stop := sw.start(todo, jobs, opt.Budget)
	defer close(stop)
	cw := csv.NewWriter(cf)
	total := len(lines) + len(todo)
	if opt.Progress != nil {
		opt.Progress(len(lines), total)
	}
	for r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("run %d: encoding: %v", r.Run, err)
		}
		if _, err := jf.Write(append(b, '\n')); err != nil {
			return nil, err
		}
		if err := cw.Write(csvRow(sw.Spec, r)); err != nil {
			return nil, err
		}
		if cw.Flush(); cw.Error() != nil {
			return nil, cw.Error()
		}
		lines = append(lines, line{run: r.Run, seed: r.Seed, json: b})
		res.Ran++
		if opt.Progress != nil {
			opt.Progress(len(lines), total)
		}
		if opt.StopAfter > 0 && res.Ran >= opt.StopAfter {
			break
		}
	}
	return lines, nil
}

// start feeds todo to jobs workers and returns their results in the order
// they finish. Closing stop makes the feeder and the workers quit early.
func (sw *Sweep) start(todo []int, jobs int, budget time.Duration) (<-chan Record, chan struct{}) {
	stop := make(chan struct{})
	work := make(chan int)
	results := make(chan Record)
	go func() {
		defer close(work)
		for _, i := range todo {
			select {
			case work <- i:
			case <-stop:
				return
			}
		}
	}()
	left := make(chan struct{}, jobs)
	for w := 0; w < jobs; w++ {
		go func() {
			defer func() { left <- struct{}{} }()
			for i := range work {
				select {
				case results <- sw.runOne(i, budget):
				case <-stop:
					return
				}
			}
		}()
	}
	go func() {
		for w := 0; w < jobs; w++ {
			<-left
		}
		close(results)
	}()
	return results, stop
}

// runOne simulates and checks run i. A panic becomes the Record's Panic,
// with the command that reproduces it.
func (sw *Sweep) runOne(i int, budget time.Duration) (rec Record) {
	s, seed := sw.points[i/len(sw.Spec.Seeds)], sw.Spec.Seed(i)
	rec = Record{Run: i, Summary: checker.Summary{Scenario: s.Name, Seed: seed, Settings: sw.Spec.Settings(i),
		Failovers: []checker.Failover{}}}
	defer func() {
		if p := recover(); p != nil {
			rec = Record{Run: i, Summary: rec.Summary, Panic: fmt.Sprintf("%v; reproduce with: %s\n%s",
				p, sw.reproduce(i), debug.Stack())}
		}
	}()
	res, err := sim.Run(s, sim.Options{Seed: seed, KeepTrace: true, AllowBugs: sw.Spec.AllowBugs, MaxEvents: sw.Spec.MaxEvents})
	if err != nil {
		panic(err) // New validated the scenario, so this is a simulator bug
	}
	if budget == 0 {
		budget = 30 * time.Second
	}
	sum, err := checker.Check(checker.Input{Scenario: s.Name, Seed: seed, VirtualMs: res.VirtualEnd.Milliseconds(),
		Events: res.Events, TraceSHA256: res.TraceSHA256, Settings: rec.Settings, Trace: res.Trace,
		History: res.History, Model: model(s.Workload.Kind), Expect: expect(s), Budget: budget,
		EndMs: res.VirtualEnd.Milliseconds()})
	if err != nil {
		panic(fmt.Sprintf("checker: %v", err))
	}
	rec = Record{Run: i, Summary: sum, PartitionMs: partitionTime(res.Trace, res.VirtualEnd).Milliseconds()}
	if res.StopReason == "event limit" {
		rec.Stopped = res.StopReason
	}
	return rec
}

// reproduce is the rcsim command line that reruns run i alone.
func (sw *Sweep) reproduce(i int) string {
	cmd := fmt.Sprintf("rcsim sweep %s --seeds %d", sw.Spec.Source, sw.Spec.Seed(i))
	for a, v := range sw.Spec.Point(i) {
		cmd += fmt.Sprintf(" --set '%s=%s'", sw.Spec.Axes[a].Key, v)
	}
	return cmd + " --out DIR"
}

// partitionTime is how long a partition was in force during the run, from
// the Partition and Heal events (a partition still in force at the end
// counts until the end).
func partitionTime(events []trace.Event, end time.Duration) time.Duration {
	var total, since time.Duration
	active := false
	for _, e := range events {
		switch {
		case e.Kind == trace.Partition && !active:
			active, since = true, e.At
		case e.Kind == trace.Heal && active:
			active, total = false, total+e.At-since
		}
	}
	if active {
		total += end - since
	}
	return total
}

// model is the checker's model for a workload kind ("" for none), as rcsim
// run chooses it.
func model(kind string) string {
	if kind == "none" {
		return ""
	}
	return kind
}

// expect carries the scenario's expectations over to the checker.
func expect(s *scenarios.Scenario) checker.Expect {
	e := s.Expect
	return checker.Expect{FailoverWithin: e.FailoverWithin, Linearizable: e.Linearizable,
		ConvergedWithin: e.ConvergedWithin, MaxLostWrites: e.MaxLostWrites, ClusterOK: e.ClusterOK,
		AdminOK: e.AdminOK}
}
