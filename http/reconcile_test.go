package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// saleRecord is an uplink record of a cash sale at 1200 per unit.
func saleRecord(seq int64, id, eventID string, when time.Time, skuID string, qty int) map[string]any {
	return map[string]any{"seq": seq, "kind": "sale", "sale": map[string]any{
		"id": id, "event_id": eventID, "till": "till-1", "occurred_at": when.Format(time.RFC3339),
		"lines":   []map[string]any{{"sku_id": skuID, "quantity": qty, "unit_price_minor": 1200}},
		"payment": map[string]any{"method": "cash", "amount_minor": qty * 1200},
	}}
}

func saleBatch(deviceID, stream string, recs ...map[string]any) map[string]any {
	return map[string]any{"device_id": deviceID, "stream": stream, "sent_at": time.Now().UTC().Format(time.RFC3339),
		"report": map[string]any{"version": "test", "backlog_count": 0, "backlog_bytes": 0}, "records": recs}
}

func stockOfItem(e *env, eventID, skuID string) int {
	e.tb.Helper()
	return decodeAs[popkit.AssortmentItem](e.tb, e.do("GET", "/api/v1/events/"+eventID+"/assortment/"+skuID, e.admin, nil).want(e.tb, 200)).Stock
}

// TestReconcileAPI: offline sales arrive through POST /api/v1/ingest, once,
// with stock reconciled; the oversell shows in /api/v1/exceptions, scoped
// by brand, and is resolved once; stock counts are checkpoints and
// idempotent by key; the ledger is readable.
func TestReconcileAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	brandB := e.newToken(map[string]any{"role": "brand", "brand_id": w.brandB.ID})
	day := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	saleA, saleB := popkit.NewID(), popkit.NewID()
	stream := popkit.NewID()

	// 12 of A with 10 on hand (2 short) and 1 of B, gzip'd, then the same
	// batch again and the same sale on another stream.
	batch := saleBatch(w.dev1.ID, stream, saleRecord(1, saleA, w.e1.ID, day, w.skuA.ID, 12), saleRecord(2, saleB, w.e1.ID, day.Add(time.Minute), w.skuB.ID, 1))
	res := decodeAs[popkit.IngestResult](t, e.ingest(w.device, batch, true).want(t, 200))
	if res.AckSeq != 2 || res.Stored != 2 {
		t.Fatalf("ingest = %+v", res)
	}
	res = decodeAs[popkit.IngestResult](t, e.ingest(w.device, batch, true).want(t, 200))
	if res.Duplicates != 2 {
		t.Fatalf("replay = %+v", res)
	}
	e.ingest(w.device, saleBatch(w.dev1.ID, popkit.NewID(), saleRecord(1, saleB, w.e1.ID, day.Add(time.Minute), w.skuB.ID, 1)), false).want(t, 200)
	if a, b := stockOfItem(e, w.e1.ID, w.skuA.ID), stockOfItem(e, w.e1.ID, w.skuB.ID); a != 0 || b != 9 {
		t.Fatalf("stock A %d B %d, want 0 and 9", a, b)
	}
	o := decodeAs[popkit.Order](t, e.do("GET", "/api/v1/orders/"+saleA, e.admin, nil).want(t, 200))
	if o.Status != popkit.OrderFulfilled || o.Channel != popkit.ChannelPOS || o.TotalMinor != 14400 {
		t.Fatalf("sale order = %+v", o)
	}

	// The oversell, seen by admin and brand A, not by brand B.
	list, _ := listAll[popkit.Exception](e, "/api/v1/exceptions?event_id="+w.e1.ID+"&status=open&kind=oversell", e.admin, 10)
	if len(list) != 1 || list[0].Shortfall != 2 || list[0].OrderID != saleA || list[0].SKUID != w.skuA.ID {
		t.Fatalf("exceptions = %+v", list)
	}
	ex := list[0]
	if l, _ := listAll[popkit.Exception](e, "/api/v1/exceptions", w.brand, 10); len(l) != 1 {
		t.Fatalf("brand A sees %d exceptions, want 1", len(l))
	}
	if l, _ := listAll[popkit.Exception](e, "/api/v1/exceptions", brandB, 10); len(l) != 0 {
		t.Fatalf("brand B sees %d exceptions, want 0", len(l))
	}
	e.do("GET", "/api/v1/exceptions/"+ex.ID, brandB, nil).want(t, 404)
	e.do("GET", "/api/v1/exceptions/"+ex.ID, w.brand, nil).want(t, 200)
	e.do("GET", "/api/v1/exceptions?kind=lost", e.admin, nil).want(t, 400)
	e.do("GET", "/api/v1/exceptions", w.device, nil).want(t, 403)

	// Resolution: bad ones change nothing, the refund moves the order, a
	// second resolution is 409.
	path := "/api/v1/exceptions/" + ex.ID + "/resolution"
	e.do("POST", path, brandB, map[string]any{"kind": "refund"}).want(t, 404)
	if p := e.do("POST", path, e.admin, map[string]any{"kind": "backorder", "node_id": popkit.NewID()}).want(t, 422).problem(t); !p.hasField("node_id") {
		t.Fatalf("problem %+v does not name node_id", p)
	}
	if p := e.do("POST", path, e.admin, map[string]any{"kind": "substitute", "quantity": 0}).want(t, 400).problem(t); !p.hasField("sku_id") || !p.hasField("quantity") {
		t.Fatalf("problem %+v does not name sku_id and quantity", p)
	}
	e.do("POST", path, e.admin, map[string]any{"kind": "refund", "amount_minor": 1}).want(t, 400)
	e.do("POST", path, w.brand, map[string]any{"kind": "substitute", "sku_id": w.skuB.ID, "quantity": 1}).want(t, 403)
	got := decodeAs[popkit.Exception](t, e.do("POST", path, w.brand, map[string]any{"kind": "refund", "note": "customer agreed"}, key("r-1")).want(t, 200))
	if got.Status != popkit.ExceptionResolved || got.Resolution.AmountMinor != 2400 || got.Resolution.Note != "customer agreed" {
		t.Fatalf("resolved = %+v %+v", got, got.Resolution)
	}
	e.do("POST", path, e.admin, map[string]any{"kind": "refund"}).want(t, 409)
	if o := decodeAs[popkit.Order](t, e.do("GET", "/api/v1/orders/"+saleA, e.admin, nil).want(t, 200)); o.Status != popkit.OrderPartiallyRefunded {
		t.Fatalf("order status %s, want partially_refunded", o.Status)
	}

	// A count at 12:00 of 7 units of B; nothing left after it: on hand 7.
	counts := "/api/v1/events/" + w.e1.ID + "/stock-counts"
	body := map[string]any{"counted_at": "2026-05-01T12:00:00Z", "lines": []map[string]any{{"sku_id": w.skuB.ID, "quantity": 7}}}
	r1 := e.do("POST", counts, brandB, body, key("count-1")).want(t, 201)
	c := decodeAs[popkit.StockCount](t, r1)
	if len(c.Lines) != 1 || c.Lines[0].OnHand != 7 || !c.Lines[0].Applied {
		t.Fatalf("count = %+v", c)
	}
	r2 := e.do("POST", counts, brandB, body, key("count-1")).want(t, 201)
	if r2.Header.Get("Idempotent-Replayed") != "true" || decodeAs[popkit.StockCount](t, r2).ID != c.ID {
		t.Fatalf("count replay: %s", r2.Body)
	}
	if n := stockOfItem(e, w.e1.ID, w.skuB.ID); n != 7 {
		t.Fatalf("stock B %d after count, want 7", n)
	}
	e.do("POST", counts, brandB, map[string]any{"counted_at": "2026-05-01T12:00:00Z", "lines": []map[string]any{{"sku_id": w.skuA.ID, "quantity": 7}}}).want(t, 403)
	e.do("POST", "/api/v1/events/"+w.e2.ID+"/stock-counts", brandB, body).want(t, 403)
	e.do("POST", counts, e.admin, map[string]any{"lines": []map[string]any{{"sku_id": w.skuB.ID, "quantity": 7}}}).want(t, 400)
	e.do("POST", counts, e.admin, map[string]any{"counted_at": "2026-05-01T12:00:00Z", "lines": []map[string]any{{"sku_id": w.skuB.ID}}}).want(t, 400)
	e.do("POST", counts, e.admin, map[string]any{"counted_at": "2026-05-01T12:00:00Z", "lines": []map[string]any{{"sku_id": popkit.NewID(), "quantity": 1}}}).want(t, 400)
	e.do("POST", "/api/v1/events/"+popkit.NewID()+"/stock-counts", e.admin, body).want(t, 404)
	e.do("POST", counts, w.device, body).want(t, 403)

	// The ledger: admin sees every row, brand B only B's.
	all, _ := listAll[popkit.StockMovement](e, "/api/v1/events/"+w.e1.ID+"/stock-movements", e.admin, 2)
	if len(all) != 3 {
		t.Fatalf("ledger has %d rows, want 3 (two sales, one count): %+v", len(all), all)
	}
	onlyB, _ := listAll[popkit.StockMovement](e, "/api/v1/events/"+w.e1.ID+"/stock-movements?sku_id="+w.skuB.ID, brandB, 10)
	if len(onlyB) != 2 || onlyB[0].Kind != popkit.MovementSale || onlyB[1].Kind != popkit.MovementCount || onlyB[1].Delta != -2 {
		t.Fatalf("brand B ledger = %+v", onlyB)
	}
	if l, _ := listAll[popkit.StockMovement](e, "/api/v1/events/"+w.e1.ID+"/stock-movements", brandB, 10); len(l) != 2 {
		t.Fatalf("brand B sees %d movements, want 2", len(l))
	}
	e.do("GET", "/api/v1/events/"+popkit.NewID()+"/stock-movements", e.admin, nil).want(t, 404)
}

