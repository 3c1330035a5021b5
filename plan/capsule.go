package plan

import (
	"fmt"
	"math"
	"sort"
)

// Candidate is one SKU a taking-part brand offers for the capsule.
type Candidate struct {
	SKU   string `json:"sku"`
	Brand string `json:"brand"`
	// UnitCost is the cost of one unit in minor units; Salvage what an
	// unsold unit is worth after the event (its return or clearance value),
	// 0 ≤ Salvage < UnitCost.
	UnitCost int64 `json:"unit_cost_minor"`
	Salvage  int64 `json:"salvage_minor"`
	// RefPrice is the price the Demand was forecast at. MinPrice and
	// MaxPrice are the brand's allowed range for this SKU; zero means the
	// reference price (a fixed price when both are zero).
	RefPrice int64 `json:"ref_price_minor"`
	MinPrice int64 `json:"min_price_minor"`
	MaxPrice int64 `json:"max_price_minor"`
	// Perishable SKUs need a cold-chain node in range.
	Perishable bool `json:"perishable"`
	// MaxUnits caps the units of this SKU (0: no cap).
	MaxUnits int `json:"max_units"`
	// Demand is the demand over the event's horizon at RefPrice.
	Demand Demand `json:"-"`
	// Response is the SKU's price response (EstimateResponse, or Prior).
	Response Response `json:"response"`
}

// Constraints are what the operator sets for one event's capsule.
type Constraints struct {
	// TotalSlots is the shelf slots of the whole capsule (one SKU takes one
	// slot); BrandSlots the slots of each brand. A zero or missing limit
	// means no limit.
	TotalSlots int            `json:"total_slots"`
	BrandSlots map[string]int `json:"brand_slots"`
	// Budget is the stock budget: the most the capsule's units may cost, in
	// minor units of the event's currency.
	Budget int64 `json:"budget_minor"`
	// MinMargin is the lowest gross margin (price − cost) / price a SKU may
	// be carried at; MinOverallMargin the lowest expected contribution ÷
	// expected revenue of the whole capsule. Both in [0, 1).
	MinMargin        float64 `json:"min_margin"`
	MinOverallMargin float64 `json:"min_overall_margin"`
	// MustCarry SKUs get at least one unit; NeverCarry SKUs none.
	MustCarry  []string `json:"must_carry"`
	NeverCarry []string `json:"never_carry"`
	// ColdChainInRange says a cold-chain node serves the venue; without it
	// perishables are left out.
	ColdChainInRange bool `json:"cold_chain_in_range"`
	// Sessions is the event's number of sessions; MarkdownSessions how many
	// final sessions may carry a markdown price (0: no markdown plan).
	Sessions         int `json:"sessions"`
	MarkdownSessions int `json:"markdown_sessions"`
}

// Line is the plan for one candidate, carried or not, with its reasons.
type Line struct {
	SKU   string `json:"sku"`
	Brand string `json:"brand"`
	In    bool   `json:"in"`
	// Why says why the SKU is in or out: "must-carry", "in: best use of
	// slots and budget", "never-carry", "no cold chain in range", "below
	// margin floor", "below overall margin floor", "slot limit (…)",
	// "budget", "not profitable".
	Why   string `json:"why"`
	Units int    `json:"units"`
	Price int64  `json:"price_minor"`
	// PriceWhy says how the base price was chosen.
	PriceWhy string   `json:"price_why"`
	Response Response `json:"response"`
	// Forecast at Price: mean and quantiles of demand over the horizon.
	Mean float64   `json:"forecast_mean"`
	Q    Quantiles `json:"forecast_quantiles"`
	// ServiceLevel is P(D ≤ Units), the quantile the stock covers.
	// CriticalRatio is (price − cost) / (price − salvage), the quantile the
	// unconstrained newsvendor would stock to; ServiceLevel falls below it
	// when the budget, the slots or the overall floor bind.
	ServiceLevel  float64 `json:"service_level"`
	CriticalRatio float64 `json:"critical_ratio"`
	// ExpectedSales = E[min(D, Units)]; ExpectedLeftover = Units − that.
	ExpectedSales    float64 `json:"expected_sales"`
	ExpectedLeftover float64 `json:"expected_leftover"`
	// Margin is (Price − cost) / Price.
	Margin float64 `json:"margin"`
	// StockCost = Units × cost; ExpectedRevenue = Price × ExpectedSales;
	// ExpectedContribution = Price·E[min(D,q)] − cost·q + salvage·E[(q−D)+].
	StockCost            int64         `json:"stock_cost_minor"`
	ExpectedRevenue      float64       `json:"expected_revenue_minor"`
	ExpectedContribution float64       `json:"expected_contribution_minor"`
	Markdown             *MarkdownStep `json:"markdown,omitempty"`
}

