package edge

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
)

// fakePOSServer is a control plane for the till: fakeIngest's uplink
// contract, plus the event's till assortment in one answer with the
// event's currency, and, as an older server answers, the assortment two
// items a page (to exercise paging) and SKU lookups. Like the real server it applies each newly
// stored sale to its stock in the ingest request that acknowledges it.
type fakePOSServer struct {
	t     testing.TB
	ing   *fakeIngest
	srv   *httptest.Server
	event string

	mu            sync.Mutex
	items         []*fakeItem
	skusForbidden bool
	legacy        bool                     // no till route: 404, as a server before it
	currency      string                   // the event's currency in the till answer
	gets          int                      // GET requests for the assortment and SKUs
	sales         map[string][]popkit.Sale // by sale id, every stored copy
}

type fakeItem struct {
	sku      string
	name     string
	price    int64
	override *int64
	stock    int64
	reserved int64
}

func newFakePOSServer(t testing.TB, event string, items ...*fakeItem) *fakePOSServer {
	f := &fakePOSServer{t: t, ing: newFakeIngest(t), event: event, items: items, currency: "EUR", sales: map[string][]popkit.Sale{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func item(name string, price, stock int64) *fakeItem {
	return &fakeItem{sku: uuid.Must(uuid.NewV7()).String(), name: name, price: price, stock: stock}
}

func (f *fakePOSServer) setDown(down bool) { f.ing.setDown(down) }

func (f *fakePOSServer) serve(w http.ResponseWriter, r *http.Request) {
	f.ing.mu.Lock()
	down := f.ing.down
	f.ing.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/api/v1/ingest" {
		f.ingest(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.ing.token {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet {
		f.gets++
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/events/"+f.event+"/till" && !f.legacy:
		type out struct {
			SKUID      string `json:"sku_id"`
			Name       string `json:"name"`
			PriceMinor *int64 `json:"price_minor"`
			Stock      int64  `json:"stock"`
			Reserved   int64  `json:"reserved"`
		}
		till := struct {
			EventID  string `json:"event_id"`
			Currency string `json:"currency"`
			Items    []out  `json:"items"`
		}{f.event, f.currency, []out{}}
		for _, it := range f.items {
			price := it.override
			if price == nil {
				price = &it.price
			}
			till.Items = append(till.Items, out{it.sku, it.name, price, it.stock, it.reserved})
		}
		json.NewEncoder(w).Encode(till)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/events/"+f.event+"/assortment":
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			fmt.Sscan(c, &start)
		}
		type out struct {
			SKUID      string `json:"sku_id"`
			PriceMinor *int64 `json:"price_minor,omitempty"`
			Stock      int64  `json:"stock"`
			Reserved   int64  `json:"reserved"`
		}
		var page struct {
			Items      []out  `json:"items"`
			NextCursor string `json:"next_cursor,omitempty"`
		}
		page.Items = []out{}
		for i := start; i < len(f.items) && i < start+2; i++ {
			it := f.items[i]
			page.Items = append(page.Items, out{it.sku, it.override, it.stock, it.reserved})
		}
		if start+2 < len(f.items) {
			page.NextCursor = fmt.Sprint(start + 2)
		}
		json.NewEncoder(w).Encode(page)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/skus/"):
		if f.skusForbidden {
			http.Error(w, `{"title":"forbidden"}`, http.StatusForbidden)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/api/v1/skus/")
		for _, it := range f.items {
			if it.sku == id {
				json.NewEncoder(w).Encode(map[string]any{"id": it.sku, "name": it.name, "price_minor": it.price})
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// ingest passes the batch to fakeIngest and applies its newly stored sales.
func (f *fakePOSServer) ingest(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b popkit.IngestBatch
	if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
		json.NewDecoder(zr).Decode(&b)
	}
	f.ing.mu.Lock()
	before := map[int64]bool{}
	if s := f.ing.streams[b.Stream]; s != nil {
		for seq := range s.stored {
			before[seq] = true
		}
	}
	f.ing.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	f.ing.serve(w, r)
	f.ing.mu.Lock()
	s := f.ing.streams[b.Stream]
	f.ing.mu.Unlock()
	if s == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rec := range b.Records {
		if rec.Sale == nil || before[rec.Seq] {
			continue
		}
		before[rec.Seq] = true
		f.sales[rec.Sale.ID] = append(f.sales[rec.Sale.ID], *rec.Sale)
		for _, l := range rec.Sale.Lines {
			for _, it := range f.items {
				if it.sku == l.SKUID {
					it.stock -= int64(l.Quantity)
				}
			}
		}
	}
}

func (f *fakePOSServer) stock(sku string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.items {
		if it.sku == sku {
			return it.stock
		}
	}
	return -1
}

func (f *fakePOSServer) salesByID() map[string][]popkit.Sale {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string][]popkit.Sale, len(f.sales))
	for k, v := range f.sales {
		m[k] = append([]popkit.Sale(nil), v...)
	}
	return m
}

// posConfig is testConfig for an agent of the fake server's event.
func posConfig(t testing.TB, f *fakePOSServer) Config {
	c := testConfig(t, f.srv.URL)
	c.EventID = f.event
	c.POS.Refresh = 100 * time.Millisecond
	return c
}

// posItems reads GET /pos/api/items.
func posItems(t testing.TB, a *Agent) itemsView {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/pos/api/items")
	if err != nil {
		t.Fatalf("get items: %v", err)
	}
	defer resp.Body.Close()
	var v itemsView
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil {
		t.Fatalf("get items: %s", resp.Status)
	}
	return v
}

// localStock returns the till's stock per SKU.
func localStock(t testing.TB, a *Agent) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, it := range posItems(t, a).Items {
		m[it.SKUID] = it.Stock
	}
	return m
}

// waitItems waits until the till has fetched n items.
func waitItems(t testing.TB, a *Agent, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d items at the till", n), func() bool { return len(posItems(t, a).Items) == n })
}

// sellJSON posts a sale body and returns the status and the decoded answer.
func sellJSON(t testing.TB, a *Agent, body string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Post("http://"+a.Addr()+"/pos/api/sales", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("post sale: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode answer %q: %v", b, err)
	}
	return resp.StatusCode, m, resp.Header
}

// saleBody builds a sale request body.
func saleBody(method popkit.PaymentMethod, amount int64, lines ...any) string {
	req := map[string]any{"payment": map[string]any{"method": method, "amount_minor": amount}}
	var ls []map[string]any
	for i := 0; i+1 < len(lines); i += 2 {
		ls = append(ls, map[string]any{"sku_id": lines[i].(*fakeItem).sku, "quantity": lines[i+1]})
	}
	req["lines"] = ls
	b, _ := json.Marshal(req)
	return string(b)
}

// sell rings up a sale that must be accepted and returns its receipt.
func sell(t testing.TB, a *Agent, body string) Receipt {
	t.Helper()
	resp, err := http.Post("http://"+a.Addr()+"/pos/api/sales", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("post sale: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sale %s: %s %s", body, resp.Status, b)
	}
	var rc Receipt
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatalf("decode receipt: %v", err)
	}
	return rc
}

// receiptOf reads GET /pos/api/sales/{id}.
func receiptOf(t testing.TB, a *Agent, id string) Receipt {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/pos/api/sales/" + id)
	if err != nil {
		t.Fatalf("get sale: %v", err)
	}
	defer resp.Body.Close()
	var rc Receipt
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&rc) != nil {
		t.Fatalf("get sale %s: %s", id, resp.Status)
	}
	return rc
}

// saleRecords returns the sale records waiting in the outbox.
func saleRecords(t testing.TB, a *Agent) []popkit.UplinkRecord {
	t.Helper()
	var out []popkit.UplinkRecord
	err := a.Outbox.ReadBatch(t.Context(), 0, 100000, func(seq int64, body []byte) error {
		var rec popkit.UplinkRecord
		if err := json.Unmarshal(body, &rec); err != nil {
			return err
		}
		if rec.Kind == popkit.RecordSale {
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return out
}
