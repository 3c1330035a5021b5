package sim

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
)

// TestRingUpSales runs the simulated cashier against a fake till that
// checks every sale as the agent does: a valid body, the amount equal to
// the total at the till's prices, offline card payments within the caps,
// and never an oversell: the cashier offers only what is on the shelf.
func TestRingUpSales(t *testing.T) {
	t.Parallel()
	prices := map[string]int64{"0195f3a0-0000-7000-8000-000000000001": 2500, "0195f3a0-0000-7000-8000-000000000002": 1200, "0195f3a0-0000-7000-8000-000000000003": 800}
	stock := map[string]int64{"0195f3a0-0000-7000-8000-000000000001": 3, "0195f3a0-0000-7000-8000-000000000002": 50, "0195f3a0-0000-7000-8000-000000000003": 50}
	var mu sync.Mutex
	methods := map[popkit.PaymentMethod]int{}
	ids := map[string]bool{}
	var card, oversold int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/pos/api/items":
			var items []map[string]any
			for _, sku := range []string{"0195f3a0-0000-7000-8000-000000000001", "0195f3a0-0000-7000-8000-000000000002", "0195f3a0-0000-7000-8000-000000000003"} {
				items = append(items, map[string]any{"sku_id": sku, "price_minor": prices[sku], "stock": stock[sku]})
			}
			json.NewEncoder(w).Encode(map[string]any{"items": items, "unsynced": map[string]any{"card_offline_minor": card}, "card_offline_max_tx": 5000, "card_offline_max_total": 20000})
		case "/pos/api/sales":
			b, _ := io.ReadAll(r.Body)
			req, err := edge.DecodeSaleRequest(b)
			if err != nil || req.ID == "" || ids[req.ID] {
				t.Errorf("sale %s: %v", b, err)
				w.WriteHeader(400)
				return
			}
			var total int64
			short := false
			for _, l := range req.Lines {
				total += int64(l.Quantity) * prices[l.SKUID]
				short = short || stock[l.SKUID] < int64(l.Quantity)
			}
			if total != req.Payment.AmountMinor {
				t.Errorf("amount %d, total %d", req.Payment.AmountMinor, total)
			}
			if short && !req.AllowOversell {
				w.WriteHeader(http.StatusConflict)
				w.Write([]byte(`{"detail":"short","shortfalls":[{}]}`))
				return
			}
			if short {
				oversold++
			}
			if req.Payment.Method == popkit.PaymentCardOffline {
				card += total
				if total > 5000 || card > 20000 {
					t.Errorf("offline card over the caps: %d, total %d", total, card)
				}
			}
			for _, l := range req.Lines {
				stock[l.SKUID] -= int64(l.Quantity)
			}
			ids[req.ID] = true
			methods[req.Payment.Method]++
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	n, err := RingUpSales(context.Background(), srv.URL, 60, rand.New(rand.NewPCG(1, 2)))
	if err != nil || n != 60 || oversold != 0 {
		t.Fatalf("rang up %d sales (%d oversold): %v", n, oversold, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 60 || methods[popkit.PaymentExternal] < 20 || methods[popkit.PaymentCash] < 5 || methods[popkit.PaymentCardOffline] == 0 {
		t.Errorf("sales by method %v", methods)
	}
	t.Logf("methods %v, oversold baskets %d", methods, oversold)
}
