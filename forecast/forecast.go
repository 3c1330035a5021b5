package forecast

// Levels are the quantile levels every Forecast carries.
var Levels = [...]float64{0.5, 0.8, 0.9, 0.95}

// Forecast is a point forecast with its quantiles for horizons 1..len(Point).
// Q[i] holds the quantile at Levels[i] per horizon.
type Forecast struct {
	Method string
	Point  []float64
	Q      [len(Levels)][]float64
}

// Reset sizes f for horizon h, reusing its slices.
func (f *Forecast) Reset(h int) {
	f.Point = grow(f.Point, h)
	for i := range f.Q {
		f.Q[i] = grow(f.Q[i], h)
	}
}

func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// Forecaster produces a Forecast with quantiles from a history y.
type Forecaster interface {
	Name() string
	// Forecast fills f (after f.Reset(h)) with h forecasts following y.
	Forecast(y []float64, h int, f *Forecast)
}
