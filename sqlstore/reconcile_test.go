package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// saleDay is 10:00 UTC on the day of the reconciliation tests.
var saleDay = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// at returns saleDay plus minutes.
func at(minutes int) time.Time { return saleDay.Add(time.Duration(minutes) * time.Minute) }

// sale returns a cash sale of qty units of each sku at price, at the event.
func sale(eventID string, when time.Time, price int64, lines ...any) *popkit.Sale {
	s := &popkit.Sale{ID: popkit.NewID(), EventID: eventID, Till: "till-1", OccurredAt: when, Payment: popkit.Payment{Method: popkit.PaymentCash}}
	for i := 0; i+1 < len(lines); i += 2 {
		l := popkit.OrderLine{SKUID: lines[i].(string), Quantity: lines[i+1].(int), UnitPriceMinor: price}
		s.Lines = append(s.Lines, l)
		s.Payment.AmountMinor += int64(l.Quantity) * price
	}
	return s
}

func mustApply(t *testing.T, db *sqlstore.DB, eventID string, s *popkit.Sale) *popkit.SaleResult {
	t.Helper()
	res, err := db.ApplySale(t.Context(), eventID, s)
	must(t, err)
	return res
}

func wantStock(t *testing.T, db *sqlstore.DB, eventID, skuID string, want int) {
	t.Helper()
	if s, _ := stockOf(t, db, eventID, skuID); s != want {
		t.Fatalf("stock of %s = %d, want %d", skuID, s, want)
	}
}

func exceptions(t *testing.T, db *sqlstore.DB, f popkit.ExceptionFilter) []*popkit.Exception {
	t.Helper()
	f.Limit = popkit.MaxPageLimit
	es, _, err := db.FindExceptions(t.Context(), f)
	must(t, err)
	return es
}

// TestReconcileLedger is the worked example of the rules: sales are
// subtractions in occurred_at order, a count is a checkpoint, a late sale
// before the count moves nothing, a stale count moves nothing, and an
// oversell takes what is there and opens an exception for the rest.
func TestReconcileLedger(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, sku := w.event.ID, w.skus[0].ID // 10 on hand

		mustApply(t, db, ev, sale(ev, at(5), 1200, sku, 3)) // 10:05 sells 3 → 7
		wantStock(t, db, ev, sku, 7)
		mustApply(t, db, ev, sale(ev, at(40), 1200, sku, 2)) // 10:40 sells 2 → 5
		wantStock(t, db, ev, sku, 5)

		// At 10:30 someone counted 6 on the shelf (one unit went missing
		// before). The 10:40 sale left after the count: 6 − 2 = 4.
		c := &popkit.StockCount{EventID: ev, CountedAt: at(30), Actor: "admin:x", Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 6}}}
		must(t, db.RecordStockCount(ctx, c))
		if !c.Lines[0].Applied || c.Lines[0].OnHand != 4 || !popkit.ValidID(c.ID) {
			t.Fatalf("count = %+v, want applied with on hand 4", c)
		}
		wantStock(t, db, ev, sku, 4)

		// A till that was offline syncs a 10:20 sale of 1: the count at
		// 10:30 already saw it, so it is recorded and moves nothing.
		late := mustApply(t, db, ev, sale(ev, at(20), 1200, sku, 1))
		if late.Status != popkit.RecordStored || len(late.Exceptions) != 0 {
			t.Fatalf("late sale = %+v", late)
		}
		wantStock(t, db, ev, sku, 4)
		// A 10:50 sale of 3 synced late is after the count: 4 − 3 = 1.
		mustApply(t, db, ev, sale(ev, at(50), 1200, sku, 3))
		wantStock(t, db, ev, sku, 1)

		// A count at 10:10 is older than the 10:30 one: stored, moves nothing.
		stale := &popkit.StockCount{EventID: ev, CountedAt: at(10), Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 9}}}
		must(t, db.RecordStockCount(ctx, stale))
		if stale.Lines[0].Applied || stale.Lines[0].OnHand != 1 {
			t.Fatalf("stale count = %+v, want not applied, on hand 1", stale.Lines[0])
		}
		wantStock(t, db, ev, sku, 1)

		// 11:00 sells 4 with 1 on hand: takes 1, 3 short → oversell.
		over := sale(ev, at(60), 1200, sku, 4)
		res := mustApply(t, db, ev, over)
		wantStock(t, db, ev, sku, 0)
		if len(res.Exceptions) != 1 {
			t.Fatalf("oversell result %+v, want one exception", res)
		}
		e, err := db.FindException(ctx, res.Exceptions[0])
		must(t, err)
		if e.Kind != popkit.ExceptionOversell || e.Shortfall != 3 || e.OrderID != over.ID || e.SKUID != sku || e.BrandID != w.brands[0].ID ||
			e.Status != popkit.ExceptionOpen || !e.OccurredAt.Equal(at(60)) {
			t.Fatalf("exception = %+v", e)
		}
		o, err := db.FindOrderByID(ctx, over.ID)
		must(t, err)
		if o.Status != popkit.OrderFulfilled || o.Channel != popkit.ChannelPOS || o.TotalMinor != 4800 || o.CostMinor != 1600 || !o.OccurredAt.Equal(at(60)) {
			t.Fatalf("order = %+v", o)
		}

		// The ledger holds every step, in the order applied, with its delta.
		ms, _, err := db.FindStockMovements(ctx, popkit.MovementFilter{EventID: ev, SKUID: sku})
		must(t, err)
		var got []string
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%s@%s:%d/%d", m.Kind, m.OccurredAt.Format("15:04"), m.Quantity, m.Delta))
		}
		want := []string{"sale@10:05:3/-3", "sale@10:40:2/-2", "count@10:30:6/-1", "sale@10:20:1/0", "sale@10:50:3/-3", "count@10:10:9/0", "sale@11:00:4/-1"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ledger = %v\nwant      %v", got, want)
		}
	})
}

