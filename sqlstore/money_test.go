package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func TestCityCurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		london := &popkit.City{Name: "London", Country: "GB", TimeZone: "Europe/London"}
		must(t, db.CreateCity(ctx, london))
		if london.Currency != "GBP" {
			t.Fatalf("London's currency defaulted to %q, want GBP", london.Currency)
		}
		got, err := db.FindCityByID(ctx, london.ID)
		must(t, err)
		if got.Currency != "GBP" {
			t.Errorf("stored currency %q", got.Currency)
		}
		w := mkOrderWorld(t, db)
		if w.event.Currency != "EUR" {
			t.Errorf("event in a DE city has currency %q, want EUR", w.event.Currency)
		}
		bad := "GB"
		_, err = db.UpdateCity(ctx, london.ID, popkit.CityUpdate{Currency: &bad})
		wantCode(t, err, popkit.EINVALID, "currency")

		// The city has an event but no orders: the currency may change, and
		// the event reads it.
		usd := "USD"
		_, err = db.UpdateCity(ctx, w.city.ID, popkit.CityUpdate{Currency: &usd})
		must(t, err)
		e, err := db.FindEventByID(ctx, w.event.ID)
		must(t, err)
		if e.Currency != "USD" {
			t.Errorf("event currency after the city changed: %q", e.Currency)
		}
		eur := "EUR"
		_, err = db.UpdateCity(ctx, w.city.ID, popkit.CityUpdate{Currency: &eur})
		must(t, err)
		_, err = db.CreateOrder(ctx, w.order(1))
		must(t, err)
		_, err = db.UpdateCity(ctx, w.city.ID, popkit.CityUpdate{Currency: &usd})
		wantCode(t, err, popkit.ECONFLICT, "currency")
	})
}

func TestSKUPrices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db) // program currency EUR, SKU list price 1200 / cost 400
		sku := w.skus[0].ID
		prices, err := db.FindSKUPrices(ctx, sku)
		must(t, err)
		if len(prices) != 1 || prices[0].Currency != "EUR" || prices[0].PriceMinor != 1200 || prices[0].UnitCostMinor != 400 {
			t.Fatalf("prices of a new SKU = %+v, want its list price in EUR", prices)
		}
		must(t, db.SetSKUPrice(ctx, &popkit.SKUPrice{SKUID: sku, Currency: "GBP", PriceMinor: 1050, UnitCostMinor: 350}))
		must(t, db.SetSKUPrice(ctx, &popkit.SKUPrice{SKUID: sku, Currency: "EUR", PriceMinor: 1250, UnitCostMinor: 410}))
		s, err := db.FindSKUByID(ctx, sku)
		must(t, err)
		if s.PriceMinor != 1250 || s.UnitCostMinor != 410 {
			t.Errorf("list price after setting the EUR price: %d/%d, want 1250/410", s.PriceMinor, s.UnitCostMinor)
		}
		p := int64(1300)
		_, err = db.UpdateSKU(ctx, sku, popkit.SKUUpdate{PriceMinor: &p})
		must(t, err)
		prices, err = db.FindSKUPrices(ctx, sku)
		must(t, err)
		if len(prices) != 2 || prices[0].Currency != "EUR" || prices[0].PriceMinor != 1300 || prices[1].Currency != "GBP" || prices[1].PriceMinor != 1050 {
			t.Fatalf("prices = %+v", prices)
		}
		wantCode(t, db.DeleteSKUPrice(ctx, sku, "EUR"), popkit.ECONFLICT, "currency")
		must(t, db.DeleteSKUPrice(ctx, sku, "GBP"))
		wantCode(t, db.DeleteSKUPrice(ctx, sku, "GBP"), popkit.ENOTFOUND, "")
		wantCode(t, db.SetSKUPrice(ctx, &popkit.SKUPrice{SKUID: sku, Currency: "gbp"}), popkit.EINVALID, "currency")
		wantCode(t, db.SetSKUPrice(ctx, &popkit.SKUPrice{SKUID: popkit.NewID(), Currency: "GBP"}), popkit.ENOTFOUND, "")
		_, err = db.FindSKUPrices(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
	})
}

