package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// The bundle lock against joins and leaves in flight (PostgreSQL; SQLite
// runs one writer at a time). Each test plays one side by hand in its own
// transaction, holding the row lock the store's side takes, and checks
// that the other side waits for it and then sees what it did.

// bundleWorld opens a PostgreSQL store with one node stocked for the
// same-day orders of w.sameDay.
func bundleWorld(t *testing.T) (*sqlstore.DB, *fulfilWorld) {
	t.Helper()
	u := postgresOnly(t)
	db := sqlstoretest.OpenPostgres(t, u)
	w := mkFulfilWorld(t, db)
	n := mkFulfilNode(t, db, 52.52, 13.40, 250)
	setStock(t, db, n.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})
	return db, w
}

// TestBundleJoinWaitsForLock: an order that joins while the bundle is being
// locked waits for the lock, then ships alone instead of joining a bundle
// whose shares are already split.
func TestBundleJoinWaitsForLock(t *testing.T) {
	ctx := t.Context()
	db, w := bundleWorld(t)
	a := w.sameDay()
	must2(t)(db.CreateOrder(ctx, a))
	bundleID := a.FulfilmentOrders[0].BundleID
	if bundleID == "" {
		t.Fatal("the first order formed no bundle")
	}

	// As LockBundle: the row first, then (while the join waits) the status.
	lock, pid := holdTx(t, db)
	execTx(t, lock, `SELECT 1 FROM bundles WHERE id = $1 FOR UPDATE`, bundleID)
	b := w.sameDay()
	created := make(chan error, 1)
	go func() {
		_, err := db.CreateOrder(ctx, b)
		created <- err
	}()
	blockedBy(t, db, pid)
	execTx(t, lock, `UPDATE bundles SET status = $1 WHERE id = $2`, string(fulfil.BundleLocked), bundleID)
	must(t, lock.Commit())
	must(t, <-created)

	if len(b.FulfilmentOrders) != 1 || b.FulfilmentOrders[0].BundleID != "" {
		t.Fatalf("order placed during the lock: fulfilment %+v, want one shipping alone", b.FulfilmentOrders)
	}
	if n := countWhere(t, db, `SELECT COUNT(*) FROM bundle_members WHERE bundle_id = ?`, bundleID); n != 1 {
		t.Fatalf("the locked bundle has %d members, want 1", n)
	}
}

// TestBundleLockWaitsForLeave: a lock that starts while an order is leaving
// the bundle waits for it, and splits the cost over the orders that stay.
func TestBundleLockWaitsForLeave(t *testing.T) {
	ctx := t.Context()
	db, w := bundleWorld(t)
	a, b := w.sameDay(), w.sameDay()
	must2(t)(db.CreateOrder(ctx, a))
	must2(t)(db.CreateOrder(ctx, b))
	bundleID, leaving := a.FulfilmentOrders[0].BundleID, b.FulfilmentOrders[0].ID
	if bundleID == "" || b.FulfilmentOrders[0].BundleID != bundleID {
		t.Fatalf("bundles %q and %q, want one", bundleID, b.FulfilmentOrders[0].BundleID)
	}

	leave, pid := holdTx(t, db)
	execTx(t, leave, `SELECT 1 FROM bundles WHERE id = $1 FOR SHARE`, bundleID)
	execTx(t, leave, `DELETE FROM bundle_members WHERE bundle_id = $1 AND fulfilment_order_id = $2`, bundleID, leaving)
	execTx(t, leave, `UPDATE fulfilment_orders SET bundle_id = NULL WHERE id = $1`, leaving)
	w.clock.Add(6 * time.Hour) // the wave's cutoff, 16:00 Berlin
	locked := make(chan error, 1)
	go func() { locked <- db.LockBundle(context.WithoutCancel(ctx), bundleID) }()
	blockedBy(t, db, pid)
	must(t, leave.Commit())
	must(t, <-locked)

	bundle, err := db.FindBundleByID(ctx, bundleID)
	must(t, err)
	// One order stays: 1000 per bundle + 250 for it, all its share.
	if bundle.Status != fulfil.BundleLocked || bundle.CostMinor != 1250 || len(bundle.Members) != 1 || bundle.Members[0].ShareMinor != 1250 {
		t.Fatalf("bundle = %+v, want locked at 1250 with one member owing all of it", bundle)
	}
	fo, err := db.FindFulfilmentOrderByID(ctx, a.FulfilmentOrders[0].ID)
	must(t, err)
	if fo.CostShareMinor != 1250 {
		t.Fatalf("cost share %d, want 1250", fo.CostShareMinor)
	}
}
