package plan

import (
	"math"

	"github.com/popkit/popkit"
)

// CandidateFromSKU returns the candidate for a catalogue SKU: its brand,
// cost, list price (as the reference price) and whether it is perishable.
// salvageShare is an unsold unit's value as a share of its cost, in
// [0, 1); demand is the SKU's demand over the event at the list price.
// The allowed price range is left at the list price; callers set MinPrice
// and MaxPrice from the brand's range.
func CandidateFromSKU(s popkit.SKU, demand Demand, r Response, salvageShare float64) Candidate {
	return Candidate{
		SKU:        s.ID,
		Brand:      s.BrandID,
		UnitCost:   s.UnitCostMinor,
		Salvage:    int64(math.Floor(salvageShare * float64(s.UnitCostMinor))),
		RefPrice:   s.PriceMinor,
		Perishable: s.Perishable,
		Demand:     demand,
		Response:   r,
	}
}