// TestOrderInEventCurrency: an event in London (GBP) prices its lines from
// the SKUs' GBP prices, refuses the EUR list price, and refuses a SKU with
// no GBP price naming the line — also with orders arriving together (the
// batched paths).
func TestOrderInEventCurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		london := &popkit.City{Name: "London", Country: "GB", TimeZone: "Europe/London"}
		must(t, db.CreateCity(ctx, london))
		venue := mkVenue(t, db, london.ID, "")
		brand := mkBrand(t, db)
		ev := mkEvent(t, db, venue.ID, []string{brand.ID})
		if ev.Currency != "GBP" {
			t.Fatalf("event currency %q, want GBP", ev.Currency)
		}
		priced, unpriced := mkSKU(t, db, brand.ID), mkSKU(t, db, brand.ID)
		must(t, db.SetSKUPrice(ctx, &popkit.SKUPrice{SKUID: priced.ID, Currency: "GBP", PriceMinor: 1050, UnitCostMinor: 350}))
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev.ID, SKUID: priced.ID, Stock: 100}))
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev.ID, SKUID: unpriced.ID, Stock: 100}))

		order := func(sku string, price int64) *popkit.Order {
			return &popkit.Order{EventID: ev.ID, Channel: popkit.ChannelPOS,
				Lines:   []popkit.OrderLine{{SKUID: sku, Quantity: 2, UnitPriceMinor: price}},
				Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: 2 * price}}
		}
		_, err := db.CreateOrder(ctx, order(priced.ID, 1200))
		wantCode(t, err, popkit.EINVALID, "lines[0].unit_price_minor")
		o := order(priced.ID, 1050)
		_, err = db.CreateOrder(ctx, o)
		must(t, err)
		if o.TotalMinor != 2100 || o.CostMinor != 700 || o.Lines[0].UnitCostMinor != 350 {
			t.Errorf("order total %d cost %d line cost %d, want 2100, 700, 350 (GBP)", o.TotalMinor, o.CostMinor, o.Lines[0].UnitCostMinor)
		}
		_, err = db.CreateOrder(ctx, order(unpriced.ID, 1200))
		wantCode(t, err, popkit.EUNPROCESSABLE, "lines[0].sku_id")
		if msg := fmt.Sprint(popkit.ErrorFields(err)); !strings.Contains(msg, "GBP") {
			t.Errorf("missing-price error does not name the currency: %s", msg)
		}

		// An override prices the line even without a price row; the unit
		// cost still needs one.
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev.ID, SKUID: priced.ID, Stock: 100, PriceMinor: ptr(int64(999))}))
		o = order(priced.ID, 999)
		_, err = db.CreateOrder(ctx, o)
		must(t, err)

		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), order(priced.ID, 999))
				} else {
					_, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), order(unpriced.ID, 1200))
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if i%2 == 0 && err != nil {
				t.Errorf("order %d: %v", i, err)
			} else if i%2 == 1 && popkit.ErrorCode(err) != popkit.EUNPROCESSABLE {
				t.Errorf("unpriced order %d: %v, want unprocessable", i, err)
			}
		}
	})
}

