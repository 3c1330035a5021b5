package plan

import (
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

func TestCandidateFromSKU(t *testing.T) {
	d := mustDiscrete(t, 1, 1, 1, 1)
	s := popkit.SKU{ID: "sku-1", BrandID: "brand-1", PriceMinor: 1000, UnitCostMinor: 399, Perishable: true}
	k := CandidateFromSKU(s, d, Prior("test"), 0.25)
	if k.SKU != "sku-1" || k.Brand != "brand-1" || k.RefPrice != 1000 || k.UnitCost != 399 || k.Salvage != 99 || !k.Perishable {
		t.Fatalf("candidate %+v", k)
	}
	p, err := Solve([]Candidate{k}, Constraints{Budget: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines[0].In || p.Lines[0].Why != "no cold chain in range" {
		t.Fatalf("line %+v", p.Lines[0])
	}
}

func FuzzReadOnlineRetail(f *testing.F) {
	f.Add(tiny)
	f.Add("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,3,2011-01-01 00:00:00,1e300\n")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ReadOnlineRetail(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		for _, c := range h.Codes {
			if len(h.Qty[c]) != h.Days || len(h.Revenue[c]) != h.Days {
				t.Fatalf("series of %s: %d days, want %d", c, len(h.Qty[c]), h.Days)
			}
		}
	})
}
