// Latency distributions: the only floating-point code in rcsim, turned into whole microseconds at its boundary.
//
// Floats are kept portable across architectures three ways. Every product that
// feeds an addition is wrapped in an explicit float64 conversion, which forbids
// the compiler from fusing them into one FMA instruction (Go may do so on arm64,
// ppc64 and s390x). The logarithm and the exponential are pure-Go ports of the
// FreeBSD msun routines that the math package uses on architectures without
// assembly, written with the same guards, because math.Log and math.Exp have
// per-architecture assembly. And the normal deviates come from Marsaglia's polar
// method on top of those, not from rand.NormFloat64, whose rare wedge path
// contains a fusable float32 multiply-add. Only Sqrt (correctly rounded by IEEE
// 754 everywhere), Frexp and Ldexp (exact) come from the math package, and
// the last two are read off and written into the exponent bits directly when
// the number is normal (the same results, without a call per draw).

package netmodel

import (
	"errors"
	"fmt"
	"github.com/rcsim/rcsim/scenarios/rng"
	"math"
	"time"
)

// The distribution kinds accepted in Dist.Kind.
const (
	KindConstant  = "constant"
	KindUniform   = "uniform"
	KindNormal    = "normal"
	KindLognormal = "lognormal"
)

// z99 is the 0.99 quantile of the standard normal: a lognormal's sigma is
// (ln(p99) - ln(median)) / z99.
const z99 = 2.3263478740408408

// maxDraw caps every draw, so that a lognormal with an absurd tail can never
// overflow a time.Duration. An hour is far beyond any timeout in Redis Cluster.
const maxDraw = time.Hour

// Dist is a distribution of one-way latencies. Which fields count depends on
// Kind; Validate rejects fields that the kind does not use, so that a typo in a
// scenario is an error rather than a silently ignored number.
//
//   - "constant": Value, always exactly.
//   - "uniform": every whole microsecond in [Min, Max] with equal probability.
//   - "normal": Mean + Stddev·N(0,1), clamped to [Min, Max].
//   - "lognormal": exp(mu + sigma·N(0,1)) with mu = ln(Median) and
//     sigma = (ln(P99) - ln(Median)) / 2.3263478740408408, clamped to [Min, Max].
//
// For normal and lognormal, Min is an optional floor (a physical minimum
// latency; a normal is always floored at 0 anyway) and Max an optional cap
// (0 means none). Clamping, not resampling: a draw below Min counts as Min, so
// every sample costs the same number of draws from the stream. Every draw is
// also capped at one hour. All durations must be whole microseconds, the
// resolution of every draw.
type Dist struct {
	Kind         string
	Value        time.Duration // constant
	Min, Max     time.Duration // uniform bounds; floor and cap of normal and lognormal
	Mean, Stddev time.Duration // normal
	Median, P99  time.Duration // lognormal
}

// Validate reports whether d is a usable distribution: a known kind, the
// fields of that kind set consistently, no fields of other kinds, and every
// duration non-negative and a whole number of microseconds.
func (d Dist) Validate() error {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"value", d.Value}, {"min", d.Min}, {"max", d.Max}, {"mean", d.Mean},
		{"stddev", d.Stddev}, {"median", d.Median}, {"p99", d.P99}} {
		if f.v < 0 {
			return fmt.Errorf("netmodel: %s latency: %s %v is negative", d.Kind, f.name, f.v)
		}
		if f.v%time.Microsecond != 0 {
			return fmt.Errorf("netmodel: %s latency: %s %v is not a whole number of microseconds", d.Kind, f.name, f.v)
		}
		if f.v > maxDraw {
			return fmt.Errorf("netmodel: %s latency: %s %v exceeds %v", d.Kind, f.name, f.v, maxDraw)
		}
	}
	switch d.Kind {
	case KindConstant:
		return d.only("value", d.Min, d.Max, d.Mean, d.Stddev, d.Median, d.P99)
	case KindUniform:
		if d.Min > d.Max {
			return fmt.Errorf("netmodel: uniform latency: min %v > max %v", d.Min, d.Max)
		}
		return d.only("min and max", d.Value, d.Mean, d.Stddev, d.Median, d.P99)
	case KindNormal:
		if err := d.floorCap(d.Mean); err != nil {
			return err
		}
		return d.only("mean, stddev, min and max", d.Value, d.Median, d.P99)
	case KindLognormal:
		if d.Median <= 0 {
			return errors.New("netmodel: lognormal latency: median must be positive")
		}
		if d.P99 < d.Median {
			return fmt.Errorf("netmodel: lognormal latency: p99 %v < median %v", d.P99, d.Median)
		}
		if err := d.floorCap(d.Median); err != nil {
			return err
		}
		return d.only("median, p99, min and max", d.Value, d.Mean, d.Stddev)
	case "":
		return errors.New("netmodel: latency: no distribution kind (constant, uniform, normal or lognormal)")
	default:
		return fmt.Errorf("netmodel: latency: unknown distribution kind %q (constant, uniform, normal or lognormal)", d.Kind)
	}
}