// TestReconcileReserved: a sale never takes units that confirmed orders
// reserve; the confirmed order keeps its reservation.
func TestReconcileReserved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, sku := w.event.ID, w.skus[1].ID // 5 on hand at 999
		o := &popkit.Order{EventID: ev, Channel: popkit.ChannelPOS, Lines: []popkit.OrderLine{{SKUID: sku, Quantity: 2, UnitPriceMinor: 999}},
			Payment: popkit.Payment{Method: popkit.PaymentCard, AmountMinor: 1998}}
		_, err := db.CreateOrder(ctx, o)
		must(t, err)
		// The till sold at an old price of 950: kept as sold.
		s := sale(ev, at(10), 950, sku, 5)
		res := mustApply(t, db, ev, s)
		if st, r := stockOf(t, db, ev, sku); st != 2 || r != 2 {
			t.Fatalf("stock %d reserved %d, want 2 and 2", st, r)
		}
		e, err := db.FindException(ctx, res.Exceptions[0])
		must(t, err)
		if e.Shortfall != 2 {
			t.Fatalf("shortfall %d, want 2", e.Shortfall)
		}
		got, err := db.FindOrderByID(ctx, s.ID)
		must(t, err)
		if got.Lines[0].UnitPriceMinor != 950 || got.Lines[0].UnitCostMinor != 400 || got.TotalMinor != 4750 {
			t.Fatalf("sale order = %+v, want the till's price and the SKU's cost", got)
		}
		// A count sees the fulfilled order leave after it.
		_, err = db.TransitionOrder(ctx, o.ID, popkit.OrderFulfilled, "admin:x", "")
		must(t, err)
		c := &popkit.StockCount{EventID: ev, CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 10}}}
		must(t, db.RecordStockCount(ctx, c))
		// 10 counted at 10:00, then 5 sold at 10:10 and 2 fulfilled at 12:00.
		if c.Lines[0].OnHand != 3 {
			t.Fatalf("count on hand %d, want 10 − 5 − 2 = 3", c.Lines[0].OnHand)
		}
	})
}

