package plan

import (
	"math"
	"testing"
)

func TestDiscreteByHand(t *testing.T) {
	// P(D=0)=0.2, P(1)=0.3, P(2)=0.5: E[D] = 1.3; E[min(D,1)] = 0.8.
	d := mustDiscrete(t, 2, 3, 5)
	if math.Abs(d.Mean()-1.3) > 1e-12 || math.Abs(d.ExpectedMin(1)-0.8) > 1e-12 ||
		d.ExpectedMin(0) != 0 || math.Abs(d.ExpectedMin(9)-1.3) > 1e-12 {
		t.Fatalf("mean %v, E[min(D,1)] %v", d.Mean(), d.ExpectedMin(1))
	}
	for _, c := range []struct{ p, want float64 }{{0.1, 0}, {0.2, 0}, {0.21, 1}, {0.5, 1}, {0.51, 2}, {1, 2}} {
		if got := d.Quantile(c.p); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if _, err := NewDiscrete([]float64{0, 0}); err == nil {
		t.Fatal("zero weights accepted")
	}
	if _, err := NewDiscrete([]float64{1, -1}); err == nil {
		t.Fatal("negative weight accepted")
	}
}

func TestEmpiricalByHand(t *testing.T) {
	// Totals 0, 2, 2, 4 (one negative net of cancellations floors at 0).
	d, err := Empirical([]float64{-3, 2, 2.2, 4})
	if err != nil {
		t.Fatal(err)
	}
	// E[min(D,3)] = (0 + 2 + 2 + 3) / 4 = 1.75; median 2.
	if math.Abs(d.ExpectedMin(3)-1.75) > 1e-12 || d.Quantile(0.5) != 2 || math.Abs(d.Mean()-2) > 1e-12 {
		t.Fatalf("E[min(D,3)] %v median %v mean %v", d.ExpectedMin(3), d.Quantile(0.5), d.Mean())
	}
	if _, err := Empirical(nil); err == nil {
		t.Fatal("no samples accepted")
	}
}

func TestFromQuantiles(t *testing.T) {
	q := Quantiles{Q50: 20, Q80: 30, Q90: 36, Q95: 40}
	d, err := FromQuantiles(q)
	if err != nil {
		t.Fatal(err)
	}
	// The CDF passes through the knots: F(k+0.5) at the knots' whole units.
	cdf := func(k int) float64 { return 1 - survival(d, k+1) }
	for _, c := range []struct {
		k    int
		want float64
	}{
		{20, 0.5 + 0.5*0.3/10}, // F(20.5) on the 20..30 segment
		{29, 0.5 + 9.5*0.03},   // F(29.5)
		{39, 0.9 + 3.5*0.05/4}, // F(39.5)
		{10, 0.5 - 9.5*0.03},   // F(10.5) below the median, same slope
	} {
		if got := cdf(c.k); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("F(%d.5) = %.6f, want %.6f", c.k, got, c.want)
		}
	}
	// Tail: survival halves every q95 − q90 = 4 units past q95.
	s44, s48 := survival(d, 45), survival(d, 49) // P(D ≥ 45) = 1 − F(44.5)
	if math.Abs(s44/s48-2) > 1e-6 {
		t.Errorf("tail ratio %v, want 2", s44/s48)
	}
	if d.Quantile(0.5) != 20 || d.Quantile(0.8) != 30 || d.Quantile(0.95) != 40 {
		t.Errorf("quantiles %v %v %v", d.Quantile(0.5), d.Quantile(0.8), d.Quantile(0.95))
	}
	// Intermittent: q50 = 0 puts half the mass at zero.
	z, err := FromQuantiles(Quantiles{0, 2, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	if p0 := 1 - survival(z, 1); math.Abs(p0-(0.5+0.5*0.15)) > 1e-9 {
		t.Errorf("P(D=0) = %v", p0)
	}
	for _, bad := range []Quantiles{{-1, 2, 3, 4}, {5, 4, 6, 7}, {1, 2, math.NaN(), 4}} {
		if _, err := FromQuantiles(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestScaledDemand(t *testing.T) {
	d := mustDiscrete(t, 1, 1, 1, 1) // uniform 0..3, mean 1.5
	s := scaleDemand(d, 2)           // uniform on 0, 2, 4, 6
	if math.Abs(s.Mean()-3) > 1e-12 {
		t.Fatalf("mean %v", s.Mean())
	}
	// E[min(2D, 3)] = (0 + 2 + 3 + 3) / 4 = 2.
	if got := s.ExpectedMin(3); math.Abs(got-2) > 1e-12 {
		t.Fatalf("E[min(2D,3)] = %v", got)
	}
	if scaleDemand(d, 1) != Demand(d) {
		t.Fatal("factor 1 should return the demand itself")
	}
}
