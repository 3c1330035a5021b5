package edge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
)

// TestPOSSaleRecord: a cash sale becomes one sale record in the outbox
// (class sale) with the receipt's id (a UUIDv7), event, till, lines at the
// assortment's prices, payment and time; local stock falls by the sold
// quantities; once the server is back it receives the sale once and the
// receipt turns synced, and the refetched stock does not count it twice.
func TestPOSSaleRecord(t *testing.T) {
	t.Parallel()
	tee, mug, cap := item("Tee", 2500, 10), item("Mug", 1200, 5), item("Cap", 1800, 3)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug, cap)
	a := startAgent(t, posConfig(t, f))
	waitItems(t, a, 3)
	f.setDown(true)

	rc := sell(t, a, saleBody(popkit.PaymentCash, 2*2500+1200, tee, 2, mug, 1))
	if id, err := uuid.Parse(rc.ID); err != nil || id.Version() != 7 {
		t.Errorf("sale id %q is not a UUIDv7", rc.ID)
	}
	if rc.TotalMinor != 6200 || rc.Sync != SyncPending || rc.Till != "till-1" || len(rc.Lines) != 2 || rc.Lines[0].Name != "Tee" || rc.Lines[0].LineTotalMinor != 5000 {
		t.Errorf("receipt %+v", rc)
	}
	recs := saleRecords(t, a)
	if len(recs) != 1 {
		t.Fatalf("%d sale records in the outbox, want 1", len(recs))
	}
	s := recs[0].Sale
	want := popkit.Sale{ID: rc.ID, EventID: f.event, Till: "till-1", Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: 6200}, OccurredAt: rc.OccurredAt,
		Lines: []popkit.OrderLine{{SKUID: tee.sku, Quantity: 2, UnitPriceMinor: 2500}, {SKUID: mug.sku, Quantity: 1, UnitPriceMinor: 1200}}}
	if s == nil || s.ID != want.ID || s.EventID != want.EventID || s.Till != want.Till || s.Payment != want.Payment || !s.OccurredAt.Equal(want.OccurredAt) ||
		fmt.Sprint(s.Lines) != fmt.Sprint(want.Lines) || recs[0].Seq != rc.UplinkSeq {
		t.Errorf("sale record %+v\nwant %+v", s, want)
	}
	if time.Since(s.OccurredAt) > time.Minute || s.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred_at %v", s.OccurredAt)
	}
	if st := localStock(t, a); st[tee.sku] != 8 || st[mug.sku] != 4 || st[cap.sku] != 3 {
		t.Errorf("local stock %v, want tee 8 mug 4 cap 3", st)
	}
	if v := posItems(t, a).Unsynced; v.Count != 1 || v.AmountMinor != 6200 {
		t.Errorf("unsynced %+v", v)
	}
	if n := metric(t, a, "popkit_edge_pos_unsynced_sales", ""); n != 1 {
		t.Errorf("popkit_edge_pos_unsynced_sales %v", n)
	}

	f.setDown(false)
	waitFor(t, 10*time.Second, "the receipt to sync", func() bool { return receiptOf(t, a, rc.ID).Sync == SyncSynced })
	got := f.salesByID()[rc.ID]
	if len(got) != 1 || !got[0].OccurredAt.Equal(rc.OccurredAt) {
		t.Fatalf("server holds %d copies of the sale: %+v", len(got), got)
	}
	if f.stock(tee.sku) != 8 {
		t.Errorf("server stock of tee %d", f.stock(tee.sku))
	}
	// After a refetch the server's figure includes the sale: still 8, not 6.
	waitFor(t, 10*time.Second, "a refetch after the ack", func() bool {
		resp, err := http.Post("http://"+a.Addr()+"/pos/api/refresh", "application/json", nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		st := localStock(t, a)
		return resp.StatusCode == 200 && st[tee.sku] == 8 && st[mug.sku] == 4
	})
	if v := posItems(t, a); v.Unsynced.Count != 0 || !v.Online {
		t.Errorf("after sync: %+v", v)
	}
	if n := metric(t, a, "popkit_edge_pos_sales_accepted_total", `method="cash"`); n != 1 {
		t.Errorf("popkit_edge_pos_sales_accepted_total{cash} %v", n)
	}
}

