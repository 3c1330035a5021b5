// Package kpi holds the pure computations behind popkit's KPIs (see kpi.go
// in the root package for the definitions): Wilson score intervals, the
// percentile bootstrap of the listing uplift, and venue-local hour, day
// and week keys that follow daylight-saving changes. It reads no database.
package kpi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Wilson returns the Wilson score interval of successes out of n at the
// normal quantile z (1.96 for 95%). It returns ok=false when n is 0: the
// rate is undefined. successes above n are capped at n.
func Wilson(successes, n int64, z float64) (rate, low, high float64, ok bool) {
	if n <= 0 {
		return 0, 0, 0, false
	}
	k := min(max(successes, 0), n)
	p := float64(k) / float64(n)
	nf := float64(n)
	z2 := z * z
	denom := 1 + z2/nf
	centre := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	return p, max(0, centre-half), min(1, centre+half), true
}

// HourKey returns the venue-local hour that holds t, as
// "2006-01-02T15:00-07:00": the offset tells apart the two 01:00 hours of
// a day whose clocks go back.
func HourKey(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	return l.Format("2006-01-02T15") + ":00" + l.Format("-07:00")
}

// DayKey returns the venue-local date of t, "2006-01-02".
func DayKey(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// WeekKey returns the ISO week of t's venue-local date, "2006-W01".
func WeekKey(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// HourOfWeek returns 0..167 for t's venue-local weekday (Monday 0) and hour.
func HourOfWeek(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return (int(l.Weekday())+6)%7*24 + l.Hour()
}

// LocalHours returns the start instants of the venue-local hours that
// overlap [from, to), in order. A day on which clocks go forward has 23 of
// them, one on which they go back 25.
func LocalHours(from, to time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for t := HourStart(from, loc); t.Before(to); t = HourStart(t.Add(time.Hour+time.Minute), loc) {
		out = append(out, t)
	}
	return out
}

// HourStart returns the instant at which the venue-local hour holding t
// began.
func HourStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return t.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond())).UTC()
}

// Span is a half-open interval of instants.
type Span struct{ Start, End time.Time }

// Overlap returns how long [a, b) and s overlap.
func (s Span) Overlap(a, b time.Time) time.Duration {
	start, end := s.Start, s.End
	if a.After(start) {
		start = a
	}
	if b.Before(end) {
		end = b
	}
	if !end.After(start) {
		return 0
	}
	return end.Sub(start)
}

// Uplift is a listing uplift: 100 × (Σ observed ÷ Σ expected − 1) over
// days, with a percentile bootstrap interval.
type Uplift struct {
	Pct, Low, High float64
	Days           int
	Observed       float64
	Expected       float64
}

// DayPair is one local day after publication: visitors observed and the
// visitors the baseline expects for the same open hours.
type DayPair struct{ Observed, Expected float64 }

// BootstrapUplift computes the uplift of days and a level (0.90) percentile
// interval from samples resamples of days with replacement, drawn from a
// generator seeded with seed so that a report is reproducible. ok is false
// when there are no days or nothing expected.
func BootstrapUplift(days []DayPair, samples int, level float64, seed uint64) (Uplift, bool) {
	var obs, exp float64
	for _, d := range days {
		obs += d.Observed
		exp += d.Expected
	}
	if len(days) == 0 || exp <= 0 {
		return Uplift{}, false
	}
	u := Uplift{Pct: 100 * (obs/exp - 1), Days: len(days), Observed: obs, Expected: exp}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	stats := make([]float64, 0, samples)
	for range samples {
		var o, e float64
		for range days {
			d := days[rng.IntN(len(days))]
			o += d.Observed
			e += d.Expected
		}
		if e > 0 {
			stats = append(stats, 100*(o/e-1))
		}
	}
	slices.Sort(stats)
	tail := (1 - level) / 2
	u.Low, u.High = percentile(stats, tail), percentile(stats, 1-tail)
	return u, true
}

// percentile returns the nearest-rank q-quantile of sorted values.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Median returns the median of values (the mean of the middle two for an
// even count); ok is false when there are none.
func Median(values []float64) (float64, bool) {
	if len(values) == 0 {
		return 0, false
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// RoundHalfAway rounds f to the nearest integer, halves away from zero.
func RoundHalfAway(f float64) int64 { return int64(math.Round(f)) }