// TestIngestBadSales: sales that cannot be applied are acked, kept as
// rejected records and, where a person must act, shown as exceptions.
func TestIngestBadSales(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	day := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ghost := popkit.NewID()
	mistyped := saleRecord(3, popkit.NewID(), w.e1.ID, day, w.skuA.ID, 1)
	mistyped["sale"].(map[string]any)["discount"] = 5
	batch := saleBatch(w.dev1.ID, popkit.NewID(),
		saleRecord(1, popkit.NewID(), w.e1.ID, day, ghost, 1),     // SKU not in the assortment
		saleRecord(2, popkit.NewID(), w.e2.ID, day, w.skuA.ID, 1), // another event
		mistyped,                                 // unknown field
		map[string]any{"seq": 4, "kind": "sale"}, // no sale
	)
	e.check = nil // the document does not describe sale records field by field; a mistyped one is kept as rejected
	res := decodeAs[popkit.IngestResult](t, e.ingest(w.device, batch, true).want(t, 200))
	e.check = openAPICheck(t, nil)
	if res.AckSeq != 4 || res.Stored != 4 {
		t.Fatalf("ingest = %+v", res)
	}
	st := decodeAs[popkit.DeviceStatus](t, e.do("GET", "/api/v1/devices/"+w.dev1.ID+"/status", e.admin, nil).want(t, 200))
	if st.RecordsRejected != 4 || st.RecordsStored != 0 || st.RecordsUnknown != 0 {
		t.Fatalf("device status stored %d rejected %d unknown %d, want 0/4/0", st.RecordsStored, st.RecordsRejected, st.RecordsUnknown)
	}
	if n := stockOfItem(e, w.e1.ID, w.skuA.ID); n != 10 {
		t.Fatalf("stock A %d, want 10", n)
	}
	list, _ := listAll[popkit.Exception](e, "/api/v1/exceptions?kind=unknown_sku", e.admin, 10)
	if len(list) != 1 || list[0].SKUID != ghost {
		t.Fatalf("unknown_sku exceptions = %+v", list)
	}
	p := e.do("POST", "/api/v1/exceptions/"+list[0].ID+"/resolution", e.admin, map[string]any{"kind": "dismiss"}).want(t, http.StatusBadRequest).problem(t)
	if !p.hasField("note") {
		t.Fatalf("problem %+v does not name note", p)
	}
	// The SKU does not exist: the kept sale cannot be applied.
	p = e.do("POST", "/api/v1/exceptions/"+list[0].ID+"/resolution", e.admin, map[string]any{"kind": "apply"}).want(t, http.StatusConflict).problem(t)
	if !p.hasField("kind") {
		t.Fatalf("problem %+v does not name kind", p)
	}
	e.do("POST", "/api/v1/exceptions/"+list[0].ID+"/resolution", e.admin, map[string]any{"kind": "dismiss", "note": "test sale"}).want(t, 200)
}

