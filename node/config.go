// Configuration of one node, by the redis.conf names operators know
// (config.c), converted to durations at the boundary.
package node

import "time"

// Config is one node's cluster configuration. Field comments give the
// redis.conf name; DefaultConfig gives Redis 7.0's defaults.
type Config struct {
	NodeTimeout           time.Duration // cluster-node-timeout
	PingInterval          time.Duration // cluster-ping-interval (hidden); 0 means NodeTimeout/2
	ReplicaValidityFactor int           // cluster-replica-validity-factor; 0 disables the data-age check
	MigrationBarrier      int           // cluster-migration-barrier
	AllowReplicaMigration bool          // cluster-allow-replica-migration
	RequireFullCoverage   bool          // cluster-require-full-coverage
	ReplicaNoFailover     bool          // cluster-replica-no-failover
	AllowReadsWhenDown    bool          // cluster-allow-reads-when-down
	ReplPingReplicaPeriod time.Duration // repl-ping-replica-period
	ReplTimeout           time.Duration // repl-timeout
	MinReplicasToWrite    int           // min-replicas-to-write
	MinReplicasMaxLag     time.Duration // min-replicas-max-lag
	ReplBacklogSize       int64         // repl-backlog-size, in bytes; 0 means the default (1mb)

	// Addr is the announced client address "ip:port", used in MOVED/ASK
	// replies and CLUSTER NODES.
	Addr string

	// Incarnation counts restarts of this node's process; the kernel bumps it
	// on every restart. Connection numbers start at Incarnation<<32 + 1 so a
	// restarted process never reuses an old connection's name.
	Incarnation uint64

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
	}
}

// DefaultReplBacklogSize is repl-backlog-size's default, 1mb (config.c).
const DefaultReplBacklogSize = 1 << 20

// CronPeriod is how often the kernel calls Tick: clusterCron runs every
// 100 ms at the default hz 10 (serverCron's run_with_period(100)).
const CronPeriod = 100 * time.Millisecond
