package netmodel

import (
	"math"
	"math/rand/v2"

	"github.com/rcsim/rcsim/scenarios/rng"
	"slices"
	"strings"
	"testing"
	"time"
)

const us = time.Microsecond

// TestDistGolden pins the first draws of each distribution for a fixed seed.
// A change here changes every trace hash: update only on purpose, saying why.
func TestDistGolden(t *testing.T) {
	for _, g := range []struct {
		name string
		d    Dist
		want []time.Duration
	}{
		{"constant", Dist{Kind: KindConstant, Value: 250 * us},
			[]time.Duration{250 * us, 250 * us, 250 * us, 250 * us, 250 * us, 250 * us}},
		{"uniform", Dist{Kind: KindUniform, Min: 100 * us, Max: 900 * us},
			[]time.Duration{285 * us, 414 * us, 516 * us, 242 * us, 368 * us, 301 * us}},
		{"normal", Dist{Kind: KindNormal, Mean: 500 * us, Stddev: 100 * us},
			[]time.Duration{455 * us, 690 * us, 477 * us, 532 * us, 552 * us, 650 * us}},
		{"lognormal", Dist{Kind: KindLognormal, Median: 200 * us, P99: 2 * time.Millisecond},
			[]time.Duration{128 * us, 1307 * us, 159 * us, 274 * us, 334 * us, 885 * us}},
	} {
		t.Run(g.name, func(t *testing.T) {
			s, err := compile(g.d)
			if err != nil {
				t.Fatal(err)
			}
			r := rng.StreamOf(rand.NewPCG(7, 11))
			got := make([]time.Duration, len(g.want))
			for i := range got {
				got[i] = s.draw(&r)
			}
			if !slices.Equal(got, g.want) {
				t.Errorf("first draws of %+v:\n got %v\nwant %v", g.d, got, g.want)
			}
		})
	}
}

// TestPureMath checks the portable log and exp against the math package, which
// on amd64 uses assembly for Exp: they agree to a few ulps, which is all that
// a transcription error would break.
func TestPureMath(t *testing.T) {
	r := rng.StreamOf(rand.NewPCG(1, 2))
	ulps := func(a, b float64) int64 {
		d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
		if d < 0 {
			d = -d
		}
		return d
	}
	worst := int64(0)
	for i := 0; i < 200000; i++ {
		x := math.Ldexp(r.Float64()+0.5, r.IntN(120)-60)
		if got, want := logPure(x), math.Log(x); ulps(got, want) > 4 {
			t.Fatalf("logPure(%v) = %v, math.Log = %v", x, got, want)
		}
		y := (r.Float64() - 0.5) * 1400
		got, want := expPure(y), math.Exp(y)
		if ulps(got, want) > 4 {
			t.Fatalf("expPure(%v) = %v, math.Exp = %v", y, got, want)
		}
		worst = max(worst, ulps(got, want))
	}
	t.Logf("worst exp difference: %d ulps", worst)
	for _, c := range []struct{ x, log, exp float64 }{
		{0, math.Inf(-1), 1},
		{1, 0, math.E},
		{math.Inf(1), math.Inf(1), math.Inf(1)},
		{math.Inf(-1), math.NaN(), 0},
		{800, logPure(800), math.Inf(1)},
		{-800, math.NaN(), 0},
	} {
		if got := logPure(c.x); got != c.log && !(math.IsNaN(got) && math.IsNaN(c.log)) {
			t.Errorf("logPure(%v) = %v, want %v", c.x, got, c.log)
		}
		if got := expPure(c.x); got != c.exp {
			t.Errorf("expPure(%v) = %v, want %v", c.x, got, c.exp)
		}
	}
}

// TestBitShortcuts checks that the exponent shortcuts logPure and expPure
// take on every draw give math.Frexp's and math.Ldexp's results bit for bit,
// normal and subnormal arguments, huge and tiny exponents alike: they must
// not move any draw.
func TestBitShortcuts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for i := 0; i < 400000; i++ {
		var x float64
		switch i % 3 {
		case 0:
			x = r.Float64()
		case 1:
			x = math.Float64frombits(r.Uint64() &^ (1 << 63)) // any positive bits, subnormals and Inf/NaN too
		default:
			x = r.Float64() * 0x1p-1040 // subnormal
		}
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			f1, e1 := math.Frexp(x)
			f2, e2 := frexpPos(x)
			if math.Float64bits(f1) != math.Float64bits(f2) || e1 != e2 {
				t.Fatalf("frexpPos(%v) = %v, %d; math.Frexp: %v, %d", x, f2, e2, f1, e1)
			}
		}
		y := math.Ldexp(r.Float64()+0.5, r.IntN(60)-30)
		k := r.IntN(2200) - 1100
		if a, b := math.Ldexp(y, k), ldexpNear(y, k); math.Float64bits(a) != math.Float64bits(b) {
			t.Fatalf("ldexpNear(%v, %d) = %v; math.Ldexp: %v", y, k, b, a)
		}
	}
}

func drawN(t *testing.T, d Dist, n int) []time.Duration {
	t.Helper()
	s, err := compile(d)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.StreamOf(rand.NewPCG(3, 4))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = s.draw(&r)
	}
	slices.Sort(out)
	return out
}

