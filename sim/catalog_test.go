package sim_test

import (
	"testing"

	"github.com/popkit/popkit/sim"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	items := sim.Catalog()
	if len(items) != 300 {
		t.Fatalf("%d catalogue rows, want 300", len(items))
	}
	codes := map[string]bool{}
	brands := map[string]int{}
	perishable := 0
	for _, it := range items {
		if it.Code == "" || codes[it.Code] {
			t.Errorf("empty or repeated code %q", it.Code)
		}
		codes[it.Code] = true
		if it.Name == "" || it.Description == "" {
			t.Errorf("%s: empty name", it.Code)
		}
		if it.PriceMinor <= 0 || it.UnitCostMinor <= 0 || it.UnitCostMinor >= it.PriceMinor {
			t.Errorf("%s: price %d, unit cost %d", it.Code, it.PriceMinor, it.UnitCostMinor)
		}
		if pct := float64(it.UnitCostMinor) / float64(it.PriceMinor); pct < 0.30 || pct > 0.60 {
			t.Errorf("%s: unit cost is %.0f%% of price", it.Code, pct*100)
		}
		if it.WeightGrams < 80 || it.WeightGrams > 1200 {
			t.Errorf("%s: weight %d g", it.Code, it.WeightGrams)
		}
		if it.Lines <= 0 {
			t.Errorf("%s: %d lines", it.Code, it.Lines)
		}
		brands[it.BrandSlug]++
		if it.Perishable {
			perishable++
		}
	}
	if len(brands) != 8 {
		t.Errorf("products spread over %d brands, want 8: %v", len(brands), brands)
	}
	for slug, n := range brands {
		if n < 20 {
			t.Errorf("brand %s sells %d products; a one-brand event needs up to 20", slug, n)
		}
	}
	if perishable < 5 {
		t.Errorf("%d perishable products", perishable)
	}

	items[0].Name = "changed"
	if sim.Catalog()[0].Name == "changed" {
		t.Error("Catalog returns a shared slice")
	}
}

func TestCatalogItems(t *testing.T) {
	t.Parallel()
	byCode := map[string]sim.CatalogItem{}
	for _, it := range sim.Catalog() {
		byCode[it.Code] = it
	}
	tests := []struct {
		code, name string
		price      int64
		perishable bool
	}{
		{"85123A", "White Hanging Heart T-Light Holder", 295, false},
		{"22423", "Regency Cakestand 3 Tier", 1275, true},
		{"21216", "Set 3 Retrospot Tea,Coffee,Sugar", 495, false},
		{"21731", "Red Toadstool LED Night Light", 165, false},
		{"22900", "Set 2 Tea Towels I Love London", 325, false},
		{"22960", "Jam Making Set with Jars", 425, true},
		{"22745", "Poppy's Playhouse Bedroom", 210, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			it, ok := byCode[tt.code]
			if !ok {
				t.Fatal("missing")
			}
			if it.Name != tt.name || it.PriceMinor != tt.price || it.Perishable != tt.perishable {
				t.Errorf("got %q %d perishable=%t, want %q %d perishable=%t", it.Name, it.PriceMinor, it.Perishable, tt.name, tt.price, tt.perishable)
			}
		})
	}
}
