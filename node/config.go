// Configuration of one node, by the redis.conf names operators know
// (config.c), converted to durations at the boundary.

package node

import "time"

// Config is one node's cluster configuration. Field comments give the
// redis.conf name; DefaultConfig gives Redis 7.0's defaults.
type Config struct {
	NodeTimeout             time.Duration // cluster-node-timeout
	PingInterval            time.Duration // cluster-ping-interval (hidden); 0 means NodeTimeout/2
	ReplicaValidityFactor   int           // cluster-replica-validity-factor; 0 disables the data-age check
	MigrationBarrier        int           // cluster-migration-barrier
	AllowReplicaMigration   bool          // cluster-allow-replica-migration
	RequireFullCoverage     bool          // cluster-require-full-coverage
	ReplicaNoFailover       bool          // cluster-replica-no-failover
	AllowReadsWhenDown      bool          // cluster-allow-reads-when-down
	ReplPingReplicaPeriod   time.Duration // repl-ping-replica-period
	ReplTimeout             time.Duration // repl-timeout
	MinReplicasToWrite      int           // min-replicas-to-write
	MinReplicasMaxLag       time.Duration // min-replicas-max-lag
	ReplBacklogSize         int64         // repl-backlog-size, in bytes; 0 means the default (1mb)
	ClusterLinkSendbufLimit int64         // cluster-link-sendbuf-limit, bytes; 0: no limit
	// Persistence (persist.go).
	Save        []SavePoint // save; empty: no snapshots (save "")
	AppendOnly  bool        // appendonly
	AppendFsync Fsync       // appendfsync
	// Full resync (replication.go).
	ReplDisklessSync            bool          // repl-diskless-sync
	ReplDisklessSyncDelay       time.Duration // repl-diskless-sync-delay (whole seconds in redis.conf)
	ReplDisklessSyncMaxReplicas int           // repl-diskless-sync-max-replicas; 0: no limit
	// ManualFailoverTimeout is cluster-manual-failover-timeout (Valkey 8.1,
	// valkey#1690); Redis's fixed CLUSTER_MF_TIMEOUT is the default.
	ManualFailoverTimeout time.Duration

	// Rules is the server's rule set: the switches by which later Redis
	// and Valkey versions differ from Redis 7.0 (all off in Redis 7.0).
	Rules Rules

	// Addr is the announced client address "ip:port", used in MOVED/ASK
	// replies and CLUSTER NODES.
	Addr string

	// Incarnation counts restarts of this node's process; the kernel bumps it
	// on every restart. Connection numbers start at
	// ConnSpace<<48 + Incarnation<<32 + 1 so a restarted process never
	// reuses an old connection's name.
	Incarnation uint64
	// ConnSpace, when the kernel gives every node of a run a different one
	// (below 1<<16), makes ConnID.N alone name a connection in the whole
	// run, so the kernel can look connections up by that number.
	ConnSpace uint64

	// CronLoops is server.cronloops at the process's first Tick: 0 for a
	// process the run starts (a restart), and for a node that was already
	// running when the run began the kernel draws it in 0..9, so that its
	// once-a-second work (clusterCron's random PING at iteration%10 == 0,
	// replicationCron's run_with_period(1000)) falls anywhere in the second.
	CronLoops uint64

	// Shared, if set, is shared by every node of the run (see Shared); the
	// nodes of one run must all have the same one or none.
	Shared *Shared

	// Bugs are deliberate rule violations for testing the checker and the
	// property tests. All false in any real run; a scenario can set them
	// only when the CLI is given --allow-bugs.
	Bugs Bugs
}

// Bugs is a set of named, off-by-default switches that break one Redis rule
// each, so tests can show the checker and properties catch the breakage.
type Bugs struct {
	// GrantTwoVotesPerEpoch skips the lastVoteEpoch check of
	// clusterSendFailoverAuthIfNeeded: a master may vote twice in one epoch.
	GrantTwoVotesPerEpoch bool
}

// DefaultConfig returns Redis 7.0's defaults (config.c).
func DefaultConfig() Config {
	return Config{
		NodeTimeout:           15000 * time.Millisecond, // why: CLUSTER_DEFAULT_NODE_TIMEOUT
		ReplicaValidityFactor: 10,                       // CLUSTER_DEFAULT_SLAVE_VALIDITY
		MigrationBarrier:      1,                        // CLUSTER_DEFAULT_MIGRATION_BARRIER
		AllowReplicaMigration: true,
		RequireFullCoverage:   true, // CLUSTER_DEFAULT_REQUIRE_FULL_COVERAGE
		ReplPingReplicaPeriod: 10 * time.Second,
		ReplTimeout:           60 * time.Second,
		MinReplicasMaxLag:     10 * time.Second,
		ReplBacklogSize:       DefaultReplBacklogSize,
		ManualFailoverTimeout: mfTimeout,
		Save:                  DefaultSavePoints,
		ReplDisklessSync:      true,            // yes since 7.0
		ReplDisklessSyncDelay: 5 * time.Second, // config.c's default 5
		Rules:                 Rules{Name: Redis70},
	}
}

// DefaultReplBacklogSize is repl-backlog-size's default, 1mb (config.c).
const DefaultReplBacklogSize = 1 << 20

// Rule set names, as a scenario's cluster.rules spells them.
const (
	Redis70  = "redis-7.0"
	Redis74  = "redis-7.4"
	Valkey80 = "valkey-8.0"
	Valkey81 = "valkey-8.1"
	Valkey90 = "valkey-9.0"
)

// Rules is a server version's rule set: one named switch per rule that
// differs from Redis 7.0. Each group is declared in the file of the idea
// its switches change, beside the upstream function and pull request.
type Rules struct {
	Name string // one of RuleSets
	FailureRules
	ElectionRules
	GossipRules
	SlotRules
	ManualRules
	CronRules
}

// RuleSets lists the rule set names in version order.
var RuleSets = []string{Redis70, Redis74, Valkey80, Valkey81, Valkey90}

// RulesFor returns the rule set of a server version (one of RuleSets).
// Each version keeps the rules of the versions before it: Valkey forked
// from Redis's unstable branch after both Redis 7.4 rules had landed.
func RulesFor(name string) (Rules, bool) {
	r := Rules{Name: name}
	level := -1
	for i, v := range RuleSets {
		if v == name {
			level = i
		}
	}
	if level < 0 {
		return Rules{}, false
	}
	if level >= 1 { // Redis 7.4
		r.OneShardPrimaryMarksFail = true
		r.DemotionMovesSlots = true
	}
	if level >= 2 { // Valkey 8.0
		r.VotingPrimaries = true
		r.RankByNodeID = true
		r.SetPrimaryResetsElection = true
		r.FullSyncRanksZero = true
		r.ReplicaOfEmptyPrimaryFailsOver = true
	}
	if level >= 3 { // Valkey 8.1
		r.FailedPrimaryRank = true
		r.CancelElectionOnEpochClaim = true
		r.NoVoteGatePerPrimary = true
		r.ForceStartsAtOnce = true
	}
	if level >= 4 { // Valkey 9.0
		r.RelativeElectionDelay = true
		r.BestRankedSkipsDelay = true
		r.LimitReconnects = true
	}
	return r, true
}

// CronPeriod is how often the kernel calls Tick: clusterCron runs every
// 100 ms at the default hz 10 (serverCron's run_with_period(100)). It is the
// period ae re-arms serverCron's timer with after the handler returned
// (processTimeEvents: when = now + retval), so real ticks come a little
// more than CronPeriod apart; the kernel models that drift.
const CronPeriod = 100 * time.Millisecond
