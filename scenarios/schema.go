// Package scenarios is the scenario file format: its schema, a strict loader
// that names file, line and field for every error, validation, and the
// embedded library of built-in scenarios.
package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Scenario is one loaded, validated scenario. Durations are virtual time.
type Scenario struct {
	Name        string
	Description string
	Duration    time.Duration // how much virtual time the run covers
	Seed        uint64        // the seed used when none is given on the command line (default 1)
	Cluster     Cluster
	Network     Network
	Workload    Workload
	Faults      []Fault     // sorted by At (stable: file order breaks ties)
	Admin       []AdminStep // sorted by At (stable: file order breaks ties)
	Expect      Expect
	Bugs        Bugs   // x-bugs: deliberate rule violations; the CLI refuses them without --allow-bugs
	File        string // where it was loaded from ("library/master-crash.yaml" for built-ins)
}

// Bugs mirrors node.Bugs: named, off-by-default switches that break one Redis
// rule each (the yaml mapping x-bugs, keys in kebab-case).
type Bugs struct {
	GrantTwoVotesPerEpoch bool // grant-two-votes-per-epoch
}

// Any reports whether any bug switch is on.
func (b Bugs) Any() bool { return b != Bugs{} }

// Cluster is the topology and the redis.conf settings every node gets.
type Cluster struct {
	Masters           int  // 1..MaxMasters; with replicas and spares at most MaxNodes nodes
	ReplicasPerMaster int  // 0..10
	Spares            int  // 0..10 nodes s0…, running but not joined: for add_node
	Formed            bool // the cluster starts as create leaves it (default); false: unjoined nodes, for a create step
	// Rules is the server whose cluster rules the nodes follow: one of
	// RuleSets (default redis-7.0).
	Rules  string
	Config RedisConfig
}

// RuleSets are the values of cluster.rules, in version order (node.RuleSets
// has the same list; a test keeps them equal).
var RuleSets = []string{"redis-7.0", "redis-7.4", "valkey-8.0", "valkey-8.1", "valkey-9.0"}

// ruleLevel is the index of rules in RuleSets, or -1.
func ruleLevel(rules string) int {
	for i, r := range RuleSets {
		if r == rules {
			return i
		}
	}
	return -1
}

// RedisConfig holds the redis.conf settings a scenario may set, by their
// Redis names (the yaml keys). Units are Redis's own: ms for
// cluster-node-timeout, seconds for repl-ping-replica-period and
// repl-timeout, bytes (with Redis's memory units) for repl-backlog-size.
type RedisConfig struct {
	NodeTimeoutMs          int  // cluster-node-timeout (default 15000)
	PingIntervalMs         int  // cluster-ping-interval (hidden; default 0 = timeout/2)
	ReplicaValidityFactor  int  // cluster-replica-validity-factor (default 10)
	MigrationBarrier       int  // cluster-migration-barrier (default 1)
	AllowReplicaMigration  bool // cluster-allow-replica-migration (default yes)
	RequireFullCoverage    bool // cluster-require-full-coverage (default yes)
	ReplicaNoFailover      bool // cluster-replica-no-failover (default no)
	AllowReadsWhenDown     bool // cluster-allow-reads-when-down (default no)
	ReplPingReplicaPeriodS int  // repl-ping-replica-period (default 10)
	ReplTimeoutS           int  // repl-timeout (default 60)
	MinReplicasToWrite     int  // min-replicas-to-write (default 0)
	MinReplicasMaxLagS     int  // min-replicas-max-lag (default 10)
	// ReplBacklogSize is repl-backlog-size in bytes (default 1mb); a file
	// writes it as Redis does: 1048576, 1mb, 512kb, 100000, 1gb.
	ReplBacklogSize int64
	// ManualFailoverTimeoutMs is cluster-manual-failover-timeout (Valkey 8.1
	// and later only; default 5000, Redis's fixed CLUSTER_MF_TIMEOUT).
	ManualFailoverTimeoutMs int
	// ClusterLinkSendbufLimit is cluster-link-sendbuf-limit in bytes
	// (default 0: no limit).
	ClusterLinkSendbufLimit int64
	// Save is save: "<seconds> <changes>" pairs (default
	// "3600 1 300 100 60 10000"); "" takes no snapshots. SavePoints reads it.
	Save        string
	AppendOnly  bool   // appendonly (default no)
	AppendFsync string // appendfsync: always, everysec (default) or no
	// Full resync (repl-diskless-sync default yes, -delay 5 seconds,
	// -max-replicas 0: no limit).
	ReplDisklessSync            bool
	ReplDisklessSyncDelayS      int
	ReplDisklessSyncMaxReplicas int
}

