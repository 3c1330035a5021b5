package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/sim"
)

// TestPOSOfflineEndToEnd rings up sales at a real agent's till while its
// link to the real control plane is down, brings the link up, and checks
// that each sale became exactly one pos order on the server with the
// till's occurred_at and lines, and that the server's stock fell once per
// sold unit.
func TestPOSOfflineEndToEnd(t *testing.T) {
	s := newEdgeSite(t)
	ctx := context.Background()
	event := s.device.EventID

	// Three products at 100 units, one of them at an event price (the
	// others at list price, which the till reads from the SKU).
	items, _, err := s.m.DB.FindAssortment(ctx, popkit.AssortmentFilter{EventID: event, Page: popkit.Page{Limit: 3}})
	if err != nil || len(items) < 3 {
		t.Fatalf("assortment of the device's event: %d items, %v", len(items), err)
	}
	for i, it := range items {
		sku, err := s.m.DB.FindSKUByID(ctx, it.SKUID)
		if err != nil {
			t.Fatal(err)
		}
		item := &popkit.AssortmentItem{EventID: event, SKUID: it.SKUID, Stock: 100}
		if i == 0 {
			price := sku.PriceMinor + 50
			item.PriceMinor = &price
		}
		if err := s.m.DB.SetAssortmentItem(ctx, item); err != nil {
			t.Fatal(err)
		}
	}

	// The agent reaches the server through a link the test cuts.
	target, _ := url.Parse(s.m.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var up atomic.Bool
	up.Store(true)
	link := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "link down", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer link.Close()

	c := edge.DefaultConfig()
	c.ServerURL, c.Token, c.DeviceID, c.EventID = link.URL, s.token, s.device.ID, event
	c.DataDir, c.Listen = t.TempDir(), "127.0.0.1:0"
	c.BatchInterval, c.RollupDelay, c.RetryMin, c.RetryMax = 20*time.Millisecond, 0, 10*time.Millisecond, 200*time.Millisecond
	c.POS.Refresh = 200 * time.Millisecond
	a := &edge.Agent{Config: c}
	if err := a.Open(ctx); err != nil {
		t.Fatalf("open agent: %v", err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	till := "http://" + a.Addr()

	type tillItems struct {
		Items []struct {
			SKUID      string `json:"sku_id"`
			PriceMinor *int64 `json:"price_minor"`
			Stock      int64  `json:"stock"`
		} `json:"items"`
		Unsynced struct {
			Count int64 `json:"count"`
		} `json:"unsynced"`
	}
	readTill := func() tillItems {
		var v tillItems
		if code := do(t, "GET", till+"/pos/api/items", "", nil, &v); code != 200 {
			t.Fatalf("GET /pos/api/items = %d", code)
		}
		return v
	}
	waitUntil(t, 15*time.Second, "the till to price the three products", func() bool {
		priced := 0
		v := readTill()
		for _, it := range v.Items {
			if it.PriceMinor != nil {
				priced++
			}
		}
		return priced >= 3 && priced == len(v.Items)
	})

	up.Store(false)
	n, err := sim.RingUpSales(ctx, till, 12, rand.New(rand.NewPCG(4, 2)))
	if err != nil || n != 12 {
		t.Fatalf("rang up %d sales offline: %v", n, err)
	}
	var receipts struct {
		Items []edge.Receipt `json:"items"`
	}
	if code := do(t, "GET", till+"/pos/api/sales?limit=200", "", nil, &receipts); code != 200 || len(receipts.Items) != 12 {
		t.Fatalf("GET /pos/api/sales = %d, %d receipts", code, len(receipts.Items))
	}
	sold := map[string]int64{}
	for _, rc := range receipts.Items {
		if rc.Sync != edge.SyncPending {
			t.Errorf("sale %s is %s while the link is down", rc.ID, rc.Sync)
		}
		for _, l := range rc.Lines {
			sold[l.SKUID] += int64(l.Quantity)
		}
	}
	if code := do(t, "GET", s.m.URL()+"/api/v1/orders/"+receipts.Items[0].ID, s.admin, nil, nil); code != http.StatusNotFound {
		t.Errorf("the server knows sale %s before the link is up: %d", receipts.Items[0].ID, code)
	}

	up.Store(true)
	waitUntil(t, 30*time.Second, "every sale to sync", func() bool { return readTill().Unsynced.Count == 0 })
	for _, rc := range receipts.Items {
		var o popkit.Order
		if code := do(t, "GET", s.m.URL()+"/api/v1/orders/"+rc.ID, s.admin, nil, &o); code != 200 {
			t.Errorf("GET order %s = %d", rc.ID, code)
			continue
		}
		if o.Channel != popkit.ChannelPOS || !o.OccurredAt.Equal(rc.OccurredAt) || o.TotalMinor != rc.TotalMinor || o.Payment != rc.Payment || len(o.Lines) != len(rc.Lines) {
			t.Errorf("order %s: %+v\nreceipt %+v", rc.ID, o, rc)
		}
	}
	var orders struct {
		Items []popkit.Order `json:"items"`
	}
	if code := do(t, "GET", s.m.URL()+"/api/v1/orders?event_id="+event+"&limit=200", s.admin, nil, &orders); code == 200 {
		pos := 0
		for _, o := range orders.Items {
			if o.Channel == popkit.ChannelPOS {
				pos++
			}
		}
		if pos != len(receipts.Items) {
			t.Errorf("%d pos orders on the server, want %d", pos, len(receipts.Items))
		}
	}
	for _, it := range items {
		var got popkit.AssortmentItem
		if code := do(t, "GET", s.m.URL()+"/api/v1/events/"+event+"/assortment/"+it.SKUID, s.admin, nil, &got); code != 200 {
			t.Fatalf("GET assortment item = %d", code)
		}
		if want := 100 - sold[it.SKUID]; int64(got.Stock) != want {
			t.Errorf("server stock of %s: %d, want %d (sold %d)", it.SKUID, got.Stock, want, sold[it.SKUID])
		}
	}
	// The till's stock, refetched, agrees with the server's: nothing counted twice.
	waitUntil(t, 15*time.Second, "the till's stock to match the server's", func() bool {
		for _, ti := range readTill().Items {
			for _, it := range items {
				if ti.SKUID == it.SKUID && ti.Stock != 100-sold[it.SKUID] {
					return false
				}
			}
		}
		return true
	})
	b, _ := json.Marshal(sold)
	t.Logf("sold %s in %d offline sales, synced once each", b, len(receipts.Items))
}