// ingestSales is a device whose sales arrive through Ingest.
type ingestSales struct {
	db  *sqlstore.DB
	dev *popkit.Device
}

func (d ingestSales) send(t *testing.T, stream string, seq int64, sales ...*popkit.Sale) *popkit.IngestResult {
	t.Helper()
	var recs []popkit.UplinkRecord
	for i, s := range sales {
		recs = append(recs, popkit.UplinkRecord{Seq: seq + int64(i), Kind: popkit.RecordSale, Sale: s})
	}
	res, err := d.db.Ingest(t.Context(), d.dev.EventID, batch(d.dev.ID, stream, d.db.Now(), recs...))
	must(t, err)
	return res
}

func TestReconcileDuplicates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, sku := w.event.ID, w.skus[0].ID
		dev := &popkit.Device{EventID: ev, Name: "till"}
		must(t, db.CreateDevice(ctx, dev))
		d := ingestSales{db, dev}
		s := sale(ev, at(5), 1200, sku, 2)
		stream, other := popkit.NewID(), popkit.NewID()

		// Same batch twice, the same sale twice in one batch, another
		// batch, another stream, and ApplySale: one order, one subtraction.
		if r := d.send(t, stream, 1, s, s); r.Stored != 2 || r.AckSeq != 2 {
			t.Fatalf("first batch = %+v", r)
		}
		if r := d.send(t, stream, 1, s, s); r.Duplicates != 2 {
			t.Fatalf("replayed batch = %+v", r)
		}
		d.send(t, stream, 3, s)
		d.send(t, other, 1, s)
		if r := mustApply(t, db, ev, s); !r.Duplicate {
			t.Fatalf("ApplySale of a synced sale = %+v, want duplicate", r)
		}
		wantStock(t, db, ev, sku, 8)
		if n := count(t, db, "stock_movements"); n != 1 {
			t.Fatalf("%d ledger rows, want 1", n)
		}
		os, _, err := db.FindOrders(ctx, popkit.OrderFilter{EventID: ev})
		must(t, err)
		if len(os) != 1 {
			t.Fatalf("%d orders, want 1", len(os))
		}

		// The same id with other content is a conflict: recorded, visible,
		// not applied.
		bad := *s
		bad.Lines = []popkit.OrderLine{{SKUID: sku, Quantity: 5, UnitPriceMinor: 1200}}
		bad.Payment.AmountMinor = 6000
		if r := d.send(t, stream, 4, &bad); r.AckSeq != 4 {
			t.Fatalf("conflicting sale not acked: %+v", r)
		}
		wantStock(t, db, ev, sku, 8)
		es := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Kind: popkit.ExceptionSaleConflict})
		if len(es) != 1 || es[0].SaleID != s.ID || es[0].OrderID != s.ID {
			t.Fatalf("conflict exceptions = %+v", es)
		}
		st, err := db.FindDeviceStatus(ctx, dev.ID)
		must(t, err)
		if st.RecordsRejected != 1 {
			t.Fatalf("device status rejected = %d, want 1", st.RecordsRejected)
		}
		// The same conflicting sale on another stream is rejected with the
		// exception already raised, not a second one.
		if r := d.send(t, other, 2, &bad); r.AckSeq != 2 {
			t.Fatalf("conflicting sale on another stream not acked: %+v", r)
		}
		if es2 := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Kind: popkit.ExceptionSaleConflict}); len(es2) != 1 || es2[0].ID != es[0].ID {
			t.Fatalf("conflict exceptions after a second stream = %+v", es2)
		}
		wantStock(t, db, ev, sku, 8)
	})
}

