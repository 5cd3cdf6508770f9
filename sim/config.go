package sim

// Configuration: a scenario's redis.conf settings and network section in
// node's and netmodel's terms.

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rcsim/rcsim/netmodel"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/scenarios"
)

// nodeConfig turns a scenario's redis.conf settings into a node.Config.
func nodeConfig(rc scenarios.RedisConfig, addr string, s *scenarios.Scenario) node.Config {
	cfg := node.DefaultConfig()
	cfg.NodeTimeout = time.Duration(rc.NodeTimeoutMs) * time.Millisecond
	cfg.PingInterval = time.Duration(rc.PingIntervalMs) * time.Millisecond
	cfg.ReplicaValidityFactor = rc.ReplicaValidityFactor
	cfg.MigrationBarrier = rc.MigrationBarrier
	cfg.AllowReplicaMigration = rc.AllowReplicaMigration
	cfg.RequireFullCoverage = rc.RequireFullCoverage
	cfg.ReplicaNoFailover = rc.ReplicaNoFailover
	cfg.AllowReadsWhenDown = rc.AllowReadsWhenDown
	cfg.ReplPingReplicaPeriod = time.Duration(rc.ReplPingReplicaPeriodS) * time.Second
	cfg.ReplTimeout = time.Duration(rc.ReplTimeoutS) * time.Second
	cfg.MinReplicasToWrite = rc.MinReplicasToWrite
	cfg.MinReplicasMaxLag = time.Duration(rc.MinReplicasMaxLagS) * time.Second
	cfg.ManualFailoverTimeout = time.Duration(rc.ManualFailoverTimeoutMs) * time.Millisecond
	rules, ok := node.RulesFor(s.Cluster.Rules)
	if !ok {
		panic(fmt.Sprintf("sim: invariant: scenario rules %q passed validation but node has no such rule set", s.Cluster.Rules))
	}
	cfg.Rules = rules
	cfg.ReplBacklogSize = rc.ReplBacklogSize
	cfg.ClusterLinkSendbufLimit = rc.ClusterLinkSendbufLimit
	cfg.Save = savePoints(rc.Save)
	cfg.AppendOnly = rc.AppendOnly
	cfg.AppendFsync = map[string]node.Fsync{"always": node.FsyncAlways, "everysec": node.FsyncEverySec,
		"no": node.FsyncNo}[rc.AppendFsync]
	cfg.ReplDisklessSync = rc.ReplDisklessSync
	cfg.ReplDisklessSyncDelay = time.Duration(rc.ReplDisklessSyncDelayS) * time.Second
	cfg.ReplDisklessSyncMaxReplicas = rc.ReplDisklessSyncMaxReplicas
	cfg.Addr = addr
	cfg.Bugs = node.Bugs{GrantTwoVotesPerEpoch: s.Bugs.GrantTwoVotesPerEpoch}
	return cfg
}

// savePoints reads a validated save setting.
func savePoints(s string) []node.SavePoint {
	pairs, err := scenarios.SavePoints(s)
	if err != nil {
		panic("sim: invariant: save passed validation but does not parse: " + err.Error())
	}
	out := make([]node.SavePoint, len(pairs))
	for i, p := range pairs {
		out[i] = node.SavePoint{Seconds: p[0], Changes: p[1]}
	}
	return out
}

// netConfig turns a scenario's network section into a netmodel.Config; the
// per-link entries are applied after (applyLinks).
func netConfig(n scenarios.Network) netmodel.Config {
	return netmodel.Config{Latency: dist(n.Latency), Loss: netmodel.Ratio{Num: n.Loss.Num, Den: n.Loss.Den},
		Bandwidth: n.Bandwidth}
}

func dist(l scenarios.Latency) netmodel.Dist {
	return netmodel.Dist{Kind: l.Dist, Value: l.Value, Min: l.Min, Max: l.Max,
		Mean: l.Mean, Stddev: l.Stddev, Median: l.Median, P99: l.P99}
}

func itoa(i int) string { return strconv.Itoa(i) }
