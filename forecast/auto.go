package forecast

import (
	"math"
	"slices"
	"sync"
)

// Auto is the automatic forecaster described in the package documentation:
// a winsorised history (Cap > 0), the equally weighted combination of
// Methods as the point forecast, and split-conformal quantiles from the
// combination's errors at Origins in-sample origins Step periods apart,
// variance-stabilised by sqrt(forecast+1). Use AutoDaily or AutoHourly for the
// configurations validated in BENCHMARKS.md.
type Auto struct {
	Label   string
	Methods []Method
	Origins int
	Step    int
	// Cap winsorises the history at Cap times the 0.95 quantile of its
	// non-zero values before fitting (0: off). Errors are still measured
	// against the raw history.
	Cap float64
	// Refit re-estimates parameters at every in-sample origin instead of
	// holding those fitted on the whole history.
	Refit bool
	// Spread is how errors scale with the forecast ŷ: SpreadSqrt (the
	// default) divides them by sqrt(ŷ+1), SpreadLinear by ŷ+1.
	Spread Spread
}

// Spread says how the spread of forecast errors grows with the forecast.
type Spread int

// The spreads Auto supports.
const (
	SpreadSqrt Spread = iota
	SpreadLinear
)

func (s Spread) of(fc float64) float64 {
	fc = max(fc, 0)
	if s == SpreadLinear {
		return fc + 1
	}
	return math.Sqrt(fc + 1)
}

// AutoDaily returns the automatic forecaster for daily demand: ETS(A,N,A) with
// weekly seasonality combined with a day-of-week profile (level: last 28
// days; profile: last 52 weeks), fitted on the history winsorised at its
// 0.95 quantile of non-zero days, quantiles from 12 weekly in-sample origins.
func AutoDaily() Auto {
	return Auto{
		Label:   "auto",
		Methods: []Method{ETSANA{Period: 7}, DayOfWeekProfile{Period: 7, Level: 28, Weeks: 52}},
		Origins: 12, Step: 7, Cap: 1,
	}
}

// AutoHourly returns the automatic forecaster for hourly counts with a weekly
// cycle: the mean of the same-hour-of-week medians of the last 5 and of the
// last 3 weeks and an hour-of-week profile (level: last week; profile: last
// 52 weeks); quantiles from 8 weekly in-sample origins; no winsorising.
func AutoHourly() Auto {
	return Auto{
		Label: "auto",
		Methods: []Method{
			SeasonalMedian{Period: 168, Seasons: 5}, SeasonalMedian{Period: 168, Seasons: 3},
			DayOfWeekProfile{Period: 168, Level: 168, Weeks: 52},
		},
		Origins: 8, Step: 168,
	}
}

// Name returns the label, "auto" when empty.
func (a Auto) Name() string {
	if a.Label != "" {
		return a.Label
	}
	return "auto"
}

type autoScratch struct {
	wins, res, tmp, one []float64
	methods             []Method
	// ets holds ETS models with parameters fitted once on the whole
	// history, so that the in-sample origins need no refit; methods points
	// into it, which boxes nothing.
	ets []ETSANA
}

// combine writes the mean of ms's forecasts into out, using sc.one.
func (sc *autoScratch) combine(ms []Method, y []float64, h int, out []float64) {
	sc.one = grow(sc.one, h)
	for j := range h {
		out[j] = 0
	}
	for _, m := range ms {
		m.Forecast(y, h, sc.one)
		for j := range h {
			out[j] += sc.one[j]
		}
	}
	k := float64(len(ms))
	for j := range h {
		out[j] /= k
	}
}

var autoPool = sync.Pool{New: func() any { return new(autoScratch) }}

// Forecast implements Forecaster.
func (a Auto) Forecast(y []float64, h int, f *Forecast) {
	f.Reset(h)
	f.Method = a.Name()
	sc := autoPool.Get().(*autoScratch)
	defer autoPool.Put(sc)
	raw := y
	if a.Cap > 0 {
		sc.wins = grow(sc.wins, len(y))
		if winsorise(y, a.Cap, sc.wins) {
			y = sc.wins
		}
	}
	sc.methods = sc.methods[:0]
	sc.ets = slices.Grow(sc.ets[:0], len(a.Methods))
	for _, m := range a.Methods {
		if e, ok := m.(ETSANA); ok && !a.Refit {
			sc.ets = append(sc.ets, e.Fixed(y))
			m = &sc.ets[len(sc.ets)-1]
		}
		sc.methods = append(sc.methods, m)
	}
	sc.combine(sc.methods, y, h, f.Point)
	n := len(y)
	sc.res = sc.res[:0]
	sc.tmp = grow(sc.tmp, h)
	for k := 1; k <= a.Origins; k++ {
		t := n - k*a.Step
		if t < 14 {
			break
		}
		sc.combine(sc.methods, y[:t], h, sc.tmp)
		for j := 0; j < h && t+j < n; j++ {
			fc := sc.tmp[j]
			sc.res = append(sc.res, (raw[t+j]-fc)/a.Spread.of(fc))
		}
	}
	res := sc.res
	slices.Sort(res)
	for i, tau := range Levels {
		q := 0.0
		if len(res) > 0 {
			r := int(math.Ceil(float64(len(res)+1)*tau)) - 1
			q = res[min(r, len(res)-1)]
		}
		for j := range h {
			p := f.Point[j]
			f.Q[i][j] = max(p+q*a.Spread.of(p), 0)
		}
	}
	for j := range h {
		f.Point[j] = max(f.Point[j], 0)
	}
}

// winsorise writes y capped at c times its 0.95 quantile of non-zero values
// into buf (of len(y)) and reports true; it reports false, leaving buf
// undefined, when y has fewer than 10 non-zero values.
func winsorise(y []float64, c float64, buf []float64) bool {
	nz := buf[:0]
	for _, v := range y {
		if v > 0 {
			nz = append(nz, v)
		}
	}
	if len(nz) < 10 {
		return false
	}
	r := int(0.95 * float64(len(nz)-1))
	lim := c * quickselect(nz, r)
	for i, v := range y {
		buf[i] = min(v, lim)
	}
	return true
}

// quickselect returns the k-th smallest value of v (0-based), reordering v.
func quickselect(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		p := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
