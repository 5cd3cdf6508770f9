package netmodel

import (
	"math/rand/v2"
	"testing"

	"github.com/rcsim/rcsim/scenarios/rng"
)

// TestLargeNetLinks checks a Net big enough for its links to be mapped
// apart from the Go heap (newLinks): they start zeroed, and a link's draws
// are the ones the same stream gives on a small Net.
func TestLargeNetLinks(t *testing.T) {
	const endpoints = 700 // 490,000 links, 23 MB
	stream := func(from, to int) rng.Stream { return rng.StreamOf(rand.NewPCG(7, 9)) }
	big, err := New(Config{Latency: lognormal}, endpoints, stream)
	if err != nil {
		t.Fatal(err)
	}
	for i := range big.links {
		if big.links[i] != (link{}) {
			t.Fatalf("link %d not zeroed: %+v", i, big.links[i])
		}
	}
	small, err := New(Config{Latency: lognormal}, 2, stream)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 100 {
		if a, b := big.Latency(endpoints-1, 0), small.Latency(1, 0); a != b {
			t.Fatalf("draw %d: %v on the large Net, %v on the small one", k, a, b)
		}
	}
}