// reconcileScenario calls every reconciliation route once with success,
// for TestOpenAPIScenario.
func reconcileScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	id := popkit.NewID()
	day := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	e.ingest(w.device, saleBatch(w.dev1.ID, popkit.NewID(), saleRecord(1, id, w.e1.ID, day, w.skuA.ID, 1000)), true).want(t, 200)
	list := decodeAs[listBody[popkit.Exception]](t, e.do("GET", "/api/v1/exceptions?status=open&kind=oversell&event_id="+w.e1.ID, e.admin, nil).want(t, 200))
	var ex *popkit.Exception
	for i := range list.Items {
		if list.Items[i].SaleID == id {
			ex = &list.Items[i]
		}
	}
	if ex == nil {
		t.Fatalf("no oversell exception for sale %s in %+v", id, list.Items)
	}
	e.do("GET", "/api/v1/exceptions/"+ex.ID, w.brand, nil).want(t, 200)
	e.do("POST", "/api/v1/exceptions/"+ex.ID+"/resolution", e.admin, map[string]any{"kind": "refund"}, key("scenario-refund")).want(t, 200)
	e.do("POST", "/api/v1/events/"+w.e1.ID+"/stock-counts", e.admin, map[string]any{"counted_at": "2026-05-01T12:00:00Z",
		"lines": []map[string]any{{"sku_id": w.skuA.ID, "quantity": 4}}}).want(t, 201)
	e.do("GET", "/api/v1/events/"+w.e1.ID+"/stock-movements?limit=5", w.brand, nil).want(t, 200)
}

