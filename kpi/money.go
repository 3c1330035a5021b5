package kpi

import (
	"math/big"
	"sort"

	"github.com/popkit/popkit"
)

// RateBook answers exchange rates from a set of stored ones the way
// popkit.FXService.RateOn does: the latest rate not after the day, stored
// in either direction, else crossed through EUR (as an exact fraction).
type RateBook struct {
	pairs map[[2]string][]*popkit.FXRate // by (base, quote), in day order
	cache map[rateKey]*popkit.FXRate
}

type rateKey struct{ day, from, to string }

// NewRateBook returns a book over rates (any order).
func NewRateBook(rates []*popkit.FXRate) *RateBook {
	b := &RateBook{pairs: map[[2]string][]*popkit.FXRate{}, cache: map[rateKey]*popkit.FXRate{}}
	for _, r := range rates {
		k := [2]string{r.Base, r.Quote}
		b.pairs[k] = append(b.pairs[k], r)
	}
	for _, list := range b.pairs {
		sort.Slice(list, func(i, j int) bool { return list[i].Day < list[j].Day })
	}
	return b
}

// latest returns the rate of (base, quote) stored for the latest day not
// after day.
func (b *RateBook) latest(day, base, quote string) *popkit.FXRate {
	list := b.pairs[[2]string{base, quote}]
	i := sort.Search(len(list), func(i int) bool { return list[i].Day > day })
	if i == 0 {
		return nil
	}
	return list[i-1]
}

// direct returns a rate joining from and to in either direction.
func (b *RateBook) direct(day, from, to string) *popkit.FXRate {
	if r := b.latest(day, from, to); r != nil {
		return r
	}
	return b.latest(day, to, from) // ConvertMinor divides by an inverse rate
}

// Rate returns the rate converting from into to on day, or nil when the
// book has none (a missing rate).
func (b *RateBook) Rate(day, from, to string) *popkit.FXRate {
	if from == to {
		return &popkit.FXRate{Day: day, Base: from, Quote: to, Rate: "1"}
	}
	k := rateKey{day, from, to}
	if r, ok := b.cache[k]; ok {
		return r
	}
	r := b.direct(day, from, to)
	if r == nil && from != pivot && to != pivot {
		r = b.cross(day, from, to)
	}
	b.cache[k] = r
	return r
}

// pivot is the currency rates are crossed through (the ECB publishes
// every rate against EUR).
const pivot = "EUR"

// cross returns from→EUR→to as one exact fraction, or nil.
func (b *RateBook) cross(day, from, to string) *popkit.FXRate {
	q1 := ratOf(b.direct(day, from, pivot), from)
	q2 := ratOf(b.direct(day, pivot, to), pivot)
	if q1 == nil || q2 == nil {
		return nil
	}
	q := new(big.Rat).Mul(q1, q2)
	return &popkit.FXRate{Day: day, Base: from, Quote: to, Rate: q.RatString(), Derived: "cross:" + pivot}
}

// ratOf returns the rate as units of the other currency per unit of base,
// inverting a rate stored the other way round.
func ratOf(r *popkit.FXRate, base string) *big.Rat {
	if r == nil {
		return nil
	}
	q, err := r.ParseRate()
	if err != nil || q.Sign() == 0 {
		return nil
	}
	if r.Base != base {
		q = new(big.Rat).Inv(q)
	}
	return q
}
