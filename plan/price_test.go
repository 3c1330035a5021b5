package plan

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestEstimateResponse(t *testing.T) {
	// Exact log-log data: q = 1000·p^−1.5 at 5 prices, 25 days.
	var pts []PricePoint
	for i := range 25 {
		p := float64(100 + 20*(i%5))
		pts = append(pts, PricePoint{Price: p, Quantity: 1000 * math.Pow(p, -1.5)})
	}
	r := EstimateResponse(pts)
	if r.Source != "estimated" || math.Abs(r.Elasticity+1.5) > 1e-6 || r.Observations != 25 || r.Prices != 5 {
		t.Fatalf("exact data: %+v", r)
	}
	// Too few observations or prices: the prior, saying why.
	if r := EstimateResponse(pts[:10]); r.Source != "prior" || r.Elasticity != PriorElasticity || !strings.Contains(r.Why, "10 observations") {
		t.Fatalf("few observations: %+v", r)
	}
	var two []PricePoint
	for i := range 30 {
		two = append(two, PricePoint{Price: float64(100 + 10*(i%2)), Quantity: float64(5 + i%3)})
	}
	if r := EstimateResponse(two); r.Source != "prior" || !strings.Contains(r.Why, "2 distinct prices") {
		t.Fatalf("two prices: %+v", r)
	}
	// Noisy data over a narrow price range: the estimate is pulled towards
	// the prior by its weight, Elasticity = w·e + (1 − w)·prior.
	rng := rand.New(rand.NewPCG(5, 6))
	var noisy []PricePoint
	for i := range 40 {
		p := float64(100 + i%4)
		noisy = append(noisy, PricePoint{Price: p, Quantity: 50 * math.Pow(p, 0.5) * math.Exp(rng.NormFloat64())})
	}
	r = EstimateResponse(noisy)
	want := r.Weight*r.Estimate + (1-r.Weight)*PriorElasticity
	want = math.Min(MaxElasticity, math.Max(MinElasticity, want))
	if r.Source != "estimated" || r.Weight >= 0.5 || math.Abs(r.Elasticity-want) > 1e-12 {
		t.Fatalf("noisy: %+v", r)
	}
}

func TestChoosePriceRespectsRangeAndFloor(t *testing.T) {
	d := mustDiscrete(t, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	k := Candidate{SKU: "A", UnitCost: 60, RefPrice: 100, MinPrice: 50, MaxPrice: 200, Demand: d,
		Response: Response{Elasticity: -3, Source: "estimated"}}
	p, why, ok := choosePrice(k, 0.3) // floor price ⌈60/0.7⌉ = 86
	if !ok || p < 86 || p > 200 || why == "" {
		t.Fatalf("price %d ok %v", p, ok)
	}
	// The choice maximises the newsvendor value over the tried prices: no
	// price in the range on a fine grid does better by more than the grid's
	// step effect (1%).
	best := newsvendorValue(float64(p), 60, 0, scaleDemand(d, k.Response.demandFactor(p, 100)))
	for x := int64(86); x <= 200; x++ {
		v := newsvendorValue(float64(x), 60, 0, scaleDemand(d, k.Response.demandFactor(x, 100)))
		if v > best*1.01+1e-9 {
			t.Fatalf("price %d gives %.2f, chosen %d gives %.2f", x, v, p, best)
		}
	}
	k.MaxPrice = 80
	if _, _, ok := choosePrice(k, 0.3); ok {
		t.Fatal("a range entirely under the floor price was accepted")
	}
}

func TestPlanMarkdownByHand(t *testing.T) {
	pmf := make([]float64, 11)
	pmf[10] = 1 // exactly 10 units over 4 sessions
	d := mustDiscrete(t, pmf...)
	r := Response{Elasticity: -2}
	// 12 units: 7.5 expected sold in the first 3 sessions, 4.5 left; the last
	// session sells 2.5 at base, so the markdown needs (p/100)^−2 ≥ 1.8:
	// p ≤ 74.54 → 74, above the 30% floor price ⌈50/0.7⌉ = 72.
	m := planMarkdown(d, 12, 100, 50, 0.3, r, 4, 1)
	if m.Price != 74 || math.Abs(m.ExpectedLeftoverBefore-4.5) > 1e-9 || m.ExpectedLeftoverAfter != 0 {
		t.Fatalf("markdown %+v", m)
	}
	// A 35% floor (price ⌈50/0.65⌉ = 77) stops it short: 4.5 − 2.5·0.77^−2 left.
	m = planMarkdown(d, 12, 100, 50, 0.35, r, 4, 1)
	if m.Price != 77 || math.Abs(m.ExpectedLeftoverAfter-(4.5-2.5/(0.77*0.77))) > 1e-9 || m.Margin < 0.35 {
		t.Fatalf("floored markdown %+v", m)
	}
	// 9 units: 7.5 sold before, 1.5 left, the last session's 2.5 clears it.
	if m := planMarkdown(d, 9, 100, 50, 0.3, r, 4, 1); m.Price != 100 {
		t.Fatalf("needless markdown %+v", m)
	}
}

func TestChoosePriceRangeEnds(t *testing.T) {
	d := mustDiscrete(t, 1, 1, 1)
	cases := []struct {
		name     string
		min, max int64
		lo, hi   int64
	}{
		{"fixed at the reference", 0, 0, 100, 100},
		{"only a maximum under the reference", 0, 90, 90, 90},
		{"only a minimum", 60, 0, 60, 100},
		{"a range", 70, 130, 70, 130},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := Candidate{SKU: "A", UnitCost: 40, RefPrice: 100, MinPrice: tc.min, MaxPrice: tc.max, Demand: d, Response: Prior("test")}
			p, _, ok := choosePrice(k, 0)
			if !ok || p < tc.lo || p > tc.hi {
				t.Fatalf("price %d ok %v, want in %d..%d", p, ok, tc.lo, tc.hi)
			}
		})
	}
}
