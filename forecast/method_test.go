package forecast

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMethodsHandComputed(t *testing.T) {
	t.Parallel()
	intermittent := []float64{0, 3, 0, 0, 5}
	tests := []struct {
		name string
		m    Method
		y    []float64
		want []float64
	}{
		{"naive", Naive{}, []float64{1, 2, 3}, []float64{3, 3}},
		{"seasonal naive repeats the last season", SeasonalNaive{Period: 3}, []float64{1, 2, 3, 4, 5, 6, 7}, []float64{5, 6, 7, 5}},
		{"seasonal naive short history is naive", SeasonalNaive{Period: 7}, []float64{1, 2}, []float64{2, 2}},
		// l: 2 → 3 → 4.5
		{"ses fixed alpha", SES{Alpha: 0.5}, []float64{2, 4, 6}, []float64{4.5, 4.5}},
		// initial l = 2.5, s = (−1, 1); six updates with α=0.5, γ=0.2 give
		// l = 3.6653125, s = (−0.69025, 1.156375).
		{"ets(A,N,A) fixed parameters", ETSANA{Period: 2, Alpha: 0.5, Gamma: 0.2}, []float64{1, 3, 2, 4, 3, 5}, []float64{2.9750625, 4.8216875, 2.9750625}},
		// z: 3 → 4, p: 2 → 2.5 → 4/2.5
		{"croston", Croston{Alpha: 0.5}, intermittent, []float64{1.6, 1.6}},
		{"sba", Croston{Alpha: 0.5, Bias: true}, intermittent, []float64{1.2}},
		{"croston without demand", Croston{Alpha: 0.5}, []float64{0, 0}, []float64{0}},
		// d: 0.4 → 0.2 → 0.6 → 0.3 → 0.15 → 0.575; z: 3 → 4
		{"tsb", TSB{Alpha: 0.5, Beta: 0.5}, intermittent, []float64{2.3}},
		// buckets of 2 ending at the last value: 2, 3, 1; SES α=0.01
		// (least squares) ends at 1.9999; per period /2.
		{"adida", ADIDA{Bucket: 2}, []float64{1, 0, 2, 0, 3, 1, 0}, []float64{0.99995}},
		// level mean(2,6) = 4; profile over [1,3,2,6]: (3/2)/3, (9/2)/3
		{"day-of-week profile", DayOfWeekProfile{Period: 2, Level: 2, Weeks: 2}, []float64{1, 3, 1, 3, 2, 6}, []float64{2, 6, 2}},
		{"profile shrunk to flat", DayOfWeekProfile{Period: 2, Level: 2, Weeks: 2, Shrink: 1}, []float64{1, 3, 1, 3, 2, 6}, []float64{4, 4}},
		{"seasonal mean", SeasonalMean{Period: 2, Seasons: 2}, []float64{1, 3, 2, 4, 4, 8}, []float64{3, 6, 3}},
		{"seasonal median", SeasonalMedian{Period: 1, Seasons: 3}, []float64{5, 1, 9, 2}, []float64{2}},
		{"seasonal median even", SeasonalMedian{Period: 1, Seasons: 2}, []float64{5, 1, 9, 2}, []float64{5.5}},
		{"combination", Combination{Methods: []Method{Naive{}, SeasonalNaive{Period: 2}}, Scale: 2}, []float64{1, 4, 2}, []float64{6, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]float64, len(tt.want))
			tt.m.Forecast(tt.y, len(tt.want), out)
			for j := range out {
				if !near(out[j], tt.want[j]) {
					t.Fatalf("%s: got %v, want %v", tt.m.Name(), out, tt.want)
				}
			}
		})
	}
}

func TestIMAPAIsMeanOfAggregations(t *testing.T) {
	t.Parallel()
	y := []float64{1, 0, 2, 0, 3, 1, 0, 0, 4, 0, 2}
	var a1, a2, a3, im [1]float64
	ADIDA{Bucket: 1}.Forecast(y, 1, a1[:])
	ADIDA{Bucket: 2}.Forecast(y, 1, a2[:])
	ADIDA{Bucket: 3}.Forecast(y, 1, a3[:])
	IMAPA{MaxBucket: 3}.Forecast(y, 1, im[:])
	if want := (a1[0] + a2[0] + a3[0]) / 3; !near(im[0], want) {
		t.Fatalf("imapa %v, want %v", im[0], want)
	}
	// 6 demands in 11 periods: mean interval 1.83, so K = 2 by default.
	var def [1]float64
	IMAPA{}.Forecast(y, 1, def[:])
	if want := (a1[0] + a2[0]) / 2; !near(def[0], want) {
		t.Fatalf("default K: %v, want %v", def[0], want)
	}
}

