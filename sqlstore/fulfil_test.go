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

// fulfilT0 is a Friday, 10:00 in Berlin: before the nodes' 16:00 cutoff.
var fulfilT0 = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

// fulfilWorld is an order world (sku[0] of brand 0 at 1200, sku[1] of
// brand 1 at 999) with plenty of event stock and nodes in Berlin.
type fulfilWorld struct {
	*orderWorld
	clock *clock
}

func mkFulfilWorld(t *testing.T, db *sqlstore.DB) *fulfilWorld {
	t.Helper()
	w := &fulfilWorld{clock: newClock(db, fulfilT0)}
	w.orderWorld = mkOrderWorld(t, db)
	for _, s := range w.skus {
		_, err := db.AdjustStock(t.Context(), w.event.ID, s.ID, 1000)
		must(t, err)
	}
	return w
}

// node stores a Berlin node open Fri 08:00–20:00 with a 16:00 cutoff.
func mkFulfilNode(t *testing.T, db *sqlstore.DB, lat, lon float64, costOrder int64, edit ...func(*fulfil.NodeRecord)) *fulfil.NodeRecord {
	t.Helper()
	n := &fulfil.NodeRecord{Node: fulfil.Node{Name: uniq("node"), Kind: fulfil.KindKittingStation, Lat: lat, Lon: lon, ServiceRadiusKm: 10,
		TimeZone: "Europe/Berlin", OpeningHours: []fulfil.Opening{{Day: "fri", Open: 8 * 60, Close: 20 * 60}}, SameDayCutoff: 16 * 60,
		CapacityPerHour: 1000, CapacityPerDay: 5000, CostPerOrderMinor: costOrder, CostPerBundleMinor: 1000}}
	for _, e := range edit {
		e(n)
	}
	must(t, db.CreateNode(t.Context(), n))
	return n
}

func setStock(t *testing.T, db *sqlstore.DB, nodeID string, lines ...fulfil.StockLine) {
	t.Helper()
	_, err := db.SetNodeStock(t.Context(), nodeID, lines)
	must(t, err)
}

func nodeStockOf(t *testing.T, db *sqlstore.DB, nodeID, skuID string) (onHand, reserved int) {
	t.Helper()
	lines, err := db.NodeStock(t.Context(), nodeID)
	must(t, err)
	for _, l := range lines {
		if l.SKUID == skuID {
			return l.OnHand, l.Reserved
		}
	}
	return 0, 0
}

// sameDay returns a same-day order delivered near Alexanderplatz.
func (w *fulfilWorld) sameDay(lines ...popkit.OrderLine) *popkit.Order {
	if len(lines) == 0 {
		lines = []popkit.OrderLine{{SKUID: w.skus[0].ID, Quantity: 2, UnitPriceMinor: 1200}}
	}
	var total int64
	for _, l := range lines {
		total += int64(l.Quantity) * l.UnitPriceMinor
	}
	return &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelSameDay, Lines: lines,
		Payment:  popkit.Payment{Method: popkit.PaymentCard, AmountMinor: total},
		Delivery: &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: 52.521, Lon: 13.41}}
}

func countWhere(t testing.TB, db *sqlstore.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if db.Dialect() == sqlstore.DialectPostgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
		}
	}
	must(t, db.SQL().QueryRowContext(context.Background(), q, args...).Scan(&n))
	return n
}

