package http_test

import (
	"testing"

	"github.com/popkit/popkit"
)

// moneyScenario exercises the money routes for the OpenAPI scenario.
func moneyScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	rates := map[string]any{"rates": []map[string]any{
		{"day": "2026-03-02", "base": "EUR", "quote": "GBP", "rate": "0.8571"},
		{"day": "2026-03-02", "base": "EUR", "quote": "USD", "rate": "1.0827"},
	}}
	e.do("PUT", "/api/v1/fx-rates", e.admin, rates).want(t, 200)
	e.do("GET", "/api/v1/fx-rates?from=2026-03-01&to=2026-03-31&base=EUR&quote=GBP&limit=10", w.curator, nil).want(t, 200)
	e.do("GET", "/api/v1/fx-rates/lookup?day=2026-03-07&base=GBP&quote=USD", w.brand, nil).want(t, 200)
	e.do("GET", "/api/v1/skus/"+w.skuA.ID+"/prices", w.brand, nil).want(t, 200)
	e.do("PUT", "/api/v1/skus/"+w.skuA.ID+"/prices/GBP", w.brand, map[string]any{"price_minor": 1000, "unit_cost_minor": 350}).want(t, 200)
	e.do("PUT", "/api/v1/skus/"+w.skuA.ID+"/prices/USD", w.brand, map[string]any{"price_minor": 1300, "unit_cost_minor": 450}).want(t, 200)
	e.do("DELETE", "/api/v1/skus/"+w.skuA.ID+"/prices/USD", w.brand, nil).want(t, 204)
	e.do("GET", "/api/v1/events/"+w.e1.ID+"/till", w.device, nil).want(t, 200)
}

func TestFXRatesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	good := map[string]any{"day": "2026-03-02", "base": "EUR", "quote": "GBP", "rate": "0.8571"}
	e.do("PUT", "/api/v1/fx-rates", w.curator, map[string]any{"rates": []any{good}}).want(t, 403)

	// One bad rate refuses the whole body, naming it; nothing is stored.
	bad := map[string]any{"day": "2026-03-03", "base": "EUR", "quote": "GBP", "rate": "1,2"}
	p := e.do("PUT", "/api/v1/fx-rates", e.admin, map[string]any{"rates": []any{good, bad}}).want(t, 400).problem(t)
	if !p.hasField("rates[1].rate") {
		t.Errorf("problem does not name rates[1].rate: %+v", p.Errors)
	}
	list := decodeAs[listBody[popkit.FXRate]](t, e.do("GET", "/api/v1/fx-rates", e.admin, nil).want(t, 200))
	if len(list.Items) != 0 {
		t.Fatalf("a refused body stored %d rates", len(list.Items))
	}
	e.do("PUT", "/api/v1/fx-rates", e.admin, map[string]any{"rates": []any{}}).want(t, 400)
	e.do("PUT", "/api/v1/fx-rates", e.admin, map[string]any{"rates": []any{good}, "extra": 1}).want(t, 400)

	e.do("PUT", "/api/v1/fx-rates", e.admin, map[string]any{"rates": []any{good}}).want(t, 200)
	// A Saturday takes Monday's rate; the inverse is exact.
	r := decodeAs[popkit.FXRate](t, e.do("GET", "/api/v1/fx-rates/lookup?day=2026-03-07&base=GBP&quote=EUR", w.brand, nil).want(t, 200))
	if r.Day != "2026-03-02" || r.Rate != "10000/8571" || r.Derived != "inverse" {
		t.Errorf("lookup = %+v", r)
	}
	p = e.do("GET", "/api/v1/fx-rates/lookup?day=2026-03-01&base=EUR&quote=GBP", e.admin, nil).want(t, 404).problem(t)
	if p.Code != popkit.ENOTFOUND {
		t.Errorf("missing rate: %+v", p)
	}
	p = e.do("GET", "/api/v1/fx-rates/lookup?day=2026-03-01&base=EUR", e.admin, nil).want(t, 400).problem(t)
	if !p.hasField("quote") {
		t.Errorf("missing quote not named: %+v", p.Errors)
	}
	p = e.do("GET", "/api/v1/fx-rates?from=2026-03-05&to=2026-03-01", e.admin, nil).want(t, 400).problem(t)
	if !p.hasField("to") {
		t.Errorf("to before from not named: %+v", p.Errors)
	}
	e.do("GET", "/api/v1/fx-rates?base=eur", e.admin, nil).want(t, 400)
	e.do("GET", "/api/v1/fx-rates", w.device, nil).want(t, 403)
}

func TestSKUPricesAndTillAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	// Brand A may not price brand B's SKU, nor see its prices.
	e.do("PUT", "/api/v1/skus/"+w.skuB.ID+"/prices/GBP", w.brand, map[string]any{"price_minor": 1, "unit_cost_minor": 1}).want(t, 404)
	e.do("GET", "/api/v1/skus/"+w.skuB.ID+"/prices", w.brand, nil).want(t, 404)
	p := e.do("PUT", "/api/v1/skus/"+w.skuA.ID+"/prices/gbp", w.brand, map[string]any{"price_minor": 1, "unit_cost_minor": 1}).want(t, 400).problem(t)
	if !p.hasField("currency") {
		t.Errorf("bad currency not named: %+v", p.Errors)
	}
	p = e.do("PUT", "/api/v1/skus/"+w.skuA.ID+"/prices/GBP", w.brand, map[string]any{"price_minor": 1}).want(t, 400).problem(t)
	if !p.hasField("unit_cost_minor") {
		t.Errorf("missing unit cost not named: %+v", p.Errors)
	}
	e.do("DELETE", "/api/v1/skus/"+w.skuA.ID+"/prices/EUR", w.brand, nil).want(t, 409)

	// A London pop-up sells in GBP: its till gets GBP prices, null for a
	// SKU without one, in one answer.
	london := create[popkit.City](e, "/api/v1/cities", "", map[string]any{"name": "London", "country": "GB", "time_zone": "Europe/London"})
	if london.Currency != "GBP" {
		t.Fatalf("London currency %q", london.Currency)
	}
	venue := create[popkit.Venue](e, "/api/v1/venues", "", venueBody(london.ID))
	ev := create[popkit.Event](e, "/api/v1/events", "", eventBody(venue.ID, "london", "2026-05-01", w.brandA.ID, w.brandB.ID))
	if ev.Currency != "GBP" {
		t.Fatalf("event currency %q", ev.Currency)
	}
	for _, s := range []popkit.SKU{w.skuA, w.skuB} {
		e.do("PUT", "/api/v1/events/"+ev.ID+"/assortment/"+s.ID, e.admin, map[string]any{"stock": 10}).want(t, 200)
	}
	e.do("PUT", "/api/v1/skus/"+w.skuA.ID+"/prices/GBP", w.brand, map[string]any{"price_minor": 1000, "unit_cost_minor": 350}).want(t, 200)
	device := e.newToken(map[string]any{"role": "device", "event_id": ev.ID})
	till := decodeAs[popkit.TillAssortment](t, e.do("GET", "/api/v1/events/"+ev.ID+"/till", device, nil).want(t, 200))
	if till.Currency != "GBP" || len(till.Items) != 2 {
		t.Fatalf("till = %+v", till)
	}
	for _, it := range till.Items {
		switch it.SKUID {
		case w.skuA.ID:
			if it.PriceMinor == nil || *it.PriceMinor != 1000 || it.Name != w.skuA.Name || it.Stock != 10 {
				t.Errorf("priced item %+v", it)
			}
		case w.skuB.ID:
			if it.PriceMinor != nil {
				t.Errorf("SKU without a GBP price has price %d", *it.PriceMinor)
			}
		}
	}
	e.do("GET", "/api/v1/events/"+w.e1.ID+"/till", device, nil).want(t, 403)
	e.do("GET", "/api/v1/events/"+ev.ID+"/till", w.brand, nil).want(t, 403)

	// An order for the SKU without a GBP price is a 422 naming the line.
	order := map[string]any{"event_id": ev.ID, "channel": "pos",
		"lines":   []map[string]any{{"sku_id": w.skuA.ID, "quantity": 1, "unit_price_minor": 1000}, {"sku_id": w.skuB.ID, "quantity": 1, "unit_price_minor": 1200}},
		"payment": map[string]any{"method": "cash", "amount_minor": 2200}}
	p = e.do("POST", "/api/v1/orders", e.admin, order, key("london-1")).want(t, 422).problem(t)
	if !p.hasField("lines[1].sku_id") {
		t.Errorf("unpriced line not named: %+v", p.Errors)
	}
}