// TestPOSOfflineSalesSyncOnce: sales rung up while the server is down,
// across an agent restart, all reach the server exactly once with their
// original occurred_at once it is back.
func TestPOSOfflineSalesSyncOnce(t *testing.T) {
	t.Parallel()
	tee, mug := item("Tee", 2500, 1000), item("Mug", 1200, 1000)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug)
	c := posConfig(t, f)
	sa := startAgentStoppable(t, c)
	waitItems(t, sa.agent, 2)
	f.setDown(true)

	var mu sync.Mutex
	receipts := map[string]Receipt{}
	ringUp := func(a *Agent, n int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					q := 1 + (g+i)%3
					body := saleBody(popkit.PaymentCash, int64(q)*2500+1200, tee, q, mug, 1)
					if i%2 == 1 {
						body = saleBody(popkit.PaymentCardOffline, 1200, mug, 1)
					}
					rc := sell(t, a, body)
					mu.Lock()
					receipts[rc.ID] = rc
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	ringUp(sa.agent, 5)
	sa.stop()
	// The restarted agent sells from its cached assortment: the server is still down.
	sa = startAgentStoppable(t, c)
	if v := posItems(t, sa.agent); len(v.Items) != 2 || v.Online {
		t.Fatalf("after restart offline: %d items, online %v", len(v.Items), v.Online)
	}
	ringUp(sa.agent, 5)
	if len(receipts) != 40 {
		t.Fatalf("%d receipts, want 40", len(receipts))
	}
	var teeSold, mugSold int64
	for _, rc := range receipts {
		for _, l := range rc.Lines {
			if l.SKUID == tee.sku {
				teeSold += int64(l.Quantity)
			} else {
				mugSold += int64(l.Quantity)
			}
		}
	}
	if st := localStock(t, sa.agent); st[tee.sku] != 1000-teeSold || st[mug.sku] != 1000-mugSold {
		t.Errorf("local stock %v, want tee %d mug %d", st, 1000-teeSold, 1000-mugSold)
	}

	f.setDown(false)
	waitFor(t, 15*time.Second, "every sale at the server", func() bool { return len(f.salesByID()) == len(receipts) })
	waitFor(t, 10*time.Second, "the outbox to drain", func() bool { return sa.agent.Outbox.Stats().Backlog == 0 })
	for id, copies := range f.salesByID() {
		rc, ok := receipts[id]
		switch {
		case !ok:
			t.Errorf("server holds unknown sale %s", id)
		case len(copies) != 1:
			t.Errorf("server holds sale %s %d times", id, len(copies))
		case !copies[0].OccurredAt.Equal(rc.OccurredAt) || copies[0].Payment != rc.Payment:
			t.Errorf("sale %s at the server: %+v, receipt %+v", id, copies[0], rc)
		}
	}
	if f.stock(tee.sku) != 1000-teeSold || f.stock(mug.sku) != 1000-mugSold {
		t.Errorf("server stock tee %d mug %d", f.stock(tee.sku), f.stock(mug.sku))
	}
	waitFor(t, 10*time.Second, "local stock to match the server", func() bool {
		st := localStock(t, sa.agent)
		return st[tee.sku] == 1000-teeSold && st[mug.sku] == 1000-mugSold && posItems(t, sa.agent).Unsynced.Count == 0
	})
}