func TestFXRates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		set := func(day, base, quote, rate string) {
			t.Helper()
			must(t, db.SetRate(ctx, &popkit.FXRate{Day: day, Base: base, Quote: quote, Rate: rate}))
		}
		set("2026-03-02", "EUR", "GBP", "0.8571")
		set("2026-03-04", "EUR", "GBP", "0.8600")
		set("2026-03-04", "EUR", "GBP", "0.8590") // replaces
		set("2026-03-03", "EUR", "USD", "1.0800")
		set("2026-03-05", "USD", "EUR", "0.9000") // newer, other direction
		wantCode(t, db.SetRate(ctx, &popkit.FXRate{Day: "2026-03-05", Base: "EUR", Quote: "EUR", Rate: "1"}), popkit.EINVALID, "quote")

		tests := []struct {
			name, day, base, quote string
			want                   popkit.FXRate
		}{
			{"same day", "2026-03-02", "EUR", "GBP", popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "GBP", Rate: "0.8571"}},
			{"weekend falls back", "2026-03-03", "EUR", "GBP", popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "GBP", Rate: "0.8571"}},
			{"replaced", "2026-03-09", "EUR", "GBP", popkit.FXRate{Day: "2026-03-04", Base: "EUR", Quote: "GBP", Rate: "0.8590"}},
			// 1 / 0.8571 = 10000/8571, not a finite decimal.
			{"inverse", "2026-03-02", "GBP", "EUR", popkit.FXRate{Day: "2026-03-02", Base: "GBP", Quote: "EUR", Rate: "10000/8571", Derived: "inverse"}},
			// Stored EUR→USD of 03-03 and USD→EUR of 03-05: on 03-04 the
			// stored direction, on 03-05 the newer inverse, 1/0.9 = 10/9.
			{"older forward", "2026-03-04", "EUR", "USD", popkit.FXRate{Day: "2026-03-03", Base: "EUR", Quote: "USD", Rate: "1.0800"}},
			{"newer inverse", "2026-03-05", "EUR", "USD", popkit.FXRate{Day: "2026-03-05", Base: "EUR", Quote: "USD", Rate: "10/9", Derived: "inverse"}},
			// GBP→USD on 03-04: GBP→EUR 1/0.8590 (03-04) × EUR→USD 1.08 (03-03)
			// = 1.08/0.859 = 10800/8590 = 1080/859; the day is the older leg's.
			{"cross", "2026-03-04", "GBP", "USD", popkit.FXRate{Day: "2026-03-03", Base: "GBP", Quote: "USD", Rate: "1080/859", Derived: "cross:EUR"}},
			{"identity", "2026-03-04", "JPY", "JPY", popkit.FXRate{Day: "2026-03-04", Base: "JPY", Quote: "JPY", Rate: "1"}},
		}
		for _, tt := range tests {
			got, err := db.RateOn(ctx, tt.day, tt.base, tt.quote)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			got.UpdatedAt = tt.want.UpdatedAt
			if *got != tt.want {
				t.Errorf("%s: RateOn = %+v, want %+v", tt.name, *got, tt.want)
			}
		}
		// 1/0.8 = 1.25 is a finite decimal and written as one.
		set("2026-03-06", "EUR", "CHF", "0.8")
		if r, err := db.RateOn(ctx, "2026-03-06", "CHF", "EUR"); err != nil || r.Rate != "1.25" {
			t.Errorf("inverse of 0.8 = %+v, %v; want 1.25", r, err)
		}
		_, err := db.RateOn(ctx, "2026-03-01", "EUR", "GBP")
		wantCode(t, err, popkit.ENOTFOUND, "")
		_, err = db.RateOn(ctx, "2026-03-09", "EUR", "JPY")
		wantCode(t, err, popkit.ENOTFOUND, "")
		_, err = db.RateOn(ctx, "2026-3-9", "EUR", "GBP")
		wantCode(t, err, popkit.EINVALID, "day")

		items, pages := allPages(t, 2, func(r *popkit.FXRate) string { return r.Day + r.Base + r.Quote }, func(p popkit.Page) ([]*popkit.FXRate, string, error) {
			return db.FindRates(ctx, popkit.FXRateFilter{Limit: p.Limit, After: p.After})
		})
		if len(items) != 5 || pages != 3 {
			t.Errorf("listed %d rates in %d pages, want 5 in 3", len(items), pages)
		}
		got, _, err := db.FindRates(ctx, popkit.FXRateFilter{From: "2026-03-03", To: "2026-03-04", Base: "EUR"})
		must(t, err)
		if len(got) != 2 || got[0].Quote != "USD" || got[1].Rate != "0.8590" {
			t.Errorf("filtered rates = %v", got)
		}
		_, _, err = db.FindRates(ctx, popkit.FXRateFilter{From: "2026-03-05", To: "2026-03-04"})
		wantCode(t, err, popkit.EINVALID, "to")
		_, _, err = db.FindRates(ctx, popkit.FXRateFilter{After: "bogus"})
		wantCode(t, err, popkit.EINVALID, "cursor")

		// Many at once, a pair named twice keeps the last; a bad one stores
		// none and is named by its index.
		bulk := []*popkit.FXRate{{Day: "2026-04-01", Base: "EUR", Quote: "SEK", Rate: "11.1"}}
		for i := range 1200 {
			bulk = append(bulk, &popkit.FXRate{Day: fmt.Sprintf("2026-05-%02d", 1+i%28), Base: "EUR", Quote: []string{"NOK", "DKK", "PLN"}[i%3], Rate: fmt.Sprintf("%d.5", 1+i)})
		}
		bulk = append(bulk, &popkit.FXRate{Day: "2026-04-01", Base: "EUR", Quote: "SEK", Rate: "11.2"})
		wantCode(t, db.SetRates(ctx, append(bulk[:2:2], &popkit.FXRate{Day: "2026-04-02", Base: "EUR", Quote: "SEK", Rate: "x"})), popkit.EINVALID, "rates[2].rate")
		must(t, db.SetRates(ctx, bulk))
		if r, err := db.RateOn(ctx, "2026-04-30", "EUR", "SEK"); err != nil || r.Rate != "11.2" {
			t.Errorf("pair named twice: %+v, %v; want the last, 11.2", r, err)
		}
		got, _, err = db.FindRates(ctx, popkit.FXRateFilter{From: "2026-05-01", To: "2026-05-31", Limit: 200})
		must(t, err)
		if len(got) != 84 {
			t.Errorf("%d rates in May, want 28 days × 3", len(got))
		}
	})
}
