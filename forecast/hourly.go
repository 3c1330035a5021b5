package forecast

import (
	"math"
	"time"
)

// ProtocolBOrigins returns the last training hours (Sunday 23:00 local) of
// the eight weekly windows of issue 14's Protocol B, the last window ending
// 2016-12-25 23:00.
func ProtocolBOrigins() []time.Time {
	var o []time.Time
	last := time.Date(2016, 12, 18, 23, 0, 0, 0, time.UTC)
	for k := 7; k >= 0; k-- {
		o = append(o, last.AddDate(0, 0, -7*k))
	}
	return o
}

// FillWeekly returns counts from first to end with every hour that was not
// observed taken from the same hour a week (period p) earlier, or, within
// the first week, from the previous hour.
func FillWeekly(counts []float64, observed []bool, p int) []float64 {
	y := make([]float64, len(counts))
	for t := range counts {
		switch {
		case observed[t]:
			y[t] = counts[t]
		case t >= p:
			y[t] = y[t-p]
		case t > 0:
			y[t] = y[t-1]
		}
	}
	return y
}

// BacktestHourly runs Protocol B of issue 14 on d: per sensor and window the
// training series runs from the sensor's first observed hour to the origin
// (an hour on d's local grid), with missing hours filled by FillWeekly; the
// next w.H hours are forecast and only observed ones scored. MASE is scaled
// by the in-sample seasonal-naive(168) mean absolute error over pairs of
// observed hours; MAPE (in percent) is over observed test hours with y > 0.
// Pinball90, Cover90 and Cover are scored as in Score.
func BacktestHourly(d *Hourly, ws []Window, fs []Forecaster, emit Emit, progress func(done, total int)) []Row {
	const p = 168
	var rows []Row
	total, done := len(ws)*len(fs), 0
	for _, w := range ws {
		o := int(w.Origin.Sub(d.Start).Hours())
		if o < 0 || o+w.H >= d.Hours {
			continue
		}
		type ser struct {
			i     int
			train []float64
			scale float64
		}
		var ss []ser
		for i := range d.Names {
			first := -1
			for t := 0; t <= o; t++ {
				if d.Observed[i][t] {
					first = t
					break
				}
			}
			if first < 0 || o-first < 2*p {
				continue
			}
			var sum, n float64
			for t := first + p; t <= o; t++ {
				if d.Observed[i][t] && d.Observed[i][t-p] {
					sum += math.Abs(d.Counts[i][t] - d.Counts[i][t-p])
					n++
				}
			}
			if n == 0 || sum == 0 {
				continue
			}
			ss = append(ss, ser{i, FillWeekly(d.Counts[i][first:o+1], d.Observed[i][first:o+1], p), sum / n})
		}
		for _, f := range fs {
			r := Row{Method: f.Name(), Origin: w.Origin, Series: len(ss), WRMSSE: math.NaN(), RMSSE: math.NaN()}
			fcs := make([]Forecast, len(ss))
			parallel(len(ss), func(k int) {
				f.Forecast(ss[k].train, w.H, &fcs[k])
			})
			scored := 0
			for k, s := range ss {
				fc := &fcs[k]
				var ae, ape, pl, cov, n, npos float64
				var covs [len(Levels)]float64
				for j := range w.H {
					t := o + 1 + j
					if !d.Observed[s.i][t] {
						continue
					}
					y := d.Counts[s.i][t]
					ae += math.Abs(y - fc.Point[j])
					if y > 0 {
						ape += math.Abs(y-fc.Point[j]) / y
						npos++
					}
					pl += Pinball(y, fc.Q[2][j], 0.9)
					if y <= fc.Q[2][j] {
						cov++
					}
					for l := range covs {
						if y <= fc.Q[l][j] {
							covs[l]++
						}
					}
					n++
				}
				if n == 0 || npos == 0 {
					continue
				}
				scored++
				r.MASE += ae / n / s.scale
				r.MAPE += 100 * ape / npos
				r.Pinball90 += pl / n / s.scale
				r.Cover90 += cov / n
				for l := range covs {
					r.Cover[l] += covs[l] / n
				}
				if emit != nil {
					emit(d.Names[s.i], w.Origin, w.Origin.Add(time.Hour), time.Hour, fc)
				}
			}
			r.Series = scored
			n := float64(scored)
			r.MASE /= n
			r.MAPE /= n
			r.Pinball90 /= n
			r.Cover90 /= n
			for l := range r.Cover {
				r.Cover[l] /= n
			}
			rows = append(rows, r)
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return rows
}

// SeasonalMean forecasts each position of the season by its mean over the
// last Seasons seasons of length Period (fewer when y is shorter; Naive when
// y is shorter than one season). With Seasons 1 it is SeasonalNaive.
type SeasonalMean struct{ Period, Seasons int }

// Name returns "smean".
func (SeasonalMean) Name() string { return "smean" }

// Forecast implements Method.
func (m SeasonalMean) Forecast(y []float64, h int, out []float64) {
	n, p := len(y), m.Period
	k := min(m.Seasons, n/p)
	if k == 0 {
		Naive{}.Forecast(y, h, out)
		return
	}
	for j := range h {
		s := 0.0
		for i := 1; i <= k; i++ {
			s += y[n-i*p+j%p]
		}
		out[j] = s / float64(k)
	}
}

// SeasonalMedian forecasts each position of the season by its median over
// the last Seasons seasons of length Period (fewer when y is shorter; Naive
// when y is shorter than one season). Seasons is at most 16.
type SeasonalMedian struct{ Period, Seasons int }

// Name returns "smedian".
func (SeasonalMedian) Name() string { return "smedian" }

// Forecast implements Method.
func (m SeasonalMedian) Forecast(y []float64, h int, out []float64) {
	n, p := len(y), m.Period
	k := min(m.Seasons, n/p, 16)
	if k == 0 {
		Naive{}.Forecast(y, h, out)
		return
	}
	var buf [16]float64
	for j := range h {
		v := buf[:k]
		for i := 1; i <= k; i++ {
			v[i-1] = y[n-i*p+j%p]
		}
		for a := 1; a < k; a++ {
			for b := a; b > 0 && v[b] < v[b-1]; b-- {
				v[b], v[b-1] = v[b-1], v[b]
			}
		}
		if k%2 == 1 {
			out[j] = v[k/2]
		} else {
			out[j] = (v[k/2-1] + v[k/2]) / 2
		}
	}
}
