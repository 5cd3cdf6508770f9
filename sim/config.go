package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"rcsim/netmodel"
	"rcsim/node"
	"rcsim/scenarios"
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
	cfg.ReplBacklogSize = rc.ReplBacklogSize
	cfg.Addr = addr
	cfg.Bugs = node.Bugs{GrantTwoVotesPerEpoch: s.Bugs.GrantTwoVotesPerEpoch}
	return cfg
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

// describeView renders a node's view as text for --dump-at, with names.
func describeView(v node.View, name func(node.ID) string) string {
	var b strings.Builder
	role := "master"
	if v.Master != "" {
		role = "replica of " + name(v.Master)
	}
	state := "fail"
	if v.StateOK {
		state = "ok"
	}
	fmt.Fprintf(&b, "%s %s %s current_epoch=%d config_epoch=%d offset=%d slots=%s\n",
		name(v.ID), v.ID, role, v.CurrentEpoch, v.ConfigEpoch, v.Offset, ranges(v.Slots))
	fmt.Fprintf(&b, "cluster_state:%s\n", state)
	for _, p := range v.Peers {
		fmt.Fprintf(&b, "  %s %s flags=%s master=%s config_epoch=%d link=%v slots=%s\n",
			name(p.ID), p.ID, flagNames(p.Flags), name(p.Master), p.ConfigEpoch, p.LinkUp, ranges(p.Slots))
	}
	return b.String()
}

func flagNames(f node.Flags) string {
	names := []string{"master", "slave", "fail?", "fail", "myself", "handshake", "noaddr", "meet", "migrate_to", "nofailover"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "noflags"
	}
	return strings.Join(out, ",")
}