// DefaultSocketBuffer is network.socket-buffer's default, 80 KiB: Linux's
// default receive buffer (tcp_rmem 131072, of which tcp_adv_win_scale 1
// advertises half) plus its default send buffer (tcp_wmem 16384), before
// autotuning grows either; an approximation, not a measurement.
const DefaultSocketBuffer = 80 << 10

// DefaultSave is Redis 7.0's default save setting.
const DefaultSave = "3600 1 300 100 60 10000"

// AppendFsyncs are appendfsync's values.
var AppendFsyncs = []string{"always", "everysec", "no"}

// SavePoints reads a save setting: pairs of whole seconds (at least 1) and
// changes (at least 1), as Redis's config.c accepts them; "" is none.
func SavePoints(s string) ([][2]int64, error) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return nil, fmt.Errorf("want pairs of <seconds> <changes>, got %d numbers", len(f))
	}
	var out [][2]int64
	for i := 0; i < len(f); i += 2 {
		secs, err1 := strconv.ParseInt(f[i], 10, 64)
		changes, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 != nil || err2 != nil || secs < 1 || changes < 1 || secs > math.MaxInt32 || changes > math.MaxInt32 {
			return nil, fmt.Errorf("%q %q: want whole seconds and changes, each at least 1", f[i], f[i+1])
		}
		out = append(out, [2]int64{secs, changes})
	}
	return out, nil
}

// Network describes the simulated links.
type Network struct {
	Latency   Latency // one-way latency of every link
	Loss      Ratio   // per-transmission loss of every link (TCP: a loss is a retransmission delay)
	Bandwidth int64   // bytes per second of every link; 0 unlimited
	// MTU is the links' MTU in bytes (1500: Ethernet, the default; 65536:
	// loopback). TCP's segment size follows from it, and with it whether a
	// cluster-bus message is small enough for Nagle's algorithm and the
	// receiver's delayed ACK to hold it (sim/nagle.go).
	MTU int
	// SocketBuffer is what the two kernels' socket buffers of one
	// connection hold before a sender's own send buffer grows (default
	// DefaultSocketBuffer).
	SocketBuffer int64
	Links        []LinkOverride // per-link and per-group settings, applied in order (a later one wins)
}

// MTU bounds: IPv4's minimum and loopback's default.
const (
	MinMTU     = 576
	MaxMTU     = 65536
	DefaultMTU = 1500
)

// Ratio is a probability Num/Den, kept as integers so a scenario hashes the
// same everywhere. A file writes it as "1%", "0.5%" or "1/1000"; the zero
// value means never.
type Ratio struct{ Num, Den uint32 }

// LinkOverride gives the links from every endpoint of From to every endpoint
// of To (and back, unless Directed) their own settings. A nil setting keeps
// the network's default. Names are endpoint names; "rest" on one side means
// every endpoint not on the other side.
type LinkOverride struct {
	From, To  []string
	Directed  bool     // only From->To
	Latency   *Latency // nil: the network's latency
	Loss      *Ratio   // nil: the network's loss
	Bandwidth *int64   // nil: the network's bandwidth; 0 unlimited
}

// Latency is a one-way latency distribution. Which fields matter depends on
// Dist: constant (Value), uniform (Min, Max), normal (Mean, Stddev),
// lognormal (Median, P99).
type Latency struct {
	Dist   string // constant | uniform | normal | lognormal
	Value  time.Duration
	Min    time.Duration
	Max    time.Duration
	Mean   time.Duration
	Stddev time.Duration
	Median time.Duration
	P99    time.Duration
}

