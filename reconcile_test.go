package popkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func fieldsOf(err error) map[string]bool {
	m := map[string]bool{}
	for _, f := range popkit.ErrorFields(err) {
		m[f.Field] = true
	}
	return m
}

func TestSaleValidate(t *testing.T) {
	ev, sku := popkit.NewID(), popkit.NewID()
	good := func() *popkit.Sale {
		return &popkit.Sale{ID: popkit.NewID(), EventID: ev, Till: "till-1", OccurredAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
			Lines:   []popkit.OrderLine{{SKUID: sku, Quantity: 2, UnitPriceMinor: 500}},
			Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: 1000}}
	}
	if err := good().Validate(ev); err != nil {
		t.Fatalf("good sale: %v", err)
	}
	cases := map[string]struct {
		mod    func(s *popkit.Sale)
		fields []string
	}{
		"other event":  {func(s *popkit.Sale) { s.EventID = popkit.NewID() }, []string{"sale.event_id"}},
		"no id":        {func(s *popkit.Sale) { s.ID = "" }, []string{"sale.id"}},
		"bad till":     {func(s *popkit.Sale) { s.Till = "till 1" }, []string{"sale.till"}},
		"no lines":     {func(s *popkit.Sale) { s.Lines = nil; s.Payment.AmountMinor = 0 }, []string{"sale.lines"}},
		"zero qty":     {func(s *popkit.Sale) { s.Lines[0].Quantity = 0 }, []string{"sale.lines[0].quantity", "sale.payment.amount_minor"}},
		"cost sent":    {func(s *popkit.Sale) { s.Lines[0].UnitCostMinor = 1 }, []string{"sale.lines[0].unit_cost_minor"}},
		"twice":        {func(s *popkit.Sale) { s.Lines = append(s.Lines, s.Lines[0]); s.Payment.AmountMinor = 2000 }, []string{"sale.lines[1].sku_id"}},
		"wrong amount": {func(s *popkit.Sale) { s.Payment.AmountMinor = 999 }, []string{"sale.payment.amount_minor"}},
		"external":     {func(s *popkit.Sale) { s.Payment.Method = popkit.PaymentExternal }, []string{"sale.payment.external_ref"}},
		"no time":      {func(s *popkit.Sale) { s.OccurredAt = time.Time{} }, []string{"sale.occurred_at"}},
		"all at once": {func(s *popkit.Sale) { s.ID, s.Till, s.Payment.Method, s.OccurredAt = "x", "", "iou", time.Time{} },
			[]string{"sale.id", "sale.till", "sale.payment.method", "sale.occurred_at"}},
	}
	for name, c := range cases {
		s := good()
		c.mod(s)
		err := s.Validate(ev)
		got := fieldsOf(err)
		for _, f := range c.fields {
			if !got[f] {
				t.Errorf("%s: %v does not name %s", name, err, f)
			}
		}
		status, reason := popkit.SaleRecordStatus(&popkit.UplinkRecord{Kind: popkit.RecordSale, Sale: s}, ev)
		if status != popkit.RecordRejected || !strings.Contains(reason, c.fields[0]) {
			t.Errorf("%s: record status %s %q", name, status, reason)
		}
	}
	if status, _ := popkit.SaleRecordStatus(&popkit.UplinkRecord{Kind: popkit.RecordSale}, ev); status != popkit.RecordRejected {
		t.Errorf("a sale record without a sale is %s", status)
	}
}

func TestExceptionResolutionValidate(t *testing.T) {
	id := popkit.NewID()
	for name, c := range map[string]struct {
		r      popkit.ExceptionResolution
		fields []string
	}{
		"backorder":          {popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, NodeID: id}, nil},
		"substitute":         {popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: id, Quantity: 1}, nil},
		"refund":             {popkit.ExceptionResolution{Kind: popkit.ResolveRefund, Note: "ok"}, nil},
		"dismiss":            {popkit.ExceptionResolution{Kind: popkit.ResolveDismiss, Note: "fixed by hand"}, nil},
		"unknown kind":       {popkit.ExceptionResolution{Kind: "x"}, []string{"kind"}},
		"backorder no node":  {popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, SKUID: id}, []string{"node_id", "sku_id"}},
		"substitute no sku":  {popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, NodeID: id}, []string{"sku_id", "quantity", "node_id"}},
		"refund with amount": {popkit.ExceptionResolution{Kind: popkit.ResolveRefund, AmountMinor: 5, Quantity: 1}, []string{"amount_minor", "quantity"}},
		"dismiss no note":    {popkit.ExceptionResolution{Kind: popkit.ResolveDismiss}, []string{"note"}},
		"long note":          {popkit.ExceptionResolution{Kind: popkit.ResolveRefund, Note: strings.Repeat("x", 501)}, []string{"note"}},
	} {
		err := c.r.Validate()
		if len(c.fields) == 0 {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		got := fieldsOf(err)
		for _, f := range c.fields {
			if !got[f] {
				t.Errorf("%s: %v does not name %s", name, err, f)
			}
		}
	}
}

func TestStockCountValidate(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sku := popkit.NewID()
	c := popkit.StockCount{EventID: popkit.NewID(), CountedAt: now, Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 0}}}
	if err := c.Validate(now); err != nil {
		t.Fatal(err)
	}
	bad := popkit.StockCount{EventID: "x", CountedAt: now.Add(time.Hour), Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: -1}, {SKUID: sku}}}
	got := fieldsOf(bad.Validate(now))
	for _, f := range []string{"event_id", "counted_at", "lines[0].quantity", "lines[1].sku_id"} {
		if !got[f] {
			t.Errorf("bad count: %v does not name %s", got, f)
		}
	}
}
