// Package rng derives the independent, seeded random streams of one run.
//
// Every component that draws random numbers (a node, a network link, a client,
// the nemesis) owns a stream named for it, derived from the run's seed and that
// name alone. Adding a client or a node therefore changes no other component's
// draws, and nothing in a run ever touches a shared or OS-seeded source.
package rng

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// Derive returns the stream named name of the run seeded with seed: a PCG
// source whose two words are the first 16 bytes of SHA-256(seed, name). The
// same (seed, name) always yields the same sequence, on any machine and Go
// version (math/rand/v2 pins PCG's output stream).
func Derive(seed uint64, name string) *rand.Rand {
	return rand.New(Source(seed, name))
}

// Source is Derive without the Rand wrapper, for callers that want to snapshot
// the PCG state (PCG implements encoding.BinaryMarshaler).
func Source(seed uint64, name string) *rand.PCG {
	return rand.NewPCG(seeds(seed, name))
}

// seeds are the PCG's two words for (seed, name): the first 16 bytes of
// SHA-256(seed, name).
func seeds(seed uint64, name string) (uint64, uint64) {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}
