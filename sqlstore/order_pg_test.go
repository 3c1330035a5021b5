package sqlstore_test

import (
	"errors"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestCreateOrderPipelined: on PostgreSQL the common order takes the
// pipelined path and stores what the general path stores; every other
// case goes to the general path and gets its answer, with nothing of the
// attempt left behind.
func TestCreateOrderPipelined(t *testing.T) {
	u := postgresOnly(t)
	written := func(db *sqlstore.DB) int64 { n, _, _ := db.OrderWriterStats(); return n }
	ctx := t.Context()
	db := sqlstoretest.OpenPostgres(t, u)
	w := mkOrderWorld(t, db)
	token := popkit.NewID()

	// Two lines, one at the event's price override, with a client id.
	mk := func(qty0, qty1 int) *popkit.Order {
		return &popkit.Order{ID: popkit.NewID(), EventID: w.event.ID, Channel: popkit.ChannelPOS,
			Lines: []popkit.OrderLine{
				{SKUID: w.skus[1].ID, Quantity: qty1, UnitPriceMinor: 999},
				{SKUID: w.skus[0].ID, Quantity: qty0, UnitPriceMinor: 1200},
			},
			Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: int64(qty0)*1200 + int64(qty1)*999}}
	}
	o := mk(2, 1)
	iw := idemWrite(token, "p1", o)
	existed, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, iw), o)
	must(t, err)
	if existed || !iw.Completed || written(db) != 1 {
		t.Fatalf("existed %v, completed %v, pipelined %d; want a new order on the pipelined path", existed, iw.Completed, written(db))
	}
	if o.Status != popkit.OrderConfirmed || o.TotalMinor != 2*1200+999 || o.CostMinor != 2*w.skus[0].UnitCostMinor+w.skus[1].UnitCostMinor || o.CreatedAt.IsZero() || o.OccurredAt.IsZero() {
		t.Fatalf("returned order %+v", o)
	}
	stored, err := db.FindOrderByID(ctx, o.ID)
	must(t, err)
	if stored.Status != o.Status || stored.TotalMinor != o.TotalMinor || stored.CostMinor != o.CostMinor || !stored.OccurredAt.Equal(o.OccurredAt) ||
		len(stored.Lines) != 2 || stored.Lines[0] != o.Lines[0] || stored.Lines[1] != o.Lines[1] || stored.Payment != o.Payment {
		t.Fatalf("stored %+v\nreturned %+v", stored, o)
	}
	if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 2 {
		t.Fatalf("sku0 reserved %d, want 2", r)
	}
	if _, r := stockOf(t, db, w.event.ID, w.skus[1].ID); r != 1 {
		t.Fatalf("sku1 reserved %d, want 1", r)
	}
	rec, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: token, Key: "p1", Method: "POST", Path: "/api/v1/orders", RequestHash: "h"})
	must(t, err)
	if claimed || rec.InFlight() || rec.Status != 201 || string(rec.Body) != o.ID || rec.Location != "/api/v1/orders/"+o.ID {
		t.Fatalf("stored key %+v (claimed %v)", rec, claimed)
	}

	// The general path stores the same order the same way.
	gdb := sqlstoretest.OpenPostgres(t, u)
	gdb.SetOrderFastPaths(false)
	gw := mkOrderWorld(t, gdb)
	g := mk(2, 1)
	g.EventID = gw.event.ID
	g.Lines[0].SKUID, g.Lines[1].SKUID = gw.skus[1].ID, gw.skus[0].ID
	giw := idemWrite(token, "p1", g)
	_, err = gdb.CreateOrder(popkit.WithIdempotentWrite(ctx, giw), g)
	must(t, err)
	if written(gdb) != 0 {
		t.Fatal("the general path was not taken with the pipeline off")
	}
	gs, err := gdb.FindOrderByID(ctx, g.ID)
	must(t, err)
	if gs.Status != stored.Status || gs.Channel != stored.Channel || gs.TotalMinor != stored.TotalMinor || gs.CostMinor != stored.CostMinor ||
		len(gs.Lines) != 2 || gs.Lines[0].UnitCostMinor != stored.Lines[0].UnitCostMinor || len(gs.Transitions) != len(stored.Transitions) {
		t.Fatalf("general path stored %+v\npipelined path stored %+v", gs, stored)
	}

	// Everything else goes to the general path, which answers as always.
	cases := []struct {
		name  string
		order func() *popkit.Order
		key   string
		check func(error, *popkit.IdempotentWrite) bool
	}{
		{"same key", func() *popkit.Order { return mk(2, 1) }, "p1", func(err error, iw *popkit.IdempotentWrite) bool {
			return errors.Is(err, popkit.ErrKeyClaimed) && iw.Existing != nil && iw.Existing.Status == 201
		}},
		{"price not the event's", func() *popkit.Order {
			x := mk(1, 1)
			x.Lines[1].UnitPriceMinor, x.Payment.AmountMinor = 1100, 1100+999
			return x
		}, "p2", func(err error, _ *popkit.IdempotentWrite) bool { return popkit.ErrorCode(err) == popkit.EINVALID }},
		{"unknown event", func() *popkit.Order {
			x := mk(1, 1)
			x.EventID = popkit.NewID()
			return x
		}, "p3", func(err error, _ *popkit.IdempotentWrite) bool { return popkit.ErrorCode(err) == popkit.EUNPROCESSABLE }},
		{"too little stock", func() *popkit.Order { return mk(9, 1) }, "p4", func(err error, _ *popkit.IdempotentWrite) bool {
			return popkit.ErrorCode(err) == popkit.ECONFLICT
		}},
	}
	for _, c := range cases {
		x := c.order()
		xiw := idemWrite(token, c.key, x)
		_, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, xiw), x)
		if !c.check(err, xiw) || xiw.Completed {
			t.Errorf("%s: CreateOrder = %v (completed %v)", c.name, err, xiw.Completed)
		}
		if written(db) != 1 {
			t.Errorf("%s: stored by the pipelined path", c.name)
		}
		if _, err := db.FindOrderByID(ctx, x.ID); popkit.ErrorCode(err) != popkit.ENOTFOUND {
			t.Errorf("%s: order %s stored: %v", c.name, x.ID, err)
		}
		if c.key != "p1" {
			if _, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: token, Key: c.key, Method: "POST", Path: "/p", RequestHash: "h"}); err != nil || !claimed {
				t.Errorf("%s: key left claimed (%v)", c.name, err)
			}
		}
	}

	// A retry with the order's id and a new key: batch 2 fails on the id and
	// the general path finds the order.
	again := *o
	again.Lines = []popkit.OrderLine{{SKUID: w.skus[1].ID, Quantity: 1, UnitPriceMinor: 999}, {SKUID: w.skus[0].ID, Quantity: 2, UnitPriceMinor: 1200}}
	aiw := idemWrite(token, "p5", &again)
	existed, err = db.CreateOrder(popkit.WithIdempotentWrite(ctx, aiw), &again)
	if err != nil || !existed || !aiw.Completed || written(db) != 1 {
		t.Fatalf("retry by id: existed %v, %v, completed %v, pipelined %d", existed, err, aiw.Completed, written(db))
	}
	if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 2 {
		t.Fatalf("sku0 reserved %d after the retries, want 2", r)
	}
}

