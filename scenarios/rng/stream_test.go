package rng

import (
	"math/rand/v2"
	"testing"
)

// TestStreamIsRand: a Stream's draws are math/rand/v2 Rand's on the same
// PCG, draw for draw, for every method and bounds of every kind (powers of
// two, tiny, near 2⁶³, the dict sizes).
func TestStreamIsRand(t *testing.T) {
	mine, ref := NewStream(7, "node/m0"), Derive(7, "node/m0")
	bounds := []int64{1, 2, 3, 7, 16, 17, 1000, 1024, 2000, 1<<31 + 1, 1<<62 + 1, 1<<63 - 1}
	for i := 0; i < 300_000; i++ {
		n := bounds[i%len(bounds)]
		var a, b uint64
		switch i % 6 {
		case 0:
			a, b = uint64(mine.IntN(int(n))), uint64(ref.IntN(int(n)))
		case 1:
			a, b = uint64(mine.Int64N(n)), uint64(ref.Int64N(n))
		case 2:
			a, b = uint64(mine.Uint32N(uint32(n|1))), uint64(ref.Uint32N(uint32(n|1)))
		case 3:
			a, b = uint64(mine.Uint32()), uint64(ref.Uint32())
		case 4:
			a, b = uint64(mine.Float64()*(1<<53)), uint64(ref.Float64()*(1<<53))
		case 5:
			a, b = mine.Uint64(), ref.Uint64()
		}
		if a != b {
			t.Fatalf("draw %d (method %d, bound %d): Stream gives %d, Rand %d", i, i%6, n, a, b)
		}
	}
	p := rand.NewPCG(3, 4)
	s := StreamOf(p)
	if s.Uint64() != rand.New(p).Uint64() {
		t.Fatalf("StreamOf: not the PCG's state")
	}
}