func TestReconcileUnknownSKU(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev := w.event.ID
		dev := &popkit.Device{EventID: ev, Name: "till"}
		must(t, db.CreateDevice(ctx, dev))
		d := ingestSales{db, dev}
		notInAssortment := mkSKU(t, db, w.brands[0].ID)
		ghost := popkit.NewID()
		s := sale(ev, at(5), 1200, w.skus[0].ID, 1, notInAssortment.ID, 2, ghost, 1)
		otherEvent := sale(popkit.NewID(), at(5), 1200, w.skus[0].ID, 1) // not this device's event
		if r := d.send(t, popkit.NewID(), 1, s, otherEvent); r.AckSeq != 2 {
			t.Fatalf("batch = %+v, want both acked", r)
		}
		wantStock(t, db, ev, w.skus[0].ID, 10)
		if _, err := db.FindOrderByID(ctx, s.ID); popkit.ErrorCode(err) != popkit.ENOTFOUND {
			t.Fatalf("order of a rejected sale: %v", err)
		}
		es := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Kind: popkit.ExceptionUnknownSKU, Status: popkit.ExceptionOpen})
		if len(es) != 2 || es[0].SKUID != notInAssortment.ID || es[1].SKUID != ghost || es[0].Shortfall != 2 {
			t.Fatalf("unknown_sku exceptions = %+v", es)
		}
		st, err := db.FindDeviceStatus(ctx, dev.ID)
		must(t, err)
		if st.RecordsRejected != 2 || st.RecordsStored != 0 {
			t.Fatalf("device status stored %d rejected %d, want 0 and 2", st.RecordsStored, st.RecordsRejected)
		}
		// Dismissed with a note; an oversell resolution does not fit.
		_, err = db.ResolveException(ctx, es[0].ID, &popkit.ExceptionResolution{Kind: popkit.ResolveRefund})
		wantCode(t, err, popkit.EINVALID, "kind")
		got, err := db.ResolveException(ctx, es[0].ID, &popkit.ExceptionResolution{Kind: popkit.ResolveDismiss, Note: "added to assortment, stock adjusted", Actor: "admin:x"})
		must(t, err)
		if got.Status != popkit.ExceptionResolved || got.Resolution.Kind != popkit.ResolveDismiss || got.Resolution.Actor != "admin:x" {
			t.Fatalf("dismissed = %+v", got)
		}
	})
}

// TestReconcileRace: two devices' offline sales race on the last 10 units;
// every sale is stored, stock ends at 0 and the shortfalls add up.
func TestReconcileRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a, b := w.event.ID, w.skus[0].ID, w.skus[1].ID // 10 and 5
		var devs []*popkit.Device
		for i := range 2 {
			d := &popkit.Device{EventID: ev, Name: fmt.Sprintf("till %d", i)}
			must(t, db.CreateDevice(ctx, d))
			devs = append(devs, d)
		}
		const perDevice = 16 // even: half the batches hold one sale, half two
		var wg sync.WaitGroup
		errs := make(chan error, 2*perDevice)
		for i, d := range devs {
			stream := popkit.NewID()
			wg.Go(func() {
				var seq int64
				for n := range perDevice {
					// Each batch sells one unit of each SKU, as one sale of
					// two lines or two sales, in both SKU orders, to provoke
					// lock-order deadlocks on PostgreSQL.
					when := at(i*perDevice + n)
					var recs []popkit.UplinkRecord
					switch {
					case n%2 == 0 && i == 0:
						recs = []popkit.UplinkRecord{{Kind: popkit.RecordSale, Sale: sale(ev, when, 100, a, 1, b, 1)}}
					case n%2 == 0:
						recs = []popkit.UplinkRecord{{Kind: popkit.RecordSale, Sale: sale(ev, when, 100, b, 1, a, 1)}}
					case i == 0:
						recs = []popkit.UplinkRecord{{Kind: popkit.RecordSale, Sale: sale(ev, when, 100, a, 1)},
							{Kind: popkit.RecordSale, Sale: sale(ev, when.Add(time.Second), 100, b, 1)}}
					default:
						recs = []popkit.UplinkRecord{{Kind: popkit.RecordSale, Sale: sale(ev, when, 100, b, 1)},
							{Kind: popkit.RecordSale, Sale: sale(ev, when.Add(time.Second), 100, a, 1)}}
					}
					for k := range recs {
						seq++
						recs[k].Seq = seq
					}
					_, err := db.Ingest(context.Background(), ev, batch(d.ID, stream, at(120), recs...))
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		wantStock(t, db, ev, a, 0)
		wantStock(t, db, ev, b, 0)
		short := map[string]int{}
		for _, e := range exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Kind: popkit.ExceptionOversell}) {
			short[e.SKUID] += e.Shortfall
		}
		if short[a] != 2*perDevice-10 || short[b] != 2*perDevice-5 {
			t.Fatalf("shortfalls %v, want %d and %d", short, 2*perDevice-10, 2*perDevice-5)
		}
		os, _, err := db.FindOrders(ctx, popkit.OrderFilter{EventID: ev, Page: popkit.Page{Limit: 100}})
		must(t, err)
		if len(os) != 3*perDevice {
			t.Fatalf("%d orders, want %d", len(os), 3*perDevice)
		}
	})
}

