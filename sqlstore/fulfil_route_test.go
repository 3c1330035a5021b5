package sqlstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// TestRoutingCapacity fills a node's hour and day: the next order becomes
// next_day with the reason, and a cancelled order frees its slot.
func TestRoutingCapacity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500, func(n *fulfil.NodeRecord) { n.CapacityPerHour, n.CapacityPerDay = 1, 2 })
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 100})
		place := func() *popkit.Order {
			t.Helper()
			o := w.sameDay()
			must2(t)(db.CreateOrder(ctx, o))
			return o
		}
		reason := func(o *popkit.Order) string {
			for _, r := range o.RoutingReasons {
				if r.NodeID == n.ID {
					return r.Rule + ": " + r.Reason
				}
			}
			return ""
		}
		if o := place(); o.Channel != popkit.ChannelSameDay {
			t.Fatalf("first order %+v, want same_day", o)
		}
		if o := place(); o.Channel != popkit.ChannelNextDay || !strings.Contains(reason(o), "hour full") {
			t.Errorf("second order in the hour: %s %q, want next_day for a full hour", o.Channel, reason(o))
		}
		w.clock.Add(time.Hour)
		third := place()
		if third.Channel != popkit.ChannelSameDay {
			t.Fatalf("order in the next hour %s, want same_day", third.Channel)
		}
		w.clock.Add(time.Hour)
		if o := place(); o.Channel != popkit.ChannelNextDay || !strings.Contains(reason(o), "day full") {
			t.Errorf("third order of the day: %s %q, want next_day for a full day", o.Channel, reason(o))
		}
		must2(t)(db.TransitionOrder(ctx, third.ID, popkit.OrderCancelled, "admin:x", ""))
		if o := place(); o.Channel != popkit.ChannelSameDay {
			t.Errorf("after a cancellation: %s, want same_day (the slot is free)", o.Channel)
		}
	})
}

func TestRerouteOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		first := mkFulfilNode(t, db, 52.52, 13.40, 100)
		second := mkFulfilNode(t, db, 52.52, 13.41, 900)
		for _, n := range []*fulfil.NodeRecord{first, second} {
			setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 5})
		}
		o := w.sameDay()
		must2(t)(db.CreateOrder(ctx, o))
		if o.FulfilmentOrders[0].NodeID != first.ID {
			t.Fatalf("routed to %s, want the cheaper node %s", o.FulfilmentOrders[0].NodeID, first.ID)
		}
		_, err := db.TransitionFulfilmentOrder(ctx, o.FulfilmentOrders[0].ID, fulfil.StateCancelled, "fulfiller:x", "out of boxes")
		must(t, err)
		if n := countWhere(t, db, `SELECT COUNT(*) FROM river_job WHERE kind = 'reroute_order'`); n != 1 {
			t.Errorf("%d reroute jobs, want 1", n)
		}
		must(t, db.RerouteOrder(ctx, o.ID, "node refused"))
		must(t, db.RerouteOrder(ctx, o.ID, "node refused")) // no-op the second time
		got, err := db.FindOrderByID(ctx, o.ID)
		must(t, err)
		if len(got.FulfilmentOrders) != 2 || got.Status != popkit.OrderConfirmed {
			t.Fatalf("order after re-routing = %+v, want 2 fulfilment orders", got)
		}
		for _, f := range got.FulfilmentOrders {
			if f.NodeID == second.ID && f.Status != string(fulfil.StateOpen) {
				t.Errorf("new fulfilment order %+v, want open", f)
			}
		}
		if h, r := nodeStockOf(t, db, first.ID, w.skus[0].ID); h != 5 || r != 0 {
			t.Errorf("first node stock %d reserved %d, want 5 and 0", h, r)
		}
		if _, r := nodeStockOf(t, db, second.ID, w.skus[0].ID); r != 2 {
			t.Errorf("second node reserved %d, want 2", r)
		}
		// No node left: the order needs action.
		list, _, err := db.FindFulfilmentOrders(ctx, fulfil.OrderFilter{OrderID: o.ID, NodeID: second.ID})
		must(t, err)
		must2(t)(db.TransitionFulfilmentOrder(ctx, list[0].ID, fulfil.StateCancelled, "fulfiller:y", "closed"))
		must(t, db.RerouteOrder(ctx, o.ID, "node refused"))
		got, err = db.FindOrderByID(ctx, o.ID)
		must(t, err)
		if got.Status != popkit.OrderRequiresAction || len(got.RoutingReasons) == 0 {
			t.Errorf("order %s with reasons %+v, want requires_action with reasons", got.Status, got.RoutingReasons)
		}
	})
}

// TestNodeCapacityRace: 20 concurrent same-day orders for a node with 5
// slots left in the hour, each for another SKU (so no stock row orders
// them), give exactly 5 same-day orders.
func TestNodeCapacityRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500, func(n *fulfil.NodeRecord) { n.CapacityPerHour, n.CapacityPerDay = 5, 50 })
		const total = 20
		skus := make([]string, total)
		for i := range skus {
			s := mkSKU(t, db, w.brands[0].ID)
			must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: s.ID, Stock: 10}))
			setStock(t, db, n.ID, fulfil.StockLine{SKUID: s.ID, OnHand: 10})
			skus[i] = s.ID
		}
		orders := make([]*popkit.Order, total)
		errs := make([]error, total)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range total {
			wg.Go(func() {
				<-start
				orders[i] = w.sameDay(popkit.OrderLine{SKUID: skus[i], Quantity: 1, UnitPriceMinor: 1200})
				_, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), orders[i])
			})
		}
		close(start)
		wg.Wait()
		same := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("order %d: %v", i, err)
			}
			if orders[i].Channel == popkit.ChannelSameDay {
				same++
			}
		}
		if same != 5 {
			t.Errorf("%d same-day orders for a node with 5 slots, want 5", same)
		}
		if c := count(t, db, "fulfilment_orders"); c != 5 {
			t.Errorf("%d fulfilment orders, want 5", c)
		}
	})
}
