package prestage

import (
	"math"

	"github.com/popkit/popkit/forecast"
)

// Policy sets order-up-to targets: Targets writes, from the demand history
// y, the stock level wanted at the start of each of the next h days.
type Policy interface {
	Name() string
	Targets(y []float64, h int, out []float64)
}

// Newsvendor stages up to the Ratio quantile of Forecaster's forecast
// (QuantileAt), the pre-stage plan of issue 14.
type Newsvendor struct {
	Forecaster forecast.Forecaster
	Ratio      float64
}

// Name returns "newsvendor".
func (Newsvendor) Name() string { return "newsvendor" }

// Targets implements Policy.
func (p Newsvendor) Targets(y []float64, h int, out []float64) {
	var f forecast.Forecast
	p.Forecaster.Forecast(y, h, &f)
	for j := range h {
		out[j] = QuantileAt(&f, j, p.Ratio)
	}
}

// SeasonalNaiveStock stages up to Factor times the demand of the same
// weekday a week earlier (Factor 0 means 1).
type SeasonalNaiveStock struct{ Factor float64 }

// Name returns "seasonal naive".
func (SeasonalNaiveStock) Name() string { return "seasonal naive" }

// Targets implements Policy.
func (p SeasonalNaiveStock) Targets(y []float64, h int, out []float64) {
	forecast.SeasonalNaive{Period: 7}.Forecast(y, h, out)
	k := p.Factor
	if k == 0 {
		k = 1
	}
	for j := range h {
		out[j] *= k
	}
}

// MeanSafetyStock stages up to the mean of the last 28 days plus Safety
// standard deviations of those days.
type MeanSafetyStock struct{ Safety float64 }

// Name returns "28-day mean + safety".
func (MeanSafetyStock) Name() string { return "28-day mean + safety" }

// Targets implements Policy.
func (p MeanSafetyStock) Targets(y []float64, h int, out []float64) {
	w := y[max(0, len(y)-28):]
	var m, v float64
	for _, x := range w {
		m += x
	}
	m /= float64(len(w))
	for _, x := range w {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / float64(len(w)))
	for j := range h {
		out[j] = m + p.Safety*sd
	}
}

// Outcome totals a replay.
type Outcome struct {
	Demand, Sold, Staged float64
	// Leftover is the sum over days of the units left at the node at the
	// end of the day (they stay there and count as stock on hand the next
	// day).
	Leftover float64
}

// FillRate is Sold / Demand (1 without demand).
func (o Outcome) FillRate() float64 {
	if o.Demand == 0 {
		return 1
	}
	return o.Sold / o.Demand
}

// Add returns the sum of two outcomes.
func (o Outcome) Add(b Outcome) Outcome {
	return Outcome{o.Demand + b.Demand, o.Sold + b.Sold, o.Staged + b.Staged, o.Leftover + b.Leftover}
}

// Replay stages one SKU daily at one node over demand[start:start+days]
// with no stock at the start: every review days the policy sets targets
// from demand[:t] (the history before day t) for the next review days; each
// day Stage tops the stock up to the target within capacity, demand is met
// from stock (what is short is lost, not backordered), and what is left
// stays at the node.
func Replay(demand []float64, start, days, review int, p Policy, capacity float64) Outcome {
	var o Outcome
	onHand := 0.0
	targets := make([]float64, review)
	for d := range days {
		t := start + d
		if d%review == 0 {
			p.Targets(demand[:t], review, targets)
		}
		s := Stage(targets[d%review], onHand, capacity)
		onHand += s
		sold := math.Min(onHand, demand[t])
		onHand -= sold
		o.Demand += demand[t]
		o.Sold += sold
		o.Staged += s
		o.Leftover += onHand
	}
	return o
}
