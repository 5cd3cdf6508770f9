package rng

import (
	"math/bits"
	"math/rand/v2"
)

// Stream is a random stream held by value: a PCG, drawn from with
// math/rand/v2 Rand's algorithms, so a Stream and rand.New of the same
// PCG give the same numbers draw for draw (TestStreamIsRand). The hot
// draws of a large run are a node's 200 gossip picks per PING and a
// network link's latency per message; through a Rand each was a call via
// the Source interface (not inlined) to a PCG behind two pointers, and at
// 2,000 nodes, with 4 million links, those pointers were cache misses of
// their own. A Stream inside the node or the link costs neither.
type Stream struct{ pcg rand.PCG }

// NewStream is Source's stream as a value.
func NewStream(seed uint64, name string) Stream {
	var s Stream
	s.pcg.Seed(seeds(seed, name))
	return s
}

// StreamOf returns a Stream with p's current state (p itself is not
// advanced by it).
func StreamOf(p *rand.PCG) Stream { return Stream{*p} }

// Uint64 is rand.Rand.Uint64.
func (s *Stream) Uint64() uint64 { return s.pcg.Uint64() }

// Uint32 is rand.Rand.Uint32: the high half of a 64-bit draw.
func (s *Stream) Uint32() uint32 { return uint32(s.pcg.Uint64() >> 32) }

// Float64 is rand.Rand.Float64: 53 random bits over 2⁵³.
func (s *Stream) Float64() float64 { return float64(s.pcg.Uint64()<<11>>11) / (1 << 53) }

// IntN is rand.Rand.IntN; n must be positive.
func (s *Stream) IntN(n int) int {
	if n <= 0 {
		panic("rng: invariant: IntN of a non-positive bound")
	}
	return int(s.uint64n(uint64(n)))
}

// Int64N is rand.Rand.Int64N; n must be positive.
func (s *Stream) Int64N(n int64) int64 {
	if n <= 0 {
		panic("rng: invariant: Int64N of a non-positive bound")
	}
	return int64(s.uint64n(uint64(n)))
}

// Uint32N is rand.Rand.Uint32N; n must be positive.
func (s *Stream) Uint32N(n uint32) uint32 {
	if n == 0 {
		panic("rng: invariant: Uint32N of zero")
	}
	return uint32(s.uint64n(uint64(n)))
}

// uint64n is rand.Rand's uint64n as 64-bit machines run it (its 32-bit
// path is built to give the same numbers): the mask for a power of two,
// else Lemire's multiply with its rejection.
func (s *Stream) uint64n(n uint64) uint64 {
	if n&(n-1) == 0 {
		return s.pcg.Uint64() & (n - 1)
	}
	hi, lo := bits.Mul64(s.pcg.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.pcg.Uint64(), n)
		}
	}
	return hi
}
