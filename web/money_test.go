package web_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEventPriceInCityCurrency: a Berlin pop-up's prices show in EUR, the
// city's currency, although the program reports in GBP.
func TestEventPriceInCityCurrency(t *testing.T) {
	f := newFixture(t)
	p, err := f.db.FindProgram(f.ctx)
	must(t, err)
	p.Currency = "GBP"
	must(t, f.db.UpdateProgram(f.ctx, p))
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")
	b := body(t, f.get("/e/kaffee-days"))
	m := jsonLDRE.FindStringSubmatch(b)
	if m == nil {
		t.Fatal("no JSON-LD")
	}
	var ld map[string]any
	must(t, json.Unmarshal([]byte(m[1]), &ld))
	if offers := ld["offers"].(map[string]any); offers["priceCurrency"] != "EUR" {
		t.Errorf("offers = %v, want priceCurrency EUR", offers)
	}
	if !strings.Contains(b, "2.50–18.00 EUR") || strings.Contains(b, " GBP") {
		t.Errorf("page does not show the price in EUR only:\n%s", b)
	}
}
