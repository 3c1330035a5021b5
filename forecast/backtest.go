package forecast

import (
	"math"
	"runtime"
	"sync"
	"time"
)

// Window is one backtest window: forecasts are made from the data up to and
// including Origin (the last training period) for the H periods after it.
type Window struct {
	Origin time.Time
	H      int
}

// Row is the mean score of one method over the series of one window (or,
// with Window zero, the mean of its windows).
type Row struct {
	Method    string
	Origin    time.Time
	Series    int
	MASE      float64
	RMSSE     float64
	WRMSSE    float64
	Pinball90 float64
	Cover90   float64
	MAPE      float64
	// Cover is the share of actuals at or below each quantile of Levels.
	Cover [len(Levels)]float64
}

// Emit receives every forecast a backtest makes, one at a time, in order of
// window, method and series: series is the series' name, origin the last
// training period, start the time of f.Point[0] and step the period length.
type Emit func(series string, origin time.Time, start time.Time, step time.Duration, f *Forecast)

// ProtocolAOrigins are the last training days of the four 28-day windows of
// issue 14's Protocol A (windows ending 2011-12-09, 11-11, 10-14, 09-16).
var ProtocolAOrigins = []time.Time{
	date(2011, 11, 11), date(2011, 10, 14), date(2011, 9, 16), date(2011, 8, 19),
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// BacktestRetail runs Protocol A of issue 14 on d: per SKU and window the
// training series runs from the SKU's first sale up to the origin; the test
// is the next w.H days. Scores per series (see Score; WRMSSE weights each
// series' RMSSE by its revenue over the last 28 training days) are averaged
// per window. Series without a sale before the origin, or with a zero scale,
// are left out and not counted. progress, when not nil, is called after each
// (window, method) with the number done and the total.
func BacktestRetail(d *Retail, ws []Window, fs []Forecaster, emit Emit, progress func(done, total int)) []Row {
	var rows []Row
	total, done := len(ws)*len(fs), 0
	for _, w := range ws {
		o := int(w.Origin.Sub(d.Start).Hours() / 24)
		if o < 0 || o+w.H >= d.Days {
			continue
		}
		var idx []int
		var weights []float64
		for i := range d.Codes {
			fs := d.FirstSale[i]
			if fs < 0 || fs > o {
				continue
			}
			train := d.Qty[i][fs : o+1]
			sc := InSampleScales(train, 7)
			if sc.MAE == 0 || sc.MSE == 0 {
				continue
			}
			rev := 0.0
			for _, v := range d.Revenue[i][max(fs, o-27) : o+1] {
				rev += v
			}
			idx = append(idx, i)
			weights = append(weights, max(rev, 0))
		}
		wsum := 0.0
		for _, v := range weights {
			wsum += v
		}
		for _, f := range fs {
			scores := make([]Scores, len(idx))
			fcs := make([]Forecast, len(idx))
			parallel(len(idx), func(k int) {
				i := idx[k]
				train := d.Qty[i][d.FirstSale[i] : o+1]
				f.Forecast(train, w.H, &fcs[k])
				scores[k] = Score(d.Qty[i][o+1:o+1+w.H], &fcs[k], InSampleScales(train, 7))
			})
			if emit != nil {
				for k, i := range idx {
					emit(d.Codes[i], w.Origin, w.Origin.AddDate(0, 0, 1), 24*time.Hour, &fcs[k])
				}
			}
			r := Row{Method: f.Name(), Origin: w.Origin, Series: len(idx)}
			for k, s := range scores {
				r.MASE += s.MASE
				r.RMSSE += s.RMSSE
				r.WRMSSE += s.RMSSE * weights[k] / wsum
				r.Pinball90 += s.Pinball90
				r.Cover90 += s.Cover90
				for l := range r.Cover {
					r.Cover[l] += s.Cover[l]
				}
			}
			n := float64(len(idx))
			r.MASE /= n
			r.RMSSE /= n
			r.Pinball90 /= n
			r.Cover90 /= n
			for l := range r.Cover {
				r.Cover[l] /= n
			}
			r.MAPE = math.NaN()
			rows = append(rows, r)
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return rows
}

// parallel runs fn(k) for k in [0,n) on GOMAXPROCS goroutines.
func parallel(n int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int, n)
	for k := range n {
		next <- k
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k)
			}
		}()
	}
	wg.Wait()
}

// MeanRows averages rows per method over their windows, keeping the order
// of first appearance; Origin is zero in the result and Series the mean
// number of series per window. With pooled false every window weighs the
// same (Protocol A: "the mean of the four windows"); with pooled true every
// (series, window) pair does, so a window with a missing sensor weighs less
// (Protocol B, which reproduces the reference figures that way).
func MeanRows(rows []Row, pooled bool) []Row {
	var out []Row
	pos := map[string]int{}
	wsum := map[string]float64{}
	cnt := map[string]float64{}
	for _, r := range rows {
		i, ok := pos[r.Method]
		if !ok {
			i = len(out)
			pos[r.Method] = i
			out = append(out, Row{Method: r.Method})
		}
		w := 1.0
		if pooled {
			w = float64(r.Series)
		}
		o := &out[i]
		o.Series += r.Series
		o.MASE += w * r.MASE
		o.RMSSE += w * r.RMSSE
		o.WRMSSE += w * r.WRMSSE
		o.Pinball90 += w * r.Pinball90
		o.Cover90 += w * r.Cover90
		for l := range o.Cover {
			o.Cover[l] += w * r.Cover[l]
		}
		o.MAPE += w * r.MAPE
		wsum[r.Method] += w
		cnt[r.Method]++
	}
	for i := range out {
		w := wsum[out[i].Method]
		out[i].Series = int(float64(out[i].Series)/cnt[out[i].Method] + 0.5)
		out[i].MASE /= w
		out[i].RMSSE /= w
		out[i].WRMSSE /= w
		out[i].Pinball90 /= w
		out[i].Cover90 /= w
		for l := range out[i].Cover {
			out[i].Cover[l] /= w
		}
		out[i].MAPE /= w
	}
	return out
}
