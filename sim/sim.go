// Package sim is the kernel: it builds a cluster from a scenario, runs the
// node state machines over the network model on one virtual clock, applies
// the scenario's faults and drives the clients (the workload's, sim/workload,
// and the redis-cli admin client, sim/admin) through one interface, and
// hands back the trace and the client history. It owns the clock, the queue,
// delivery and faults, nothing else; the README's Layout section maps its
// files.
//
// One run is one goroutine and a function of (scenario, seed) alone: every
// random draw comes from a stream derived by rng.Derive, events are ordered
// by (time, sequence), and nothing reads the wall clock.
package sim

import (
	"fmt"
	"io"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// Options tune one run. The zero value runs the scenario for its duration,
// hashing the trace without writing it.
type Options struct {
	Seed      uint64        // the run's seed; 0 means the scenario's own
	Until     time.Duration // stop at this virtual time; 0 means the scenario's duration
	MaxEvents int           // stop after this many kernel events; 0 means DefaultMaxEvents
	Trace     io.Writer     // trace.jsonl goes here, if not nil
	KeepTrace bool          // keep the events in Result.Trace (the checker needs them)
	HashEvery int           // print a running trace hash every N events to HashOut
	HashOut   io.Writer
	// AllowBugs permits the scenario's x-bugs switches; without it a scenario
	// that sets one is refused.
	AllowBugs bool
	// DumpAt lists virtual times at which every node's state is dumped.
	DumpAt []time.Duration
	// Dump receives the dumps: per node a named summary, then nodes.conf,
	// CLUSTER NODES, CLUSTER INFO and CLUSTER SHARDS as Redis prints them.
	Dump func(at time.Duration, node string, text string)
	// Abort, if set, is asked every AbortEvery events whether to give the
	// run up (a caller's wall-clock limit, an interrupt): the run then stops
	// with StopReason "aborted", its result a prefix of the whole run's.
	Abort func() bool

	handClient bool // one more client endpoint, Manual's hand client
}

// AbortEvery is how many events pass between two calls of Options.Abort.
const AbortEvery = 4096

// Result is what a run leaves behind.
type Result struct {
	Seed        uint64
	Trace       []trace.Event // only with Options.KeepTrace
	History     []history.Op  // every client operation, in invoke order
	TraceSHA256 string        // hex SHA-256 of the trace.jsonl bytes
	Events      int           // number of trace events
	Steps       int           // number of kernel events processed (a wake-up or tick superseded before it came due is none)
	BusMessages int           // cluster-bus messages put on the wire (replication and clients not counted)
	VirtualEnd  time.Duration // virtual time at which the run stopped
	StopReason  string        // "duration", "event limit" or "aborted"
	Nodes       []NodeInfo    // the nodes, in endpoint order
	OpenSlots   []string      // slots still open at the end on live nodes: "m1: 1234 importing from m0"
}

// NodeInfo names one node of the run.
type NodeInfo struct {
	Name string
	ID   string
	Addr string
}

// Run simulates s with opt and returns its result. An error means the
// scenario cannot run (bad options); a panic inside a node is not recovered
// here: the CLI reports it with the reproduce line.
func Run(s *scenarios.Scenario, opt Options) (*Result, error) {
	if s == nil {
		return nil, fmt.Errorf("sim: nil scenario")
	}
	if s.Bugs.Any() && !opt.AllowBugs {
		return nil, fmt.Errorf("sim: scenario %s sets x-bugs switches; run with AllowBugs (--allow-bugs) to permit them", s.Name)
	}
	if opt.Seed == 0 {
		opt.Seed = s.Seed
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Until == 0 {
		opt.Until = s.Duration
	}
	if opt.MaxEvents == 0 {
		opt.MaxEvents = DefaultMaxEvents
	}
	if opt.Until < 0 || opt.MaxEvents < 0 {
		return nil, fmt.Errorf("sim: negative Until %s or MaxEvents %d", opt.Until, opt.MaxEvents)
	}
	if err := CheckCost(s, opt.Until, opt.MaxEvents); err != nil {
		return nil, err
	}
	w, err := newWorld(s, opt)
	if err != nil {
		return nil, err
	}
	w.run()
	return w.result(), nil
}