func TestSameDayRouting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		near := mkFulfilNode(t, db, 52.52, 13.40, 500)
		cheapFar := mkFulfilNode(t, db, 48.14, 11.58, 100) // Munich: out of range
		noStock := mkFulfilNode(t, db, 52.53, 13.40, 200)
		setStock(t, db, near.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})
		setStock(t, db, cheapFar.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})

		o := w.sameDay()
		existed, err := db.CreateOrder(ctx, o)
		must(t, err)
		if existed || o.Channel != popkit.ChannelSameDay || len(o.FulfilmentOrders) != 1 || o.FulfilmentOrders[0].NodeID != near.ID || o.FulfilmentOrders[0].BundleID == "" {
			t.Fatalf("CreateOrder = %+v, want same_day at node %s in a bundle", o, near.ID)
		}
		if h, r := nodeStockOf(t, db, near.ID, w.skus[0].ID); h != 10 || r != 2 {
			t.Errorf("node stock %d reserved %d, want 10 and 2", h, r)
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 0 {
			t.Errorf("event stock reserved %d for a same-day order, want 0 (node stock is used)", r)
		}
		fo, err := db.FindFulfilmentOrderByID(ctx, o.FulfilmentOrders[0].ID)
		must(t, err)
		if fo.Status != fulfil.StateOpen || fo.Units != 2 || fo.WeightGrams != 500 || len(fo.Lines) != 1 || fo.Lines[0].Made || fo.OrderID != o.ID {
			t.Errorf("fulfilment order = %+v", fo)
		}
		b, err := db.FindBundleByID(ctx, fo.BundleID)
		must(t, err)
		if want := time.Date(2026, 5, 1, 14, 0, 0, 0, time.UTC); !b.WaveCutoff.Equal(want) || b.Status != fulfil.BundleForming || len(b.Members) != 1 {
			t.Errorf("bundle = %+v, want forming with cutoff %s (16:00 Berlin)", b, want)
		}
		if n := countWhere(t, db, `SELECT COUNT(*) FROM river_job WHERE kind = 'lock_bundle'`); n != 1 {
			t.Errorf("%d lock_bundle jobs, want 1", n)
		}
		got, err := db.FindOrderByID(ctx, o.ID)
		must(t, err)
		if got.Delivery == nil || *got.Delivery != *o.Delivery || len(got.FulfilmentOrders) != 1 {
			t.Errorf("FindOrderByID = %+v", got)
		}
		_ = noStock

		t.Run("next_day with reasons", func(t *testing.T) {
			o := w.sameDay(popkit.OrderLine{SKUID: w.skus[1].ID, Quantity: 1, UnitPriceMinor: 999})
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			if o.Channel != popkit.ChannelNextDay || len(o.FulfilmentOrders) != 0 || len(o.RoutingReasons) == 0 {
				t.Fatalf("order = %+v, want next_day with reasons", o)
			}
			rules := map[string]bool{}
			for _, r := range o.RoutingReasons {
				rules[r.Rule] = true
			}
			if !rules["can_fulfil"] || !rules["in_range"] {
				t.Errorf("reasons %+v, want can_fulfil and in_range", o.RoutingReasons)
			}
			got, err := db.FindOrderByID(ctx, o.ID)
			must(t, err)
			if got.Channel != popkit.ChannelNextDay || len(got.RoutingReasons) != len(o.RoutingReasons) {
				t.Errorf("stored %+v", got)
			}
			if _, r := stockOf(t, db, w.event.ID, w.skus[1].ID); r != 1 {
				t.Errorf("event stock reserved %d for the next_day order, want 1", r)
			}
		})

		t.Run("after the cutoff", func(t *testing.T) {
			w.clock.Add(7 * time.Hour) // 17:00 Berlin
			defer w.clock.Add(-7 * time.Hour)
			o := w.sameDay()
			must2(t)(db.CreateOrder(ctx, o))
			if o.Channel != popkit.ChannelNextDay || !strings.Contains(o.RoutingReasons[0].Reason+o.RoutingReasons[len(o.RoutingReasons)-1].Reason, "cutoff") {
				t.Errorf("order = %+v, want next_day past the cutoff", o)
			}
		})

		t.Run("bad delivery", func(t *testing.T) {
			before := count(t, db, "orders")
			o := w.sameDay()
			o.Delivery = &popkit.Delivery{Mode: popkit.DeliveryPickup, PickupNodeID: popkit.NewID()}
			_, err := db.CreateOrder(ctx, o)
			wantCode(t, err, popkit.EUNPROCESSABLE, "delivery.pickup_node_id")
			o = w.sameDay()
			o.Delivery = nil
			_, err = db.CreateOrder(ctx, o)
			wantCode(t, err, popkit.EINVALID, "delivery")
			o = w.order(1)
			o.Delivery = &popkit.Delivery{Mode: popkit.DeliveryToAddress}
			_, err = db.CreateOrder(ctx, o)
			wantCode(t, err, popkit.EINVALID, "delivery")
			if n := count(t, db, "orders"); n != before {
				t.Errorf("%d orders after refused ones, want %d", n, before)
			}
		})
	})
}

// must2 fails t on the error of a call that returns a value and an error:
// must2(t)(f()).
func must2(t testing.TB) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		must(t, err)
	}
}

