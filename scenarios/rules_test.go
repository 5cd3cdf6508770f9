package scenarios

import (
	"strings"
	"testing"
)

// TestRulesKey: cluster.rules defaults to redis-7.0, takes every rule set,
// is sweepable with Set("rules", …), survives a Marshal round trip, and
// cluster-manual-failover-timeout exists only from valkey-8.1.
func TestRulesKey(t *testing.T) {
	s, err := Parse("x.yaml", []byte("name: x\ndescription: d\nduration: 10s\n"))
	if err != nil || s.Cluster.Rules != "redis-7.0" || s.Cluster.Config.ManualFailoverTimeoutMs != 5000 {
		t.Fatalf("default rules %q mf-timeout %d (%v)", s.Cluster.Rules, s.Cluster.Config.ManualFailoverTimeoutMs, err)
	}
	if y := marshal(t, s); strings.Contains(y, "rules") || strings.Contains(y, "manual-failover") {
		t.Fatalf("redis-7.0 marshals rules keys:\n%s", y)
	}
	for _, r := range RuleSets {
		if err := s.Set("rules", r); err != nil || s.Cluster.Rules != r {
			t.Fatalf("set rules=%s: %v (%q)", r, err, s.Cluster.Rules)
		}
		back, err := Parse("x.yaml", []byte(marshal(t, s)))
		if err != nil || back.Cluster.Rules != r {
			t.Fatalf("round trip of %s: %v\n%s", r, err, marshal(t, s))
		}
	}
	if err := s.Set("cluster-manual-failover-timeout", "12000"); err != nil || s.Cluster.Config.ManualFailoverTimeoutMs != 12000 {
		t.Fatalf("set cluster-manual-failover-timeout under valkey-9.0: %v", err)
	}
	if err := s.Set("rules", "redis-7.4"); err == nil || s.Cluster.Rules != "valkey-9.0" {
		t.Fatalf("redis-7.4 took a scenario that sets a Valkey 8.1 setting: %v", err)
	}
	if err := s.Set("cluster-manual-failover-timeout", "5000"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("rules", "redis-7.4"); err != nil || s.Cluster.Config.ManualFailoverTimeoutMs != 5000 {
		t.Fatalf("set rules=redis-7.4 with the default timeout: %v %d", err, s.Cluster.Config.ManualFailoverTimeoutMs)
	}
	if err := s.Set("cluster-manual-failover-timeout", "12000"); err == nil {
		t.Fatal("redis-7.4 accepted cluster-manual-failover-timeout")
	}
	if err := s.Set("rules", "valkey-7"); err == nil || s.Cluster.Rules != "redis-7.4" {
		t.Fatalf("bad rules accepted or changed the scenario: %v", err)
	}
}

func marshal(t *testing.T, s *Scenario) string {
	t.Helper()
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