// TestPOSCardOfflineCaps: an offline card payment over the per-payment cap,
// or one that would take the device's unsynced offline card total over its
// cap, is refused with a 422 naming the cap and changes nothing; the
// device total falls as the server acknowledges sales.
func TestPOSCardOfflineCaps(t *testing.T) {
	t.Parallel()
	tee, mug := item("Tee", 400, 100), item("Mug", 600, 100)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug)
	c := posConfig(t, f)
	c.POS.CardOfflineMaxTx, c.POS.CardOfflineMaxTotal = 1000, 2500
	a := startAgent(t, c)
	waitItems(t, a, 2)
	f.setDown(true)

	refused := func(body, wantCap string) {
		t.Helper()
		before, last := localStock(t, a), a.Outbox.Stats().LastSeq
		code, p, h := sellJSON(t, a, body)
		if code != http.StatusUnprocessableEntity || h.Get("Content-Type") != "application/problem+json" || p["cap"] != wantCap ||
			!strings.Contains(p["detail"].(string), "pos."+wantCap) {
			t.Fatalf("over %s: %d %v", wantCap, code, p)
		}
		if after := localStock(t, a); fmt.Sprint(after) != fmt.Sprint(before) || a.Outbox.Stats().LastSeq != last {
			t.Errorf("a refused sale changed stock %v → %v or the outbox", before, after)
		}
	}
	refused(saleBody(popkit.PaymentCardOffline, 1200, tee, 3), "card_offline_max_tx")
	sell(t, a, saleBody(popkit.PaymentCardOffline, 1000, tee, 1, mug, 1)) // 1000
	sell(t, a, saleBody(popkit.PaymentCardOffline, 1000, tee, 1, mug, 1)) // 2000
	refused(saleBody(popkit.PaymentCardOffline, 600, mug, 1), "card_offline_max_total")
	sell(t, a, saleBody(popkit.PaymentCardOffline, 400, tee, 1)) // 2400: at most the cap
	sell(t, a, saleBody(popkit.PaymentCash, 600, mug, 1))        // cash is not capped
	if v := posItems(t, a); v.Unsynced.CardOfflineMinor != 2400 || v.Unsynced.Count != 4 {
		t.Errorf("unsynced %+v", v.Unsynced)
	}
	if n := metric(t, a, "popkit_edge_pos_sales_refused_total", `reason="card_offline_max_total"`); n != 1 {
		t.Errorf("refused{card_offline_max_total} %v", n)
	}
	if n := metric(t, a, "popkit_edge_pos_unsynced_card_offline_minor", ""); n != 2400 {
		t.Errorf("popkit_edge_pos_unsynced_card_offline_minor %v", n)
	}

	f.setDown(false)
	waitFor(t, 10*time.Second, "the sales to sync", func() bool { return posItems(t, a).Unsynced.Count == 0 })
	sell(t, a, saleBody(popkit.PaymentCardOffline, 1000, tee, 1, mug, 1))
	if v := posItems(t, a); v.Unsynced.CardOfflineMinor > 1000 {
		t.Errorf("unsynced card total %d after the ack", v.Unsynced.CardOfflineMinor)
	}
}

// TestPOSOversell: a sale that takes local stock below zero is refused
// with 409 and the shortfall until the cashier confirms it
// (allow_oversell); then it is stored and stock goes below zero (the
// server opens an oversell exception).
func TestPOSOversell(t *testing.T) {
	t.Parallel()
	tee := item("Tee", 2500, 1)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee)
	a := startAgent(t, posConfig(t, f))
	waitItems(t, a, 1)
	f.setDown(true)
	body := saleBody(popkit.PaymentCash, 5000, tee, 2)
	code, p, _ := sellJSON(t, a, body)
	sf, _ := p["shortfalls"].([]any)
	if code != http.StatusConflict || len(sf) != 1 || sf[0].(map[string]any)["stock"] != 1.0 {
		t.Fatalf("oversell without confirmation: %d %v", code, p)
	}
	if st := localStock(t, a); st[tee.sku] != 1 || len(saleRecords(t, a)) != 0 {
		t.Fatalf("refused oversell changed stock %v", st)
	}
	var m map[string]any
	json.Unmarshal([]byte(body), &m)
	m["allow_oversell"] = true
	b, _ := json.Marshal(m)
	rc := sell(t, a, string(b))
	if len(rc.Oversold) != 1 || rc.Oversold[0].Requested != 2 {
		t.Errorf("receipt oversold %+v", rc.Oversold)
	}
	if st := localStock(t, a); st[tee.sku] != -1 {
		t.Errorf("local stock %d after confirmed oversell, want -1", st[tee.sku])
	}
}

