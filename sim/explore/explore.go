package explore

// Exploration: nemesis schedules around a base scenario, runs spread over
// workers (each run single-threaded and a function of its scenario alone),
// findings grouped by failure class and shrunk.

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/gen"
	"github.com/rcsim/rcsim/scenarios/rng"
)

// Config is what Explore does.
type Config struct {
	Base       *scenarios.Scenario
	Menu       gen.Menu
	Runs       int           // schedules to run (0: until Time is up)
	Time       time.Duration // wall-clock limit on the whole exploration, shrinking included (0: none; Runs must then be set)
	Seed       uint64        // run i uses seed Seed+i (0 means 1)
	Workers    int           // runs in parallel (0: GOMAXPROCS)
	ShrinkRuns int           // budget of each shrinking (0: DefaultShrinkRuns)
	Options
	// Progress, if set, is called for every run in seed order, from the
	// goroutine that called Explore.
	Progress func(s *scenarios.Scenario, o Outcome)
	// Options.Stop, if set, ends the exploration early (an interrupt) the
	// way Time does.
}

// Finding is one failure class found: how often, the first run that showed
// it and that run shrunk.
type Finding struct {
	Class    string
	Count    int                 // runs that failed with this class
	Seed     uint64              // the first such run's seed
	Original *scenarios.Scenario // its scenario
	Shrunk   Shrunk
}

// Report is what an exploration found.
type Report struct {
	Runs     int       // runs made (a prefix of the seeds: Seed .. Seed+Runs-1)
	Failed   int       // runs that failed in any way
	Findings []Finding // one per class, in the order they were first seen
	Elapsed  time.Duration
	// Stopped is true when Time ran out or Options.Stop said so: runs in
	// flight were given up (Runs counts only the prefix of seeds that
	// finished) and shrinking kept the smallest scenario found by then.
	Stopped bool
}

// Explore runs nemesis schedules around cfg.Base, one per seed, and
// shrinks the first run of every failure class found. With the same
// config and no time limit the report is the same on any machine and for
// any number of workers.
func Explore(cfg Config) (Report, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if err := cfg.Menu.Validate(); err != nil {
		return Report{}, err
	}
	if cfg.Runs <= 0 && cfg.Time <= 0 {
		return Report{}, errors.New("explore: set Runs, Time or both")
	}
	start := time.Now()
	outer := cfg.Stop
	var stopped atomic.Bool
	cfg.Stop = func() bool {
		if stopped.Load() {
			return true
		}
		if outer != nil && outer() || cfg.Time > 0 && time.Since(start) >= cfg.Time {
			stopped.Store(true)
			return true
		}
		return false
	}
	var rep Report
	byClass := map[string]int{}
	err := runAll(cfg, func(s *scenarios.Scenario, o Outcome) {
		rep.Runs++
		if cfg.Progress != nil {
			cfg.Progress(s, o)
		}
		if o.Failed() {
			rep.Failed++
		}
		for _, c := range o.Classes {
			if i, seen := byClass[c]; seen {
				rep.Findings[i].Count++
				continue
			}
			byClass[c] = len(rep.Findings)
			rep.Findings = append(rep.Findings, Finding{Class: c, Count: 1, Seed: o.Seed, Original: s})
		}
	})
	if err != nil {
		return rep, err
	}
	shrinkAll(cfg, rep.Findings)
	rep.Elapsed, rep.Stopped = time.Since(start), stopped.Load()
	return rep, nil
}

// result is one finished run, for the in-order collector.
type result struct {
	i   int
	s   *scenarios.Scenario
	o   Outcome
	err error
}

// runAll runs the schedules on cfg.Workers goroutines and hands the results
// to collect in seed order. Once cfg.Stop says so no new run starts and the
// runs in flight give up; the runs collected are a prefix of the seeds.
func runAll(cfg Config, collect func(*scenarios.Scenario, Outcome)) error {
	jobs, results := make(chan int), make(chan result)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s, err := gen.Nemesis(cfg.Base, cfg.Seed+uint64(i), rng.Derive(cfg.Seed+uint64(i), "nemesis"), cfg.Menu)
				var o Outcome
				if err == nil {
					o, err = Run(s, cfg.Options)
				}
				results <- result{i, s, o, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; cfg.Runs == 0 || i < cfg.Runs; i++ {
			if cfg.Stop() {
				return
			}
			jobs <- i
		}
	}()
	go func() { wg.Wait(); close(results) }()
	pending := map[int]result{}
	next := 0
	var firstErr error
	stopped := false
	for r := range results {
		pending[r.i] = r
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			switch {
			case errors.Is(p.err, ErrStopped):
				stopped = true // this seed and the later ones are not counted
			case p.err != nil && firstErr == nil:
				firstErr = p.err
			}
			if firstErr == nil && !stopped {
				collect(p.s, p.o)
			}
		}
	}
	return firstErr
}

// shrinkAll shrinks every finding, in parallel on cfg.Workers goroutines.
func shrinkAll(cfg Config, fs []Finding) {
	sem := make(chan struct{}, cfg.Workers)
	var wg sync.WaitGroup
	for i := range fs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sh, err := Shrink(fs[i].Original, fs[i].Class, ShrinkOptions{Options: cfg.Options, MaxRuns: cfg.ShrinkRuns})
			if err != nil {
				sh = Shrunk{Scenario: fs[i].Original}
			}
			fs[i].Shrunk = sh
		}()
	}
	wg.Wait()
}
