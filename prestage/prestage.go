// Package prestage turns demand forecasts into pre-stage plans for fulfilment
// nodes: how many units of each SKU to stage (or make) at a microfactory or
// kitting station before a day's sessions, and a replay that scores such
// plans against realised demand. It is pure Go over package forecast.
package prestage

import (
	"fmt"
	"math"

	"github.com/popkit/popkit/forecast"
)

// Economics are the per-unit money figures of one SKU at one node, in one
// currency: the selling Price, the UnitCost of staging or making it, and the
// Salvage value of a unit left over (returned, marked down or reused).
type Economics struct {
	Price, UnitCost, Salvage float64
}

// DefaultEconomics returns the documented defaults for a SKU sold at price
// when its brand has given no figures: unit cost half the price, salvage a
// quarter (a leftover goes back to the brand's stock at half its cost).
// Their critical ratio is 2/3.
func DefaultEconomics(price float64) Economics {
	return Economics{Price: price, UnitCost: price / 2, Salvage: price / 4}
}

// CriticalRatio returns the newsvendor critical ratio cu/(cu+co) with
// underage cost cu = Price − UnitCost (margin lost per unit short) and
// overage cost co = UnitCost − Salvage (loss per unit left over), that is
// (Price − UnitCost)/(Price − Salvage). It is an error unless
// Price > UnitCost ≥ Salvage ≥ 0.
func (e Economics) CriticalRatio() (float64, error) {
	if !(e.Price > e.UnitCost && e.UnitCost >= e.Salvage && e.Salvage >= 0) {
		return 0, fmt.Errorf("economics: want price > unit cost ≥ salvage ≥ 0, got %g, %g, %g", e.Price, e.UnitCost, e.Salvage)
	}
	return (e.Price - e.UnitCost) / (e.Price - e.Salvage), nil
}

// QuantileAt returns the quantile at level tau of forecast f for its
// horizon j, interpolated linearly between the forecast's Levels (q50, q80,
// q90, q95); below 0.5 between 0 at tau = 0 and q50 (demand is not
// negative), above 0.95 it is q95.
func QuantileAt(f *forecast.Forecast, j int, tau float64) float64 {
	lv := forecast.Levels
	if tau <= lv[0] {
		return f.Q[0][j] * max(tau, 0) / lv[0]
	}
	for i := 1; i < len(lv); i++ {
		if tau <= lv[i] {
			w := (tau - lv[i-1]) / (lv[i] - lv[i-1])
			return f.Q[i-1][j] + w*(f.Q[i][j]-f.Q[i-1][j])
		}
	}
	return f.Q[len(lv)-1][j]
}

// Stage returns the units to stage to reach target: the target rounded up
// to whole units, minus the stock already at the node or in transit, never
// below 0 and at most capacity (free space for this SKU at the node;
// math.Inf(1) when unbounded).
func Stage(target, onHand, capacity float64) float64 {
	return math.Min(math.Max(math.Ceil(target-1e-9)-onHand, 0), math.Max(capacity, 0))
}
