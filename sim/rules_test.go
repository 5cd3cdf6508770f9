package sim

import (
	"slices"
	"testing"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/scenarios"
)

// TestRuleSetNames: the scenario file's cluster.rules values are exactly
// node's rule sets, and every one of them builds a node.Config.
func TestRuleSetNames(t *testing.T) {
	if !slices.Equal(scenarios.RuleSets, node.RuleSets) {
		t.Fatalf("scenarios.RuleSets %v != node.RuleSets %v", scenarios.RuleSets, node.RuleSets)
	}
	s := scenarios.Default()
	for _, r := range scenarios.RuleSets {
		s.Cluster.Rules = r
		if got := nodeConfig(s.Cluster.Config, "10.0.0.1:6379", s).Rules.Name; got != r {
			t.Fatalf("rules %s built %s", r, got)
		}
	}
}
