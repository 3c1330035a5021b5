package prestage

import (
	"math"
	"testing"

	"github.com/popkit/popkit/forecast"
)

func TestCriticalRatio(t *testing.T) {
	t.Parallel()
	// cu = 10 − 4 = 6, co = 4 − 1 = 3: 6/9
	r, err := Economics{Price: 10, UnitCost: 4, Salvage: 1}.CriticalRatio()
	if err != nil || math.Abs(r-2.0/3) > 1e-12 {
		t.Fatalf("%v %v", r, err)
	}
	if r, _ := DefaultEconomics(8).CriticalRatio(); math.Abs(r-2.0/3) > 1e-12 {
		t.Fatalf("default %v", r)
	}
	for _, e := range []Economics{{10, 12, 1}, {10, 4, 5}, {10, 4, -1}} {
		if _, err := e.CriticalRatio(); err == nil {
			t.Fatalf("%+v accepted", e)
		}
	}
}

func TestQuantileAtAndStage(t *testing.T) {
	t.Parallel()
	f := forecast.Forecast{Point: []float64{4}}
	for i, v := range []float64{4, 7, 9, 12} {
		f.Q[i] = []float64{v}
	}
	for _, c := range []struct{ tau, want float64 }{
		{0.25, 2}, {0.5, 4}, {0.6, 5}, {0.85, 8}, {0.925, 10.5}, {0.99, 12},
	} {
		if got := QuantileAt(&f, 0, c.tau); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("q%.3f = %v, want %v", c.tau, got, c.want)
		}
	}
	for _, c := range []struct{ target, onHand, capacity, want float64 }{
		{7.2, 3, math.Inf(1), 5}, {7, 3, math.Inf(1), 4}, {2, 3, 10, 0}, {20, 0, 6, 6},
	} {
		if got := Stage(c.target, c.onHand, c.capacity); got != c.want {
			t.Errorf("Stage(%v, %v, %v) = %v, want %v", c.target, c.onHand, c.capacity, got, c.want)
		}
	}
}

type constPolicy float64

func (constPolicy) Name() string { return "const" }
func (c constPolicy) Targets(y []float64, h int, out []float64) {
	for j := range h {
		out[j] = float64(c)
	}
}

func TestReplayCarriesStock(t *testing.T) {
	t.Parallel()
	// Up to 5 each day against demand 2, 7, 0, 5: stage 5 (left 3), stage 2
	// (sell 5 of 7, left 0), stage 5 (left 5), stage 0 (left 0).
	o := Replay([]float64{9, 2, 7, 0, 5}, 1, 4, 2, constPolicy(5), math.Inf(1))
	want := Outcome{Demand: 14, Sold: 12, Staged: 12, Leftover: 8}
	if o != want {
		t.Fatalf("%+v, want %+v", o, want)
	}
	if math.Abs(o.FillRate()-12.0/14) > 1e-12 {
		t.Fatalf("fill %v", o.FillRate())
	}
}

func TestBaselinePolicies(t *testing.T) {
	t.Parallel()
	y := []float64{1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7}
	out := make([]float64, 2)
	SeasonalNaiveStock{Factor: 2}.Targets(y, 2, out)
	if out[0] != 2 || out[1] != 4 {
		t.Fatalf("seasonal naive %v", out)
	}
	// last 28 (all 14) values: mean 4, sd 2
	MeanSafetyStock{Safety: 1.5}.Targets(y, 2, out)
	if math.Abs(out[0]-7) > 1e-12 {
		t.Fatalf("mean + safety %v", out)
	}
}
