package sqlstore_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// TestBundleMovesMembers: a bundle is kitted and sent as one. Its kitting
// starts the members' kitting; its dispatch wants every member ready (one
// on hold or still kitting refuses it, nothing moved), sends the deliveries
// out and leaves pick-ups ready; its delivery delivers them and completes
// their orders. Cancelled members stay as they are.
func TestBundleMovesMembers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		n := mkFulfilNode(t, db, 52.52, 13.40, 250)
		setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 20})
		deliver, pickup, gone := w.sameDay(), w.sameDay(), w.sameDay()
		pickup.Delivery = &popkit.Delivery{Mode: popkit.DeliveryPickup, PickupNodeID: n.ID}
		for _, o := range []*popkit.Order{deliver, pickup, gone} {
			must2(t)(db.CreateOrder(ctx, o))
		}
		id := deliver.FulfilmentOrders[0].BundleID
		fo := func(o *popkit.Order) string { return o.FulfilmentOrders[0].ID }
		for _, o := range []*popkit.Order{pickup, gone} {
			if o.FulfilmentOrders[0].BundleID != id {
				t.Fatalf("order %s in bundle %q, want %q", o.ID, o.FulfilmentOrders[0].BundleID, id)
			}
		}
		walk(t, db, fo(pickup), "admin:x", fulfil.StateAccepted)
		_, err := db.TransitionOrder(ctx, gone.ID, popkit.OrderCancelled, "admin:x", "changed mind")
		must(t, err)
		w.clock.Add(6 * time.Hour) // the wave's cutoff
		must(t, db.LockBundle(ctx, id))

		status := func(foID string) fulfil.State {
			t.Helper()
			f, err := db.FindFulfilmentOrderByID(ctx, foID)
			must(t, err)
			return f.Status
		}
		want := func(when string, states map[string]fulfil.State) {
			t.Helper()
			for foID, st := range states {
				if got := status(foID); got != st {
					t.Fatalf("%s: fulfilment order %s is %s, want %s", when, foID, got, st)
				}
			}
		}
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleKitting, "admin:k")
		must(t, err)
		want("bundle kitting", map[string]fulfil.State{fo(deliver): fulfil.StateKitting, fo(pickup): fulfil.StateKitting, fo(gone): fulfil.StateCancelled})
		f, err := db.FindFulfilmentOrderByID(ctx, fo(deliver))
		must(t, err)
		if last := f.Transitions[len(f.Transitions)-1]; last.Actor != "admin:k" || last.Reason != "bundle "+id+" kitting" {
			t.Fatalf("last transition %+v, want the bundle's actor and reason", last)
		}

		// One member still kitting, then one on hold: no dispatch.
		walk(t, db, fo(deliver), "admin:x", fulfil.StateReady)
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleDispatched, "admin:k")
		wantCode(t, err, popkit.ECONFLICT, "to")
		walk(t, db, fo(pickup), "admin:x", fulfil.StateReady, fulfil.StateOnHold)
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleDispatched, "admin:k")
		wantCode(t, err, popkit.ECONFLICT, "to")
		want("refused dispatch", map[string]fulfil.State{fo(deliver): fulfil.StateReady, fo(pickup): fulfil.StateOnHold})
		if b, err := db.FindBundleByID(ctx, id); err != nil || b.Status != fulfil.BundleKitting {
			t.Fatalf("bundle after a refused dispatch: %+v, %v", b, err)
		}

		walk(t, db, fo(pickup), "admin:x", fulfil.StateReady) // released
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleDispatched, "admin:k")
		must(t, err)
		want("bundle dispatched", map[string]fulfil.State{fo(deliver): fulfil.StateOutForDelivery, fo(pickup): fulfil.StateReady})
		_, err = db.TransitionBundle(ctx, id, fulfil.BundleDelivered, "admin:k")
		must(t, err)
		want("bundle delivered", map[string]fulfil.State{fo(deliver): fulfil.StateDelivered, fo(pickup): fulfil.StateReady, fo(gone): fulfil.StateCancelled})
		o, err := db.FindOrderByID(ctx, deliver.ID)
		must(t, err)
		if o.Status != popkit.OrderFulfilled {
			t.Fatalf("delivered order is %s, want fulfilled", o.Status)
		}
		if on, res := nodeStockOf(t, db, n.ID, w.skus[0].ID); on != 18 || res != 2 {
			t.Fatalf("node stock %d on hand, %d reserved; want 18 and 2 (the pick-up waits)", on, res)
		}
	})
}
