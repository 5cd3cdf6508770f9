package node

import (
	"math/rand/v2"
	"testing"
)

// TestRndIsRand: the node's draws are math/rand/v2 Rand's, draw for draw,
// for bounds of every kind (powers of two, tiny, near 2⁶³, the dict sizes).
func TestRndIsRand(t *testing.T) {
	mine, ref := rnd{rand.NewPCG(11, 12)}, rand.New(rand.NewPCG(11, 12))
	bounds := []int{1, 2, 3, 7, 16, 17, 1000, 1024, 2000, 1<<62 + 1, 1<<63 - 1}
	for i := 0; i < 200_000; i++ {
		n := bounds[i%len(bounds)]
		switch i % 3 {
		case 0, 1:
			if a, b := mine.IntN(n), ref.IntN(n); a != b {
				t.Fatalf("draw %d: IntN(%d) = %d, Rand gives %d", i, n, a, b)
			}
		case 2:
			if a, b := mine.Uint32(), ref.Uint32(); a != b {
				t.Fatalf("draw %d: Uint32 = %d, Rand gives %d", i, a, b)
			}
		}
	}
}