// TestNodeStockRace sends 200 concurrent same-day orders for a node's last
// 10 units: exactly 10 are made same-day there, the rest become next_day.
func TestNodeStockRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500)
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})
		const total = 200
		var wg sync.WaitGroup
		orders := make([]*popkit.Order, total)
		errs := make([]error, total)
		start := make(chan struct{})
		for i := range total {
			wg.Go(func() {
				<-start
				orders[i] = w.sameDay(popkit.OrderLine{SKUID: w.skus[0].ID, Quantity: 1, UnitPriceMinor: 1200})
				_, errs[i] = db.CreateOrder(context.WithoutCancel(ctx), orders[i])
			})
		}
		close(start)
		wg.Wait()
		same, next := 0, 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("order %d: %v", i, err)
			}
			switch orders[i].Channel {
			case popkit.ChannelSameDay:
				same++
			case popkit.ChannelNextDay:
				next++
			}
		}
		if same != 10 || next != total-10 {
			t.Errorf("%d same-day and %d next-day, want 10 and %d", same, next, total-10)
		}
		if h, r := nodeStockOf(t, db, n.ID, w.skus[0].ID); h != 10 || r != 10 {
			t.Errorf("node stock %d reserved %d, want 10 and 10", h, r)
		}
		if c := count(t, db, "fulfilment_orders"); c != 10 {
			t.Errorf("%d fulfilment orders, want 10", c)
		}
	})
}

// walk moves a fulfilment order through states, failing on any error.
func walk(t *testing.T, db *sqlstore.DB, id, actor string, states ...fulfil.State) *fulfil.FulfilmentOrder {
	t.Helper()
	var fo *fulfil.FulfilmentOrder
	for _, s := range states {
		var err error
		fo, err = db.TransitionFulfilmentOrder(t.Context(), id, s, actor, "")
		if err != nil {
			t.Fatalf("to %s: %v", s, err)
		}
	}
	return fo
}

func TestFulfilmentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500)
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})

		t.Run("delivered", func(t *testing.T) {
			o := w.sameDay()
			must2(t)(db.CreateOrder(ctx, o))
			id := o.FulfilmentOrders[0].ID
			actor := "fulfiller:" + popkit.NewID()
			walk(t, db, id, actor, fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateReady)

			// Illegal: nothing written.
			_, err := db.TransitionFulfilmentOrder(ctx, id, fulfil.StateDelivered, actor, "")
			wantCode(t, err, popkit.ECONFLICT, "")
			if n := countWhere(t, db, `SELECT COUNT(*) FROM fulfilment_transitions WHERE fulfilment_order_id = ?`, id); n != 3 {
				t.Errorf("%d transitions after an illegal one, want 3", n)
			}
			walk(t, db, id, actor, fulfil.StateOutForDelivery)
			if h, r := nodeStockOf(t, db, n.ID, w.skus[0].ID); h != 8 || r != 0 {
				t.Errorf("after dispatch node stock %d reserved %d, want 8 and 0", h, r)
			}
			fo := walk(t, db, id, actor, fulfil.StateDelivered)
			if len(fo.Transitions) != 5 || fo.Transitions[4].Actor != actor || fo.Transitions[0].From != fulfil.StateOpen || !fo.Transitions[4].At.Equal(fulfilT0) {
				t.Errorf("history = %+v", fo.Transitions)
			}
			got, err := db.FindOrderByID(ctx, o.ID)
			must(t, err)
			last := got.Transitions[len(got.Transitions)-1]
			if got.Status != popkit.OrderFulfilled || last.Actor != "system:fulfilment" {
				t.Errorf("order %s, last transition %+v; want fulfilled by system:fulfilment", got.Status, last)
			}
		})

		t.Run("failed after dispatch", func(t *testing.T) {
			o := w.sameDay()
			must2(t)(db.CreateOrder(ctx, o))
			id := o.FulfilmentOrders[0].ID
			walk(t, db, id, "admin:x", fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateReady, fulfil.StateOutForDelivery)
			_, err := db.TransitionFulfilmentOrder(ctx, id, fulfil.StateFailed, "admin:x", "")
			wantCode(t, err, popkit.EINVALID, "reason")
			fo, err := db.TransitionFulfilmentOrder(ctx, id, fulfil.StateFailed, "admin:x", "nobody home")
			must(t, err)
			if fo.FailureReason != "nobody home" {
				t.Errorf("failure reason %q", fo.FailureReason)
			}
			if _, r := nodeStockOf(t, db, n.ID, w.skus[0].ID); r != 0 {
				t.Errorf("reserved %d after a failure, want 0", r)
			}
			// The order waits for staff, with the reason, and can be
			// cancelled: the failed fulfilment order stays failed.
			got, err := db.FindOrderByID(ctx, o.ID)
			must(t, err)
			last := got.Transitions[len(got.Transitions)-1]
			if got.Status != popkit.OrderRequiresAction || last.Actor != "system:fulfilment" || !strings.Contains(last.Reason, "nobody home") {
				t.Fatalf("order %s, last transition %+v; want requires_action with the reason", got.Status, last)
			}
			if _, err := db.TransitionOrder(ctx, o.ID, popkit.OrderCancelled, "admin:x", "refunded at the door"); err != nil {
				t.Fatalf("cancel after a failed delivery: %v", err)
			}
			if fo, err := db.FindFulfilmentOrderByID(ctx, id); err != nil || fo.Status != fulfil.StateFailed {
				t.Errorf("fulfilment order after the cancel: %+v, %v", fo, err)
			}
		})

		t.Run("pickup", func(t *testing.T) {
			o := w.sameDay()
			o.Delivery = &popkit.Delivery{Mode: popkit.DeliveryPickup, PickupNodeID: n.ID}
			must2(t)(db.CreateOrder(ctx, o))
			if len(o.FulfilmentOrders) != 1 || o.FulfilmentOrders[0].NodeID != n.ID {
				t.Fatalf("order = %+v, want one fulfilment order at the pick-up node", o)
			}
			walk(t, db, o.FulfilmentOrders[0].ID, "admin:x", fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateReady, fulfil.StatePickedUp)
			got, err := db.FindOrderByID(ctx, o.ID)
			must(t, err)
			if got.Status != popkit.OrderFulfilled {
				t.Errorf("order %s after pick-up, want fulfilled", got.Status)
			}
		})

		t.Run("cancel releases and leaves the bundle", func(t *testing.T) {
			h0, r0 := nodeStockOf(t, db, n.ID, w.skus[0].ID)
			keep, drop := w.sameDay(), w.sameDay()
			must2(t)(db.CreateOrder(ctx, keep))
			must2(t)(db.CreateOrder(ctx, drop))
			bundle := drop.FulfilmentOrders[0].BundleID
			if bundle == "" || bundle != keep.FulfilmentOrders[0].BundleID {
				t.Fatalf("orders in bundles %q and %q, want one", keep.FulfilmentOrders[0].BundleID, bundle)
			}
			walk(t, db, drop.FulfilmentOrders[0].ID, "admin:x", fulfil.StateAccepted)
			_, err := db.TransitionOrder(ctx, drop.ID, popkit.OrderCancelled, "admin:x", "changed mind")
			must(t, err)
			fo, err := db.FindFulfilmentOrderByID(ctx, drop.FulfilmentOrders[0].ID)
			must(t, err)
			if fo.Status != fulfil.StateCancelled || fo.BundleID != "" {
				t.Errorf("fulfilment order %+v, want cancelled outside the bundle", fo)
			}
			if h, r := nodeStockOf(t, db, n.ID, w.skus[0].ID); h != h0 || r != r0+2 {
				t.Errorf("node stock %d reserved %d, want %d and %d", h, r, h0, r0+2)
			}
			b, err := db.FindBundleByID(ctx, bundle)
			must(t, err)
			for _, m := range b.Members {
				if m.OrderID == drop.ID {
					t.Errorf("cancelled order still in the bundle: %+v", b.Members)
				}
			}
			var sum int64
			for _, m := range b.Members {
				sum += m.ShareMinor
			}
			if sum != b.CostMinor {
				t.Errorf("shares sum to %d, cost %d", sum, b.CostMinor)
			}
			// A dispatched order cannot be cancelled.
			walk(t, db, keep.FulfilmentOrders[0].ID, "admin:x", fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateReady, fulfil.StateOutForDelivery)
			_, err = db.TransitionOrder(ctx, keep.ID, popkit.OrderCancelled, "admin:x", "")
			wantCode(t, err, popkit.ECONFLICT, "to")
		})
	})
}