func TestResolveException(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a, b := w.event.ID, w.skus[0].ID, w.skus[1].ID // 10 at 1200, 5 at 999
		// One sale oversells both SKUs: 12 of a (2 short), 7 of b (2 short).
		s := sale(ev, at(10), 1000, a, 12, b, 7)
		res := mustApply(t, db, ev, s)
		if len(res.Exceptions) != 2 {
			t.Fatalf("result %+v, want 2 exceptions", res)
		}
		byS := map[string]*popkit.Exception{}
		for _, id := range res.Exceptions {
			e, err := db.FindException(ctx, id)
			must(t, err)
			byS[e.SKUID] = e
		}
		ea, eb := byS[a], byS[b]
		// A third sale oversells a again, for the backorder.
		res2 := mustApply(t, db, ev, sale(ev, at(20), 1000, a, 1))
		ec := res2.Exceptions[0]
		nodeID := sqlstoretest.PartnerNode(t, db)

		before := count(t, db, "stock_movements")
		bad := []struct {
			name  string
			id    string
			r     popkit.ExceptionResolution
			code  string
			field string
		}{
			{"unknown kind", ea.ID, popkit.ExceptionResolution{Kind: "give_up"}, popkit.EINVALID, "kind"},
			{"dismiss an oversell", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveDismiss, Note: "x"}, popkit.EINVALID, "kind"},
			{"backorder without node", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveBackorder}, popkit.EINVALID, "node_id"},
			{"backorder unknown node", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, NodeID: popkit.NewID()}, popkit.EUNPROCESSABLE, "node_id"},
			{"substitute same sku", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: a, Quantity: 1}, popkit.EINVALID, "sku_id"},
			{"substitute unknown sku", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: popkit.NewID(), Quantity: 1}, popkit.EUNPROCESSABLE, "sku_id"},
			{"substitute zero", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: b, Quantity: 0}, popkit.EINVALID, "quantity"},
			{"substitute out of stock", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: b, Quantity: 1}, popkit.ECONFLICT, "quantity"},
			{"amount set by client", ea.ID, popkit.ExceptionResolution{Kind: popkit.ResolveRefund, AmountMinor: 5}, popkit.EINVALID, "amount_minor"},
			{"unknown exception", popkit.NewID(), popkit.ExceptionResolution{Kind: popkit.ResolveRefund}, popkit.ENOTFOUND, ""},
		}
		for _, c := range bad {
			_, err := db.ResolveException(ctx, c.id, &c.r)
			if popkit.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
				continue
			}
			if c.field != "" {
				wantCode(t, err, c.code, c.field)
			}
		}
		if n := count(t, db, "stock_movements"); n != before {
			t.Fatalf("bad resolutions wrote %d ledger rows", n-before)
		}
		if es := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Status: popkit.ExceptionOpen}); len(es) != 3 {
			t.Fatalf("%d open exceptions after bad resolutions, want 3", len(es))
		}

		// Substitute: restock c by an adjustment, hand out 2 units of a
		// for b's shortfall.
		_, err := db.AdjustStock(ctx, ev, a, 5)
		must(t, err)
		got, err := db.ResolveException(ctx, eb.ID, &popkit.ExceptionResolution{Kind: popkit.ResolveSubstitute, SKUID: a, Quantity: 2, Note: "blue instead of red", Actor: "admin:1"})
		must(t, err)
		if got.Status != popkit.ExceptionResolved || got.Resolution.SKUID != a || got.Resolution.Quantity != 2 || !got.Resolution.At.Equal(at(120)) {
			t.Fatalf("substitute = %+v", got.Resolution)
		}
		wantStock(t, db, ev, a, 3)
		_, err = db.ResolveException(ctx, eb.ID, &popkit.ExceptionResolution{Kind: popkit.ResolveRefund})
		wantCode(t, err, popkit.ECONFLICT, "")

		// Refund a's 2 short units: 2 × 1000, the order moves to
		// partially_refunded.
		got, err = db.ResolveException(ctx, ea.ID, &popkit.ExceptionResolution{Kind: popkit.ResolveRefund, Actor: "admin:1"})
		must(t, err)
		if got.Resolution.AmountMinor != 2000 {
			t.Fatalf("refund amount %d, want 2000", got.Resolution.AmountMinor)
		}
		o, err := db.FindOrderByID(ctx, s.ID)
		must(t, err)
		if o.Status != popkit.OrderPartiallyRefunded || len(o.Transitions) != 1 || o.Transitions[0].Actor != "admin:1" {
			t.Fatalf("order after refund = %s %+v", o.Status, o.Transitions)
		}

		// Backorder through a node: refused while the node has none of
		// the SKU, then a fulfilment order there (reconcile_backorder_test.go).
		_, err = db.ResolveException(ctx, ec, &popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, NodeID: nodeID, Actor: "admin:1"})
		wantCode(t, err, popkit.ECONFLICT, "node_id")
		setStock(t, db, nodeID, fulfil.StockLine{SKUID: a, OnHand: 3})
		got, err = db.ResolveException(ctx, ec, &popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, NodeID: nodeID, Actor: "admin:1"})
		must(t, err)
		if got.Resolution.NodeID != nodeID || got.Status != popkit.ExceptionResolved || got.Resolution.FulfilmentOrderID == "" {
			t.Fatalf("backorder = %+v", got)
		}
		if es := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Status: popkit.ExceptionOpen}); len(es) != 0 {
			t.Fatalf("%d open exceptions, want 0", len(es))
		}
	})
}

