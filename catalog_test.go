package popkit_test

import (
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

func TestSKUValidate(t *testing.T) {
	t.Parallel()
	valid := func() popkit.SKU {
		return popkit.SKU{BrandID: brandA, Code: "22423", Name: "Regency Cakestand 3 Tier", PriceMinor: 1275, UnitCostMinor: 612, WeightGrams: 900}
	}
	tests := []struct {
		name   string
		change func(s *popkit.SKU)
		fields []string
	}{
		{"valid", func(*popkit.SKU) {}, nil},
		{"free sample", func(s *popkit.SKU) { s.PriceMinor, s.UnitCostMinor, s.WeightGrams = 0, 0, 0 }, nil},
		{"no brand", func(s *popkit.SKU) { s.BrandID = "" }, []string{"brand_id"}},
		{"blank code", func(s *popkit.SKU) { s.Code = " " }, []string{"code"}},
		{"long code", func(s *popkit.SKU) { s.Code = strings.Repeat("x", 65) }, []string{"code"}},
		{"no name", func(s *popkit.SKU) { s.Name = "" }, []string{"name"}},
		{"negative price", func(s *popkit.SKU) { s.PriceMinor = -1 }, []string{"price_minor"}},
		{"negative unit cost", func(s *popkit.SKU) { s.UnitCostMinor = -1 }, []string{"unit_cost_minor"}},
		{"negative weight", func(s *popkit.SKU) { s.WeightGrams = -5 }, []string{"weight_grams"}},
		{"all negative", func(s *popkit.SKU) { s.PriceMinor, s.UnitCostMinor, s.WeightGrams = -1, -1, -1 }, []string{"price_minor", "unit_cost_minor", "weight_grams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.change(&s)
			checkFields(t, s.Validate(), tt.fields...)
		})
	}
}

func TestSKUUpdateApply(t *testing.T) {
	t.Parallel()
	s := popkit.SKU{BrandID: brandA, Code: "A", Name: "N", PriceMinor: 100, UnitCostMinor: 40}
	price, perishable := int64(0), true
	popkit.SKUUpdate{PriceMinor: &price, Perishable: &perishable}.Apply(&s)
	want := popkit.SKU{BrandID: brandA, Code: "A", Name: "N", PriceMinor: 0, UnitCostMinor: 40, Perishable: true}
	if s != want {
		t.Errorf("after Apply: %+v, want %+v", s, want)
	}
}

func TestAssortmentItemValidate(t *testing.T) {
	t.Parallel()
	price := func(p int64) *int64 { return &p }
	valid := func() popkit.AssortmentItem { return popkit.AssortmentItem{EventID: eventID, SKUID: skuID, Stock: 12} }
	tests := []struct {
		name   string
		change func(a *popkit.AssortmentItem)
		fields []string
	}{
		{"valid", func(*popkit.AssortmentItem) {}, nil},
		{"sold out", func(a *popkit.AssortmentItem) { a.Stock = 0 }, nil},
		{"price override", func(a *popkit.AssortmentItem) { a.PriceMinor = price(995) }, nil},
		{"free at this event", func(a *popkit.AssortmentItem) { a.PriceMinor = price(0) }, nil},
		{"stock below zero", func(a *popkit.AssortmentItem) { a.Stock = -1 }, []string{"stock"}},
		{"negative price override", func(a *popkit.AssortmentItem) { a.PriceMinor = price(-1) }, []string{"price_minor"}},
		{"no event", func(a *popkit.AssortmentItem) { a.EventID = "" }, []string{"event_id"}},
		{"sku id not a uuid", func(a *popkit.AssortmentItem) { a.SKUID = "22423" }, []string{"sku_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.change(&a)
			checkFields(t, a.Validate(), tt.fields...)
		})
	}
}

func TestDeviceValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		device popkit.Device
		fields []string
	}{
		{"valid", popkit.Device{EventID: eventID, Name: "Edge agent at Chelsea Market"}, nil},
		{"no event", popkit.Device{Name: "edge"}, []string{"event_id"}},
		{"upper-case event id", popkit.Device{EventID: strings.ToUpper(eventID), Name: "edge"}, []string{"event_id"}},
		{"no name", popkit.Device{EventID: eventID}, []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFields(t, tt.device.Validate(), tt.fields...)
		})
	}
}
