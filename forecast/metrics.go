package forecast

import "math"

// Scales are the in-sample denominators of the scaled errors of one series.
type Scales struct {
	// MAE of the seasonal naive one-step forecast in sample: mean |y(t) − y(t−m)|.
	MAE float64
	// MSE of the naive one-step forecast in sample: mean (y(t) − y(t−1))².
	MSE float64
}

// InSampleScales returns the scales of y with seasonal period m: the MASE
// denominator (Hyndman & Koehler 2006, seasonal form) and the RMSSE
// denominator (M5 competition guide, 2020).
func InSampleScales(y []float64, m int) Scales {
	var s Scales
	if len(y) > m {
		for t := m; t < len(y); t++ {
			s.MAE += math.Abs(y[t] - y[t-m])
		}
		s.MAE /= float64(len(y) - m)
	}
	if len(y) > 1 {
		for t := 1; t < len(y); t++ {
			d := y[t] - y[t-1]
			s.MSE += d * d
		}
		s.MSE /= float64(len(y) - 1)
	}
	return s
}

// Scores are the accuracy measures of one forecast of one series.
type Scores struct {
	MASE, RMSSE, Pinball90, Cover90 float64
	// Cover holds, per quantile level of Levels, the share of y at or below
	// that quantile (with ties at a quantile of count data, mostly at 0, the
	// share at or below a low quantile exceeds its level).
	Cover [len(Levels)]float64
}

// Score returns the scores of forecast f for actuals y under scales s:
// MASE = mean|y−ŷ| / s.MAE; RMSSE = sqrt(mean (y−ŷ)² / s.MSE); Pinball90 =
// mean pinball loss of the 0.9 quantile / s.MAE; Cover90 = share of y at or
// below the 0.9 quantile. With f.Q[2] nil the quantile scores are NaN.
func Score(y []float64, f *Forecast, s Scales) Scores {
	var ae, se, pl, cov float64
	for t, v := range y {
		e := v - f.Point[t]
		ae += math.Abs(e)
		se += e * e
	}
	n := float64(len(y))
	sc := Scores{MASE: ae / n / s.MAE, RMSSE: math.Sqrt(se / n / s.MSE)}
	if f.Q[2] == nil {
		sc.Pinball90, sc.Cover90 = math.NaN(), math.NaN()
		for i := range sc.Cover {
			sc.Cover[i] = math.NaN()
		}
		return sc
	}
	for t, v := range y {
		pl += Pinball(v, f.Q[2][t], 0.9)
		if v <= f.Q[2][t] {
			cov++
		}
	}
	sc.Pinball90 = pl / n / s.MAE
	sc.Cover90 = cov / n
	for i := range Levels {
		if f.Q[i] == nil {
			sc.Cover[i] = math.NaN()
			continue
		}
		c := 0.0
		for t, v := range y {
			if v <= f.Q[i][t] {
				c++
			}
		}
		sc.Cover[i] = c / n
	}
	return sc
}

// Pinball is the quantile (pinball) loss of quantile forecast q at level tau
// for actual y: tau·(y−q) when y ≥ q, (1−tau)·(q−y) otherwise.
func Pinball(y, q, tau float64) float64 {
	if y >= q {
		return tau * (y - q)
	}
	return (1 - tau) * (q - y)
}
