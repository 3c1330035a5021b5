package plan

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustDiscrete(t testing.TB, pmf ...float64) *Discrete {
	t.Helper()
	d, err := NewDiscrete(pmf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixed returns a candidate sold at a fixed price.
func fixed(sku, brand string, price, cost, salvage int64, d Demand) Candidate {
	return Candidate{SKU: sku, Brand: brand, UnitCost: cost, Salvage: salvage, RefPrice: price, Demand: d, Response: Prior("test")}
}

func line(t *testing.T, p *Plan, sku string) Line {
	t.Helper()
	for _, l := range p.Lines {
		if l.SKU == sku {
			return l
		}
	}
	t.Fatalf("no line for %s", sku)
	return Line{}
}

// bruteForce enumerates every vector of units (0..4 each) that meets the
// constraints and returns the best expected contribution, computed from the
// pmfs directly (not through the planner's code).
func bruteForce(cands []Candidate, pmfs [][]float64, c Constraints) float64 {
	best := math.Inf(-1)
	q := make([]int, len(cands))
	var rec func(i int)
	rec = func(i int) {
		if i == len(cands) {
			var cost int64
			per := map[string]int{}
			n := 0
			v := 0.0
			for j, k := range cands {
				if q[j] == 0 {
					if contains(c.MustCarry, k.SKU) {
						return
					}
					continue
				}
				if contains(c.NeverCarry, k.SKU) || (k.Perishable && !c.ColdChainInRange) ||
					float64(k.RefPrice-k.UnitCost) < c.MinMargin*float64(k.RefPrice) {
					return
				}
				cost += int64(q[j]) * k.UnitCost
				per[k.Brand]++
				n++
				sold := 0.0
				for x, p := range pmfs[j] {
					sold += p * float64(min(x, q[j]))
				}
				v += float64(k.RefPrice)*sold - float64(k.UnitCost*int64(q[j])) + float64(k.Salvage)*(float64(q[j])-sold)
			}
			if cost > c.Budget || (c.TotalSlots > 0 && n > c.TotalSlots) {
				return
			}
			if c.MinOverallMargin > 0 {
				rev := 0.0
				for j, k := range cands {
					for x, p := range pmfs[j] {
						rev += p * float64(k.RefPrice) * float64(min(x, q[j]))
					}
				}
				if v < c.MinOverallMargin*rev-1e-9 {
					return
				}
			}
			for b, m := range per {
				if l := c.BrandSlots[b]; l > 0 && m > l {
					return
				}
			}
			best = math.Max(best, v)
			return
		}
		for x := 0; x <= 4; x++ {
			q[i] = x
			rec(i + 1)
		}
	}
	rec(0)
	return best
}

func TestSolveNewsvendorByHand(t *testing.T) {
	// D uniform on 0..3, price 10, cost 4, no salvage: unit k adds
	// 10·P(D ≥ k) − 4 = 3.5, 1, −1.5, so 2 units, E[min(D,2)] = 1.25,
	// contribution 10·1.25 − 8 = 4.5, leftover 0.75, service level 0.75.
	d := mustDiscrete(t, 1, 1, 1, 1)
	p, err := Solve([]Candidate{fixed("A", "b", 10, 4, 0, d)}, Constraints{Budget: 1000})
	if err != nil {
		t.Fatal(err)
	}
	l := line(t, p, "A")
	if !l.In || l.Units != 2 || math.Abs(l.ExpectedContribution-4.5) > 1e-9 ||
		math.Abs(l.ExpectedSales-1.25) > 1e-9 || math.Abs(l.ExpectedLeftover-0.75) > 1e-9 ||
		math.Abs(l.ServiceLevel-0.75) > 1e-9 || math.Abs(l.Margin-0.6) > 1e-9 || math.Abs(l.CriticalRatio-0.6) > 1e-9 {
		t.Fatalf("line = %+v", l)
	}
	if p.Gap != 0 || p.StockCost != 8 {
		t.Fatalf("gap %v stock cost %d", p.Gap, p.StockCost)
	}
	// With salvage 2 the third unit adds 8·0.25 − 2 = 0: still not worth it;
	// the second adds 8·0.5 − 2 = 2.
	p, _ = Solve([]Candidate{fixed("A", "b", 10, 4, 2, d)}, Constraints{Budget: 1000})
	if l := line(t, p, "A"); l.Units != 2 || math.Abs(l.ExpectedContribution-(12.5-8+2*0.75)) > 1e-9 {
		t.Fatalf("with salvage: %+v", l)
	}
}

func TestSolveHandMadeCases(t *testing.T) {
	d := [][]float64{{1, 1, 1, 1}, {0, 1, 2, 1}, {1, 2, 2, 1, 1}, {0, 0, 1, 1, 1}}
	ds := make([]*Discrete, len(d))
	for i := range d {
		ds[i] = mustDiscrete(t, d[i]...)
		var s float64
		for _, x := range d[i] {
			s += x
		}
		for j := range d[i] {
			d[i][j] /= s
		}
	}
	base := func() []Candidate {
		return []Candidate{
			fixed("A", "x", 10, 4, 0, ds[0]),
			fixed("B", "x", 12, 5, 1, ds[1]),
			fixed("C", "y", 8, 3, 0, ds[2]),
			fixed("D", "y", 20, 9, 2, ds[3]),
		}
	}
	cases := []struct {
		name  string
		cands func() []Candidate
		c     Constraints
		want  map[string]string // SKU → start of Why
	}{
		{"binding slots", base, Constraints{Budget: 1000, BrandSlots: map[string]int{"x": 1, "y": 1}},
			map[string]string{"A": "slot limit (brand x", "D": "in"}},
		{"binding total slots", base, Constraints{Budget: 1000, TotalSlots: 2},
			map[string]string{"A": "slot limit (total", "C": "slot limit (total"}},
		{"binding budget", base, Constraints{Budget: 30}, map[string]string{}},
		{"slots and budget", base, Constraints{Budget: 25, TotalSlots: 3, BrandSlots: map[string]int{"y": 1}},
			map[string]string{}},
		{"margin floor excludes", func() []Candidate {
			c := base()
			c[3].UnitCost = 15 // 25% margin
			return c
		}, Constraints{Budget: 1000, MinMargin: 0.4}, map[string]string{"D": "below margin floor", "A": "in"}},
		{"perishable without cold chain", func() []Candidate {
			c := base()
			c[3].Perishable = true
			return c
		}, Constraints{Budget: 1000}, map[string]string{"D": "no cold chain in range"}},
		{"perishable with cold chain", func() []Candidate {
			c := base()
			c[3].Perishable = true
			return c
		}, Constraints{Budget: 1000, ColdChainInRange: true}, map[string]string{"D": "in"}},
		{"must-carry", func() []Candidate {
			c := base()
			c[2].UnitCost = 7 // 8·P(D≥1) − 7 < 0: never profitable
			return c
		}, Constraints{Budget: 1000, MustCarry: []string{"C"}, TotalSlots: 2}, map[string]string{"C": "must-carry"}},
		{"not profitable without must-carry", func() []Candidate {
			c := base()
			c[2].UnitCost = 7
			return c
		}, Constraints{Budget: 1000}, map[string]string{"C": "not profitable"}},
		{"never-carry", base, Constraints{Budget: 1000, NeverCarry: []string{"D"}}, map[string]string{"D": "never-carry"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cands := tc.cands()
			p, err := Solve(cands, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(cands, d, tc.c)
			if math.Abs(p.ExpectedContribution-want) > 1e-6 {
				t.Fatalf("contribution %.6f, brute force %.6f (%s)", p.ExpectedContribution, want, p.Method)
			}
			if p.Gap > 1e-6 {
				t.Fatalf("gap %v on an exact case", p.Gap)
			}
			checkFeasible(t, p, cands, tc.c)
			for sku, why := range tc.want {
				if l := line(t, p, sku); !strings.HasPrefix(l.Why, why) {
					t.Errorf("%s: why %q, want %q…", sku, l.Why, why)
				}
			}
		})
	}
}

func checkFeasible(t *testing.T, p *Plan, cands []Candidate, c Constraints) {
	t.Helper()
	var cost int64
	per := map[string]int{}
	n := 0
	for i, l := range p.Lines {
		if !l.In {
			if l.Units != 0 || l.Why == "" {
				t.Fatalf("out line %+v", l)
			}
			continue
		}
		cost += int64(l.Units) * cands[i].UnitCost
		per[l.Brand]++
		n++
	}
	if cost > c.Budget || cost != p.StockCost {
		t.Fatalf("stock cost %d (plan says %d) over budget %d", cost, p.StockCost, c.Budget)
	}
	if c.TotalSlots > 0 && n > c.TotalSlots {
		t.Fatalf("%d SKUs over %d slots", n, c.TotalSlots)
	}
	for b, m := range per {
		if l := c.BrandSlots[b]; l > 0 && m > l {
			t.Fatalf("brand %s: %d SKUs over %d slots", b, m, l)
		}
	}
}

func TestSolveRandomSmallAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		var cands []Candidate
		var pmfs [][]float64
		for i := range 5 {
			pmf := make([]float64, 1+r.IntN(6))
			var s float64
			for j := range pmf {
				pmf[j] = r.Float64()
				s += pmf[j]
			}
			for j := range pmf {
				pmf[j] /= s
			}
			cost := int64(2 + r.IntN(8))
			k := fixed(string(rune('A'+i)), []string{"x", "y"}[i%2], cost+int64(1+r.IntN(12)), cost, int64(r.IntN(int(cost))), mustDiscrete(t, pmf...))
			cands = append(cands, k)
			pmfs = append(pmfs, pmf)
		}
		c := Constraints{Budget: int64(5 + r.IntN(60)), TotalSlots: 1 + r.IntN(5), BrandSlots: map[string]int{"x": 1 + r.IntN(3)}}
		if r.IntN(3) == 0 {
			c.MustCarry = []string{"C"}
			c.Budget += 20
		}
		// Units above 4 are never worth it in the brute force's range only if
		// demand stays under 5: the pmfs span at most 0..5, so cap at 4.
		for i := range cands {
			cands[i].MaxUnits = 4
		}
		p, err := Solve(cands, c)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForce(cands, pmfs, c)
		if math.Abs(p.ExpectedContribution-want) > 1e-6 {
			t.Fatalf("trial %d: contribution %.6f, brute force %.6f (%s)", trial, p.ExpectedContribution, want, p.Method)
		}
		checkFeasible(t, p, cands, c)
	}
}

func TestSolveLagrangianBound(t *testing.T) {
	// 30 candidates in 3 brands with 6 slots: beyond exact enumeration.
	r := rand.New(rand.NewPCG(3, 4))
	var cands []Candidate
	for i := range 30 {
		pmf := make([]float64, 3+r.IntN(30))
		for j := range pmf {
			pmf[j] = r.Float64()
		}
		cost := int64(20 + r.IntN(80))
		cands = append(cands, fixed(string(rune('A'+i)), []string{"x", "y", "z"}[i%3], cost*2, cost, cost/4, mustDiscrete(t, pmf...)))
	}
	c := Constraints{Budget: 3000, TotalSlots: 6, BrandSlots: map[string]int{"x": 2}}
	p, err := Solve(cands, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFeasible(t, p, cands, c)
	if !strings.Contains(p.Method, "Lagrangian") {
		t.Fatalf("method %q", p.Method)
	}
	if p.UpperBound < p.ExpectedContribution-1e-9 || p.Gap < 0 {
		t.Fatalf("bound %.2f below value %.2f", p.UpperBound, p.ExpectedContribution)
	}
	if p.Gap > 0.05*p.UpperBound {
		t.Fatalf("gap %.2f is over 5%% of the bound %.2f", p.Gap, p.UpperBound)
	}
	if p.SKUs != 6 {
		t.Fatalf("%d SKUs carried, want all 6 slots used", p.SKUs)
	}
}

func TestSolveValidation(t *testing.T) {
	d := mustDiscrete(t, 1, 1)
	ok := fixed("A", "b", 10, 4, 0, d)
	cases := []struct {
		name  string
		cands []Candidate
		c     Constraints
		field string
	}{
		{"negative budget", []Candidate{ok}, Constraints{Budget: -1}, "budget_minor"},
		{"salvage above cost", []Candidate{fixed("A", "b", 10, 4, 4, d)}, Constraints{}, "candidates[0].salvage_minor"},
		{"no demand", []Candidate{fixed("A", "b", 10, 4, 0, nil)}, Constraints{}, "candidates[0].demand"},
		{"duplicate", []Candidate{ok, ok}, Constraints{}, "candidates[1].sku"},
		{"unknown must-carry", []Candidate{ok}, Constraints{MustCarry: []string{"Z"}}, "must_carry"},
		{"both lists", []Candidate{ok}, Constraints{MustCarry: []string{"A"}, NeverCarry: []string{"A"}}, "never_carry"},
		{"margin", []Candidate{ok}, Constraints{MinMargin: 1}, "min_margin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Solve(tc.cands, tc.c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
				t.Fatalf("err = %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestGreedyAllocationWithinItsBound(t *testing.T) {
	// The greedy allocation (used when the exact programme is too large) is
	// never better than the exact one, and its bound is never below it.
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 200 {
		var items []*item
		for i := range 2 + r.IntN(5) {
			pmf := make([]float64, 2+r.IntN(12))
			for j := range pmf {
				pmf[j] = r.Float64()
			}
			cost := int64(3 + r.IntN(20))
			k := fixed("X", "b", cost+int64(1+r.IntN(30)), cost, int64(r.IntN(int(cost))), mustDiscrete(t, pmf...))
			it := newItem(i, k, k.RefPrice, k.Demand, 0, 0, i == 0 && trial%3 == 0)
			if len(it.marg) > 0 {
				items = append(items, it)
			}
		}
		budget := int64(r.IntN(200))
		g := allocation{units: map[int]int{}, ok: true}
		x := allocate(items, budget) // small: the exact programme
		if !x.ok {
			continue
		}
		for _, it := range items {
			g.units[it.idx] = it.forced
			for k := 0; k < it.forced; k++ {
				g.value += it.marg[k]
			}
			budget -= int64(it.forced) * it.cost
		}
		allocateGreedy(items, budget, &g)
		if !x.exact || g.value > x.value+1e-9 || g.bound < x.value-1e-9 {
			t.Fatalf("trial %d: greedy %.4f (bound %.4f), exact %.4f", trial, g.value, g.bound, x.value)
		}
		var spent int64
		for _, it := range items {
			spent += int64(g.units[it.idx]-it.forced) * it.cost
		}
		if spent > budget {
			t.Fatalf("trial %d: greedy spent %d of %d", trial, spent, budget)
		}
	}
}

func TestSolveOverallMarginFloor(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	exact := 0
	for trial := range 60 {
		var cands []Candidate
		var pmfs [][]float64
		for i := range 4 {
			pmf := make([]float64, 2+r.IntN(4))
			var s float64
			for j := range pmf {
				pmf[j] = r.Float64()
				s += pmf[j]
			}
			for j := range pmf {
				pmf[j] /= s
			}
			cost := int64(4 + r.IntN(8))
			k := fixed(string(rune('A'+i)), "x", cost+int64(2+r.IntN(10)), cost, int64(r.IntN(int(cost))), mustDiscrete(t, pmf...))
			k.MaxUnits = 4
			cands = append(cands, k)
			pmfs = append(pmfs, pmf)
		}
		c := Constraints{Budget: int64(20 + r.IntN(60)), TotalSlots: 3, MinOverallMargin: 0.15 + 0.2*r.Float64()}
		p, err := Solve(cands, c)
		if err != nil {
			t.Fatal(err)
		}
		checkFeasible(t, p, cands, c)
		want := bruteForce(cands, pmfs, c)
		if p.SKUs > 0 && p.OverallMargin < c.MinOverallMargin-1e-9 {
			t.Fatalf("trial %d: overall margin %.4f under the floor %.4f", trial, p.OverallMargin, c.MinOverallMargin)
		}
		if p.ExpectedContribution > want+1e-6 || want > p.UpperBound+1e-6 {
			t.Fatalf("trial %d: plan %.4f, brute force %.4f, bound %.4f", trial, p.ExpectedContribution, want, p.UpperBound)
		}
		if math.Abs(p.ExpectedContribution-want) < 1e-6 {
			exact++
		}
	}
	t.Logf("%d of 60 instances solved to the brute-force optimum under the overall floor", exact)
	if exact < 40 {
		t.Errorf("only %d of 60 instances at the optimum", exact)
	}
}

func TestSolveExplainsPriceAndMarkdown(t *testing.T) {
	// A forecast's quantiles plug in through FromQuantiles; the price is free
	// within 80..150 with an estimated response; 4 sessions, last one marked
	// down.
	d, err := FromQuantiles(Quantiles{Q50: 40, Q80: 55, Q90: 65, Q95: 72})
	if err != nil {
		t.Fatal(err)
	}
	resp := Response{Elasticity: -2.5, Source: "estimated", Why: "estimated: test"}
	k := Candidate{SKU: "A", Brand: "b", UnitCost: 50, Salvage: 10, RefPrice: 100, MinPrice: 80, MaxPrice: 150, Demand: d, Response: resp}
	p, err := Solve([]Candidate{k}, Constraints{Budget: 100000, MinMargin: 0.3, Sessions: 4, MarkdownSessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := p.Lines[0]
	if !l.In || l.Price < 80 || l.Price > 150 || l.Margin < 0.3 || l.Response.Source != "estimated" || l.PriceWhy == "" {
		t.Fatalf("line %+v", l)
	}
	// The chosen price beats the reference price on the newsvendor value.
	at := func(price int64) float64 {
		return newsvendorValue(float64(price), 50, 10, scaleDemand(d, resp.demandFactor(price, 100)))
	}
	if at(l.Price) < at(100) {
		t.Fatalf("price %d worth %.1f, reference worth %.1f", l.Price, at(l.Price), at(100))
	}
	if l.Markdown == nil || l.Markdown.Sessions != 1 || l.Markdown.Price > l.Price || l.Markdown.Margin < 0.3-1e-9 || l.Markdown.Why == "" {
		t.Fatalf("markdown %+v", l.Markdown)
	}
	// The forecast on the line is the demand at the chosen price.
	if want := d.Mean() * resp.demandFactor(l.Price, 100); math.Abs(l.Mean-want) > 1e-9 {
		t.Fatalf("line mean %v, want %v", l.Mean, want)
	}
}

func TestSolveWarnings(t *testing.T) {
	d := mustDiscrete(t, 1, 1, 1, 1)
	cands := []Candidate{fixed("A", "b", 10, 4, 0, d), fixed("B", "b", 10, 6, 0, d)}
	cands[0].Perishable = true
	p, err := Solve(cands, Constraints{Budget: 100, MustCarry: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	if l := line(t, p, "A"); l.In || l.Why != "no cold chain in range" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "must-carry A is perishable") {
		t.Fatalf("line %+v warnings %v", l, p.Warnings)
	}
	// A budget under one unit of a must-carry SKU carries nothing and says so.
	p, err = Solve(cands, Constraints{Budget: 5, MustCarry: []string{"B"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.SKUs != 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "budget does not cover") {
		t.Fatalf("plan %+v", p)
	}
}
