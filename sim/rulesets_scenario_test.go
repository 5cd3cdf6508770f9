package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"rcsim/node/trace"
	"rcsim/scenarios"
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

// An empty master with a replica crashes.
const emptyPrimaryCrash = `name: empty-primary-crash
description: d
duration: 30s
cluster: {masters: 3, replicas-per-master: 1, spares: 2, config: {cluster-node-timeout: 3000}}
admin:
  - {at: 1s, add_node: {node: s0}}
  - {at: 2s, add_node: {node: s1, master: s0}}
faults:
  - {at: 8s, crash: s0}
`

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
