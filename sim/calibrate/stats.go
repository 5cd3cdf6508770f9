package calibrate

// Sample statistics for the per-phase table: quantiles by linear
// interpolation and the two-sample Kolmogorov–Smirnov distance with its
// asymptotic p-value.

import (
	"math"
	"slices"
)

// Quantile returns the q-quantile (0..1) of sorted xs by linear
// interpolation between closest ranks (R's type 7, numpy's default); NaN
// when xs is empty.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// KS returns the two-sample Kolmogorov–Smirnov statistic D (the largest
// gap between the two empirical CDFs) and its p-value from the asymptotic
// Kolmogorov distribution with Stephens' small-sample correction
// (Numerical Recipes' probks). With a handful of real trials the p-value
// is a rough guide only: it can reject a gross mismatch, not prove a fit.
func KS(a, b []float64) (d, p float64) {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN(), math.NaN()
	}
	x, y := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] <= v {
			i++
		}
		for j < len(y) && y[j] <= v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(x))-float64(j)/float64(len(y))))
	}
	ne := float64(len(x)) * float64(len(y)) / float64(len(x)+len(y))
	sq := math.Sqrt(ne)
	return d, probKS((sq + 0.12 + 0.11/sq) * d)
}

// probKS is Q_KS(λ) = 2 Σ_{k≥1} (-1)^{k-1} e^{-2k²λ²}.
func probKS(lambda float64) float64 {
	if lambda < 1e-3 {
		return 1
	}
	sum, sign := 0.0, 1.0
	for k := 1; k <= 100; k++ {
		term := sign * 2 * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-10 {
			return math.Min(math.Max(sum, 0), 1)
		}
		sign = -sign
	}
	return 1
}
