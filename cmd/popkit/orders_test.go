package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// orderFixture is an event with one SKU (price 1200) holding stock units.
type orderFixture struct {
	eventID, skuID string
}

func mkOrderFixture(t *testing.T, db *sqlstore.DB, stock int) orderFixture {
	t.Helper()
	ctx := context.Background()
	city := &popkit.City{Name: "Lisbon", Country: "PT", TimeZone: "Europe/Lisbon"}
	venue := &popkit.Venue{Name: "Armazém", Address: "Rua 1", Lat: 38.7, Lon: -9.1}
	brand := &popkit.Brand{Name: "Brand", Slug: "brand-orders"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateCity(ctx, city))
	venue.CityID = city.ID
	must(db.CreateVenue(ctx, venue))
	must(db.CreateBrand(ctx, brand))
	ev := &popkit.Event{VenueID: venue.ID, Name: "Pop-up", Slug: "orders", BrandIDs: []string{brand.ID},
		Sessions: []popkit.Session{{Start: "2026-05-01T10:00", End: "2026-05-01T18:00"}}}
	must(db.CreateEvent(ctx, ev))
	sku := &popkit.SKU{BrandID: brand.ID, Code: "S-1", Name: "Soap", PriceMinor: 1200, UnitCostMinor: 300}
	must(db.CreateSKU(ctx, sku))
	must(db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev.ID, SKUID: sku.ID, Stock: stock}))
	return orderFixture{eventID: ev.ID, skuID: sku.ID}
}

func (f orderFixture) body(id string, qty int) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "event_id": f.eventID, "channel": "pos",
		"lines":   []map[string]any{{"sku_id": f.skuID, "quantity": qty, "unit_price_minor": 1200}},
		"payment": map[string]any{"method": "card_offline", "amount_minor": qty * 1200},
	})
	return b
}

// postOrder posts an order with an Idempotency-Key and returns the status,
// whether it was a replay, and the body.
func postOrder(t *testing.T, url, token, key string, body []byte) (int, bool, string) {
	status, replayed, text, err := postOrderWith(http.DefaultClient, url, token, key, body)
	if err != nil {
		t.Error(err)
	}
	return status, replayed, text
}

// postOrderWith is postOrder with a client, returning transport errors.
func postOrderWith(c *http.Client, url, token, key string, body []byte) (int, bool, string, error) {
	req, err := http.NewRequest("POST", url+"/api/v1/orders", bytes.NewReader(body))
	if err != nil {
		return 0, false, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, "", err
	}
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed") == "true", string(b), nil
}

// TestTwoServersOrders runs the order faults against two servers sharing
// one PostgreSQL: a retry storm split between them makes one order, and 200
// orders for the last 10 units confirm exactly 10.
func TestTwoServersOrders(t *testing.T) {
	if os.Getenv("POPKIT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL suite skipped: set POPKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	dsn := sqlstoretest.OpenDSN(t)
	servers := []*Main{openMain(t, dsn), openMain(t, dsn)}
	token := adminToken(t, servers[0])
	f := mkOrderFixture(t, servers[0].DB, 10)
	ctx := context.Background()

	t.Run("retry storm", func(t *testing.T) {
		body := f.body(popkit.NewID(), 2)
		const n = 100
		var wg sync.WaitGroup
		var mu sync.Mutex
		fresh, other := 0, map[int]int{}
		for i := range n {
			wg.Go(func() {
				status, replayed, text := postOrder(t, servers[i%2].URL(), token, "storm-key", body)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == 201 && !replayed:
					fresh++
				case status == 201 || status == 409:
					other[status]++
				default:
					t.Errorf("status %d: %s", status, text)
				}
			})
		}
		wg.Wait()
		if fresh != 1 {
			t.Errorf("%d requests created an order (others %v), want 1", fresh, other)
		}
		orders, _, err := servers[1].DB.FindOrders(ctx, popkit.OrderFilter{EventID: f.eventID})
		if err != nil {
			t.Fatal(err)
		}
		item, err := servers[1].DB.FindAssortmentItem(ctx, f.eventID, f.skuID)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 1 || item.Reserved != 2 {
			t.Errorf("%d orders, %d reserved; want 1 and 2", len(orders), item.Reserved)
		}
	})

	t.Run("last units", func(t *testing.T) {
		// 8 units are left; 200 orders of one unit each, alternating servers.
		const n = 200
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, short := 0, 0
		for i := range n {
			wg.Go(func() {
				status, _, text := postOrder(t, servers[i%2].URL(), token, fmt.Sprint("last-", i), f.body(popkit.NewID(), 1))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == 201:
					created++
				case status == 409 && strings.Contains(text, "insufficient stock"):
					short++
				default:
					t.Errorf("status %d: %s", status, text)
				}
			})
		}
		wg.Wait()
		item, err := servers[0].DB.FindAssortmentItem(ctx, f.eventID, f.skuID)
		if err != nil {
			t.Fatal(err)
		}
		if created != 8 || short != n-8 || item.Reserved != 10 || item.Stock != 10 {
			t.Errorf("%d created, %d insufficient stock, stock %d reserved %d; want 8, %d, 10, 10", created, short, item.Stock, item.Reserved, n-8)
		}
	})
}
