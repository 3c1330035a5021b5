package plan

import (
	"fmt"
	"math"
)

// Price response: expected demand at price p is the demand at the reference
// price times (p / reference)^Elasticity (constant elasticity, the log-log
// model). Elasticity is negative: a 1% higher price sells Elasticity% more.

// PriorElasticity is the elasticity a SKU gets when its history has too
// little price variation: −2.0, a round figure under the mean of −2.62 that
// Bijmolt, van Heerde and Pieters (2005, "New empirical generalizations on
// the determinants of price elasticity", JMR 42(2)) report across 1,851
// published estimates, so that without evidence prices are moved less
// than the average product would justify.
const PriorElasticity = -2.0

// PriorSD is the prior's standard deviation used to shrink an estimate
// towards PriorElasticity.
const PriorSD = 1.0

// MinPriceObservations and MinDistinctPrices are what a SKU's history
// needs before its own elasticity is estimated: at least 20 observations
// (days with sales) spanning at least 3 distinct prices (in minor units).
const (
	MinPriceObservations = 20
	MinDistinctPrices    = 3
)

// Elasticity bounds: estimates are clamped into [MinElasticity,
// MaxElasticity], so a noisy history can neither make demand vanish at a
// small price step nor make it rise with price.
const (
	MinElasticity = -5.0
	MaxElasticity = -0.1
)

// PricePoint is one observation of a SKU's sales at a price: for the UCI
// history, one day's total units and their quantity-weighted mean unit
// price.
type PricePoint struct {
	Price    float64 // minor units per unit, > 0
	Quantity float64 // units sold at that price, > 0
}

// Response is a SKU's price response and where it came from.
type Response struct {
	Elasticity float64 `json:"elasticity"`
	// Source is "estimated" (own history, shrunk towards the prior) or
	// "prior".
	Source string `json:"source"`
	// Estimate, SE, Observations and Prices describe the own-history fit:
	// the raw least-squares slope of log units on log price, its standard
	// error, the observations and the distinct prices used. They are zero
	// when Source is "prior" for lack of data.
	Estimate     float64 `json:"estimate"`
	SE           float64 `json:"se"`
	Observations int     `json:"observations"`
	Prices       int     `json:"prices"`
	// Weight is the share of the own estimate in Elasticity:
	// PriorSD² / (PriorSD² + SE²).
	Weight float64 `json:"weight"`
	// Why says in words which one was used and why.
	Why string `json:"why"`
}

// Prior returns the prior response with the reason given.
func Prior(why string) Response {
	return Response{Elasticity: PriorElasticity, Source: "prior", Why: why}
}

