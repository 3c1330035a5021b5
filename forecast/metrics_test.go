package forecast

import (
	"math"
	"testing"
)

func TestInSampleScales(t *testing.T) {
	t.Parallel()
	y := []float64{1, 2, 4, 7}
	s := InSampleScales(y, 1)
	// |1|+|2|+|3| over 3; (1+4+9)/3
	if !near(s.MAE, 2) || !near(s.MSE, 14.0/3) {
		t.Fatalf("m=1: %+v", s)
	}
	// |4−1|+|7−2| over 2
	if s := InSampleScales(y, 2); !near(s.MAE, 4) {
		t.Fatalf("m=2: %+v", s)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	f := Forecast{Point: []float64{2, 2, 2, 2}}
	f.Q[0] = []float64{2, 2, 2, 2}
	f.Q[2] = []float64{3, 3, 3, 3}
	y := []float64{1, 2, 4, 3}
	sc := Score(y, &f, Scales{MAE: 2, MSE: 4})
	// errors −1, 0, 2, 1: MAE 1, MSE 6/4
	if !near(sc.MASE, 0.5) || !near(sc.RMSSE, math.Sqrt(1.5/4)) {
		t.Fatalf("%+v", sc)
	}
	// pinball90 at q=3: 0.1·2, 0.1·1, 0.9·1, 0 → 1.2/4 / 2
	if !near(sc.Pinball90, 0.15) || !near(sc.Cover90, 0.75) {
		t.Fatalf("%+v", sc)
	}
	// y ≤ q50: 1, 2 of 1, 2, 4, 3; no q80 given
	if !near(sc.Cover[0], 0.5) || !near(sc.Cover[2], 0.75) || !math.IsNaN(sc.Cover[1]) {
		t.Fatalf("coverage %v", sc.Cover)
	}
	if p := Pinball(10, 8, 0.9); !near(p, 1.8) {
		t.Fatalf("pinball under: %v", p)
	}
	if p := Pinball(5, 8, 0.9); !near(p, 0.3) {
		t.Fatalf("pinball over: %v", p)
	}
}
