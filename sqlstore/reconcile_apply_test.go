package sqlstore_test

import (
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestApplyKeptSale: a sale stopped by a SKU missing from the assortment is
// kept with its unknown_sku exception; sent again it raises nothing new;
// once the SKU is in the assortment, resolving the exception with "apply"
// applies the sale at its own time (an oversell it causes opens its own
// exception), and the sale stays applied once.
func TestApplyKeptSale(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a := w.event.ID, w.skus[0].ID // 10 of a in the assortment
		dev := &popkit.Device{EventID: ev, Name: "till"}
		must(t, db.CreateDevice(ctx, dev))
		d := ingestSales{db, dev}
		late := mkSKU(t, db, w.brands[0].ID) // exists, not yet in the assortment
		s := sale(ev, at(5), 1200, a, 1, late.ID, 2)

		d.send(t, popkit.NewID(), 1, s)
		d.send(t, popkit.NewID(), 1, s) // the same sale on another stream
		open := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Status: popkit.ExceptionOpen})
		if len(open) != 1 || open[0].Kind != popkit.ExceptionUnknownSKU || open[0].SKUID != late.ID {
			t.Fatalf("open exceptions = %+v, want one unknown_sku for the late SKU", open)
		}
		ex := open[0]

		// Not in the assortment yet: refused, nothing written.
		apply := &popkit.ExceptionResolution{Kind: popkit.ResolveApply, Actor: "admin:x"}
		_, err := db.ResolveException(ctx, ex.ID, apply)
		wantCode(t, err, popkit.ECONFLICT, "kind")
		if _, err := db.FindOrderByID(ctx, s.ID); popkit.ErrorCode(err) != popkit.ENOTFOUND {
			t.Fatalf("order after a refused apply: %v", err)
		}
		if n := len(exceptions(t, db, popkit.ExceptionFilter{EventID: ev})); n != 1 {
			t.Fatalf("%d exceptions after a refused apply, want 1", n)
		}
		wantStock(t, db, ev, a, 10)

		// In the assortment with one unit: the sale applies, one short.
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev, SKUID: late.ID, Stock: 1}))
		got, err := db.ResolveException(ctx, ex.ID, apply)
		must(t, err)
		if got.Status != popkit.ExceptionResolved || got.Resolution.Kind != popkit.ResolveApply || got.OrderID != s.ID {
			t.Fatalf("applied = %+v", got)
		}
		o, err := db.FindOrderByID(ctx, s.ID)
		must(t, err)
		if !o.OccurredAt.Equal(at(5)) || len(o.Lines) != 2 || o.Status != popkit.OrderFulfilled || o.TotalMinor != 3*1200 {
			t.Fatalf("order = %+v", o)
		}
		wantStock(t, db, ev, a, 9)
		wantStock(t, db, ev, late.ID, 0)
		over := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Kind: popkit.ExceptionOversell})
		if len(over) != 1 || over[0].SKUID != late.ID || over[0].Shortfall != 1 || over[0].OrderID != s.ID {
			t.Fatalf("oversell exceptions = %+v", over)
		}

		// An oversell is not applied.
		_, err = db.ResolveException(ctx, over[0].ID, apply)
		wantCode(t, err, popkit.EINVALID, "kind")

		// Applied once: resolving again and syncing again change nothing.
		_, err = db.ResolveException(ctx, ex.ID, apply)
		wantCode(t, err, popkit.ECONFLICT, "kind")
		d.send(t, popkit.NewID(), 1, s)
		wantStock(t, db, ev, a, 9)
		if n := len(exceptions(t, db, popkit.ExceptionFilter{EventID: ev})); n != 2 {
			t.Fatalf("%d exceptions, want the unknown_sku and the oversell", n)
		}
	})
}

// TestApplyKeptSaleTwoLines: a sale with two SKUs missing raises two
// exceptions; applying one, once both SKUs are in, resolves both. A SKU
// that does not exist at all keeps the sale from applying.
func TestApplyKeptSaleTwoLines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev := w.event.ID
		x, y := mkSKU(t, db, w.brands[0].ID), mkSKU(t, db, w.brands[1].ID)
		s := sale(ev, at(5), 500, x.ID, 1, y.ID, 1)
		res := mustApply(t, db, ev, s)
		if res.Status != popkit.RecordRejected || len(res.Exceptions) != 2 {
			t.Fatalf("result = %+v, want rejected with two exceptions", res)
		}
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev, SKUID: x.ID, Stock: 5}))
		apply := &popkit.ExceptionResolution{Kind: popkit.ResolveApply, Note: "added late", Actor: "admin:x"}
		_, err := db.ResolveException(ctx, res.Exceptions[0], apply)
		wantCode(t, err, popkit.ECONFLICT, "kind") // y is still missing
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev, SKUID: y.ID, Stock: 5}))
		_, err = db.ResolveException(ctx, res.Exceptions[0], apply)
		must(t, err)
		for _, id := range res.Exceptions {
			e, err := db.FindException(ctx, id)
			must(t, err)
			if e.Status != popkit.ExceptionResolved || e.Resolution.Kind != popkit.ResolveApply || e.Resolution.Note != "added late" || e.OrderID != s.ID {
				t.Fatalf("exception %s = %+v, resolution %+v", id, e, e.Resolution)
			}
		}
		wantStock(t, db, ev, x.ID, 4)
		wantStock(t, db, ev, y.ID, 4)

		ghost := sale(ev, at(6), 500, popkit.NewID(), 1)
		res = mustApply(t, db, ev, ghost)
		_, err = db.ResolveException(ctx, res.Exceptions[0], apply)
		wantCode(t, err, popkit.ECONFLICT, "kind")
		// An unknown SKU is not refunded.
		_, err = db.ResolveException(ctx, res.Exceptions[0], &popkit.ExceptionResolution{Kind: popkit.ResolveRefund})
		wantCode(t, err, popkit.EINVALID, "kind")
	})
}