// EstimateResponse fits log(Quantity) = a + e·log(Price) by least squares
// over the points and shrinks e towards PriorElasticity with weight
// PriorSD² / (PriorSD² + SE(e)²), then clamps it into [MinElasticity,
// MaxElasticity]. With fewer than MinPriceObservations points or fewer than
// MinDistinctPrices distinct prices it returns the prior and says why.
func EstimateResponse(points []PricePoint) Response {
	var xs, ys []float64
	distinct := map[int64]bool{}
	for _, p := range points {
		if p.Price <= 0 || p.Quantity <= 0 {
			continue
		}
		xs = append(xs, math.Log(p.Price))
		ys = append(ys, math.Log(p.Quantity))
		distinct[int64(math.Round(p.Price))] = true
	}
	n := len(xs)
	if n < MinPriceObservations {
		r := Prior(fmt.Sprintf("prior: %d observations, fewer than %d", n, MinPriceObservations))
		r.Observations, r.Prices = n, len(distinct)
		return r
	}
	if len(distinct) < MinDistinctPrices {
		r := Prior(fmt.Sprintf("prior: %d distinct prices, fewer than %d", len(distinct), MinDistinctPrices))
		r.Observations, r.Prices = n, len(distinct)
		return r
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx <= 0 {
		return Prior("prior: no price variation")
	}
	e := sxy / sxx
	var rss float64
	for i := range xs {
		r := ys[i] - my - e*(xs[i]-mx)
		rss += r * r
	}
	se := math.Sqrt(rss / float64(n-2) / sxx)
	w := PriorSD * PriorSD / (PriorSD*PriorSD + se*se)
	el := w*e + (1-w)*PriorElasticity
	el = math.Min(MaxElasticity, math.Max(MinElasticity, el))
	return Response{
		Elasticity: el, Source: "estimated", Estimate: e, SE: se,
		Observations: n, Prices: len(distinct), Weight: w,
		Why: fmt.Sprintf("estimated: slope %.2f ± %.2f from %d days at %d prices, %.0f%% weight against prior %.1f",
			e, se, n, len(distinct), 100*w, PriorElasticity),
	}
}

// demandFactor is the multiplier of expected demand at price p against the
// reference price.
func (r Response) demandFactor(p, ref int64) float64 {
	if p == ref || ref <= 0 {
		return 1
	}
	return math.Pow(float64(p)/float64(ref), r.Elasticity)
}

// floorPrice returns the lowest whole price in minor units whose margin
// (p − cost) / p is at least floor (floor < 1).
func floorPrice(cost int64, floor float64) int64 {
	if floor <= 0 {
		return cost
	}
	return int64(math.Ceil(float64(cost)/(1-floor) - 1e-9))
}

// MarkdownStep is the price of the last sessions of an event.
type MarkdownStep struct {
	// Sessions is how many final sessions carry the markdown price.
	Sessions int `json:"sessions"`
	// Price is the markdown price in minor units; equal to the base price
	// when no markdown is needed.
	Price int64 `json:"price_minor"`
	// ExpectedLeftoverBefore is the stock expected to remain when the
	// markdown starts (units); ExpectedLeftoverAfter what remains after it.
	ExpectedLeftoverBefore float64 `json:"expected_leftover_before"`
	ExpectedLeftoverAfter  float64 `json:"expected_leftover_after"`
	// Margin is (Price − cost) / Price.
	Margin float64 `json:"margin"`
	Why    string  `json:"why"`
}

// planMarkdown sets the price of the last md of sessions sessions. Demand is
// spread evenly over the sessions. The stock expected to remain when the
// markdown starts is q − E[min(D·(sessions−md)/sessions, q)], approximated
// by scaling the demand's expected sales; the markdown price is the highest
// price, not above base and not below the margin floor price, at which the
// expected demand of the markdown sessions, md/sessions·E[D]·(p/base)^e,
// covers that remaining stock. When even the floor price does not clear
// it, the floor price is used and the expected leftover after is said.
func planMarkdown(d Demand, q int, base, cost int64, floor float64, r Response, sessions, md int) MarkdownStep {
	step := MarkdownStep{Sessions: md, Price: base, Margin: margin(base, cost)}
	if md <= 0 || sessions <= md || q <= 0 {
		step.Why = "no markdown: no final sessions to mark down"
		step.ExpectedLeftoverBefore = float64(q) - d.ExpectedMin(q)
		step.ExpectedLeftoverAfter = step.ExpectedLeftoverBefore
		return step
	}
	shareBefore := float64(sessions-md) / float64(sessions)
	shareMD := float64(md) / float64(sessions)
	// Expected sales in the first sessions: E[min(share·D, q)] ≈ share·E[min(D, q/share)].
	soldBefore := shareBefore * d.ExpectedMin(int(math.Floor(float64(q)/shareBefore)))
	left := math.Max(0, float64(q)-soldBefore)
	step.ExpectedLeftoverBefore = left
	mdDemand := func(p int64) float64 { return shareMD * d.Mean() * r.demandFactor(p, base) }
	if mdDemand(base) >= left {
		step.ExpectedLeftoverAfter = 0
		step.Why = fmt.Sprintf("no markdown: expected demand of the last %d session(s) (%.1f) covers the %.1f units left", md, mdDemand(base), left)
		return step
	}
	lo := floorPrice(cost, floor)
	if lo >= base {
		step.ExpectedLeftoverAfter = left - mdDemand(base)
		step.Why = "no markdown: the base price is already at the margin floor"
		return step
	}
	// Demand falls as price rises, so bisect for the highest clearing price.
	if mdDemand(lo) < left {
		step.Price = lo
		step.ExpectedLeftoverAfter = left - mdDemand(lo)
		step.Margin = margin(lo, cost)
		step.Why = fmt.Sprintf("markdown to the margin-floor price: %.1f units expected left after", step.ExpectedLeftoverAfter)
		return step
	}
	a, b := lo, base // mdDemand(a) ≥ left > mdDemand(b)
	for b-a > 1 {
		m := (a + b) / 2
		if mdDemand(m) >= left {
			a = m
		} else {
			b = m
		}
	}
	step.Price = a
	step.Margin = margin(a, cost)
	step.Why = fmt.Sprintf("markdown clears the %.1f units expected left at the highest such price", left)
	return step
}

func margin(p, cost int64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	return float64(p-cost) / float64(p)
}
