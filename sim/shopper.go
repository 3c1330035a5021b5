package sim

import (
	"math"
	"math/rand/v2"
	"sync"
)

// The shopper model: how many of the people who walk into a simulated
// pop-up buy something, what they buy and how much. The live demo's
// cashiers (RingUpSales, fed by the door counts of RunEdge) and the seeded
// history (SeedHistory) both follow it, so the KPIs of the demo read like
// a physical shop's.
//
// Conversion (sales ÷ entries) is an assumption taken from published
// figures for physical stores, not from the project's data sets:
// physical stores typically convert 20-40% of visitors (McKinsey 2024, as
// summarised in "Real Conversion Rate in Physical Retail",
// eaglesight.digital/en-us/blog/physical-retail-conversion-rate), and
// fashion and gift shops about 20-30% ("Footfall conversion",
// daiom.in/footfall). A pop-up of small gift and homeware brands sits in
// the lower half of that range, so each simulated event draws its rate
// uniformly from [ConversionLow, ConversionHigh] and every entry buys
// with that probability.
const (
	ConversionLow  = 0.20
	ConversionHigh = 0.32
)

// DrawConversion returns one event's conversion rate.
func DrawConversion(rng *rand.Rand) float64 {
	return ConversionLow + (ConversionHigh-ConversionLow)*rng.Float64()
}

// Buyers returns how many of entries people buy, each with probability
// rate (a binomial draw).
func Buyers(rng *rand.Rand, entries int64, rate float64) int64 {
	if entries <= 0 || rate <= 0 {
		return 0
	}
	if entries > 200 { // normal approximation
		m := float64(entries) * rate
		sd := math.Sqrt(m * (1 - rate))
		return min(entries, max(0, int64(math.Round(m+sd*rng.NormFloat64()))))
	}
	var n int64
	for range entries {
		if rng.Float64() < rate {
			n++
		}
	}
	return n
}

// Basket shape. The UCI data are invoices of an online wholesaler (a
// median of about 20 lines), so they give the mix of products, not the
// size of a walk-in basket: a pop-up customer takes one product (60%), two
// (28%) or three (12%), one unit of each (80%) or two. These shares are
// the demo's assumption.
var basketSizes = []float64{0.60, 0.28, 0.12}

// basketSize draws the number of distinct products in a basket.
func basketSize(rng *rand.Rand) int {
	x := rng.Float64()
	for i, p := range basketSizes {
		if x < p {
			return i + 1
		}
		x -= p
	}
	return len(basketSizes)
}

// lineQuantity draws the units of one product in a basket.
func lineQuantity(rng *rand.Rand) int {
	if rng.Float64() < 0.2 {
		return 2
	}
	return 1
}

// demandByName maps a catalogue product's name to its demand weight: its
// number of sale lines in the UCI data (CatalogItem.Lines), so that a
// product sold twice as often online is picked twice as often here.
var demandByName = sync.OnceValue(func() map[string]float64 {
	m := map[string]float64{}
	for _, it := range catalog() {
		m[it.Name] = float64(it.Lines)
	}
	return m
})

// demandWeight returns the demand weight of the product called name; a
// product outside the catalogue weighs as the catalogue's least sold one.
func demandWeight(name string) float64 {
	if w, ok := demandByName()[name]; ok {
		return w
	}
	return 400
}

// pickWeighted returns n distinct indexes of weights, each drawn in
// proportion to its weight among those not yet drawn (fewer when fewer
// have weight).
func pickWeighted(rng *rand.Rand, weights []float64, n int) []int {
	w := append([]float64(nil), weights...)
	var out []int
	for len(out) < n {
		total := 0.0
		for _, x := range w {
			total += x
		}
		if total <= 0 {
			break
		}
		x := rng.Float64() * total
		i := 0
		for ; i < len(w)-1; i++ {
			if x < w[i] {
				break
			}
			x -= w[i]
		}
		if w[i] <= 0 { // rounding left x past the last positive weight
			for i = len(w) - 1; w[i] <= 0; i-- {
			}
		}
		out = append(out, i)
		w[i] = 0
	}
	return out
}
