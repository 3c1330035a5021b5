package sqlstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// orderWorld is an event with two SKUs in its assortment: sku[0] at its
// list price (1200) with 10 units, sku[1] at an override of 999 with 5.
type orderWorld struct {
	*world
	skus []*popkit.SKU
}

func mkOrderWorld(t *testing.T, db *sqlstore.DB) *orderWorld {
	t.Helper()
	w := &orderWorld{world: mkWorld(t, db)}
	w.skus = []*popkit.SKU{mkSKU(t, db, w.brands[0].ID), mkSKU(t, db, w.brands[1].ID)}
	must(t, db.SetAssortmentItem(t.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 10}))
	must(t, db.SetAssortmentItem(t.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[1].ID, Stock: 5, PriceMinor: ptr(int64(999))}))
	return w
}

// order returns a cash order of qty units of sku[0].
func (w *orderWorld) order(qty int) *popkit.Order {
	return &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelPOS,
		Lines:   []popkit.OrderLine{{SKUID: w.skus[0].ID, Quantity: qty, UnitPriceMinor: 1200}},
		Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: int64(qty) * 1200}}
}

func stockOf(t *testing.T, db *sqlstore.DB, eventID, skuID string) (stock, reserved int) {
	t.Helper()
	a, err := db.FindAssortmentItem(t.Context(), eventID, skuID)
	must(t, err)
	return a.Stock, a.Reserved
}

func TestCreateOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		newClock(db, at)
		w := mkOrderWorld(t, db)

		o := &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelNextDay, Delivery: &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: 52.5, Lon: 13.4},
			Lines: []popkit.OrderLine{
				{SKUID: w.skus[1].ID, Quantity: 2, UnitPriceMinor: 999},
				{SKUID: w.skus[0].ID, Quantity: 3, UnitPriceMinor: 1200},
			},
			Payment:    popkit.Payment{Method: popkit.PaymentExternal, AmountMinor: 2*999 + 3*1200, ExternalRef: "sq_123"},
			OccurredAt: at.Add(-time.Hour),
		}
		existed, err := db.CreateOrder(ctx, o)
		must(t, err)
		if existed || !popkit.ValidID(o.ID) || o.Status != popkit.OrderConfirmed || o.TotalMinor != 2*999+3*1200 || o.CostMinor != 5*400 ||
			o.Lines[0].UnitCostMinor != 400 || !o.OccurredAt.Equal(at.Add(-time.Hour)) || !o.CreatedAt.Equal(at) {
			t.Fatalf("CreateOrder = existed %v, %+v", existed, o)
		}
		got, err := db.FindOrderByID(ctx, o.ID)
		must(t, err)
		if got.TotalMinor != o.TotalMinor || len(got.Lines) != 2 || got.Lines[0].SKUID != w.skus[1].ID || got.Payment != o.Payment || !got.OccurredAt.Equal(o.OccurredAt) {
			t.Fatalf("FindOrderByID = %+v, want %+v", got, o)
		}
		if s, r := stockOf(t, db, w.event.ID, w.skus[0].ID); s != 10 || r != 3 {
			t.Errorf("sku0 stock %d reserved %d, want 10 and 3", s, r)
		}
		if s, r := stockOf(t, db, w.event.ID, w.skus[1].ID); s != 5 || r != 2 {
			t.Errorf("sku1 stock %d reserved %d, want 5 and 2", s, r)
		}

		t.Run("stock below reserved", func(t *testing.T) {
			_, err := db.AdjustStock(ctx, w.event.ID, w.skus[0].ID, -8)
			wantCode(t, err, popkit.ECONFLICT, "stock")
			wantCode(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 2}), popkit.ECONFLICT, "stock")
			wantCode(t, db.RemoveAssortmentItem(ctx, w.event.ID, w.skus[0].ID), popkit.ECONFLICT, "sku_id")
			if s, r := stockOf(t, db, w.event.ID, w.skus[0].ID); s != 10 || r != 3 {
				t.Errorf("stock %d reserved %d after refused changes, want 10 and 3", s, r)
			}
			a, err := db.AdjustStock(ctx, w.event.ID, w.skus[0].ID, -7)
			must(t, err)
			if a.Stock != 3 || a.Reserved != 3 {
				t.Errorf("AdjustStock(-7) = %+v, want stock 3 reserved 3", a)
			}
			_, err = db.AdjustStock(ctx, w.event.ID, w.skus[0].ID, 7)
			must(t, err)
		})

		t.Run("idempotent by client id", func(t *testing.T) {
			id := popkit.NewID()
			first := w.order(1)
			first.ID = id
			existed, err := db.CreateOrder(ctx, first)
			must(t, err)
			retry := w.order(1)
			retry.ID = id
			again, err := db.CreateOrder(ctx, retry)
			must(t, err)
			if existed || !again || retry.CreatedAt != first.CreatedAt || retry.Status != popkit.OrderConfirmed {
				t.Fatalf("existed %v then %v, retry %+v", existed, again, retry)
			}
			if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 4 {
				t.Errorf("reserved %d after a retried order, want 4 (one reservation)", r)
			}
			other := w.order(2)
			other.ID = id
			_, err = db.CreateOrder(ctx, other)
			wantCode(t, err, popkit.ECONFLICT, "id")
		})
	})
}

func TestCreateOrderBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db)
		notInAssortment := mkSKU(t, db, w.brands[0].ID)
		tests := []struct {
			name  string
			edit  func(o *popkit.Order)
			code  string
			field string
		}{
			{"sku not in the assortment", func(o *popkit.Order) { o.Lines[0].SKUID = notInAssortment.ID }, popkit.EINVALID, "lines[0].sku_id"},
			{"unknown sku", func(o *popkit.Order) { o.Lines[0].SKUID = popkit.NewID() }, popkit.EINVALID, "lines[0].sku_id"},
			{"zero quantity", func(o *popkit.Order) { o.Lines[0].Quantity = 0 }, popkit.EINVALID, "lines[0].quantity"},
			{"negative quantity", func(o *popkit.Order) { o.Lines[0].Quantity = -3 }, popkit.EINVALID, "lines[0].quantity"},
			{"price below the assortment's", func(o *popkit.Order) { o.Lines[0].UnitPriceMinor, o.Payment.AmountMinor = 1000, 1000 }, popkit.EINVALID, "lines[0].unit_price_minor"},
			{"list price where the event overrides it", func(o *popkit.Order) {
				o.Lines[0] = popkit.OrderLine{SKUID: w.skus[1].ID, Quantity: 1, UnitPriceMinor: 1200}
			}, popkit.EINVALID, "lines[0].unit_price_minor"},
			{"unknown event", func(o *popkit.Order) { o.EventID = popkit.NewID() }, popkit.EUNPROCESSABLE, "event_id"},
			{"bad event id", func(o *popkit.Order) { o.EventID = "x" }, popkit.EINVALID, "event_id"},
			{"bad channel", func(o *popkit.Order) { o.Channel = "mail" }, popkit.EINVALID, "channel"},
			{"no lines", func(o *popkit.Order) { o.Lines = nil }, popkit.EINVALID, "lines"},
			{"sku twice", func(o *popkit.Order) { o.Lines = append(o.Lines, o.Lines[0]) }, popkit.EINVALID, "lines[1].sku_id"},
			{"payment disagrees with total", func(o *popkit.Order) { o.Payment.AmountMinor = 1 }, popkit.EINVALID, "payment.amount_minor"},
			{"external payment without reference", func(o *popkit.Order) { o.Payment.Method = popkit.PaymentExternal }, popkit.EINVALID, "payment.external_ref"},
			{"bad payment method", func(o *popkit.Order) { o.Payment.Method = "iou" }, popkit.EINVALID, "payment.method"},
			{"sale in the future", func(o *popkit.Order) { o.OccurredAt = time.Now().Add(time.Hour) }, popkit.EINVALID, "occurred_at"},
			{"bad client id", func(o *popkit.Order) { o.ID = "ABC" }, popkit.EINVALID, "id"},
			{"more than on hand", func(o *popkit.Order) { o.Lines[0].Quantity, o.Payment.AmountMinor = 11, 11*1200 }, popkit.ECONFLICT, "lines[0].quantity"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := w.order(1)
				tt.edit(o)
				_, err := db.CreateOrder(ctx, o)
				wantCode(t, err, tt.code, tt.field)
				if !oneLine(popkit.ErrorMessage(err)) {
					t.Errorf("message %q spans lines", popkit.ErrorMessage(err))
				}
			})
		}
		for _, table := range []string{"orders", "order_lines", "order_transitions"} {
			if n := count(t, db, table); n != 0 {
				t.Errorf("%d rows in %s after refused orders, want 0", n, table)
			}
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 0 {
			t.Errorf("reserved %d after refused orders, want 0", r)
		}
	})
}

