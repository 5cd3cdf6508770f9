package sim

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/scenarios"
)

// TestNetworkSectionReachesNetmodel: the scenario's latency, loss,
// bandwidth and per-link entries become the links' profiles, both ways
// unless directed, a later entry winning where they overlap.
func TestNetworkSectionReachesNetmodel(t *testing.T) {
	s, err := scenarios.Parse("net.yaml", []byte(`name: net
description: network wiring
duration: 1s
cluster: {masters: 2, replicas-per-master: 1}
network:
  latency: {dist: constant, value: 100us}
  loss: 1/1000
  links:
    - from: m0
      to: rest
      latency: {dist: constant, value: 5ms}
    - from: m0
      to: m0r0
      directed: true
      latency: {dist: constant, value: 7ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorld(s, Options{Seed: 1, Until: s.Duration, MaxEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	idx := func(n string) int { return w.names[n] }
	for _, c := range []struct {
		from, to string
		want     time.Duration
	}{
		{"m1", "m1r0", 100 * time.Microsecond}, // default
		{"m0", "m1", 5 * time.Millisecond},     // group entry
		{"m1", "m0", 5 * time.Millisecond},     // both ways
		{"m0", "m0r0", 7 * time.Millisecond},   // later, directed entry wins
		{"m0r0", "m0", 5 * time.Millisecond},   // the reverse keeps the group entry
	} {
		if got := w.net.Latency(idx(c.from), idx(c.to)); got != c.want {
			t.Errorf("%s->%s latency %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if err := netConfig(s.Network).Validate(); err != nil || netConfig(s.Network).Loss.Den != 1000 {
		t.Errorf("netConfig: %+v %v", netConfig(s.Network), err)
	}
}
