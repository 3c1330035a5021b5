package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestOrderWriterBatches: on SQLite, orders that wait for the writer share
// a transaction, and each is still answered on its own: the ones that fit
// the stock are stored, the others refused, a repeated key replayed, and
// nothing of a refused order is left.
func TestOrderWriterBatches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := sqlstoretest.OpenSQLite(t)
	w := mkOrderWorld(t, db) // sku[0]: 10 units
	token := popkit.NewID()

	// Hold the writer so that every order below queues for it.
	release, err := db.HoldWriter(ctx)
	must(t, err)
	const n = 30
	type answer struct {
		o   *popkit.Order
		iw  *popkit.IdempotentWrite
		err error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		// Orders 0-9: one unit each with its own key; 10-19: a repeat of
		// the key of order 0; 20-29: more than is left.
		key, qty := "k"+string(rune('a'+i)), 1
		switch {
		case i >= 10 && i < 20:
			key = "ka"
		case i >= 20:
			qty = 11
		}
		o := w.order(qty)
		iw := idemWrite(token, key, o)
		answers[i] = answer{o: o, iw: iw}
		wg.Go(func() {
			_, answers[i].err = db.CreateOrder(popkit.WithIdempotentWrite(context.Background(), iw), o)
		})
	}
	// All n wait: the first taken by the writer (blocked on the held
	// transaction, with any others it took along), the rest waiting to be
	// handed over.
	waitFor(t, "orders to queue for the writer", func() bool {
		_, _, pending := db.OrderWriterStats()
		return pending == n
	})
	release()
	wg.Wait()

	orders, txs, _ := db.OrderWriterStats()
	stored, replays, refused := 0, 0, 0
	for i, a := range answers {
		switch {
		case a.err == nil && a.iw.Completed:
			stored++
		case errors.Is(a.err, popkit.ErrKeyClaimed) && a.iw.Existing != nil && a.iw.Existing.Status == 201:
			replays++
		case popkit.ErrorCode(a.err) == popkit.ECONFLICT && i >= 20:
			refused++
			if _, err := db.FindOrderByID(ctx, a.o.ID); popkit.ErrorCode(err) != popkit.ENOTFOUND {
				t.Errorf("refused order %d stored: %v", i, err)
			}
		default:
			t.Errorf("order %d: %v", i, a.err)
		}
	}
	// Order 0 and one of its repeats race for key "ka": one stores, the
	// other replays; 9 more orders fill the stock.
	if stored != 10 || replays != 10 || refused != 10 {
		t.Fatalf("stored %d, replays %d, refused %d; want 10, 10, 10", stored, replays, refused)
	}
	if orders != 10 || txs > 2 {
		t.Fatalf("writer stored %d orders in %d transactions; want 10 in at most 2", orders, txs)
	}
	if s, r := stockOf(t, db, w.event.ID, w.skus[0].ID); s != 10 || r != 10 {
		t.Fatalf("stock %d reserved %d, want 10 and 10", s, r)
	}
}

// TestOrderBatchAnswers: one batch of the order writer, on either store,
// stores the orders that fit in one transaction and answers every other
// order as the general path does, counting the stock the orders before
// it took.
func TestOrderBatchAnswers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db) // sku0: 10 units at 1200, sku1: 5 at 999
		token := popkit.NewID()
		line := func(sku int, qty int, price int64) popkit.Order {
			return popkit.Order{ID: popkit.NewID(), EventID: w.event.ID, Channel: popkit.ChannelPOS,
				Lines:   []popkit.OrderLine{{SKUID: w.skus[sku].ID, Quantity: qty, UnitPriceMinor: price}},
				Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: int64(qty) * price}}
		}
		specs := []struct {
			o   popkit.Order
			key string
		}{
			{line(0, 4, 1200), "a"}, // stored
			{line(0, 4, 1200), "b"}, // stored: 2 units of sku0 left
			{line(0, 4, 1200), "c"}, // too little stock left
			{line(1, 1, 1000), "d"}, // not the event's price
			{line(1, 1, 999), "a"},  // key of order 0: replayed
			{line(0, 4, 1200), "e"}, // order 1 again, by its id: found
			{line(1, 2, 999), "f"},  // stored
		}
		specs[5].o.ID = specs[1].o.ID
		orders := make([]*popkit.Order, len(specs))
		idems := make([]*popkit.IdempotentWrite, len(specs))
		for i, s := range specs {
			o := s.o
			o.Lines = slices.Clone(s.o.Lines)
			orders[i], idems[i] = &o, idemWrite(token, s.key, &o)
		}
		// The response is rendered from the stored order.
		var rendered popkit.OrderStatus
		respond := idems[0].Respond
		idems[0].Respond = func(existed bool) (int, string, string, []byte, error) {
			rendered = orders[0].Status
			return respond(existed)
		}
		answers := db.WriteOrderBatch(ctx, orders, idems)
		if rendered != popkit.OrderConfirmed {
			t.Errorf("order 0's response rendered with status %q", rendered)
		}

		for _, i := range []int{0, 1, 6} {
			if a := answers[i]; a.Err != nil || a.Existed || !a.Batched || !idems[i].Completed {
				t.Errorf("order %d: %+v, completed %v; want stored by the batch", i, a, idems[i].Completed)
			}
		}
		if a := answers[2]; popkit.ErrorCode(a.Err) != popkit.ECONFLICT || idems[2].Completed {
			t.Errorf("order 2 (too little stock): %+v", a)
		}
		if a := answers[3]; popkit.ErrorCode(a.Err) != popkit.EINVALID || idems[3].Completed {
			t.Errorf("order 3 (price): %+v", a)
		}
		if a := answers[4]; !errors.Is(a.Err, popkit.ErrKeyClaimed) || idems[4].Existing == nil || idems[4].Existing.Status != 201 || string(idems[4].Existing.Body) != orders[0].ID {
			t.Errorf("order 4 (key of order 0): %+v, existing %+v", a, idems[4].Existing)
		}
		if a := answers[5]; a.Err != nil || !a.Existed || !idems[5].Completed || orders[5].CreatedAt.IsZero() {
			t.Errorf("order 5 (order 1 by id): %+v", a)
		}
		if _, txs, _ := db.OrderWriterStats(); txs != 1 {
			t.Errorf("the batch took %d transactions, want 1", txs)
		}
		for i, want := range []bool{true, true, false, false, false, true, true} {
			_, err := db.FindOrderByID(ctx, orders[i].ID)
			if got := err == nil; got != want {
				t.Errorf("order %d stored %v, want %v (%v)", i, got, want, err)
			}
		}
		for _, k := range []string{"c", "d"} {
			if _, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: token, Key: k, Method: "POST", Path: "/p", RequestHash: "h"}); err != nil || !claimed {
				t.Errorf("key %s of a refused order left claimed (%v)", k, err)
			}
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 8 {
			t.Errorf("sku0 reserved %d, want 8", r)
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[1].ID); r != 2 {
			t.Errorf("sku1 reserved %d, want 2", r)
		}
	})
}
