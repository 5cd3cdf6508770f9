package sim

// The cost bound of a run: a run stops after Options.MaxEvents kernel
// events, and a run that cannot fit in them is refused before it starts.

import (
	"fmt"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// DefaultMaxEvents bounds a run: measured on the heaviest workload (1000
// clients at 100,000 ops/s, 4.4M operations kept in the history) it is
// about 30 s of CPU and 2.9 GB of peak RSS; the built-in scenarios take
// under 150,000 events. A run that needs more (a long run of a big cluster,
// a heavy workload) says so and takes a higher Options.MaxEvents (rcsim run
// --max-events).
const DefaultMaxEvents = 20_000_000

// MinEvents is a lower bound on the kernel events a run of s until `until`
// (0: its duration) processes: every node's cron ticks once per
// node.CronPeriod, and each client operation takes at least its command's
// delivery and the reply's.
func MinEvents(s *scenarios.Scenario, until time.Duration) int64 {
	if until <= 0 {
		until = s.Duration
	}
	ticks := int64(until / node.CronPeriod)
	n := int64(len(s.Cluster.NodeNames())) * ticks
	if s.Workload.Kind != "" && s.Workload.Kind != "none" && s.Workload.Clients > 0 {
		n += 2 * int64(s.Workload.Rate) * int64(until/time.Millisecond) / 1000
	}
	return n
}

// CheckCost refuses a run until `until` (0: the scenario's duration) whose
// MinEvents is over maxEvents (0: DefaultMaxEvents): it would stop at the
// limit with a fraction of its virtual time done. Run calls it; a sweep
// checks every point before its first run.
func CheckCost(s *scenarios.Scenario, until time.Duration, maxEvents int) error {
	if maxEvents == 0 {
		maxEvents = DefaultMaxEvents
	}
	if until <= 0 {
		until = s.Duration
	}
	if need := MinEvents(s, until); need > int64(maxEvents) {
		where := s.File
		if where == "" { // a generated scenario (a nemesis schedule, a shrink candidate)
			where = s.Name
		}
		return fmt.Errorf("%s: the run needs at least %d events (%d nodes ticking every %s, %d ops/s, for %s), over the limit of %d (--max-events)",
			where, need, len(s.Cluster.NodeNames()), trace.FormatTime(node.CronPeriod), s.Workload.Rate, trace.FormatTime(until), maxEvents)
	}
	return nil
}
