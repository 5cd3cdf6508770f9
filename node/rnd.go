package node

import (
	"math/bits"
	"math/rand/v2"
)

// rnd is the node's random stream: the methods of math/rand/v2's Rand the
// node uses, with Rand's exact algorithms, called on the PCG itself. A PING
// at 2,000 nodes draws 200 indices; through Rand each draw was a call via
// the Source interface, which the compiler cannot inline, and that was
// about a fourteenth of a large run. TestRndIsRand holds the draws equal to
// Rand's, so every trace is unchanged.
type rnd struct{ *rand.PCG }

// IntN is rand.Rand.IntN (its uint64n for a 64-bit int: the mask for a
// power of two, else Lemire's multiply with its rejection).
func (r rnd) IntN(n int) int {
	if n <= 0 {
		panic("node: invariant: IntN of a non-positive bound")
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(r.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(r.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), u)
		}
	}
	return int(hi)
}

// Uint32 is rand.Rand.Uint32: the high half of a 64-bit draw.
func (r rnd) Uint32() uint32 { return uint32(r.Uint64() >> 32) }