// TestCreateOrderDeadlockRetried: when PostgreSQL breaks a deadlock by
// failing the general path's transaction, the order is run again and
// stored, instead of the caller getting the deadlock as an error. The
// other side of the deadlock is a transaction that locks the order's stock
// row and then inserts an order with the same id, as a batch does.
func TestCreateOrderDeadlockRetried(t *testing.T) {
	u := postgresOnly(t)
	ctx := t.Context()
	db := sqlstoretest.OpenPostgres(t, u)
	db.SetOrderFastPaths(false)
	w := mkOrderWorld(t, db)

	other, otherPID := holdTx(t, db)
	// Only the general path's backend runs the deadlock check in time.
	execTx(t, other, `SET LOCAL deadlock_timeout = '30s'`)
	execTx(t, other, `SELECT 1 FROM assortment_items WHERE event_id = $1 AND sku_id = $2 FOR NO KEY UPDATE`, w.event.ID, w.skus[0].ID)

	o := w.order(2)
	o.ID = popkit.NewID()
	created := make(chan error, 1)
	go func() {
		_, err := db.CreateOrder(ctx, o)
		created <- err
	}()
	blockedBy(t, db, otherPID) // the order is inserted and waits for the stock row
	// Now the other side waits for the order's id: a deadlock.
	_, err := other.ExecContext(ctx, `INSERT INTO orders (id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref, total_minor, cost_minor, occurred_at, created_at, updated_at)
		VALUES ($1, $2, 'pos', 'confirmed', 'cash', 0, '', 0, 0, now(), now(), now())`, o.ID, w.event.ID)
	must(t, err) // the order's first attempt was failed, which let this one in
	must(t, other.Rollback())

	if err := <-created; err != nil {
		t.Fatalf("CreateOrder: %v; want the order stored by a second attempt", err)
	}
	stored, err := db.FindOrderByID(ctx, o.ID)
	must(t, err)
	if stored.Status != popkit.OrderConfirmed || len(stored.Lines) != 1 || stored.TotalMinor != 2*1200 {
		t.Fatalf("stored %+v", stored)
	}
	if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 2 {
		t.Fatalf("reserved %d, want 2", r)
	}
}