// Plan is a proposed capsule.
type Plan struct {
	Lines []Line `json:"lines"`
	// Totals over carried lines.
	SKUs                 int     `json:"skus"`
	Units                int     `json:"units"`
	StockCost            int64   `json:"stock_cost_minor"`
	ExpectedRevenue      float64 `json:"expected_revenue_minor"`
	ExpectedContribution float64 `json:"expected_contribution_minor"`
	// OverallMargin = ExpectedContribution / ExpectedRevenue.
	OverallMargin float64 `json:"overall_margin"`
	// UpperBound is a proven upper bound on the expected contribution of
	// any plan meeting the constraints at the chosen prices; Gap =
	// UpperBound − ExpectedContribution (0 when solved exactly).
	UpperBound float64 `json:"upper_bound_minor"`
	Gap        float64 `json:"gap_minor"`
	// Method says how the slots and the budget were solved.
	Method   string   `json:"method"`
	Warnings []string `json:"warnings,omitempty"`
}

// validate checks the constraints and candidates, naming the field at fault.
func validate(cands []Candidate, c Constraints) error {
	if c.Budget < 0 {
		return fmt.Errorf("budget_minor: must not be negative")
	}
	if c.TotalSlots < 0 {
		return fmt.Errorf("total_slots: must not be negative")
	}
	for b, n := range c.BrandSlots {
		if n < 0 {
			return fmt.Errorf("brand_slots[%s]: must not be negative", b)
		}
	}
	if c.MinMargin < 0 || c.MinMargin >= 1 {
		return fmt.Errorf("min_margin: must be in [0, 1)")
	}
	if c.MinOverallMargin < 0 || c.MinOverallMargin >= 1 {
		return fmt.Errorf("min_overall_margin: must be in [0, 1)")
	}
	if c.Sessions < 0 || c.MarkdownSessions < 0 || (c.MarkdownSessions > 0 && c.MarkdownSessions >= c.Sessions) {
		return fmt.Errorf("markdown_sessions: must be below sessions")
	}
	seen := map[string]bool{}
	for i, k := range cands {
		f := func(name string) string { return fmt.Sprintf("candidates[%d].%s", i, name) }
		switch {
		case k.SKU == "":
			return fmt.Errorf("%s: is required", f("sku"))
		case seen[k.SKU]:
			return fmt.Errorf("%s: %q appears twice", f("sku"), k.SKU)
		case k.UnitCost <= 0:
			return fmt.Errorf("%s: must be positive", f("unit_cost_minor"))
		case k.Salvage < 0 || k.Salvage >= k.UnitCost:
			return fmt.Errorf("%s: must be in [0, unit cost)", f("salvage_minor"))
		case k.RefPrice <= 0:
			return fmt.Errorf("%s: must be positive", f("ref_price_minor"))
		case k.MinPrice < 0 || k.MaxPrice < 0 || (k.MaxPrice > 0 && k.MinPrice > k.MaxPrice):
			return fmt.Errorf("%s: must be a range min ≤ max", f("min_price_minor"))
		case k.MaxUnits < 0:
			return fmt.Errorf("%s: must not be negative", f("max_units"))
		case k.Demand == nil:
			return fmt.Errorf("%s: is required", f("demand"))
		}
		seen[k.SKU] = true
	}
	for _, s := range c.MustCarry {
		if !seen[s] {
			return fmt.Errorf("must_carry: %q is not a candidate", s)
		}
	}
	for _, s := range c.NeverCarry {
		if !seen[s] {
			return fmt.Errorf("never_carry: %q is not a candidate", s)
		}
		if contains(c.MustCarry, s) {
			return fmt.Errorf("never_carry: %q is also must-carry", s)
		}
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Solve proposes the capsule. For each candidate it first rules out what
// cannot be carried (never-carry, a perishable without cold chain, no
// allowed price meeting the margin floor), then picks the base price (see
// choosePrice), and then chooses the SKUs and their units to maximise the
// expected contribution Σ price·E[min(D,q)] − cost·q + salvage·E[(q−D)+]
// under the slots and the budget (see solveSlots), keeping the overall
// margin floor with a Lagrange multiplier (see solveFloor). Must-carry SKUs
// get one unit even if it loses money; a must-carry SKU that cannot be
// carried (perishable without cold chain, below the margin floor, over the
// budget) is left out with a warning. Markdowns are planned per carried
// line (see planMarkdown); they are not part of the objective, which
// values the whole horizon at the base price. Errors name the field at
// fault.
func Solve(cands []Candidate, c Constraints) (*Plan, error) {
	if err := validate(cands, c); err != nil {
		return nil, err
	}
	p := &Plan{Lines: make([]Line, len(cands))}
	var elig []eligible
	for i, k := range cands {
		l := &p.Lines[i]
		l.SKU, l.Brand, l.Response = k.SKU, k.Brand, k.Response
		must := contains(c.MustCarry, k.SKU)
		switch {
		case contains(c.NeverCarry, k.SKU):
			l.Why = "never-carry"
			describe(l, k, k.RefPrice, k.Demand)
			continue
		case k.Perishable && !c.ColdChainInRange:
			l.Why = "no cold chain in range"
			if must {
				p.Warnings = append(p.Warnings, fmt.Sprintf("must-carry %s is perishable and no cold-chain node is in range: left out", k.SKU))
			}
			describe(l, k, k.RefPrice, k.Demand)
			continue
		}
		price, why, ok := choosePrice(k, c.MinMargin)
		l.PriceWhy = why
		d := scaleDemand(k.Demand, k.Response.demandFactor(price, k.RefPrice))
		describe(l, k, price, d)
		if !ok {
			l.Why = "below margin floor"
			if must {
				p.Warnings = append(p.Warnings, fmt.Sprintf("must-carry %s has no allowed price meeting the %.0f%% margin floor: left out", k.SKU, 100*c.MinMargin))
			}
			continue
		}
		elig = append(elig, eligible{idx: i, k: k, price: price, d: d, must: must})
	}
	items, sol, mu := solveFloor(elig, c)
	for _, it := range items {
		if len(it.marg) == 0 {
			l := &p.Lines[it.idx]
			l.Why = "not profitable"
			if it.floorCut {
				l.Why = "below overall margin floor"
			}
		}
	}
	p.Method, p.UpperBound = sol.method, sol.upper
	if mu > 0 {
		p.Method += fmt.Sprintf("; overall margin floor priced in with multiplier %.4g", mu)
	}
	p.Warnings = append(p.Warnings, sol.warnings...)
	for _, it := range items {
		if len(it.marg) == 0 {
			continue
		}
		l := &p.Lines[it.idx]
		q := sol.units[it.idx]
		k := cands[it.idx]
		switch {
		case q > 0 && it.must:
			l.Why = "must-carry"
		case q > 0:
			l.Why = "in: best use of slots and budget"
		case sol.slotWhy[it.idx] != "":
			l.Why = sol.slotWhy[it.idx]
		default:
			l.Why = "budget"
		}
		if q == 0 {
			continue
		}
		l.In, l.Units = true, q
		fill(l, k, it.d, q)
		if c.MarkdownSessions > 0 {
			m := planMarkdown(it.d, q, l.Price, k.UnitCost, c.MinMargin, k.Response, c.Sessions, c.MarkdownSessions)
			l.Markdown = &m
		}
		p.SKUs++
		p.Units += q
		p.StockCost += l.StockCost
		p.ExpectedRevenue += l.ExpectedRevenue
		p.ExpectedContribution += l.ExpectedContribution
	}
	if p.ExpectedRevenue > 0 {
		p.OverallMargin = p.ExpectedContribution / p.ExpectedRevenue
	}
	if p.SKUs > 0 && p.OverallMargin < c.MinOverallMargin-1e-9 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("overall margin %.1f%% is below the %.0f%% floor because of must-carry lines", 100*p.OverallMargin, 100*c.MinOverallMargin))
	}
	p.Gap = math.Max(0, p.UpperBound-p.ExpectedContribution)
	return p, nil
}

