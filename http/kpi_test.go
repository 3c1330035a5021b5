package http_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// kpiScenario runs the KPI routes once each for the OpenAPI scenario.
func kpiScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	e.do("PUT", "/api/v1/devices/"+w.dev1.ID+"/sensors/inner", e.admin, map[string]any{"entrance": false}).want(t, 200)
	e.do("GET", "/api/v1/events/"+w.e1.ID+"/sensor-roles", e.admin, nil).want(t, 200)
	e.do("GET", "/api/v1/kpis?scope=event&id="+w.e1.ID+"&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&group=hour", w.curator, nil).want(t, 200)
}

const kpiRange = "&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z"

// kpiTotal returns a KPI of a report's total row.
func kpiTotal(t *testing.T, rep popkit.KPIReport, name string) *float64 {
	t.Helper()
	v := rep.Total.Value(name)
	if v == nil {
		t.Fatalf("total has no %s", name)
	}
	return v.Value
}

// TestKPIAPI checks roles, a brand's view of its own sales, CSV and the
// problems bad queries get.
func TestKPIAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	ctx := t.Context()
	// One POS sale at 10:30 Berlin: 2 × SKU A (brand A) and 1 × SKU B.
	o := &popkit.Order{EventID: w.e1.ID, Channel: popkit.ChannelPOS, OccurredAt: time.Date(2026, 5, 1, 8, 30, 0, 0, time.UTC),
		Lines:   []popkit.OrderLine{{SKUID: w.skuA.ID, Quantity: 2, UnitPriceMinor: 1200}, {SKUID: w.skuB.ID, Quantity: 1, UnitPriceMinor: 1200}},
		Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: 3600}}
	if _, err := e.db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/kpis?scope=event&id=" + w.e1.ID + kpiRange
	admin := decodeAs[popkit.KPIReport](t, e.do("GET", path, e.admin, nil).want(t, 200))
	if v := kpiTotal(t, admin, "revenue"); v == nil || *v != 3600 {
		t.Fatalf("admin revenue = %v, want 3600", v)
	}
	if v := kpiTotal(t, admin, "rent"); v == nil || *v != 50000 {
		t.Fatalf("admin rent = %v, want the event's 50000", v)
	}
	brand := decodeAs[popkit.KPIReport](t, e.do("GET", path, w.brand, nil).want(t, 200))
	if v := kpiTotal(t, brand, "revenue"); v == nil || *v != 2400 {
		t.Fatalf("brand revenue = %v, want its own 2400", v)
	}
	if v := kpiTotal(t, brand, "rent"); v != nil {
		t.Fatalf("brand sees the event's rent %v", *v)
	}
	// A brand's program view holds only its events: brand B takes no part in e2.
	brandB := e.newToken(map[string]any{"role": "brand", "brand_id": w.brandB.ID})
	e.do("GET", "/api/v1/kpis?scope=event&id="+w.e2.ID+kpiRange, brandB, nil).want(t, 404)
	prog := decodeAs[popkit.KPIReport](t, e.do("GET", "/api/v1/kpis?scope=program&group=event&from=2026-04-01T00:00:00Z&to=2026-07-01T00:00:00Z", brandB, nil).want(t, 200))
	if prog.Events != 1 || len(prog.Rows) != 1 || prog.Rows[0].Key != w.e1.ID {
		t.Fatalf("brand B program view: %d events, rows %+v", prog.Events, prog.Rows)
	}
	e.do("GET", path, w.device, nil).want(t, 403)
	e.do("GET", path, w.fulfiller, nil).want(t, 403)

	// CSV: by Accept and by format, the same records.
	res := e.do("GET", path+"&group=hour", w.curator, nil, header{"Accept", "text/csv"}).want(t, 200)
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, res.Body)
	}
	if len(recs) < 3 || recs[0][0] != "scope" || recs[0][3] != "key" || recs[len(recs)-1][3] != "total" {
		t.Fatalf("CSV header or rows wrong: %v", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	last := recs[len(recs)-1]
	if last[col["revenue"]] != "3600" || last[col["transactions"]] != "1" {
		t.Fatalf("CSV total revenue %q, transactions %q", last[col["revenue"]], last[col["transactions"]])
	}
	if !bytes.Contains(res.Body, []byte("\r\n")) {
		t.Fatal("CSV records must end in CRLF (RFC 4180)")
	}
	res2 := e.do("GET", path+"&group=hour&format=csv", w.curator, nil).want(t, 200)
	if !bytes.Equal(res.Body, res2.Body) {
		t.Fatal("format=csv and Accept: text/csv differ")
	}

	// Comparison with the period before.
	cmp := decodeAs[popkit.KPIReport](t, e.do("GET", path+"&compare=previous_period", e.admin, nil).want(t, 200))
	rev := cmp.Total.Value("revenue")
	if cmp.Compare == nil || rev.CompareValue == nil || *rev.CompareValue != 0 || rev.Delta == nil || *rev.Delta != 3600 {
		t.Fatalf("comparison: %+v", rev)
	}
	cmpEv := decodeAs[popkit.KPIReport](t, e.do("GET", path+"&compare_event="+w.e2.ID, e.admin, nil).want(t, 200))
	if cmpEv.Compare == nil || cmpEv.Compare.ID != w.e2.ID {
		t.Fatalf("compare_event: %+v", cmpEv.Compare)
	}

	for _, c := range []struct {
		query  string
		status int
		field  string
	}{
		{"scope=galaxy" + kpiRange, 400, "scope"},
		{"scope=program&group=minute" + kpiRange, 400, "group"},
		{"scope=program&from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "from"},
		{"scope=program&from=2025-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "to"},
		{"scope=program&from=yesterday&to=2026-05-01T00:00:00Z", 400, "from"},
		{"scope=program" + kpiRange + "&format=xml", 400, "format"},
		{"scope=program" + kpiRange + "&compare=last_week", 400, "compare"},
		{"scope=city&id=" + w.city.ID + kpiRange + "&compare_event=" + w.e2.ID, 400, "compare_event"},
		{"scope=event&id=" + w.e1.ID + kpiRange + "&compare_event=" + popkit.NewID(), 404, "compare_event"},
		{"scope=event&id=" + popkit.NewID() + kpiRange, 404, ""},
		{"scope=city&id=" + popkit.NewID() + kpiRange, 404, ""},
		{"scope=event&id=nope" + kpiRange, 400, "id"},
	} {
		res := e.do("GET", "/api/v1/kpis?"+c.query, e.admin, nil).want(t, c.status)
		if p := res.problem(t); c.field != "" && !p.hasField(c.field) {
			t.Errorf("%s: problem %+v does not name %s", c.query, p, c.field)
		}
	}
	e.do("PUT", "/api/v1/devices/"+popkit.NewID()+"/sensors/door", e.admin, map[string]any{"entrance": true}).want(t, http.StatusNotFound)
	e.do("PUT", "/api/v1/devices/"+w.dev1.ID+"/sensors/door", e.admin, map[string]any{}).want(t, http.StatusBadRequest)
}