func TestLognormalQuantiles(t *testing.T) {
	d := Dist{Kind: KindLognormal, Median: 200 * us, P99: 2 * time.Millisecond}
	v := drawN(t, d, 100000)
	within := func(name string, got, want time.Duration, tol float64) {
		if r := float64(got) / float64(want); r < 1-tol || r > 1+tol {
			t.Errorf("%s = %v, want %v ±%.0f%%", name, got, want, tol*100)
		}
	}
	within("median", v[len(v)/2], d.Median, 0.02)
	within("p99", v[len(v)*99/100], d.P99, 0.05)
	for _, x := range v {
		if x%us != 0 || x < 0 {
			t.Fatalf("draw %v is not a whole non-negative number of microseconds", x)
		}
	}
}

func TestUniformBounds(t *testing.T) {
	d := Dist{Kind: KindUniform, Min: 10 * us, Max: 14 * us}
	v := drawN(t, d, 10000)
	counts := map[time.Duration]int{}
	for _, x := range v {
		counts[x]++
	}
	for x := d.Min; x <= d.Max; x += us {
		if c := counts[x]; c < 1800 || c > 2200 {
			t.Errorf("uniform [10µs,14µs]: %v drawn %d times of 10000, want about 2000", x, c)
		}
	}
	if v[0] != d.Min || v[len(v)-1] != d.Max || len(counts) != 5 {
		t.Errorf("uniform draws span %v..%v over %d values, want 10µs..14µs over 5", v[0], v[len(v)-1], len(counts))
	}
}

func TestNormalClamped(t *testing.T) {
	t.Run("at zero", func(t *testing.T) {
		v := drawN(t, Dist{Kind: KindNormal, Mean: 0, Stddev: 100 * us}, 20000)
		zeros := 0
		for _, x := range v {
			if x < 0 {
				t.Fatalf("normal draw %v below 0", x)
			}
			if x == 0 {
				zeros++
			}
		}
		if zeros < 9500 || zeros > 10500 {
			t.Errorf("N(0, 100µs) clamped at 0: %d zeros of 20000, want about half", zeros)
		}
	})
	t.Run("at min and max", func(t *testing.T) {
		d := Dist{Kind: KindNormal, Mean: 500 * us, Stddev: 100 * us, Min: 400 * us, Max: 600 * us}
		v := drawN(t, d, 20000)
		if v[0] != d.Min || v[len(v)-1] != d.Max {
			t.Errorf("clamped normal spans %v..%v, want exactly %v..%v", v[0], v[len(v)-1], d.Min, d.Max)
		}
		if m := v[len(v)/2]; m < 495*us || m > 505*us {
			t.Errorf("median %v, want about 500µs", m)
		}
	})
	t.Run("lognormal floor", func(t *testing.T) {
		d := Dist{Kind: KindLognormal, Median: 200 * us, P99: 2 * time.Millisecond, Min: 150 * us, Max: time.Millisecond}
		v := drawN(t, d, 20000)
		if v[0] != d.Min || v[len(v)-1] != d.Max {
			t.Errorf("clamped lognormal spans %v..%v, want %v..%v", v[0], v[len(v)-1], d.Min, d.Max)
		}
	})
}

func TestDistValidate(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name string
		d    Dist
		err  string // substring; "" means valid
	}{
		{"constant", Dist{Kind: "constant", Value: ms}, ""},
		{"constant zero", Dist{Kind: "constant"}, ""},
		{"uniform", Dist{Kind: "uniform", Min: ms, Max: 2 * ms}, ""},
		{"uniform point", Dist{Kind: "uniform", Min: ms, Max: ms}, ""},
		{"normal", Dist{Kind: "normal", Mean: ms, Stddev: ms}, ""},
		{"lognormal", Dist{Kind: "lognormal", Median: ms, P99: 10 * ms, Min: 10 * us}, ""},
		{"no kind", Dist{}, "no distribution kind"},
		{"unknown kind", Dist{Kind: "pareto"}, "unknown distribution kind"},
		{"negative", Dist{Kind: "constant", Value: -ms}, "negative"},
		{"nanoseconds", Dist{Kind: "constant", Value: 1500 * time.Nanosecond}, "whole number of microseconds"},
		{"too long", Dist{Kind: "constant", Value: 2 * time.Hour}, "exceeds"},
		{"constant with min", Dist{Kind: "constant", Value: ms, Min: ms}, "uses only value"},
		{"uniform inverted", Dist{Kind: "uniform", Min: 2 * ms, Max: ms}, "min 2ms > max 1ms"},
		{"uniform with mean", Dist{Kind: "uniform", Max: ms, Mean: ms}, "uses only min and max"},
		{"normal cap below floor", Dist{Kind: "normal", Mean: ms, Min: ms, Max: 500 * us}, "max 500µs < min 1ms"},
		{"normal cap below mean", Dist{Kind: "normal", Mean: ms, Max: 500 * us}, "below the centre"},
		{"normal with p99", Dist{Kind: "normal", Mean: ms, P99: ms}, "uses only mean"},
		{"lognormal no median", Dist{Kind: "lognormal", P99: ms}, "median must be positive"},
		{"lognormal p99 below median", Dist{Kind: "lognormal", Median: 2 * ms, P99: ms}, "p99 1ms < median 2ms"},
		{"lognormal with value", Dist{Kind: "lognormal", Median: ms, P99: ms, Value: ms}, "uses only median"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.d.Validate()
			switch {
			case c.err == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", c.d, err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("Validate(%+v) = %v, want an error containing %q", c.d, err, c.err)
			}
		})
	}
}
