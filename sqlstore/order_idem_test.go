package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// idemWrite is an IdempotentWrite for one token and key whose response
// names the order.
func idemWrite(token, key string, o *popkit.Order) *popkit.IdempotentWrite {
	return &popkit.IdempotentWrite{
		Record: &popkit.IdempotencyRecord{TokenID: token, Key: key, Method: "POST", Path: "/api/v1/orders", RequestHash: "h"},
		Respond: func(existed bool) (int, string, string, []byte, error) {
			status := 201
			if existed {
				status = 200
			}
			return status, "application/json", "/api/v1/orders/" + o.ID, []byte(o.ID), nil
		},
	}
}

// TestCreateOrderClaimsKeyInItsTransaction: with an IdempotentWrite in the
// context, the key's claim and stored response commit with the order; a
// second request with the key changes nothing and finds the response; a
// failed order leaves no claim behind.
func TestCreateOrderClaimsKeyInItsTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkOrderWorld(t, db)
		token := popkit.NewID()

		o := w.order(2)
		iw := idemWrite(token, "k1", o)
		if _, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, iw), o); err != nil {
			t.Fatal(err)
		}
		if !iw.Completed {
			t.Fatal("the key was not completed in the order's transaction")
		}
		stored, err := db.FindOrderByID(ctx, o.ID)
		must(t, err)
		if stored.Status != popkit.OrderConfirmed {
			t.Fatalf("order status %s", stored.Status)
		}
		existing, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: token, Key: "k1", Method: "POST", Path: "/api/v1/orders", RequestHash: "h"})
		must(t, err)
		if claimed || existing.InFlight() || existing.Status != 201 || string(existing.Body) != o.ID || existing.Location != "/api/v1/orders/"+o.ID {
			t.Fatalf("stored claim = %+v, claimed %v", existing, claimed)
		}

		// The same key again: ErrKeyClaimed with the stored response, and no
		// second order or reservation.
		again := w.order(2)
		iw2 := idemWrite(token, "k1", again)
		if _, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, iw2), again); !errors.Is(err, popkit.ErrKeyClaimed) || iw2.Existing == nil || iw2.Existing.Status != 201 {
			t.Fatalf("second CreateOrder = %v, existing %+v", err, iw2.Existing)
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 2 {
			t.Fatalf("reserved %d after a replayed key, want 2", r)
		}

		// A failed order (more than the stock) stores no claim.
		big := w.order(99_999)
		iw3 := idemWrite(token, "k2", big)
		if _, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, iw3), big); popkit.ErrorCode(err) != popkit.ECONFLICT || iw3.Completed {
			t.Fatalf("oversized order = %v (completed %v)", err, iw3.Completed)
		}
		if _, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: token, Key: "k2", Method: "POST", Path: "/p", RequestHash: "h"}); err != nil || !claimed {
			t.Fatalf("k2 after a failed order: claimed %v, %v; want it free", claimed, err)
		}
	})
}

// TestCreateOrderKeyRace: 50 concurrent orders with one key give one order
// and 49 ErrKeyClaimed, each seeing the completed response.
func TestCreateOrderKeyRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkOrderWorld(t, db)
		token := popkit.NewID()
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, replays := 0, 0
		for range 50 {
			wg.Go(func() {
				o := w.order(1)
				iw := idemWrite(token, "storm", o)
				_, err := db.CreateOrder(popkit.WithIdempotentWrite(ctx, iw), o)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && iw.Completed:
					created++
				case errors.Is(err, popkit.ErrKeyClaimed) && iw.Existing != nil:
					replays++
				default:
					t.Errorf("CreateOrder = %v", err)
				}
			})
		}
		wg.Wait()
		if created != 1 || replays != 49 {
			t.Fatalf("created %d, replays %d; want 1 and 49", created, replays)
		}
		if _, r := stockOf(t, db, w.event.ID, w.skus[0].ID); r != 1 {
			t.Fatalf("reserved %d, want 1", r)
		}
	})
}