// only returns an error if any of the unused fields is set.
func (d Dist) only(used string, unused ...time.Duration) error {
	for _, v := range unused {
		if v != 0 {
			return fmt.Errorf("netmodel: %s latency uses only %s; other fields must be zero", d.Kind, used)
		}
	}
	return nil
}

// floorCap checks that an optional cap is not below the floor or the centre.
func (d Dist) floorCap(centre time.Duration) error {
	if d.Max != 0 && d.Max < d.Min {
		return fmt.Errorf("netmodel: %s latency: max %v < min %v", d.Kind, d.Max, d.Min)
	}
	if d.Max != 0 && d.Max < centre {
		return fmt.Errorf("netmodel: %s latency: max %v is below the centre %v", d.Kind, d.Max, centre)
	}
	return nil
}

// sampler is a validated Dist in the form drawn from: integer microseconds,
// and for the lognormal its mu and sigma computed once.
type sampler struct {
	kind      drawKind
	value     int64   // constant, µs
	lo, hi    int64   // uniform bounds; floor and cap (hi 0: maxDraw) otherwise, µs
	mean, sd  float64 // normal, µs
	mu, sigma float64 // lognormal, of the latency in µs
}

// drawKind is a Dist's Kind as draw switches on it: a small integer, not
// the string, since every message and every dial draws (the string
// comparisons were 7% of the draws' time in a profile without clients).
type drawKind uint8

const (
	drawConstant drawKind = iota + 1
	drawUniform
	drawNormal
	drawLognormal
)

// drawKindOf is the drawKind of a validated Dist's Kind.
func drawKindOf(kind string) drawKind {
	switch kind {
	case KindConstant:
		return drawConstant
	case KindUniform:
		return drawUniform
	case KindNormal:
		return drawNormal
	default:
		return drawLognormal
	}
}

// compile validates d and precomputes what draw needs.
func compile(d Dist) (*sampler, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	us := func(v time.Duration) int64 { return int64(v / time.Microsecond) }
	s := &sampler{kind: drawKindOf(d.Kind), value: us(d.Value), lo: us(d.Min), hi: us(d.Max)}
	if s.kind != drawUniform && s.hi == 0 {
		s.hi = us(maxDraw)
	}
	switch s.kind {
	case drawNormal:
		s.mean, s.sd = float64(us(d.Mean)), float64(us(d.Stddev))
	case drawLognormal:
		s.mu = logPure(float64(us(d.Median)))
		s.sigma = (logPure(float64(us(d.P99))) - s.mu) / z99
	}
	return s, nil
}

// draw returns one latency. Constant draws nothing from r; uniform draws one
// integer; normal and lognormal draw one polar-method normal (two Float64 per
// attempt, about 1.27 attempts on average).
func (s *sampler) draw(r *rng.Stream) time.Duration {
	var us int64
	switch s.kind {
	case drawConstant:
		us = s.value
	case drawUniform:
		us = s.lo + r.Int64N(s.hi-s.lo+1)
	case drawNormal:
		us = s.clamp(s.mean + float64(s.sd*normal(r)))
	case drawLognormal:
		us = s.clamp(expPure(s.mu + float64(s.sigma*normal(r))))
	default:
		panic(fmt.Sprintf("netmodel: invariant: sampler of unknown kind %d", s.kind))
	}
	return time.Duration(us) * time.Microsecond
}