// TestRefundWholeOrder: refunds that add up to the order total move it to
// refunded.
func TestRefundWholeOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a := w.event.ID, w.skus[0].ID
		_, err := db.AdjustStock(ctx, ev, a, -10)
		must(t, err)
		s := sale(ev, at(10), 1200, a, 3) // nothing on hand: all 3 short
		res := mustApply(t, db, ev, s)
		_, err = db.ResolveException(ctx, res.Exceptions[0], &popkit.ExceptionResolution{Kind: popkit.ResolveRefund})
		must(t, err)
		o, err := db.FindOrderByID(ctx, s.ID)
		must(t, err)
		if o.Status != popkit.OrderRefunded {
			t.Fatalf("status %s, want refunded", o.Status)
		}
	})
}

func TestStockCountBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a := w.event.ID, w.skus[0].ID
		other := mkSKU(t, db, w.brands[0].ID)
		for name, c := range map[string]struct {
			count popkit.StockCount
			code  string
			field string
		}{
			"no lines":        {popkit.StockCount{EventID: ev, CountedAt: at(0)}, popkit.EINVALID, "lines"},
			"no time":         {popkit.StockCount{EventID: ev, Lines: []popkit.StockCountLine{{SKUID: a}}}, popkit.EINVALID, "counted_at"},
			"future":          {popkit.StockCount{EventID: ev, CountedAt: at(600), Lines: []popkit.StockCountLine{{SKUID: a}}}, popkit.EINVALID, "counted_at"},
			"negative":        {popkit.StockCount{EventID: ev, CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: a, Quantity: -1}}}, popkit.EINVALID, "lines[0].quantity"},
			"twice":           {popkit.StockCount{EventID: ev, CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: a}, {SKUID: a}}}, popkit.EINVALID, "lines[1].sku_id"},
			"not in event":    {popkit.StockCount{EventID: ev, CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: a, Quantity: 1}, {SKUID: other.ID}}}, popkit.EINVALID, "lines[1].sku_id"},
			"unknown event":   {popkit.StockCount{EventID: popkit.NewID(), CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: a}}}, popkit.ENOTFOUND, ""},
			"bad sku id text": {popkit.StockCount{EventID: ev, CountedAt: at(0), Lines: []popkit.StockCountLine{{SKUID: "x"}}}, popkit.EINVALID, "lines[0].sku_id"},
		} {
			err := db.RecordStockCount(ctx, &c.count)
			if popkit.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			} else if c.field != "" {
				wantCode(t, err, c.code, c.field)
			}
		}
		if n := count(t, db, "stock_counts") + count(t, db, "stock_movements"); n != 0 {
			t.Fatalf("bad counts wrote %d rows", n)
		}
		wantStock(t, db, ev, a, 10)
	})
}