// eligible is a candidate that may be carried, at its chosen price.
type eligible struct {
	idx   int
	k     Candidate
	price int64
	d     Demand
	must  bool
}

// solveFloor solves the slots and budget and keeps the overall margin
// floor f with a Lagrange multiplier μ ≥ 0 on the constraint
// Σ contribution − f·Σ revenue ≥ 0: each unit is valued at
// m + μ·(m − f·price·P(D ≥ k)) instead of m. μ = 0 is tried first; if the
// plan misses the floor, μ is doubled until the plan meets it and then
// bisected (30 steps) towards the smallest such μ, keeping the feasible
// plan with the most expected contribution. As μ grows the valuation tends
// to admitting only units that meet the floor on their own, which always
// meets it (must-carry units aside). The upper bound of the μ-valued
// problem is also a bound on the best plan that meets the floor, since
// that plan's penalty term is non-negative.
func solveFloor(elig []eligible, c Constraints) ([]*item, slotSolution, float64) {
	at := func(mu float64) ([]*item, slotSolution, bool, float64) {
		var all, items []*item
		for _, e := range elig {
			it := newItem(e.idx, e.k, e.price, e.d, c.MinOverallMargin, mu, e.must)
			all = append(all, it)
			if len(it.marg) > 0 {
				items = append(items, it)
			}
		}
		sol := solveSlots(items, c)
		var contrib, rev float64
		for _, it := range items {
			if q := sol.units[it.idx]; q > 0 {
				contrib += contribution(float64(it.price), float64(it.cost), float64(it.salvage), it.d, q)
				rev += float64(it.price) * it.d.ExpectedMin(q)
			}
		}
		ok := rev == 0 || contrib >= c.MinOverallMargin*rev-1e-9
		return all, sol, ok, contrib
	}
	items, sol, ok, _ := at(0)
	if ok || c.MinOverallMargin == 0 {
		return items, sol, 0
	}
	lo, hi := 0.0, 1.0
	var bestItems []*item
	var best slotSolution
	bestV, bestMu := math.Inf(-1), 0.0
	for range 40 {
		it, s, ok, v := at(hi)
		if ok {
			bestItems, best, bestV, bestMu = it, s, v, hi
			break
		}
		lo, hi = hi, hi*2
	}
	if bestItems == nil { // only must-carry lines can cause this
		return items, sol, 0
	}
	for range 30 {
		mid := (lo + hi) / 2
		it, s, ok, v := at(mid)
		if ok {
			hi = mid
			if v > bestV {
				bestItems, best, bestV, bestMu = it, s, v, mid
			}
		} else {
			lo = mid
		}
	}
	return bestItems, best, bestMu
}