// Workload is the client load.
type Workload struct {
	Kind      string        // register (SET/GET) | counter | list; "" or none: no clients
	Clients   int           // number of clients, each with one operation outstanding at a time
	Rate      int           // total operations per second over all clients
	Keys      int           // number of distinct keys
	Timeout   time.Duration // per-operation timeout; a timed-out op has an unknown outcome
	ReadRatio int           // percent of operations that are reads (default 50)
	// Distribution is how keys are drawn: "uniform" (default) or "zipf".
	Distribution string
	// ZipfMilli is the zipf exponent s in thousandths (zipf-exponent: 1.2
	// is 1200; default 1000); 0 unless Distribution is zipf.
	ZipfMilli int
	// Wait, when > 0, makes each write a WAIT for this many replicas before
	// the client counts it acknowledged (wait: 1).
	Wait int
	// ReadFromReplicas sends reads to replicas with READONLY (go-redis's
	// ReadOnly option).
	ReadFromReplicas bool
}

// FaultKind names a fault step.
type FaultKind string

// Fault kinds.
const (
	Crash     FaultKind = "crash"     // kill a node's process; Persist says whether nodes.conf survives
	Restart   FaultKind = "restart"   // start a crashed node again
	Partition FaultKind = "partition" // split the network into Groups
	Heal      FaultKind = "heal"      // end every network fault: partitions, one-way cuts, flaps, loss
	OneWay    FaultKind = "one-way"   // cut From->To only (an asymmetric partition)
	Flap      FaultKind = "flap"      // cut From<->To for Duty percent of every Period
	Loss      FaultKind = "loss"      // From<->To lose transmissions with LossRatio (retransmission delays)
	Reset     FaultKind = "reset"     // reset every connection between From and To (an instant; no end)
	Pause     FaultKind = "pause"     // SIGSTOP a node: it runs nothing, its input queues
	Resume    FaultKind = "resume"    // SIGCONT a paused node: it works through its backlog, timers fire late
	Slow      FaultKind = "slow"      // every message and command costs the node Delay of processing
	Clock     FaultKind = "clock"     // the node's own clock jumps by Jump or drifts by DriftPct
	End       FaultKind = "end"       // end the fault whose ID is EndID
)

// Fault is one scheduled fault step. A fault that lasts (every kind but
// heal, reset, restart, resume and end) ends after For, at an end step naming
// its ID, or never; the end undoes what this fault did, on the nodes and
// links its targets resolved to when it started.
type Fault struct {
	At time.Duration
	// Jitter, if set, places the fault at a random moment of [At,
	// At+Jitter), drawn from the seed (FaultTimes): with jitter: 1s a fault
	// lands anywhere in the nodes' once-a-second cron cycle, as a real
	// fault does. For counts from the moment it fired.
	Jitter  time.Duration
	Kind    FaultKind
	Target  Target // crash, restart, pause, resume, slow, clock
	Persist bool   // crash: nodes.conf and the dataset on disk survive (default true)
	// PowerLoss (crash): the machine loses power too, so the page cache
	// goes with the process: only fsynced data survives (default false:
	// the process is killed, what it wrote survives).
	PowerLoss bool
	Groups    [][]Target    // partition: each group can reach only itself; a group holding Rest takes every unnamed endpoint
	From, To  []Target      // one-way, flap, loss, reset: the two sides; Rest on one side is every endpoint not on the other
	Directed  bool          // flap, loss: only From->To (default: both ways)
	Period    time.Duration // flap: one down-then-up cycle
	DutyPct   int           // flap: percent of each Period the link is down, first
	Ratio     Ratio         // loss: per-transmission loss
	Delay     time.Duration // slow: processing time of every message and command
	Jump      time.Duration // clock: added to the node's clock at once (may be negative)
	DriftPct  int           // clock: the node's clock runs this many percent fast (negative: slow)
	For       time.Duration // how long the fault lasts; 0: until an end step, heal or forever
	ID        string        // names the fault for an end step
	EndID     string        // end: the ID of the fault to end
	Line      int           // line in the scenario file, for messages
}