// clamp rounds x (µs) to the nearest whole microsecond within [lo, hi]. The
// comparisons happen in floating point so that a huge x never overflows int64.
func (s *sampler) clamp(x float64) int64 {
	if !(x >= float64(s.lo)) { // also catches NaN
		return s.lo
	}
	if x >= float64(s.hi) {
		return s.hi
	}
	return int64(x + 0.5)
}

// normal returns a standard normal deviate by Marsaglia's polar method. The
// second deviate of each pair is discarded: keeping it would put state in the
// shared sampler instead of in the link's stream.
func normal(r *rng.Stream) float64 {
	for {
		u := float64(2*r.Float64()) - 1
		v := float64(2*r.Float64()) - 1
		s := float64(u*u) + float64(v*v)
		if s >= 1 || s == 0 {
			continue
		}
		return u * math.Sqrt(float64(-2*logPure(s))/s)
	}
}

// logPure is the natural logarithm, a port of FreeBSD's e_log.c as in Go's
// math/log.go, with every fusable multiply-add split by a conversion.
func logPure(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // 3fe62e42 fee00000
		ln2Lo = 1.90821492927058770002e-10 // 3dea39ef 35793c76
		l1    = 6.666666666666735130e-01   // 3FE55555 55555593
		l2    = 3.999999999940941908e-01   // 3FD99999 9997FA04
		l3    = 2.857142874366239149e-01   // 3FD24924 94229359
		l4    = 2.222219843214978396e-01   // 3FCC71C5 1D8E78AF
		l5    = 1.818357216161805012e-01   // 3FC74664 96CB03DE
		l6    = 1.531383769920937332e-01   // 3FC39A09 D078C69F
		l7    = 1.479819860511658591e-01   // 3FC2F112 DF3E5244
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := frexpPos(x)
	if f1 < math.Sqrt2/2 {
		f1 = float64(f1 * 2)
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	r := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// expPure is e**x, a port of FreeBSD's e_exp.c as in Go's math/exp.go, with
// every fusable multiply-add split by a conversion.
func expPure(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
		p1        = 1.66666666666666657415e-01  // 0x3FC55555; 0x55555555
		p2        = -2.77777777770155933842e-03 // 0xBF66C16C; 0x16BEBD93
		p3        = 6.61375632143793436117e-05  // 0x3F11566A; 0xAF25DE2C
		p4        = -1.65339022054652515390e-06 // 0xBEBBBD41; 0xC5D26BF1
		p5        = 4.13813679705723846039e-08  // 0x3E663769; 0x72BEA4D0
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case math.IsInf(x, -1):
		return 0
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(float64(log2e*x) - 0.5)
	case x > 0:
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	r := hi - lo
	t := float64(r * r)
	c := r - float64(t*(p1+float64(t*(p2+float64(t*(p3+float64(t*(p4+float64(t*p5)))))))))
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return ldexpNear(y, k)
}

// frexpPos is math.Frexp for a positive, finite x, the only arguments
// logPure passes it. For a normal x it reads the exponent from the bits
// (what math.Frexp does after its special cases, without the call: this is
// on every latency draw), the same fraction and exponent exactly; anything
// else (subnormals) goes to math.Frexp.
func frexpPos(x float64) (float64, int) {
	b := math.Float64bits(x)
	e := int(b>>52) & 0x7ff
	if e == 0 || e == 0x7ff {
		return math.Frexp(x)
	}
	return math.Float64frombits(b&^(0x7ff<<52) | 1022<<52), e - 1022
}

// ldexpNear is math.Ldexp(y, k) for expPure's y (about 0.7 to 1.4): with
// |k| <= 1000 the product y·2**k is a normal number, so multiplying by the
// power of two is exact and equals Ldexp's result bit for bit; other k (a
// result near overflow or underflow) go to math.Ldexp.
func ldexpNear(y float64, k int) float64 {
	if k < -1000 || k > 1000 || !(y > 0x1p-20 && y < 4) {
		return math.Ldexp(y, k)
	}
	return y * math.Float64frombits(uint64(k+1023)<<52)
}