// TestPOSRetryIsIdempotent: a till retrying with the same id gets the
// stored receipt back (200) and the sale is stored once; the same id for
// another sale is 409.
func TestPOSRetryIsIdempotent(t *testing.T) {
	t.Parallel()
	tee := item("Tee", 2500, 10)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee)
	a := startAgent(t, posConfig(t, f))
	waitItems(t, a, 1)
	f.setDown(true)
	id := popkit.NewID()
	body := fmt.Sprintf(`{"id":%q,"lines":[{"sku_id":%q,"quantity":1}],"payment":{"method":"external","amount_minor":2500,"external_ref":"T-1"}}`, id, tee.sku)
	rc := sell(t, a, body)
	code, m, _ := sellJSON(t, a, body)
	if code != http.StatusOK || m["id"] != id || m["replayed"] != true || m["occurred_at"] != rc.OccurredAt.Format(time.RFC3339Nano) {
		t.Errorf("retry: %d %v", code, m)
	}
	other := strings.Replace(body, `"quantity":1`, `"quantity":2`, 1)
	other = strings.Replace(other, "2500,", "5000,", 1)
	if code, m, _ := sellJSON(t, a, other); code != http.StatusConflict {
		t.Errorf("id reused: %d %v", code, m)
	}
	if n := len(saleRecords(t, a)); n != 1 {
		t.Errorf("%d sale records, want 1", n)
	}
	if st := localStock(t, a); st[tee.sku] != 9 {
		t.Errorf("stock %d, want 9", st[tee.sku])
	}
}

