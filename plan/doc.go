// Package plan proposes the capsule for a pop-up event: which SKUs of the
// taking-part brands to carry, how many units of each and at what price,
// under the constraints an operator sets (shelf slots per brand and in
// total, a stock budget in the event's currency, margin floors, must-carry
// and never-carry SKUs, cold chain for perishables).
//
// The package is pure Go: it imports no database or HTTP package and reads
// no file by itself. Demand enters through the Demand interface, with two
// implementations: FromQuantiles, which turns a forecast's q50/q80/q90/q95
// into a distribution, and Empirical, which uses past horizon sums (the
// replay uses rolling 7-day sums until the forecast package is wired in).
//
// Money is in integer minor units of the event's currency; expected values
// (which are averages over the demand distribution) are reported as
// float64 minor units and rounded only for display.
package plan
