package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/internal/browsertest"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
	"github.com/popkit/popkit/web"
)

// TestKittingPage checks the page shell: served without a session, no
// inline script allowed, the legal steps of fulfil.Legal rendered in.
func TestKittingPage(t *testing.T) {
	t.Parallel()
	h := &web.Handler{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/kitting", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /kitting: %d", rec.Code)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", rec.Header())
	}
	body := rec.Body.String()
	for _, want := range []string{`src="/kitting/kitting.js"`, `id="signin"`, `id="board"`,
		`&#34;open&#34;:[&#34;accepted&#34;,&#34;on_hold&#34;,&#34;cancelled&#34;]`,
		`&#34;ready&#34;:[&#34;out_for_delivery&#34;,&#34;picked_up&#34;,&#34;on_hold&#34;,&#34;cancelled&#34;]`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("page has an inline script")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/kitting/kitting.js", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || !strings.Contains(rec.Body.String(), "/transitions") {
		t.Fatalf("GET /kitting/kitting.js: %d %v", rec.Code, rec.Header())
	}
}

// apiClient calls the real API of a test server.
type apiClient struct {
	t    *testing.T
	base string
}

func (c apiClient) do(method, path, token string, body any, want int) []byte {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == "POST" && path == "/api/v1/orders" {
		req.Header.Set("Idempotency-Key", popkit.NewID())
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, out, want)
	}
	return out
}

func (c apiClient) id(method, path, token string, body any, want int) string {
	c.t.Helper()
	var v struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(c.do(method, path, token, body, want), &v); err != nil {
		c.t.Fatal(err)
	}
	if v.Secret != "" {
		return v.Secret
	}
	return v.ID
}