// TestBackorderAPI: an oversell resolved by backorder answers with the
// fulfilment order at the node, which the node's own token can read; the
// client cannot name the fulfilment order itself.
func TestBackorderAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	day := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	sale := popkit.NewID()
	e.ingest(w.device, saleBatch(w.dev1.ID, popkit.NewID(), saleRecord(1, sale, w.e1.ID, day, w.skuA.ID, 12)), false).want(t, 200)
	list, _ := listAll[popkit.Exception](e, "/api/v1/exceptions?kind=oversell&status=open", e.admin, 10)
	if len(list) != 1 || list[0].Shortfall != 2 {
		t.Fatalf("oversell exceptions = %+v", list)
	}
	path := "/api/v1/exceptions/" + list[0].ID + "/resolution"

	node := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", nodeBody("Mitte", 52.52, 13.40))
	staff := e.newToken(map[string]any{"role": "fulfiller", "node_id": node.ID})
	// No stock at the node yet: 409, nothing written.
	if p := e.do("POST", path, e.admin, map[string]any{"kind": "backorder", "node_id": node.ID}).want(t, http.StatusConflict).problem(t); !p.hasField("node_id") {
		t.Fatalf("problem %+v does not name node_id", p)
	}
	e.do("PUT", "/api/v1/nodes/"+node.ID+"/stock", staff, map[string]any{"lines": []map[string]any{{"sku_id": w.skuA.ID, "on_hand": 5}}}).want(t, 200)
	if p := e.do("POST", path, e.admin, map[string]any{"kind": "backorder", "node_id": node.ID, "fulfilment_order_id": popkit.NewID()}).want(t, 400).problem(t); !p.hasField("fulfilment_order_id") {
		t.Fatalf("problem %+v does not name fulfilment_order_id", p)
	}
	got := decodeAs[popkit.Exception](t, e.do("POST", path, e.admin, map[string]any{"kind": "backorder", "node_id": node.ID}).want(t, 200))
	if got.Resolution == nil || got.Resolution.FulfilmentOrderID == "" {
		t.Fatalf("resolved = %+v", got)
	}
	fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", "/api/v1/fulfilment-orders/"+got.Resolution.FulfilmentOrderID, staff, nil).want(t, 200))
	if fo.OrderID != sale || fo.Units != 2 || fo.Status != fulfil.StateOpen {
		t.Fatalf("fulfilment order = %+v", fo)
	}
}
