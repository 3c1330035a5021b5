package http_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/popkit/popkit"
)

// orderBody is a cash order at e1 of qty units of skuA (price 1200).
func orderBody(w *world, qty int) map[string]any {
	return map[string]any{
		"event_id": w.e1.ID, "channel": "pos",
		"lines":   []map[string]any{{"sku_id": w.skuA.ID, "quantity": qty, "unit_price_minor": 1200}},
		"payment": map[string]any{"method": "cash", "amount_minor": qty * 1200},
	}
}

func reservedOf(e *env, w *world, skuID string) (stock, reserved int) {
	e.tb.Helper()
	a := decodeAs[popkit.AssortmentItem](e.tb, e.do("GET", "/api/v1/events/"+w.e1.ID+"/assortment/"+skuID, e.admin, nil).want(e.tb, 200))
	return a.Stock, a.Reserved
}

func TestOrdersAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)

	res := e.do("POST", "/api/v1/orders", w.device, orderBody(w, 2), key("o-1")).want(t, 201)
	o := decodeAs[popkit.Order](t, res)
	if o.Status != popkit.OrderConfirmed || o.TotalMinor != 2400 || o.CostMinor != 800 || o.Lines[0].UnitCostMinor != 400 || res.Header.Get("Location") != "/api/v1/orders/"+o.ID {
		t.Fatalf("created %+v, Location %q", o, res.Header.Get("Location"))
	}
	if s, r := reservedOf(e, w, w.skuA.ID); s != 10 || r != 2 {
		t.Errorf("stock %d reserved %d, want 10 and 2", s, r)
	}

	t.Run("idempotency key", func(t *testing.T) {
		e := e.with(t)
		e.do("POST", "/api/v1/orders", w.device, orderBody(w, 1)).want(t, 400)
		res := e.do("POST", "/api/v1/orders", w.device, orderBody(w, 2), key("o-1")).want(t, 201)
		if res.Header.Get("Idempotent-Replayed") != "true" || decodeAs[popkit.Order](t, res).ID != o.ID {
			t.Errorf("replay: header %q body %s", res.Header.Get("Idempotent-Replayed"), res.Body)
		}
		e.do("POST", "/api/v1/orders", w.device, orderBody(w, 3), key("o-1")).want(t, 422)
		// The same order spelled otherwise (key order, whitespace) is a
		// retry; a changed value is not.
		spelled := fmt.Sprintf(`{
		  "payment": {"amount_minor": 2400, "method": "cash"},
		  "lines": [ {"unit_price_minor": 1200, "quantity": 2, "sku_id": %q} ],
		  "channel": "pos",   "event_id": %q
		}`, w.skuA.ID, w.e1.ID)
		res = e.do("POST", "/api/v1/orders", w.device, spelled, key("o-1")).want(t, 201)
		if res.Header.Get("Idempotent-Replayed") != "true" || decodeAs[popkit.Order](t, res).ID != o.ID {
			t.Errorf("respelled retry: header %q body %s", res.Header.Get("Idempotent-Replayed"), res.Body)
		}
		changed := strings.NewReplacer(`"quantity": 2`, `"quantity": 3`, `2400`, `3600`).Replace(spelled)
		e.do("POST", "/api/v1/orders", w.device, changed, key("o-1")).want(t, 422)
		if _, r := reservedOf(e, w, w.skuA.ID); r != 2 {
			t.Errorf("reserved %d after retries, want 2", r)
		}
	})

	t.Run("client id", func(t *testing.T) {
		e := e.with(t)
		id := popkit.NewID()
		body := orderBody(w, 1)
		body["id"] = id
		body["occurred_at"] = "2026-05-01T10:30:00Z"
		first := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, body, key("pos-1")).want(t, 201))
		again := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, body, key("pos-2")).want(t, 200))
		if first.ID != id || again.ID != id || again.OccurredAt != first.OccurredAt || first.OccurredAt.Format("15:04") != "10:30" {
			t.Errorf("first %+v, again %+v", first, again)
		}
		body["lines"] = []map[string]any{{"sku_id": w.skuB.ID, "quantity": 1, "unit_price_minor": 1200}}
		if p := e.do("POST", "/api/v1/orders", w.device, body, key("pos-3")).want(t, 409).problem(t); !p.hasField("id") {
			t.Errorf("problem %+v does not name id", p)
		}
		if _, r := reservedOf(e, w, w.skuA.ID); r != 3 {
			t.Errorf("reserved %d, want 3", r)
		}
	})

	t.Run("read and scope", func(t *testing.T) {
		e := e.with(t)
		got := decodeAs[popkit.Order](t, e.do("GET", "/api/v1/orders/"+o.ID, w.device, nil).want(t, 200))
		if got.ID != o.ID || len(got.Lines) != 1 {
			t.Errorf("get = %+v", got)
		}
		other := e.newToken(map[string]any{"role": "device", "event_id": w.e2.ID})
		e.do("GET", "/api/v1/orders/"+o.ID, other, nil).want(t, 403)
		e.do("POST", "/api/v1/orders/"+o.ID+"/transitions", other, map[string]any{"to": "cancelled"}).want(t, 403)
		e.do("POST", "/api/v1/orders", other, orderBody(w, 1), key("o-other")).want(t, 403)
		e.do("GET", "/api/v1/orders?event_id="+w.e1.ID, other, nil).want(t, 403)
		e.do("GET", "/api/v1/orders", w.brand, nil).want(t, 403)
		e.do("GET", "/api/v1/orders/"+popkit.NewID(), e.admin, nil).want(t, 404)
		list := decodeAs[listBody[popkit.Order]](t, e.do("GET", "/api/v1/orders", other, nil).want(t, 200))
		if len(list.Items) != 0 {
			t.Errorf("device of e2 sees %d orders, want 0", len(list.Items))
		}
		e.do("GET", "/api/v1/orders?status=lost", e.admin, nil).want(t, 400)
		e.do("GET", "/api/v1/orders?channel=mail", e.admin, nil).want(t, 400)
	})

	t.Run("transitions", func(t *testing.T) {
		e := e.with(t)
		id := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, orderBody(w, 1), key("o-t")).want(t, 201)).ID
		path := "/api/v1/orders/" + id + "/transitions"
		tests := []struct {
			name   string
			token  string
			body   any
			status int
			field  string
		}{
			{"fulfil", w.device, map[string]any{"to": "fulfilled", "reason": "handed over"}, 200, ""},
			{"back to confirmed", e.admin, map[string]any{"to": "confirmed"}, 409, "to"},
			{"unknown status", e.admin, map[string]any{"to": "lost"}, 400, "to"},
			{"missing to", e.admin, map[string]any{"reason": "x"}, 400, "to"},
			{"unknown field", e.admin, map[string]any{"to": "completed", "by": "me"}, 400, ""},
			{"complete", e.admin, map[string]any{"to": "completed"}, 200, ""},
		}
		for _, tt := range tests {
			res := e.do("POST", path, tt.token, tt.body).want(t, tt.status)
			if tt.field != "" && !res.problem(t).hasField(tt.field) {
				t.Errorf("%s: problem does not name %s: %s", tt.name, tt.field, res.Body)
			}
		}
		got := decodeAs[popkit.Order](t, e.do("GET", "/api/v1/orders/"+id, e.admin, nil).want(t, 200))
		if got.Status != popkit.OrderCompleted || len(got.Transitions) != 2 ||
			!strings.HasPrefix(got.Transitions[0].Actor, "device:") || got.Transitions[0].Reason != "handed over" ||
			!strings.HasPrefix(got.Transitions[1].Actor, "admin:") {
			t.Errorf("order after transitions = %+v", got)
		}
		if s, r := reservedOf(e, w, w.skuA.ID); s != 9 || r != 3 {
			t.Errorf("stock %d reserved %d after fulfilment, want 9 and 3", s, r)
		}
	})
}

func TestOrdersBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	outside := create[popkit.SKU](e, "/api/v1/skus", "", skuBody(w.brandA.ID, "A-OUT"))
	edit := func(f func(b map[string]any, line map[string]any)) map[string]any {
		b := orderBody(w, 1)
		f(b, b["lines"].([]map[string]any)[0])
		return b
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"sku not in the assortment", edit(func(_, l map[string]any) { l["sku_id"] = outside.ID }), 400, "lines[0].sku_id"},
		{"zero quantity", edit(func(_, l map[string]any) { l["quantity"] = 0 }), 400, "lines[0].quantity"},
		{"negative quantity", edit(func(_, l map[string]any) { l["quantity"] = -1 }), 400, "lines[0].quantity"},
		{"price disagrees", edit(func(b, l map[string]any) {
			l["unit_price_minor"] = 1100
			b["payment"] = map[string]any{"method": "cash", "amount_minor": 1100}
		}), 400, "lines[0].unit_price_minor"},
		{"unknown event", edit(func(b, _ map[string]any) { b["event_id"] = popkit.NewID() }), 422, "event_id"},
		{"too many units", edit(func(b, l map[string]any) {
			l["quantity"] = 11
			b["payment"] = map[string]any{"method": "cash", "amount_minor": 11 * 1200}
		}), 409, "lines[0].quantity"},
		{"unit cost from the client", edit(func(_, l map[string]any) { l["unit_cost_minor"] = 1 }), 400, "lines[0].unit_cost_minor"},
		{"quantity as text", edit(func(_, l map[string]any) { l["quantity"] = "1" }), 400, "lines.quantity"},
		{"one-digit hour", edit(func(b, _ map[string]any) { b["occurred_at"] = "2026-05-01T9:30:00Z" }), 400, "occurred_at"},
		{"comma before the fraction", edit(func(b, _ map[string]any) { b["occurred_at"] = "2026-05-01T09:30:00,5Z" }), 400, "occurred_at"},
		{"not an object", `[]`, 400, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			p := e.do("POST", "/api/v1/orders", e.admin, tt.body, key(fmt.Sprint("bad-", i))).want(t, tt.status).problem(t)
			if tt.field != "" && !p.hasField(tt.field) {
				t.Errorf("problem %+v does not name %s", p, tt.field)
			}
		})
	}
	if list := decodeAs[listBody[popkit.Order]](t, e.do("GET", "/api/v1/orders", e.admin, nil).want(t, 200)); len(list.Items) != 0 {
		t.Errorf("%d orders stored after bad input, want 0", len(list.Items))
	}
	if _, r := reservedOf(e, w, w.skuA.ID); r != 0 {
		t.Errorf("reserved %d after bad input, want 0", r)
	}
}

