package sim_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestSeedMoney: the demo's cities have their currencies, every product at
// every event has a price in the event's currency, and a year of rates
// converts between them at plausible levels.
func TestSeedMoney(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlstoretest.Open(t)
	svc := sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db}
	if _, err := sim.Seed(ctx, svc, sim.SeedOptions{Now: testNow, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Berlin": "EUR", "London": "GBP", "New York": "USD", "Melbourne": "AUD"}
	cities, _, err := db.FindCities(ctx, popkit.CityFilter{})
	if err != nil {
		t.Fatal(err)
	}
	currencyOf := map[string]string{}
	for _, c := range cities {
		if c.Currency != want[c.Name] {
			t.Errorf("%s: currency %s, want %s", c.Name, c.Currency, want[c.Name])
		}
		currencyOf[c.ID] = c.Currency
	}
	events, _, err := db.FindEvents(ctx, popkit.EventFilter{Page: popkit.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Currency != currencyOf[e.CityID] {
			t.Errorf("event %s: currency %s, its city's %s", e.Slug, e.Currency, currencyOf[e.CityID])
		}
		till, err := db.FindTillAssortment(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range till.Items {
			if it.PriceMinor == nil || *it.PriceMinor <= 0 {
				t.Errorf("event %s (%s): %s has no price", e.Slug, e.Currency, it.Name)
			}
		}
	}
	day := testNow.AddDate(0, 0, -1).Format(popkit.DayLayout)
	for quote, lo := range map[string][2]float64{"GBP": {0.75, 1.0}, "USD": {0.95, 1.4}, "AUD": {1.45, 2.1}} {
		r, err := db.RateOn(ctx, day, "EUR", quote)
		if err != nil {
			t.Fatalf("EUR→%s on %s: %v", quote, day, err)
		}
		q, _ := new(big.Rat).SetString(r.Rate)
		if f, _ := q.Float64(); f < lo[0] || f > lo[1] {
			t.Errorf("EUR→%s = %s, outside [%v, %v]", quote, r.Rate, lo[0], lo[1])
		}
	}
	rates, _, err := db.FindRates(ctx, popkit.FXRateFilter{Base: "EUR", Quote: "USD", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 200 {
		t.Errorf("%d EUR→USD rates in the first page, want a full page of a year's", len(rates))
	}
}