// Target names a node or client, directly or by its role at the moment the
// fault fires.
type Target struct {
	Name         string  // "m0", "m0r1", "client-2"; "" when by role
	MasterOfSlot *int    // the node that owns this slot as a master, in the majority's view
	ReplicaOf    *Target // the first replica of that node
	Rest         bool    // (partition only) every endpoint not named in another group
	Crashed      bool    // (restart only) the most recently crashed node still down
	Paused       bool    // (resume only) the most recently paused node still paused
	AnyMaster    bool    // a master chosen at random (the run's "faults" stream) among live ones
	Random       bool    // a node chosen at random among live ones (among down ones for restart)
	Masters      *Share  // several masters drawn at random (the "faults" stream) among the live ones serving slots
}

// Share is how many of the live masters serving slots a {masters: …}
// target takes at the moment of its fault: Count of them, or Percent of
// them (rounded to the nearest, at least one). Exactly one is set.
type Share struct {
	Count   int // 1..MaxMasters
	Percent int // 1..100
}

// String writes the share as a file does: "3" or "10%".
func (s Share) String() string {
	if s.Percent > 0 {
		return strconv.Itoa(s.Percent) + "%"
	}
	return strconv.Itoa(s.Count)
}

// Of is how many of n candidates the share takes (never more than n).
func (s Share) Of(n int) int {
	if s.Percent > 0 {
		return min(n, max(1, (n*s.Percent+50)/100))
	}
	return min(n, s.Count)
}

// Expect holds the expectations checked after the run. A nil field is not
// checked.
type Expect struct {
	FailoverWithin  *time.Duration // every crash of a master is followed by a promotion within this time
	Linearizable    *bool          // the history's verdict
	ConvergedWithin *time.Duration // after the last fault or admin step, the cluster converges (checker.CheckConvergence) within this time
	MaxLostWrites   *int           // at most this many acknowledged writes lost
	ClusterOK       *bool          // cluster_state is ok on every live node at the end
	// AdminOK: every admin step ended ok (true), or one failed (false). Nil
	// is checked as true: a failed admin step fails the run unless the
	// scenario says it expects one.
	AdminOK *bool
}

// NodeNames returns the names of the scenario's nodes in their fixed order:
// masters m0..m{M-1}, then replicas m0r0, m0r1, …, m1r0, …, then spares.
func (c Cluster) NodeNames() []string {
	names := make([]string, 0, c.Masters*(1+c.ReplicasPerMaster))
	for m := 0; m < c.Masters; m++ {
		names = append(names, masterName(m))
	}
	for m := 0; m < c.Masters; m++ {
		for r := 0; r < c.ReplicasPerMaster; r++ {
			names = append(names, masterName(m)+"r"+strconv.Itoa(r))
		}
	}
	return append(names, c.SpareNames()...)
}

// Nodes is the number of nodes: masters, replicas and spares.
func (c Cluster) Nodes() int { return c.Masters*(1+c.ReplicasPerMaster) + c.Spares }

// TestNodes is the largest cluster the test suite runs: built-ins above it
// (mass-failure-2000) take minutes and run in benchmarks (make bench-scale).
const TestNodes = 200

// SpareNames returns s0 … s{Spares-1}: nodes that run from the start as
// lone empty masters, outside the cluster until an add_node step.
func (c Cluster) SpareNames() []string {
	names := make([]string, c.Spares)
	for i := range names {
		names[i] = "s" + strconv.Itoa(i)
	}
	return names
}

// ClientNames returns client-0 … client-{n-1}.
func (w Workload) ClientNames() []string {
	names := make([]string, w.Clients)
	for i := range names {
		names[i] = "client-" + strconv.Itoa(i)
	}
	return names
}

func masterName(m int) string { return "m" + strconv.Itoa(m) }