// TestCreateOrderRace sends 200 concurrent one-unit orders for the last 10
// units: exactly 10 must be confirmed.
func TestCreateOrderRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db)
		const n = 200
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), w.order(1))
			})
		}
		close(start)
		wg.Wait()
		ok, short := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case popkit.ErrorCode(err) == popkit.ECONFLICT && strings.Contains(popkit.ErrorMessage(err), "insufficient stock"):
				short++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 10 || short != n-10 {
			t.Errorf("%d confirmed and %d insufficient stock, want 10 and %d", ok, short, n-10)
		}
		if s, r := stockOf(t, db, w.event.ID, w.skus[0].ID); s != 10 || r != 10 {
			t.Errorf("stock %d reserved %d, want 10 and 10", s, r)
		}
		if c := count(t, db, "orders"); c != 10 {
			t.Errorf("%d orders stored, want 10", c)
		}
		if c := count(t, db, "order_lines"); c != 10 {
			t.Errorf("%d order lines stored, want 10", c)
		}
	})
}

func TestTransitionOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		clk := newClock(db, at)
		w := mkOrderWorld(t, db)
		mk := func(qty int) string {
			o := w.order(qty)
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			return o.ID
		}
		type step struct {
			to                      popkit.OrderStatus
			code                    string // "" for success
			wantStock, wantReserved int
		}
		tests := []struct {
			name  string
			qty   int
			steps []step
		}{
			{"fulfil and complete consume the reservation", 2, []step{
				{popkit.OrderFulfilled, "", 8, 0}, {popkit.OrderCompleted, "", 8, 0}, {popkit.OrderRefunded, "", 8, 0}, {popkit.OrderConfirmed, popkit.ECONFLICT, 8, 0}}},
			{"cancel releases the reservation", 3, []step{
				{popkit.OrderCancelled, "", 10, 0}, {popkit.OrderFulfilled, popkit.ECONFLICT, 10, 0}, {popkit.OrderConfirmed, popkit.ECONFLICT, 10, 0}}},
			{"requires action keeps the reservation", 1, []step{
				{popkit.OrderCompleted, popkit.ECONFLICT, 10, 1}, {popkit.OrderRequiresAction, "", 10, 1}, {popkit.OrderConfirmed, "", 10, 1},
				{popkit.OrderFulfilled, "", 9, 0}, {popkit.OrderPartiallyRefunded, "", 9, 0}, {popkit.OrderRefunded, "", 9, 0}, {popkit.OrderCancelled, popkit.ECONFLICT, 9, 0}}},
			{"unknown status", 1, []step{{"lost", popkit.EINVALID, 10, 1}, {popkit.OrderCancelled, "", 10, 0}}},
		}
		for _, tt := range tests {
			// Sequential: each case starts from 10 units on hand.
			must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 10}))
			id := mk(tt.qty)
			var moves []popkit.OrderStatus
			for i, s := range tt.steps {
				clk.Add(time.Minute)
				o, err := db.TransitionOrder(ctx, id, s.to, "token:tester", "step")
				if s.code != "" {
					wantCode(t, err, s.code, "to")
				} else {
					must(t, err)
					moves = append(moves, s.to)
					if o.Status != s.to {
						t.Errorf("%s step %d: status %s, want %s", tt.name, i, o.Status, s.to)
					}
				}
				if st, r := stockOf(t, db, w.event.ID, w.skus[0].ID); st != s.wantStock || r != s.wantReserved {
					t.Errorf("%s step %d (%s): stock %d reserved %d, want %d and %d", tt.name, i, s.to, st, r, s.wantStock, s.wantReserved)
				}
			}
			got, err := db.FindOrderByID(ctx, id)
			must(t, err)
			if len(got.Transitions) != len(moves) {
				t.Fatalf("%s: %d transitions stored, want %d", tt.name, len(got.Transitions), len(moves))
			}
			from := popkit.OrderConfirmed
			for i, tr := range got.Transitions {
				if tr.From != from || tr.To != moves[i] || tr.Actor != "token:tester" || tr.Reason != "step" || !tr.At.After(at) {
					t.Errorf("%s: transition %d = %+v", tt.name, i, tr)
				}
				from = tr.To
			}
			if n := count(t, db, "orders"); n == 0 {
				t.Fatal("no orders")
			}
			// Make the item's stock free again for the next case.
			if got.Status.HoldsReservation() {
				_, err := db.TransitionOrder(ctx, id, popkit.OrderCancelled, "token:tester", "")
				must(t, err)
			}
		}
		_, err := db.TransitionOrder(ctx, popkit.NewID(), popkit.OrderCancelled, "a", "")
		wantCode(t, err, popkit.ENOTFOUND, "")
	})
}

