package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// TestRuleSetOutcomes runs a scenario under the two rule sets either side
// of a rule and checks the trace shows the rule's effect under one and not
// the other: the scenario-level counterpart of node/rulesets_test.go.
func TestRuleSetOutcomes(t *testing.T) {
	cases := []struct {
		rule     string // the switch (node.Rules) the difference comes from
		scenario string // a built-in name, or inline YAML
		before   string // the last rule set without the rule
		after    string // the first with it
		seed     uint64
		shows    func(events []trace.Event) bool // true under after, false under before
	}{
		{"OneShardPrimaryMarksFail (clusterCron, redis#12824)", oneShardReplicaCrash, "redis-7.0", "redis-7.4", 1,
			func(es []trace.Event) bool { return has(es, trace.Fail, "m0", "m0r0") }},
		{"VotingPrimaries (clusterNodeIsVotingPrimary, valkey#634)", "sole-slot-owner-crash", "redis-7.4", "valkey-8.0", 1,
			func(es []trace.Event) bool { return !has(es, trace.Fail, "", "m0") }},
		{"RankByNodeID (clusterGetReplicaRank, valkey#762)", twoReplicasNoWrites, "redis-7.4", "valkey-8.0", 1,
			func(es []trace.Event) bool { return hasValue(es, trace.ElectionSched, "rank=1") }},
		{"ReplicaOfEmptyPrimaryFailsOver (clusterHandleReplicaFailover, valkey#445)", emptyPrimaryCrash,
			"redis-7.4", "valkey-8.0", 1,
			func(es []trace.Event) bool { return has(es, trace.Promoted, "s1", "s0") }},
		{"FailedPrimaryRank (clusterGetFailedPrimaryRank, valkey#1018)", "multi-primary-crash", "valkey-8.0", "valkey-8.1", 1,
			func(es []trace.Event) bool { return maxDelayMs(es) >= 1000 }},
		{"ForceStartsAtOnce (clusterCommandSpecial, valkey#1067)", forcedFailover, "valkey-8.0", "valkey-8.1", 1,
			func(es []trace.Event) bool {
				for _, e := range es {
					if e.Kind == trace.ElectionSched && e.Node == "m0r0" {
						return e.At-10*time.Second < 5*time.Millisecond // in the command, not the next cron
					}
				}
				return false
			}},
		{"DemotionMovesSlots (clusterProcessPacket, clusterMoveNodeSlots, redis#13055)", staleObserver,
			"redis-7.0", "redis-7.4", 1,
			func(es []trace.Event) bool {
				// m4 learns m0r0 owns m0's slots from m0's demoted PONG,
				// before m0r0's own messages reach it at 24s.
				for _, e := range es {
					if e.Kind == trace.Slots && e.Node == "m4" && e.Peer == "m0r0" {
						return e.At < 24*time.Second
					}
				}
				return false
			}},
		{"SetPrimaryResetsElection (clusterSetPrimary, valkey#782)", secondFailure, "redis-7.4", "valkey-8.0", 1,
			func(es []trace.Event) bool { return secondPromotionDelay(es) < 2*time.Second }},
		{"FullSyncRanksZero (clusterSetPrimary full_sync_required, valkey#885)", migratedUnsynced,
			"redis-7.4", "valkey-8.0", 1,
			func(es []trace.Event) bool { return has(es, trace.Promoted, "m0r0", "m0") }},
		{"CancelElectionOnEpochClaim (clusterProcessPacket, valkey#1009, #1339)", slowRequest,
			"valkey-8.0", "valkey-8.1", 1,
			func(es []trace.Event) bool {
				for _, e := range es {
					if e.Kind == trace.ElectionExpire && e.Node == "m0r1" && e.Value == "epoch_claimed" {
						return e.Peer == "m0r0"
					}
				}
				return false
			}},
		{"NoVoteGatePerPrimary (clusterSendFailoverAuthIfNeeded, valkey#1305, #1356)", winnerCrashed,
			"valkey-8.0", "valkey-8.1", 1,
			func(es []trace.Event) bool {
				// m0r0 wins within 2 × node-timeout of the votes for m0r1.
				for _, e := range es {
					if e.Kind == trace.Promoted && e.Node == "m0r0" {
						return e.At < 16*time.Second && !hasValue(es, trace.VoteRefused, "voted_recently")
					}
				}
				return false
			}},
		{"RelativeElectionDelay, BestRankedSkipsDelay (valkey#2449, #2227)", "master-crash", "valkey-8.1", "valkey-9.0", 1,
			func(es []trace.Event) bool { return maxDelayMs(es) < 500 }},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			for _, rules := range []string{c.before, c.after} {
				es := runRules(t, c.scenario, rules, c.seed)
				if got := c.shows(es); got != (rules == c.after) {
					t.Errorf("under %s the rule's effect shows=%v, want %v", rules, got, rules == c.after)
				}
			}
		})
	}
}