// TestPOSBadInput: each bad sale is a 4xx problem+json naming the field,
// and stores nothing.
func TestPOSBadInput(t *testing.T) {
	t.Parallel()
	tee, mug := item("Tee", 2500, 10), item("Mug", 1200, 10)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug)
	a := startAgent(t, posConfig(t, f))
	waitItems(t, a, 2)
	f.setDown(true)
	line := func(sku string, q int) string { return fmt.Sprintf(`{"sku_id":%q,"quantity":%d}`, sku, q) }
	pay := `"payment":{"method":"cash","amount_minor":2500}`
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"not json", `{"lines":`, 400, ""},
		{"array", `[]`, 400, ""},
		{"unknown field", `{"lines":[` + line(tee.sku, 1) + `],` + pay + `,"discount":5}`, 400, ""},
		{"two objects", `{"lines":[` + line(tee.sku, 1) + `],` + pay + `} {}`, 400, ""},
		{"no lines", `{"lines":[],` + pay + `}`, 422, "lines"},
		{"zero quantity", `{"lines":[` + line(tee.sku, 0) + `],` + pay + `}`, 422, "lines[0].quantity"},
		{"negative quantity", `{"lines":[` + line(tee.sku, -2) + `],` + pay + `}`, 422, "lines[0].quantity"},
		{"same sku twice", `{"lines":[` + line(tee.sku, 1) + `,` + line(tee.sku, 1) + `],"payment":{"method":"cash","amount_minor":5000}}`, 422, "lines[1].sku_id"},
		{"bad sku id", `{"lines":[` + line("tee", 1) + `],` + pay + `}`, 422, "lines[0].sku_id"},
		{"unknown sku", `{"lines":[` + line(popkit.NewID(), 1) + `],` + pay + `}`, 422, "lines[0].sku_id"},
		{"amount too low", `{"lines":[` + line(tee.sku, 2) + `],` + pay + `}`, 422, "payment.amount_minor"},
		{"online card", `{"lines":[` + line(tee.sku, 1) + `],"payment":{"method":"card","amount_minor":2500}}`, 422, "payment.method"},
		{"unknown method", `{"lines":[` + line(tee.sku, 1) + `],"payment":{"method":"iou","amount_minor":2500}}`, 422, "payment.method"},
		{"external without ref", `{"lines":[` + line(tee.sku, 1) + `],"payment":{"method":"external","amount_minor":2500}}`, 422, "payment.external_ref"},
		{"bad id", `{"id":"ABC","lines":[` + line(tee.sku, 1) + `],` + pay + `}`, 422, "id"},
		{"bad till", `{"till":"till 1","lines":[` + line(tee.sku, 1) + `],` + pay + `}`, 422, "till"},
		{"too large", `{"till":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post("http://"+a.Addr()+"/pos/api/sales", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var p posProblem
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil || p.Status != tc.status || p.Detail == "" {
				t.Fatalf("got %s %s, want %d problem+json", resp.Status, b, tc.status)
			}
			if tc.field != "" && (len(p.Fields) == 0 || p.Fields[0].Field != tc.field) {
				t.Errorf("fields %+v, want %s first", p.Fields, tc.field)
			}
		})
	}
	if n := len(saleRecords(t, a)); n != 0 {
		t.Errorf("bad input stored %d sale records", n)
	}
	if st := localStock(t, a); st[tee.sku] != 10 || st[mug.sku] != 10 {
		t.Errorf("bad input changed stock %v", st)
	}
	for _, path := range []string{"/pos/api/sales/nope", "/pos/api/sales/" + popkit.NewID(), "/pos/api/sales?limit=0"} {
		resp, err := http.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
}

// TestPOSOutboxFull: when the outbox is full the sale is refused (507) and
// local stock is unchanged; sales are never dropped to make room.
func TestPOSOutboxFull(t *testing.T) {
	t.Parallel()
	tee := item("Tee", 2500, 100)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee)
	c := posConfig(t, f)
	c.MaxBytes = 1500
	a := startAgent(t, c)
	waitItems(t, a, 1)
	f.setDown(true)
	var stored int
	for range 20 {
		code, p, _ := sellJSON(t, a, saleBody(popkit.PaymentCash, 2500, tee, 1))
		if code == http.StatusInsufficientStorage {
			if !strings.Contains(p["detail"].(string), "not stored") {
				t.Errorf("outbox full detail %v", p["detail"])
			}
			break
		}
		if code != http.StatusCreated {
			t.Fatalf("sale: %d %v", code, p)
		}
		stored++
	}
	if stored == 0 || stored == 20 {
		t.Fatalf("%d sales stored before the outbox was full", stored)
	}
	if st := localStock(t, a); st[tee.sku] != int64(100-stored) || len(saleRecords(t, a)) != stored {
		t.Errorf("stock %d, records %d after %d stored sales", st[tee.sku], len(saleRecords(t, a)), stored)
	}
	if n := metric(t, a, "popkit_edge_pos_sales_refused_total", `reason="outbox_full"`); n != 1 {
		t.Errorf("refused{outbox_full} %v", n)
	}
}

// TestPOSPricesWithoutSKUAccess: when the server refuses SKU lookups the
// till prices items by their event override and refuses to sell an item
// whose price it never knew.
func TestPOSPricesWithoutSKUAccess(t *testing.T) {
	t.Parallel()
	tee, mug := item("Tee", 2500, 10), item("Mug", 1200, 10)
	price := int64(2000)
	tee.override = &price
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug)
	f.skusForbidden, f.legacy = true, true
	a := startAgent(t, posConfig(t, f))
	waitItems(t, a, 2)
	its := posItems(t, a).Items
	if its[0].PriceMinor == nil || *its[0].PriceMinor != 2000 || its[1].PriceMinor != nil || !strings.HasPrefix(its[1].Name, "SKU ") {
		t.Fatalf("items %+v", its)
	}
	sell(t, a, saleBody(popkit.PaymentCash, 2000, tee, 1))
	if code, p, _ := sellJSON(t, a, saleBody(popkit.PaymentCash, 1200, mug, 1)); code != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "no known price") {
		t.Errorf("sale of an unpriced item: %d %v", code, p)
	}
}

// TestPOSTillCurrencyFromServer: the till shows the configured currency
// only until its first fetch, then the event's currency as the server
// says it, and reads the whole assortment in one request.
func TestPOSTillCurrencyFromServer(t *testing.T) {
	t.Parallel()
	tee, mug, cap := item("Tee", 2100, 10), item("Mug", 1000, 10), item("Cap", 1500, 10)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug, cap)
	f.currency = "GBP"
	f.setDown(true)
	c := posConfig(t, f)
	c.POS.Currency = "EUR"
	c.POS.Refresh = time.Hour // one fetch once the server is back
	a := startAgent(t, c)
	if v := posItems(t, a); v.Currency != "EUR" || len(v.Items) != 0 {
		t.Fatalf("before the first fetch: currency %s, %d items; want the configured EUR and none", v.Currency, len(v.Items))
	}
	f.setDown(false)
	waitItems(t, a, 3)
	if v := posItems(t, a); v.Currency != "GBP" {
		t.Errorf("after the fetch the till shows %s, want the event's GBP", v.Currency)
	}
	f.mu.Lock()
	gets := f.gets
	f.mu.Unlock()
	if gets != 1 {
		t.Errorf("the assortment of 3 SKUs took %d requests, want 1", gets)
	}
	if rc := sell(t, a, saleBody(popkit.PaymentCash, 2100, tee, 1)); rc.Currency != "GBP" {
		t.Errorf("receipt currency %s, want GBP", rc.Currency)
	}
}
