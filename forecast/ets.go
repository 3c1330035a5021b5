package forecast

import "math"

// ETSANA is exponential smoothing with additive errors, no trend and additive
// seasonality, ETS(A,N,A) (Hyndman, Koehler, Snyder & Grose 2002; FPP3 §8.3):
//
//	l(t) = l(t−1) + α·e(t),  s(t) = s(t−m) + γ·e(t),  e(t) = y(t) − l(t−1) − s(t−m)
//
// forecast ŷ(n+j) = l(n) + s(n+j−m·k). The initial states are fixed by a
// classical decomposition of the first two seasons (level: mean of the first
// season; seasonal: mean deviation of each position from it). α and γ are
// chosen by the least sum of squared one-step errors over a grid (with the
// initial states fixed, that is the Gaussian maximum-likelihood estimate
// restricted to the grid). Alpha and Gamma, when both are positive, skip the
// search. With fewer than two seasons of data it falls back to SES.
type ETSANA struct {
	Period       int
	Alpha, Gamma float64
}

// Name returns "ets".
func (ETSANA) Name() string { return "ets" }

var etsAlphaGrid = [...]float64{0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45}
var etsGammaGrid = [...]float64{0.01, 0.05, 0.1, 0.2}

// Forecast implements Method.
func (m ETSANA) Forecast(y []float64, h int, out []float64) {
	p := m.Period
	if len(y) < 2*p || p > maxPeriod {
		SES{}.Forecast(y, h, out)
		return
	}
	a, g := m.Alpha, m.Gamma
	if a <= 0 || g <= 0 {
		a, g = FitETSANA(y, p)
	}
	var s [maxPeriod]float64
	l := etsRun(y, p, a, g, &s, nil)
	n := len(y)
	for j := range h {
		out[j] = l + s[(n+j)%p]
	}
}

// FitETSANA returns the (α, γ) of the grid with the least one-step squared
// error of ETS(A,N,A) with period p on y.
func FitETSANA(y []float64, p int) (alpha, gamma float64) {
	best := math.Inf(1)
	var s [maxPeriod]float64
	for _, a := range etsAlphaGrid {
		for _, g := range etsGammaGrid {
			if g > 1-a {
				continue
			}
			var sse float64
			etsRun(y, p, a, g, &s, &sse)
			if sse < best {
				best, alpha, gamma = sse, a, g
			}
		}
	}
	return alpha, gamma
}

// etsRun filters y through ETS(A,N,A) and returns the final level; s ends
// holding the seasonal state indexed by t mod p. When sse is not nil it gets
// the sum of squared one-step errors.
func etsRun(y []float64, p int, a, g float64, s *[maxPeriod]float64, sse *float64) float64 {
	l := 0.0
	for _, v := range y[:p] {
		l += v
	}
	l /= float64(p)
	for i := range p {
		s[i] = (y[i] + y[i+p]) / 2
	}
	l2 := 0.0
	for _, v := range y[p : 2*p] {
		l2 += v
	}
	l = (l + l2/float64(p)) / 2
	for i := range p {
		s[i] -= l
	}
	var e2 float64
	k := 0
	for _, v := range y {
		e := v - l - s[k]
		e2 += e * e
		l += a * e
		s[k] += g * e
		if k++; k == p {
			k = 0
		}
	}
	if sse != nil {
		*sse = e2
	}
	return l
}

// Fixed returns m with α and γ fitted on y (m itself when they are set or y
// is too short to fit).
func (m ETSANA) Fixed(y []float64) ETSANA {
	if (m.Alpha > 0 && m.Gamma > 0) || len(y) < 2*m.Period || m.Period > maxPeriod {
		return m
	}
	m.Alpha, m.Gamma = FitETSANA(y, m.Period)
	return m
}
