package forecast

import (
	"math"
	"slices"
)

// Conformal turns a point Method into a Forecaster with empirical quantiles
// (split-conformal by rolling origin; Vovk et al. 2005, Stankevičiūtė et al.
// 2021): the method is refitted at Origins in-sample origins, Step periods
// apart, ending Step periods before the end of y; the errors y − ŷ of those
// forecasts over the next h periods are pooled, and the quantile at level τ
// of the forecast is ŷ + the ⌈(k+1)τ⌉-th smallest of the k pooled errors
// (Widen scales the errors; 0 means 1), floored at 0 when NonNegative. With
// no in-sample error available the quantiles equal the point.
type Conformal struct {
	M           Method
	Origins     int
	Step        int
	Widen       float64
	NonNegative bool
}

// Name returns the method's name.
func (c Conformal) Name() string { return c.M.Name() }

// Forecast implements Forecaster.
func (c Conformal) Forecast(y []float64, h int, f *Forecast) {
	f.Reset(h)
	f.Method = c.M.Name()
	c.M.Forecast(y, h, f.Point)
	res := make([]float64, 0, c.Origins*h)
	tmp := make([]float64, h)
	n := len(y)
	for k := 1; k <= c.Origins; k++ {
		t := n - k*c.Step
		if t < 14 {
			break
		}
		c.M.Forecast(y[:t], h, tmp)
		for j := 0; j < h && t+j < n; j++ {
			res = append(res, y[t+j]-tmp[j])
		}
	}
	slices.Sort(res)
	w := c.Widen
	if w == 0 {
		w = 1
	}
	for i, tau := range Levels {
		q := 0.0
		if len(res) > 0 {
			r := int(math.Ceil(float64(len(res)+1)*tau)) - 1
			q = res[min(r, len(res)-1)] * w
		}
		for j := range h {
			v := f.Point[j] + q
			if c.NonNegative {
				v = max(v, 0)
			}
			f.Q[i][j] = v
		}
	}
}