func TestFitSESAlphaFollowsAStep(t *testing.T) {
	t.Parallel()
	if a := FitSESAlpha([]float64{0, 0, 0, 10, 10, 10, 10, 10}); a != 0.99 {
		t.Fatalf("alpha %v on a step, want 0.99", a)
	}
	if a := FitSESAlpha([]float64{4, 4, 4, 4, 4, 9, 4, 4, 4, 4}); a != 0.01 {
		t.Fatalf("alpha %v on a flat level with one outlier, want 0.01", a)
	}
}

func TestFitETSANARecoversPattern(t *testing.T) {
	t.Parallel()
	// A pure weekly pattern on a flat level: the fitted forecast must
	// reproduce the pattern.
	pat := []float64{10, 12, 11, 13, 20, 30, 5}
	var y []float64
	for range 20 {
		y = append(y, pat...)
	}
	out := make([]float64, 7)
	ETSANA{Period: 7}.Forecast(y, 7, out)
	for j := range out {
		if math.Abs(out[j]-pat[j]) > 1e-6 {
			t.Fatalf("day %d: %v, want %v", j, out[j], pat[j])
		}
	}
}

func TestConformalQuantiles(t *testing.T) {
	t.Parallel()
	// A zero forecaster from one origin 5 periods before the end: the
	// errors are the last five values, sorted 1..5; quantile τ is the
	// ⌈6τ⌉-th smallest.
	y := make([]float64, 20)
	copy(y[15:], []float64{5, 1, 4, 2, 3})
	var f Forecast
	Conformal{M: Combination{Methods: []Method{Naive{}}, Scale: 1e-300}, Origins: 1, Step: 5}.Forecast(y, 5, &f)
	want := [len(Levels)]float64{3, 5, 5, 5}
	for i := range Levels {
		for j := range 5 {
			if !near(f.Q[i][j], want[i]) {
				t.Fatalf("q%v = %v, want %v", Levels[i], f.Q[i], want[i])
			}
		}
	}
}

func TestAutoQuantilesOrderedAndNonNegative(t *testing.T) {
	t.Parallel()
	y := synthDaily(1, 365)
	var f Forecast
	AutoDaily().Forecast(y, 28, &f)
	for j := range 28 {
		if f.Point[j] < 0 || f.Q[0][j] < 0 {
			t.Fatalf("negative forecast at %d: %v %v", j, f.Point[j], f.Q[0][j])
		}
		for i := 1; i < len(Levels); i++ {
			if f.Q[i][j] < f.Q[i-1][j] {
				t.Fatalf("quantiles not ordered at %d: %v", j, f.Q)
			}
		}
	}
	if f.Q[3][0] <= f.Q[0][0] {
		t.Fatalf("q95 %v not above q50 %v", f.Q[3][0], f.Q[0][0])
	}
}

func TestAutoCalibratedOnSyntheticDemand(t *testing.T) {
	t.Parallel()
	// Poisson demand with a weekday pattern and a slowly drifting level: q90
	// must cover 90% of the next 28 days within 2.5 points over 400 series.
	var f Forecast
	cover, n := 0.0, 0.0
	for s := range 400 {
		y := synthDaily(uint64(s+1), 393)
		AutoDaily().Forecast(y[:365], 28, &f)
		for j, v := range y[365:] {
			if v <= f.Q[2][j] {
				cover++
			}
			n++
		}
	}
	if c := cover / n; c < 0.875 || c > 0.925 {
		t.Fatalf("q90 coverage %.3f, want 0.90 ± 0.025", c)
	}
}

// synthDaily returns n days of Poisson demand with a weekday pattern and a
// random-walk level, from a fixed seed.
func synthDaily(seed uint64, n int) []float64 {
	r := newRand(seed)
	week := []float64{1.2, 1.1, 1, 1, 1.3, 0.6, 0.8}
	level := 3 + 10*r.float()
	y := make([]float64, n)
	for t := range y {
		level = max(0.5, level*math.Exp(0.02*r.norm()))
		y[t] = float64(r.poisson(level * week[t%7]))
	}
	return y
}