func TestBundleLock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 250, func(n *fulfil.NodeRecord) { n.External = true })
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10}, fulfil.StockLine{SKUID: w.skus[1].ID, OnHand: 10})
		a := w.sameDay(popkit.OrderLine{SKUID: w.skus[0].ID, Quantity: 3, UnitPriceMinor: 1200})
		b := w.sameDay(popkit.OrderLine{SKUID: w.skus[1].ID, Quantity: 1, UnitPriceMinor: 999}, popkit.OrderLine{SKUID: w.skus[0].ID, Quantity: 1, UnitPriceMinor: 1200})
		must2(t)(db.CreateOrder(ctx, a))
		must2(t)(db.CreateOrder(ctx, b))
		id := a.FulfilmentOrders[0].BundleID
		if id == "" || b.FulfilmentOrders[0].BundleID != id {
			t.Fatalf("bundles %q and %q, want one", id, b.FulfilmentOrders[0].BundleID)
		}
		// Before the cutoff the lock is refused.
		wantCode(t, db.LockBundle(ctx, id), popkit.ECONFLICT, "")
		w.clock.Add(6 * time.Hour) // 16:00 Berlin
		must(t, db.LockBundle(ctx, id))
		bundle, err := db.FindBundleByID(ctx, id)
		must(t, err)
		// 1000 per bundle + 2 × 250 per order = 1500; brand 0 has 4 units,
		// brand 1 one: 1200 and 300; brand 0's 1200 is 3:1 → 900 and 300.
		if bundle.Status != fulfil.BundleLocked || bundle.CostMinor != 1500 || bundle.LockedAt == nil {
			t.Fatalf("bundle = %+v, want locked at cost 1500", bundle)
		}
		want := map[[2]string]int64{
			{a.FulfilmentOrders[0].ID, w.brands[0].ID}: 900,
			{b.FulfilmentOrders[0].ID, w.brands[0].ID}: 300,
			{b.FulfilmentOrders[0].ID, w.brands[1].ID}: 300,
		}
		var sum int64
		for _, m := range bundle.Members {
			if want[[2]string{m.FulfilmentOrderID, m.BrandID}] != m.ShareMinor {
				t.Errorf("member %+v, want share %d", m, want[[2]string{m.FulfilmentOrderID, m.BrandID}])
			}
			sum += m.ShareMinor
		}
		if len(bundle.Members) != 3 || sum != 1500 {
			t.Errorf("%d members with shares summing to %d, want 3 and 1500", len(bundle.Members), sum)
		}
		fa, err := db.FindFulfilmentOrderByID(ctx, a.FulfilmentOrders[0].ID)
		must(t, err)
		fb, err := db.FindFulfilmentOrderByID(ctx, b.FulfilmentOrders[0].ID)
		must(t, err)
		if fa.CostShareMinor != 900 || fb.CostShareMinor != 600 {
			t.Errorf("cost shares %d and %d, want 900 and 600", fa.CostShareMinor, fb.CostShareMinor)
		}
		// Idempotent: a second lock changes nothing.
		must(t, db.LockBundle(ctx, id))
		again, err := db.FindBundleByID(ctx, id)
		must(t, err)
		if !again.LockedAt.Equal(*bundle.LockedAt) || again.CostMinor != 1500 || again.Status != fulfil.BundleLocked {
			t.Errorf("after a second lock: %+v", again)
		}
		// After the lock an order cannot leave: its share stays.
		_, err = db.TransitionOrder(ctx, a.ID, popkit.OrderCancelled, "admin:x", "")
		must(t, err)
		fa, err = db.FindFulfilmentOrderByID(ctx, a.FulfilmentOrders[0].ID)
		must(t, err)
		if fa.BundleID != id || fa.CostShareMinor != 900 {
			t.Errorf("cancelled after the lock: %+v, want still in the bundle", fa)
		}
		// The bundle advances; skipping a step is refused.
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleDispatched, "admin:x")
		wantCode(t, err, popkit.ECONFLICT, "")
		for _, s := range []fulfil.BundleState{fulfil.BundleKitting, fulfil.BundleDispatched, fulfil.BundleDelivered} {
			if s == fulfil.BundleDispatched {
				// b's fulfilment order is kitting with the bundle; a
				// dispatch wants it ready (bundle_test.go).
				walk(t, db, b.FulfilmentOrders[0].ID, "admin:x", fulfil.StateReady)
			}
			got, err := db.TransitionBundle(ctx, id, s, "admin:x")
			must(t, err)
			if got.Status != s {
				t.Errorf("bundle %s, want %s", got.Status, s)
			}
		}
		list, _, err := db.FindBundles(ctx, fulfil.BundleFilter{NodeID: n.ID})
		must(t, err)
		if len(list) != 1 || list[0].ID != id {
			t.Errorf("FindBundles = %+v", list)
		}
	})
}

func TestNodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500, func(n *fulfil.NodeRecord) {
			n.Kind, n.Makes = fulfil.KindMicrofactory, []string{w.skus[1].ID}
		})
		got, err := db.FindNodeByID(ctx, n.ID)
		must(t, err)
		if got.Name != n.Name || len(got.Makes) != 1 || len(got.OpeningHours) != 1 || got.SameDayCutoff != 16*60 || !got.CreatedAt.Equal(fulfilT0) {
			t.Errorf("FindNodeByID = %+v", got)
		}
		got.Name = "Renamed"
		must(t, db.UpdateNode(ctx, got))
		again, err := db.FindNodeByID(ctx, n.ID)
		must(t, err)
		if again.Name != "Renamed" {
			t.Errorf("name %q after update", again.Name)
		}
		bad := *again
		bad.CapacityPerHour = 0
		wantCode(t, db.UpdateNode(ctx, &bad), popkit.EINVALID, "capacity_per_hour")
		_, err = db.FindNodeByID(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
		_, err = db.SetNodeStock(ctx, n.ID, []fulfil.StockLine{{SKUID: popkit.NewID(), OnHand: 1}})
		wantCode(t, err, popkit.EUNPROCESSABLE, "lines[0].sku_id")
		_, err = db.SetNodeStock(ctx, popkit.NewID(), []fulfil.StockLine{{SKUID: w.skus[0].ID, OnHand: 1}})
		wantCode(t, err, popkit.ENOTFOUND, "")
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 3})
		o := w.sameDay(popkit.OrderLine{SKUID: w.skus[0].ID, Quantity: 2, UnitPriceMinor: 1200}, popkit.OrderLine{SKUID: w.skus[1].ID, Quantity: 4, UnitPriceMinor: 999})
		must2(t)(db.CreateOrder(ctx, o))
		fo, err := db.FindFulfilmentOrderByID(ctx, o.FulfilmentOrders[0].ID)
		must(t, err)
		made := map[string]bool{}
		for _, l := range fo.Lines {
			made[l.SKUID] = l.Made
		}
		if len(fo.Lines) != 2 || made[w.skus[0].ID] || !made[w.skus[1].ID] {
			t.Errorf("lines %+v, want sku0 from stock and sku1 made", fo.Lines)
		}
		// On hand cannot fall below what is reserved.
		_, err = db.SetNodeStock(ctx, n.ID, []fulfil.StockLine{{SKUID: w.skus[0].ID, OnHand: 1}})
		wantCode(t, err, popkit.ECONFLICT, "lines[0].on_hand")
		lines, err := db.NodeStock(ctx, n.ID)
		must(t, err)
		if len(lines) != 1 || lines[0].OnHand != 3 || lines[0].Reserved != 2 || lines[0].Available != 1 {
			t.Errorf("NodeStock = %+v", lines)
		}
		all, _, err := db.FindNodes(ctx, fulfil.NodeFilter{})
		must(t, err)
		if len(all) != 1 {
			t.Errorf("FindNodes = %d nodes, want 1", len(all))
		}
	})
}

// TestSameDayRetry retries a same-day order by its client id after the
// node's stock ran out: the stored order answers, and nothing is routed
// or reserved again.
func TestSameDayRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 500)
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 2})
		id := popkit.NewID()
		first := w.sameDay()
		first.ID = id
		must2(t)(db.CreateOrder(ctx, first))
		retry := w.sameDay()
		retry.ID = id
		existed, err := db.CreateOrder(ctx, retry)
		must(t, err)
		if !existed || retry.Channel != popkit.ChannelSameDay || len(retry.FulfilmentOrders) != 1 || retry.FulfilmentOrders[0].ID != first.FulfilmentOrders[0].ID {
			t.Errorf("retry = existed %v, %+v", existed, retry)
		}
		if c := count(t, db, "fulfilment_orders"); c != 1 {
			t.Errorf("%d fulfilment orders after a retry, want 1", c)
		}
		if _, r := nodeStockOf(t, db, n.ID, w.skus[0].ID); r != 2 {
			t.Errorf("reserved %d after a retry, want 2", r)
		}
		other := w.sameDay()
		other.ID = id
		other.Delivery = &popkit.Delivery{Mode: popkit.DeliveryPickup, PickupNodeID: n.ID}
		_, err = db.CreateOrder(ctx, other)
		wantCode(t, err, popkit.ECONFLICT, "id")
	})
}