// TestOrdersLastUnits sends 200 concurrent orders for the last 10 units.
func TestOrdersLastUnits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	const n = 200
	statuses := make([]int, n)
	details := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := e.do("POST", "/api/v1/orders", w.device, orderBody(w, 1), key(fmt.Sprint("last-", i)))
			statuses[i] = res.Status
			if res.Status == 409 {
				details[i] = res.problem(t).Detail
			}
		})
	}
	wg.Wait()
	created, short := 0, 0
	for i, s := range statuses {
		switch {
		case s == 201:
			created++
		case s == 409 && strings.Contains(details[i], "insufficient stock"):
			short++
		default:
			t.Errorf("request %d: status %d %q", i, s, details[i])
		}
	}
	if created != 10 || short != n-10 {
		t.Errorf("%d created and %d insufficient stock, want 10 and %d", created, short, n-10)
	}
	if s, r := reservedOf(e, w, w.skuA.ID); s != 10 || r != 10 {
		t.Errorf("stock %d reserved %d, want 10 and 10", s, r)
	}
}

// TestOrdersRetryStorm sends 100 concurrent identical requests with one
// key: one order, one reservation, the rest replayed or 409.
func TestOrdersRetryStorm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	body := orderBody(w, 3)
	body["id"] = popkit.NewID()
	const n = 100
	statuses := make([]int, n)
	replayed := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := e.do("POST", "/api/v1/orders", w.device, body, key("storm"))
			statuses[i], replayed[i] = res.Status, res.Header.Get("Idempotent-Replayed") == "true"
		})
	}
	wg.Wait()
	fresh := 0
	for i, s := range statuses {
		switch {
		case s == 201 && !replayed[i]:
			fresh++
		case s == 201 || s == 409:
		default:
			t.Errorf("request %d: status %d", i, s)
		}
	}
	if fresh != 1 {
		t.Errorf("%d requests created an order, want 1", fresh)
	}
	list := decodeAs[listBody[popkit.Order]](t, e.do("GET", "/api/v1/orders", e.admin, nil).want(t, 200))
	if len(list.Items) != 1 {
		t.Errorf("%d orders stored, want 1", len(list.Items))
	}
	if _, r := reservedOf(e, w, w.skuA.ID); r != 3 {
		t.Errorf("reserved %d, want 3 (one reservation)", r)
	}
}