// TestBrowserKitting drives the kitting page in chromium against the real
// API over a fresh database: a fulfiller signs in, sees the node's
// perishable order under "open", accepts it, holds it and releases it with
// the page's buttons, and the API shows each step made by the fulfiller.
func TestBrowserKitting(t *testing.T) {
	ctx := browsertest.Start(t)
	db := sqlstoretest.Open(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC) // Friday 10:00 in Berlin
	db.Now = func() time.Time { return now }
	api := pkhttp.NewServer(db)
	api.Now = db.Now
	site := &web.Handler{}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler())
	mux.Handle("/", site)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	admin, err := db.CreateToken(context.Background(), &popkit.Token{Name: "admin", Role: popkit.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	c := apiClient{t: t, base: srv.URL}
	city := c.id("POST", "/api/v1/cities", admin, map[string]any{"name": "Berlin", "country": "DE", "time_zone": "Europe/Berlin"}, 201)
	venue := c.id("POST", "/api/v1/venues", admin, map[string]any{"city_id": city, "name": "Halle", "address": "Str. 1", "lat": 52.5, "lon": 13.4}, 201)
	brand := c.id("POST", "/api/v1/brands", admin, map[string]any{"name": "Milk Co", "slug": "milk-co"}, 201)
	event := c.id("POST", "/api/v1/events", admin, map[string]any{"venue_id": venue, "name": "Pop-up", "slug": "pop", "brand_ids": []string{brand},
		"sessions": []map[string]any{{"start": "2026-05-01T10:00", "end": "2026-05-01T18:00"}}}, 201)
	sku := c.id("POST", "/api/v1/skus", admin, map[string]any{"brand_id": brand, "code": "MILK-1", "name": "Oat milk", "price_minor": 300,
		"unit_cost_minor": 100, "weight_grams": 1000, "perishable": true}, 201)
	c.do("PUT", "/api/v1/events/"+event+"/assortment/"+sku, admin, map[string]any{"stock": 10}, 200)
	node := c.id("POST", "/api/v1/nodes", admin, map[string]any{
		"name": "Kühlhaus Mitte", "kind": "kitting_station", "lat": 52.52, "lon": 13.40, "service_radius_km": 10, "time_zone": "Europe/Berlin",
		"opening_hours":   []map[string]any{{"day": "fri", "open": "08:00", "close": "20:00"}},
		"same_day_cutoff": "16:00", "capacity_per_hour": 100, "capacity_per_day": 500, "cold_chain": true,
		"cost_per_order_minor": 250, "cost_per_bundle_minor": 1000, "external": false}, 201)
	other := c.id("POST", "/api/v1/nodes", admin, map[string]any{
		"name": "Zweite", "kind": "kitting_station", "lat": 52.6, "lon": 13.5, "service_radius_km": 1, "time_zone": "Europe/Berlin",
		"opening_hours": []map[string]any{}, "same_day_cutoff": "16:00", "capacity_per_hour": 1, "capacity_per_day": 1,
		"cold_chain": false, "cost_per_order_minor": 250, "cost_per_bundle_minor": 1000, "external": false}, 201)
	fulfiller := c.id("POST", "/api/v1/tokens", admin, map[string]any{"role": "fulfiller", "node_id": node, "name": "station"}, 201)
	device := c.id("POST", "/api/v1/tokens", admin, map[string]any{"role": "device", "event_id": event, "name": "till"}, 201)
	c.do("PUT", "/api/v1/nodes/"+node+"/stock", fulfiller, map[string]any{"lines": []map[string]any{{"sku_id": sku, "on_hand": 10}}}, 200)
	var order struct {
		FulfilmentOrders []struct {
			ID string `json:"id"`
		} `json:"fulfilment_orders"`
	}
	must(t, json.Unmarshal(c.do("POST", "/api/v1/orders", device, map[string]any{
		"event_id": event, "channel": "same_day",
		"lines":    []map[string]any{{"sku_id": sku, "quantity": 2, "unit_price_minor": 300}},
		"payment":  map[string]any{"method": "card", "amount_minor": 600},
		"delivery": map[string]any{"mode": "delivery", "lat": 52.521, "lon": 13.41}}, 201), &order))
	if len(order.FulfilmentOrders) != 1 {
		t.Fatalf("order routed to %d nodes, want 1", len(order.FulfilmentOrders))
	}
	fo := order.FulfilmentOrders[0].ID
	card := func(status string) string {
		return `section[data-status="` + status + `"] article[data-id="` + fo + `"]`
	}

	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/kitting"),
		chromedp.WaitVisible(`#token`),
		chromedp.SendKeys(`#token`, fulfiller),
		chromedp.Click(`#signin button`),
		chromedp.WaitVisible(card("open")),
	); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.OuterHTML("main"))
		t.Fatalf("sign in and see the order: %v; page: %.2000s", err, body)
	}
	badges, err := chromedp.Run(tctx, chromedp.Text(card("open")+" div"))
	must(t, err)
	lines, err := chromedp.Run(tctx, chromedp.Text(card("open")+" ul"))
	must(t, err)
	must(t, chromedp.Do(tctx,
		chromedp.Click(card("open")+` button[data-to="accepted"]`),
		chromedp.WaitVisible(card("accepted")),
		chromedp.Click(card("accepted")+` button[data-to="on_hold"]`),
		chromedp.WaitVisible(card("on_hold")),
		chromedp.Click(card("on_hold")+` button[data-to="accepted"]`),
		chromedp.WaitVisible(card("accepted")),
	))
	// An admin picks the node: both are offered; the other one has no orders.
	must(t, chromedp.Do(tctx,
		chromedp.Click(`#signout`),
		chromedp.WaitVisible(`#token`),
		chromedp.SendKeys(`#token`, admin),
		chromedp.Click(`#signin button`),
		chromedp.WaitVisible(card("accepted")),
	))
	options, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#node option").length`))
	must(t, err)
	if options != 2 {
		t.Errorf("admin is offered %d nodes, want 2", options)
	}
	_, err = chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { const s = document.getElementById("node"); s.value = "`+other+`";
		s.dispatchEvent(new Event("change")); return true; })()`))
	must(t, err)
	must(t, chromedp.Do(tctx, chromedp.WaitNotPresent(`article[data-id="`+fo+`"]`), chromedp.WaitVisible(`section[data-status="open"]`)))
	if !strings.Contains(badges, "perishable") || !strings.Contains(lines, "2 × Oat milk") {
		t.Errorf("card shows badges %q, lines %q", badges, lines)
	}
	var got fulfil.FulfilmentOrder
	must(t, json.Unmarshal(c.do("GET", "/api/v1/fulfilment-orders/"+fo, admin, nil, 200), &got))
	if got.Status != fulfil.StateAccepted || len(got.Transitions) != 3 {
		t.Fatalf("fulfilment order %+v, want accepted after 3 steps", got)
	}
	for _, s := range got.Transitions {
		if !strings.HasPrefix(s.Actor, "fulfiller:") {
			t.Errorf("step %+v not made by the fulfiller", s)
		}
	}
}