func TestFindOrders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db)
		other := mkOrderWorld(t, db)
		var pos, sameDay []string
		for i := range 5 {
			o := w.order(1)
			if i%2 == 1 {
				o.Channel, o.Delivery = popkit.ChannelNextDay, &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: 52.5, Lon: 13.4}
			}
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			if i%2 == 1 {
				sameDay = append(sameDay, o.ID)
			} else {
				pos = append(pos, o.ID)
			}
		}
		_, err := db.CreateOrder(ctx, other.order(1))
		must(t, err)
		_, err = db.TransitionOrder(ctx, pos[0], popkit.OrderCancelled, "a", "")
		must(t, err)
		key := func(o *popkit.Order) string { return o.ID }
		tests := []struct {
			name string
			f    popkit.OrderFilter
			want []string
		}{
			{"event", popkit.OrderFilter{EventID: w.event.ID}, sortedIDs(append(append([]string{}, pos...), sameDay...)...)},
			{"channel", popkit.OrderFilter{EventID: w.event.ID, Channel: popkit.ChannelNextDay}, sortedIDs(sameDay...)},
			{"status", popkit.OrderFilter{EventID: w.event.ID, Status: popkit.OrderConfirmed, Channel: popkit.ChannelPOS}, sortedIDs(pos[1:]...)},
			{"cancelled", popkit.OrderFilter{Status: popkit.OrderCancelled}, []string{pos[0]}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, _ := allPages(t, 2, key, func(p popkit.Page) ([]*popkit.Order, string, error) {
					f := tt.f
					f.Page = p
					return db.FindOrders(ctx, f)
				})
				if g := ids(got, key); strings.Join(g, ",") != strings.Join(tt.want, ",") {
					t.Errorf("FindOrders = %v, want %v", g, tt.want)
				}
				for _, o := range got {
					if len(o.Lines) != 1 {
						t.Errorf("order %s has %d lines, want 1", o.ID, len(o.Lines))
					}
				}
			})
		}
	})
}

// TestCreateOrderSameIDRace creates one client id from 50 goroutines at
// once: one order and one reservation, every caller gets the order.
func TestCreateOrderSameIDRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db)
		id := popkit.NewID()
		const n = 50
		var wg sync.WaitGroup
		created := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				o := w.order(2)
				o.ID = id
				var existed bool
				existed, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), o)
				created[i] = errs[i] == nil && !existed && o.ID == id
			})
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			must(t, errs[i])
			if created[i] {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d callers created the order, want 1", fresh)
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 2 || count(t, db, "orders") != 1 {
			t.Errorf("reserved %d with %d orders, want 2 and 1", r, count(t, db, "orders"))
		}
	})
}
