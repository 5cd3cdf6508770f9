package node

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestViewPeerEpochAsClusterNodes: a replica's config epoch in View (and so
// in --dump-at) is its master's, as clusterGenNodeDescription prints it.
func TestViewPeerEpochAsClusterNodes(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	listed := map[ID]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(n.ClusterNodes()), "\n") {
		f := strings.Fields(line)
		e, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		listed[ID(f[0])] = e
	}
	for _, p := range n.View().Peers {
		if p.ConfigEpoch != listed[p.ID] {
			t.Errorf("%s: view config epoch %d, CLUSTER NODES %d", p.ID, p.ConfigEpoch, listed[p.ID])
		}
	}
	if p := n.View().Peers[2]; p.ID != tid(4) || p.ConfigEpoch != 1 {
		t.Errorf("replica %s of %s: config epoch %d, want its master's 1", p.ID, tid(1), p.ConfigEpoch)
	}
}

// TestElectionExpiryReportedOnTime: the attempt expires auth_timeout after
// it was sent even if its master stopped being FAIL meanwhile (which makes
// clusterHandleSlaveFailover return before its EXPIRED step): the cron
// reports it at once, not when the master next fails.
func TestElectionExpiryReportedOnTime(t *testing.T) {
	n := candidate(t, testCfg(), 10*time.Second)
	timeout, _ := n.authTimeouts()
	n.at(10*time.Second, func() { n.handleSlaveFailover() })
	first := n.failoverAuthTime
	n.repl.lastInteraction = first
	if o := n.at(first, func() { n.handleSlaveFailover() }); !hasEvent(o, trace.ElectionStart, "") {
		t.Fatal("no request sent")
	}
	n.byID[tid(1)].flags &^= FlagFail // e.g. its FAIL cleared: the master is back
	var at time.Duration
	for now := first; now < first+timeout+time.Second && at == 0; now += CronPeriod {
		if o := n.at(now, func() { n.clusterCron() }); hasEvent(o, trace.ElectionExpire, "") {
			at = now
		}
	}
	if at <= first+timeout || at > first+timeout+CronPeriod {
		t.Fatalf("expiry reported at %v, want within a cron period after %v", at, first+timeout)
	}
}