func BenchmarkApplySale(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			w := &orderWorld{world: mkWorld(b, db)}
			w.skus = []*popkit.SKU{mkSKU(b, db, w.brands[0].ID)}
			must(b, db.SetAssortmentItem(b.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 1_000_000}))
			b.ResetTimer()
			for i := range b.N {
				s := sale(w.event.ID, saleDay.Add(time.Duration(i)*time.Second), 1200, w.skus[0].ID, 1)
				if _, err := db.ApplySale(b.Context(), w.event.ID, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReconcileAdjustments: stock booked in or out by hand is a ledger row,
// and a count synced later keeps what was booked after it.
func TestReconcileAdjustments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		clk := newClock(db, at(60))
		w := mkOrderWorld(t, db)
		ev, sku := w.event.ID, w.skus[0].ID // 10 on hand

		// 11:00: a delivery of 50 is booked → 60.
		a, err := db.AdjustStock(ctx, ev, sku, 50)
		must(t, err)
		if a.Stock != 60 {
			t.Fatalf("stock %d after booking 50 in, want 60", a.Stock)
		}
		ms, _, err := db.FindStockMovements(ctx, popkit.MovementFilter{EventID: ev})
		must(t, err)
		if len(ms) != 1 || ms[0].Kind != popkit.MovementAdjust || ms[0].Delta != 50 || ms[0].Quantity != 50 || !ms[0].OccurredAt.Equal(at(60)) {
			t.Fatalf("ledger = %+v, want one adjust of 50 at 11:00", ms)
		}

		// 11:10: a count made at 10:30 arrives: 8 on the shelf then, and the
		// delivery came after it → 58.
		clk.Add(10 * time.Minute)
		c := &popkit.StockCount{EventID: ev, CountedAt: at(30), Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 8}}}
		must(t, db.RecordStockCount(ctx, c))
		if !c.Lines[0].Applied || c.Lines[0].OnHand != 58 {
			t.Fatalf("count = %+v, want applied with on hand 58", c.Lines[0])
		}
		wantStock(t, db, ev, sku, 58)

		// 11:10: 5 broken units booked out; a count at 11:20 sees what is
		// left, so the breakage before it is not taken twice.
		must2(t)(db.AdjustStock(ctx, ev, sku, -5))
		wantStock(t, db, ev, sku, 53)
		clk.Add(10 * time.Minute)
		c2 := &popkit.StockCount{EventID: ev, CountedAt: at(80), Lines: []popkit.StockCountLine{{SKUID: sku, Quantity: 52}}}
		must(t, db.RecordStockCount(ctx, c2))
		wantStock(t, db, ev, sku, 52)
	})
}