// A one-shard cluster whose only replica crashes: only its primary is left
// to report it (with a second replica, that replica would mark it FAIL from
// the primary's gossip, under any rules).
const oneShardReplicaCrash = `name: one-shard-replica-crash
description: d
duration: 25s
cluster: {masters: 1, replicas-per-master: 1, config: {cluster-node-timeout: 3000}}
faults:
  - {at: 5s, crash: m0r0}
`

// Two replicas with equal offsets (no writes) when their master crashes.
const twoReplicasNoWrites = `name: two-replicas-no-writes
description: d
duration: 25s
cluster: {masters: 3, replicas-per-master: 2, config: {cluster-node-timeout: 3000}}
faults:
  - {at: 5s, crash: m0}
`

// CLUSTER FAILOVER FORCE on m0's replica at 10s.
const forcedFailover = `name: forced-failover
description: d
duration: 15s
cluster: {masters: 3, replicas-per-master: 1, config: {cluster-node-timeout: 3000}}
admin:
  - {at: 10s, failover: {node: m0r0, mode: force}}
`

// An empty master with a replica crashes, once the replica's full sync
// (repl-diskless-sync-delay 5 s after it asked) is done.
const emptyPrimaryCrash = `name: empty-primary-crash
description: d
duration: 40s
cluster: {masters: 3, replicas-per-master: 1, spares: 2, config: {cluster-node-timeout: 3000}}
admin:
  - {at: 1s, add_node: {node: s0}}
  - {at: 2s, add_node: {node: s1, master: s0}}
faults:
  - {at: 14s, crash: s0}
`

// m0 is paused while m0r0 takes over; m4 hears nothing from m0r0 until
// 24s, so the first news it gets is m0's PONG naming m0r0 its master once
// m0 resumes at 15s. Redis 7.0 then only drops m0's slots on m4.
const staleObserver = `name: stale-observer
description: d
duration: 30s
cluster: {masters: 5, replicas-per-master: 1, config: {cluster-node-timeout: 3000}}
faults:
  - {at: 4s, one-way: {from: m0r0, to: m4}, for: 20s}
  - {at: 5s, pause: m0, for: 10s}
`

// m0 crashes; the replica that loses follows the winner, which crashes in
// turn. Redis 7.4's loser keeps its first attempt's failover_auth_time and
// waits out its retry time (4 × node-timeout) before electing again. (The
// first winner differs, by RankByNodeID; the second election has one
// candidate under both.)
const secondFailure = `name: second-failure
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 2, config: {cluster-node-timeout: 3000}}
faults:
  - {at: 5s, crash: m0}
  - {at: 14s, crash: {master_of_slot: 0}}
`

// m1r0 migrates to the orphaned m0 at 12.1s (seed 1) but never syncs
// from it (m0's messages to m1r0 are lost from 11s); m0r0 comes back and
// syncs. When m0 crashes, Redis 7.4's m1r0 still ranks with m1's offset,
// ahead of m0r0 (the only writes go to k0, on m1), and wins with m1's
// data; Valkey 8.0's ranks with offset 0 and m0r0 wins.
const migratedUnsynced = `name: migrated-unsynced
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 2, config: {cluster-node-timeout: 3000}}
workload: {kind: register, clients: 2, rate: 200/s, keys: 1}
faults:
  - {at: 3s, crash: m0r0}
  - {at: 3s, crash: m0r1}
  - {at: 3s, crash: m2r0}
  - {at: 11s, one-way: {from: m0, to: m1r0}}
  - {at: 12500ms, restart: m0r0}
  - {at: 18s, crash: m0}
`