// describe fills a line's forecast at price.
func describe(l *Line, k Candidate, price int64, d Demand) {
	l.Price = price
	l.Margin = margin(price, k.UnitCost)
	l.Mean = d.Mean()
	l.Q = Quantiles{Q50: d.Quantile(0.5), Q80: d.Quantile(0.8), Q90: d.Quantile(0.9), Q95: d.Quantile(0.95)}
	l.ServiceLevel = serviceLevel(d, 0)
	if price > k.Salvage {
		l.CriticalRatio = float64(price-k.UnitCost) / float64(price-k.Salvage)
	}
}

// fill sets a carried line's expected figures for q units.
func fill(l *Line, k Candidate, d Demand, q int) {
	sold := d.ExpectedMin(q)
	l.ServiceLevel = serviceLevel(d, q)
	l.ExpectedSales = sold
	l.ExpectedLeftover = float64(q) - sold
	l.StockCost = int64(q) * k.UnitCost
	l.ExpectedRevenue = float64(l.Price) * sold
	l.ExpectedContribution = contribution(float64(l.Price), float64(k.UnitCost), float64(k.Salvage), d, q)
}

func contribution(p, c, s float64, d Demand, q int) float64 {
	sold := d.ExpectedMin(q)
	return p*sold - c*float64(q) + s*(float64(q)-sold)
}

// choosePrice picks the base price within the allowed range that maximises
// the SKU's unconstrained newsvendor contribution max_q E[contribution]
// under its price response, among the prices that meet the margin floor.
// Tried: the reference price, both ends of the range, the floor price, the
// constant-elasticity optimum cost·e/(1+e) (e < −1) and 8 evenly spaced
// prices in between. It reports false when no allowed price meets the floor.
func choosePrice(k Candidate, floor float64) (int64, string, bool) {
	lo, hi := k.MinPrice, k.MaxPrice
	if lo == 0 {
		lo = k.RefPrice
		if hi > 0 {
			lo = min(lo, hi)
		}
	}
	if hi == 0 {
		hi = max(k.RefPrice, lo)
	}
	fp := floorPrice(k.UnitCost, floor)
	if fp > hi {
		return hi, fmt.Sprintf("the highest allowed price %d is under the margin-floor price %d", hi, fp), false
	}
	lo = max(lo, fp)
	if lo == hi {
		return lo, "the only allowed price", true
	}
	tries := []int64{lo, hi, k.RefPrice}
	if e := k.Response.Elasticity; e < -1 {
		tries = append(tries, int64(math.Round(float64(k.UnitCost)*e/(1+e))))
	}
	for i := 1; i <= 8; i++ {
		tries = append(tries, lo+(hi-lo)*int64(i)/9)
	}
	best, bestV := int64(0), math.Inf(-1)
	sort.Slice(tries, func(i, j int) bool { return tries[i] < tries[j] })
	for _, t := range tries {
		if t < lo || t > hi {
			continue
		}
		d := scaleDemand(k.Demand, k.Response.demandFactor(t, k.RefPrice))
		v := newsvendorValue(float64(t), float64(k.UnitCost), float64(k.Salvage), d)
		if v > bestV+1e-9 {
			best, bestV = t, v
		}
	}
	return best, fmt.Sprintf("best expected contribution in %d..%d (elasticity %.2f, %s)", lo, hi, k.Response.Elasticity, k.Response.Source), true
}

// newsvendorValue is max over q of the expected contribution, ignoring
// slots and budget: units are added while P(D ≥ k)(p − s) > c − s.
func newsvendorValue(p, c, s float64, d Demand) float64 {
	v := 0.0
	for k := 1; k <= maxSupport; k++ {
		m := (p-s)*survival(d, k) - (c - s)
		if m <= 0 {
			break
		}
		v += m
	}
	return v
}
