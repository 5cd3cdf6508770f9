package workload

// Key distributions: which key each operation touches. Zipf's weights are
// computed in fixed-point integers (no floating point), so a run draws the
// same keys on every architecture.

import (
	"fmt"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"sort"
	"strconv"
)

// KeyDist chooses keys k0 … k{n-1}. It is immutable after NewKeyDist and
// shared by every client of a run; each client draws with its own stream.
type KeyDist struct {
	n     int
	cum   []uint64 // zipf: cumulative weights; nil for uniform
	names []string // "k0" … made once, so a draw allocates nothing (up to namedKeys keys)
}

// namedKeys bounds how many key names NewKeyDist makes ahead; beyond it a
// draw builds its name.
const namedKeys = 1 << 16

// NewKeyDist returns the uniform distribution over keys keys when
// zipfMilli is 0, else Zipf's law with exponent s = zipfMilli/1000: key
// rank k (k0 is rank 1) is drawn with probability proportional to 1/k^s.
// s must be in (0, 10].
func NewKeyDist(keys, zipfMilli int) (*KeyDist, error) {
	if keys < 1 {
		return nil, fmt.Errorf("workload: %d keys; need at least one", keys)
	}
	d := &KeyDist{n: keys, names: make([]string, min(keys, namedKeys))}
	for i := range d.names {
		d.names[i] = "k" + strconv.Itoa(i)
	}
	if zipfMilli == 0 {
		return d, nil
	}
	if zipfMilli < 0 || zipfMilli > 10000 {
		return nil, fmt.Errorf("workload: zipf exponent %d/1000 outside (0, 10]", zipfMilli)
	}
	d.cum = make([]uint64, keys)
	var total uint64
	for k := 1; k <= keys; k++ {
		total += zipfWeight(uint64(k), uint64(zipfMilli))
		d.cum[k-1] = total
	}
	return d, nil
}

// Index draws a key index in [0, n).
func (d *KeyDist) Index(r *rand.Rand) int {
	if d.cum == nil {
		return r.IntN(d.n)
	}
	x := r.Uint64N(d.cum[len(d.cum)-1])
	return sort.Search(len(d.cum), func(i int) bool { return d.cum[i] > x })
}

// Key draws one key name.
func (d *KeyDist) Key(r *rand.Rand) string {
	i := d.Index(r)
	if i < len(d.names) {
		return d.names[i]
	}
	return "k" + strconv.Itoa(i)
}

// weightBits is the fixed-point scale of a weight: rank 1 weighs 2^40, so
// a million keys sum to less than 2^60.
const weightBits = 40

// zipfWeight is 2^weightBits / k^(s/1000), at least 1, in integers:
// k^s = 2^(s·log2 k), with log2 and 2^-x in Q32 fixed point.
func zipfWeight(k, sMilli uint64) uint64 {
	e := sMilli * log2Q32(k) / 1000 // s·log2(k), Q32
	ei, ef := e>>32, e&(1<<32-1)
	if ei >= weightBits {
		return 1
	}
	w := exp2NegQ62(ef) >> (62 - weightBits + ei)
	return max(w, 1)
}

// log2Q32 is log2(k) in Q32 for k ≥ 1, by repeated squaring of the
// mantissa (one result bit per squaring).
func log2Q32(k uint64) uint64 {
	ip := uint64(bits.Len64(k) - 1)
	// Mantissa in [1, 2) as Q62.
	var m uint64
	if ip <= 62 {
		m = k << (62 - ip)
	} else {
		m = k >> (ip - 62)
	}
	frac := uint64(0)
	for i := 1; i <= 32; i++ {
		m = mulQ62(m, m) // in [1, 4)
		if m >= 2<<62 {
			m >>= 1
			frac |= 1 << (32 - i)
		}
	}
	return ip<<32 | frac
}

// mulQ62 multiplies two Q62 numbers below 4.
func mulQ62(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi<<2 | lo>>62
}

// rootsOf2 holds 2^(-2^-i) in Q62 for i = 1..32, computed once with exact
// integer square roots.
var rootsOf2 = func() [33]uint64 {
	var t [33]uint64
	one := new(big.Int).Lsh(big.NewInt(1), 62)
	x := new(big.Int).Lsh(big.NewInt(1), 61) // 1/2 in Q62
	for i := 1; i <= 32; i++ {
		x.Sqrt(new(big.Int).Mul(x, one)) // sqrt in Q62
		t[i] = x.Uint64()
	}
	return t
}()

// exp2NegQ62 is 2^(-f/2^32) in Q62 for a Q32 fraction f in [0, 1).
func exp2NegQ62(f uint64) uint64 {
	r := uint64(1) << 62
	for i := 1; i <= 32; i++ {
		if f&(1<<(32-i)) != 0 {
			r = mulQ62(r, rootsOf2[i])
		}
	}
	return r
}