// m0r1 (rank 0) starts first, but its messages take 1.4 s to arrive (and
// Nagle's algorithm holds each behind the ACK of the last), so m0r0 (rank 1)
// starts in the same epoch and the votes split; in the retry m0r0 wins
// epoch 12 while m0r1's request for epoch 11 is still out (seed 1).
const slowRequest = `name: slow-request
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 2, config: {cluster-node-timeout: 3000}}
network:
  links:
    - {from: [m0r1], to: rest, directed: true, latency: {dist: constant, value: 1400ms}}
faults:
  - {at: 5s, crash: m0}
`

// m0r1 (rank 0) gets the masters' votes at 10.24s and crashes at 10.25s,
// before their acks (20 ms away) reach it; m0r0 (rank 1) asks at 10.90s
// (seed 1), within 2 × node-timeout of those votes.
const winnerCrashed = `name: winner-crashed
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 2, config: {cluster-node-timeout: 3000}}
network:
  links:
    - {from: [m0r0, m0r1], to: rest, latency: {dist: constant, value: 20ms}}
faults:
  - {at: 5s, crash: m0}
  - {at: 10250ms, crash: m0r1}
`

// secondPromotionDelay is, for the master promoted in m0's place, the time
// from the first FAIL about it to the promotion that takes its slots (an
// hour if either is missing).
func secondPromotionDelay(es []trace.Event) time.Duration {
	first, failAt := "", time.Duration(-1)
	for _, e := range es {
		switch {
		case e.Kind == trace.Promoted && e.Peer == "m0" && first == "":
			first = e.Node
		case e.Kind == trace.Fail && first != "" && e.Peer == first && failAt < 0:
			failAt = e.At
		case e.Kind == trace.Promoted && first != "" && e.Peer == first && failAt >= 0:
			return e.At - failAt
		}
	}
	return time.Hour
}

func runRules(t *testing.T, scenario, rules string, seed uint64) []trace.Event {
	t.Helper()
	var s *scenarios.Scenario
	var err error
	if strings.Contains(scenario, "\n") {
		s, err = scenarios.Parse("inline.yaml", []byte(scenario))
	} else {
		s, err = scenarios.Resolve(scenario)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("rules", rules); err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: seed, KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Trace
}

// has reports an event of kind by node ("" any) about peer.
func has(es []trace.Event, k trace.Kind, node, peer string) bool {
	for _, e := range es {
		if e.Kind == k && (node == "" || e.Node == node) && e.Peer == peer {
			return true
		}
	}
	return false
}

func hasValue(es []trace.Event, k trace.Kind, sub string) bool {
	for _, e := range es {
		if e.Kind == k && strings.Contains(e.Value, sub) {
			return true
		}
	}
	return false
}

// maxDelayMs is the longest election delay scheduled ("delay=Nms").
func maxDelayMs(es []trace.Event) int {
	longest := -1
	for _, e := range es {
		if e.Kind != trace.ElectionSched {
			continue
		}
		var d, r int
		if _, err := fmt.Sscanf(e.Value, "delay=%dms rank=%d", &d, &r); err == nil && d > longest {
			longest = d
		}
	}
	return longest
}

// TestLimitReconnectsDelaysFail (clusterNodeCronHandleReconnect,
// valkey#2154): with fewer redials to the crashed masters, fewer PINGs are
// queued on new links, so ping_sent (which PFAIL is timed from) starts
// later and the first FAIL comes later under valkey-9.0 than valkey-8.1.
// Of 9.0's three rules only this one acts before a FAIL, so the
// difference is its.
func TestLimitReconnectsDelaysFail(t *testing.T) {
	firstFail := func(rules string) time.Duration {
		for _, e := range runRules(t, "multi-primary-crash", rules, 1) {
			if e.Kind == trace.Fail && e.Peer == "m0" {
				return e.At
			}
		}
		t.Fatalf("no FAIL about m0 under %s", rules)
		return 0
	}
	if before, after := firstFail("valkey-8.1"), firstFail("valkey-9.0"); after <= before {
		t.Fatalf("first FAIL about m0 at %v under valkey-9.0, not after %v under valkey-8.1", after, before)
	}
}