// ordersScenario runs every order route once for TestOpenAPIScenario.
func ordersScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	o := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, orderBody(w, 1), key("scenario-order")).want(t, 201))
	body := orderBody(w, 1)
	body["id"] = o.ID
	e.do("POST", "/api/v1/orders", w.device, body, key("scenario-order-2")).want(t, 200)
	e.do("GET", "/api/v1/orders?event_id="+w.e1.ID+"&status=confirmed&channel=pos", w.device, nil).want(t, 200)
	e.do("GET", "/api/v1/orders/"+o.ID, w.device, nil).want(t, 200)
	e.do("POST", "/api/v1/orders/"+o.ID+"/transitions", w.device, map[string]any{"to": "cancelled", "reason": "customer changed mind"}).want(t, 200)
	e.do("POST", "/api/v1/orders/"+o.ID+"/transitions", e.admin, map[string]any{"to": "fulfilled"}).want(t, 409)
}

// FuzzOrderBodies drives the order and transition routes with fuzzed
// bodies; every answer must be a success or a problem, never a 5xx.
func FuzzOrderBodies(f *testing.F) {
	e, w := fuzzEnv(f)
	o := decodeAs[popkit.Order](f, e.do("POST", "/api/v1/orders", e.admin, orderBody(w, 1), key("fuzz-seed")).want(f, 201))
	for _, b := range []string{
		mustJSON(orderBody(w, 1)),
		`{"to":"cancelled","reason":"x"}`, `{"to":"fulfilled"}`, `{"to":""}`, `{"to":null}`,
		`{"event_id":"` + w.e1.ID + `","channel":"pos","lines":[{"sku_id":"` + w.skuA.ID + `","quantity":9223372036854775807,"unit_price_minor":9223372036854775807}],"payment":{"method":"cash","amount_minor":0}}`,
		`{"event_id":"` + w.e1.ID + `","channel":"pos","lines":[],"payment":{"method":"external","amount_minor":0}}`,
		`{"id":"` + popkit.NewID() + `","lines":[null],"occurred_at":"9999-12-31T23:59:59Z"}`,
		`{"lines":{"sku_id":1}}`, `{}`, `[]`, ``,
	} {
		f.Add(uint8(0), []byte(b))
		f.Add(uint8(1), []byte(b))
	}
	paths := []string{"/api/v1/orders", "/api/v1/orders/" + o.ID + "/transitions"}
	tokens := []string{e.admin, w.device}
	var n int
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		e := e.with(t)
		mu.Lock()
		n++
		k := fmt.Sprint("fuzz-", n)
		mu.Unlock()
		wantProblem(t, e.do("POST", paths[int(pick)%2], tokens[int(pick)/2%2], body, key(k)))
	})
}
