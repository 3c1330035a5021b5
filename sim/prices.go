package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/popkit/popkit"
)

// Demo prices in other currencies are derived from the catalogue's GBP
// prices at fixed list-price factors (what a UK brand might charge abroad,
// not a conversion at the day's rate), rounded up to the next 0.05 and
// lowered by 0.01 to a .x9 or .x4 price point; unit costs are converted at
// the factors of cost (the rates a brand buys at) and rounded to the cent.
// The factors are synthetic, chosen near 2025-2026 levels.
var priceFactors = []struct {
	currency     string
	price, cost  float64
	startRate    float64 // EUR→currency on the first day of the demo's rates
	dailyVol     float64 // standard deviation of a day's log change
	rateDecimals int     // as the ECB publishes it
}{
	{"EUR", 1.20, 1.15, 1, 0, 4},
	{"GBP", 1, 1, 0.8650, 0.0030, 5},
	{"USD", 1.35, 1.34, 1.1580, 0.0045, 4},
	{"AUD", 2.10, 2.05, 1.7750, 0.0055, 4},
}

// priceIn derives a price in currency from a GBP price in pence.
func priceIn(gbpMinor int64, factor float64) int64 {
	if factor == 1 {
		return gbpMinor
	}
	p := int64(math.Ceil(float64(gbpMinor)*factor/5)) * 5
	if p > 5 {
		p--
	}
	return p
}

// listPriceIn derives a price in currency from a GBP price in pence at
// the demo's list-price factor; a currency without one (or none, from a
// store that does not say) keeps the GBP figure.
func listPriceIn(gbpMinor int64, currency string) int64 {
	for _, f := range priceFactors {
		if f.currency == currency {
			return priceIn(gbpMinor, f.price)
		}
	}
	return gbpMinor
}

func (s *seeder) priceService() popkit.SKUPriceService {
	if s.svc.Prices != nil {
		return s.svc.Prices
	}
	p, _ := s.svc.SKUs.(popkit.SKUPriceService)
	return p
}

// prices gives every SKU a price in each demo city's currency.
func (s *seeder) prices(ctx context.Context) error {
	svc := s.priceService()
	if svc == nil {
		s.logf("no SKU price service: SKUs are priced in %s only", Currency)
		return nil
	}
	n := 0
	for _, it := range Catalog() {
		for _, sku := range s.skus[it.BrandSlug] {
			if sku.Code != it.Code {
				continue
			}
			for _, f := range priceFactors {
				if f.currency == Currency {
					continue
				}
				p := &popkit.SKUPrice{SKUID: sku.ID, Currency: f.currency, PriceMinor: priceIn(it.PriceMinor, f.price),
					UnitCostMinor: int64(math.Round(float64(it.UnitCostMinor) * f.cost))}
				if err := svc.SetSKUPrice(ctx, p); err != nil {
					return fmt.Errorf("price SKU %s in %s: %w", it.Code, f.currency, err)
				}
				n++
			}
		}
	}
	s.logf("seeded %d SKU prices in other currencies", n)
	return nil
}

// fxRates stores a year of synthetic ECB-like reference rates (EUR base,
// weekdays only, as the ECB publishes) for the year up to Now's day: a random
// walk from 2025-2026 levels, seeded, so runs are alike. They are not real
// ECB rates.
func (s *seeder) fxRates(ctx context.Context) error {
	fx := s.svc.FX
	if fx == nil {
		fx, _ = s.svc.Program.(RateSetter)
	}
	if fx == nil {
		return nil
	}
	end := time.Date(s.opt.Now.Year(), s.opt.Now.Month(), s.opt.Now.Day(), 0, 0, 0, 0, time.UTC)
	start := end.AddDate(-1, 0, -1)
	level := map[string]float64{}
	for _, f := range priceFactors {
		level[f.currency] = f.startRate
	}
	rng := rand.New(rand.NewPCG(uint64(s.opt.Seed), 0x66782d72617465)) // apart from s.rng: the events stay as they were
	var rates []*popkit.FXRate
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		for _, f := range priceFactors {
			if f.currency == "EUR" {
				continue
			}
			level[f.currency] *= math.Exp(rng.NormFloat64() * f.dailyVol)
			rates = append(rates, &popkit.FXRate{Day: d.Format(popkit.DayLayout), Base: "EUR", Quote: f.currency,
				Rate: fmt.Sprintf("%.*f", f.rateDecimals, level[f.currency])})
		}
	}
	if err := fx.SetRates(ctx, rates); err != nil {
		return fmt.Errorf("store demo exchange rates: %w", err)
	}
	s.logf("seeded %d synthetic exchange rates (EUR base, %s to %s)", len(rates), rates[0].Day, rates[len(rates)-1].Day)
	return nil
}
