package forecast

import "math"

// Method is a point forecaster. Forecast writes the h values following y into
// out[:h]; y holds at least one value. Implementations keep no state between
// calls, so one value may serve many goroutines.
type Method interface {
	Name() string
	Forecast(y []float64, h int, out []float64)
}

// Naive repeats the last observation: ŷ(n+j) = y(n).
type Naive struct{}

// Name returns "naive".
func (Naive) Name() string { return "naive" }

// Forecast implements Method.
func (Naive) Forecast(y []float64, h int, out []float64) {
	v := y[len(y)-1]
	for j := range h {
		out[j] = v
	}
}

// SeasonalNaive repeats the last full season: ŷ(n+j) = y(n+j−P·k) with k the
// smallest whole number of seasons that reaches back into y. With fewer than
// Period values it falls back to Naive.
type SeasonalNaive struct{ Period int }

// Name returns "snaive".
func (SeasonalNaive) Name() string { return "snaive" }

// Forecast implements Method.
func (m SeasonalNaive) Forecast(y []float64, h int, out []float64) {
	n, p := len(y), m.Period
	if n < p {
		Naive{}.Forecast(y, h, out)
		return
	}
	for j := range h {
		out[j] = y[n-p+j%p]
	}
}

// SES is simple exponential smoothing (Brown; Hyndman & Athanasopoulos,
// FPP3 §8.1): l(t) = α·y(t) + (1−α)·l(t−1), l(0) = y(1), forecast l(n) flat.
// Alpha zero means: choose α from a grid by least one-step squared error.
type SES struct{ Alpha float64 }

// Name returns "ses".
func (SES) Name() string { return "ses" }

// sesGrid is the α grid searched when SES.Alpha is zero.
var sesGrid = [...]float64{0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 0.99}

// Forecast implements Method.
func (m SES) Forecast(y []float64, h int, out []float64) {
	a := m.Alpha
	if a == 0 {
		a = FitSESAlpha(y)
	}
	l := sesLevel(y, a)
	for j := range h {
		out[j] = l
	}
}

// sesLevel returns the final SES level of y with smoothing α.
func sesLevel(y []float64, a float64) float64 {
	l := y[0]
	for _, v := range y[1:] {
		l += a * (v - l)
	}
	return l
}

// FitSESAlpha returns the α of sesGrid with the least sum of squared
// one-step errors on y.
func FitSESAlpha(y []float64) float64 {
	best, bestA := math.Inf(1), sesGrid[0]
	for _, a := range sesGrid {
		l, sse := y[0], 0.0
		for _, v := range y[1:] {
			e := v - l
			sse += e * e
			l += a * e
		}
		if sse < best {
			best, bestA = sse, a
		}
	}
	return bestA
}

// DayOfWeekProfile forecasts a level times a weekly profile: the level is the
// mean of the last Level values, the profile index of each position in the
// Period is the mean of that position over the last Weeks whole periods
// divided by the mean of all Weeks·Period values (1 for every position when
// that mean is 0). Shrink in [0,1] pulls each index toward 1 (0: none).
type DayOfWeekProfile struct {
	Period, Level, Weeks int
	Shrink               float64
}

// Name returns "dow".
func (DayOfWeekProfile) Name() string { return "dow" }

// Forecast implements Method.
func (m DayOfWeekProfile) Forecast(y []float64, h int, out []float64) {
	n, p := len(y), m.Period
	lv := min(m.Level, n)
	level := 0.0
	for _, v := range y[n-lv:] {
		level += v
	}
	level /= float64(lv)
	w := min(m.Weeks, n/p)
	if w == 0 {
		for j := range h {
			out[j] = level
		}
		return
	}
	var idx [maxPeriod]float64
	tot := 0.0
	for k := n - w*p; k < n; k++ {
		idx[(k-(n-w*p))%p] += y[k]
		tot += y[k]
	}
	mean := tot / float64(w*p)
	for j := range h {
		f := 1.0
		if mean > 0 {
			f = idx[j%p] / float64(w) / mean
		}
		out[j] = level * (1 + (1-m.Shrink)*(f-1))
	}
}

// maxPeriod bounds the seasonal period the methods accept (hour of week).
const maxPeriod = 168
