package sqlstore_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func TestAssortment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		clk := newClock(db, at)
		w := mkWorld(t, db)
		a, b := w.brands[0].ID, w.brands[1].ID
		outsider := mkBrand(t, db).ID
		var aSKUs []string
		for range 3 {
			s := mkSKU(t, db, a)
			aSKUs = append(aSKUs, s.ID)
			must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: s.ID, Stock: 5}))
		}
		bSKU := mkSKU(t, db, b)
		item := &popkit.AssortmentItem{EventID: w.event.ID, SKUID: bSKU.ID, Stock: 7, PriceMinor: ptr(int64(999))}
		must(t, db.SetAssortmentItem(ctx, item))
		if item.BrandID != b || !item.UpdatedAt.Equal(at) {
			t.Errorf("SetAssortmentItem left brand %q updated %v", item.BrandID, item.UpdatedAt)
		}

		t.Run("find item", func(t *testing.T) {
			got, err := db.FindAssortmentItem(ctx, w.event.ID, bSKU.ID)
			must(t, err)
			if got.Stock != 7 || got.PriceMinor == nil || *got.PriceMinor != 999 || got.BrandID != b {
				t.Errorf("item %+v", got)
			}
		})
		t.Run("upsert replaces stock and price", func(t *testing.T) {
			clk.Add(time.Minute)
			must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: bSKU.ID, Stock: 2}))
			got, err := db.FindAssortmentItem(ctx, w.event.ID, bSKU.ID)
			must(t, err)
			if got.Stock != 2 || got.PriceMinor != nil || !got.UpdatedAt.Equal(at.Add(time.Minute)) {
				t.Errorf("after upsert %+v", got)
			}
			if n := count(t, db, "assortment_items"); n != 4 {
				t.Errorf("%d items, want 4", n)
			}
		})
		t.Run("list pages over sku ids", func(t *testing.T) {
			got, pages := allPages(t, 2, func(a *popkit.AssortmentItem) string { return a.SKUID }, func(p popkit.Page) ([]*popkit.AssortmentItem, string, error) {
				return db.FindAssortment(ctx, popkit.AssortmentFilter{EventID: w.event.ID, Page: p})
			})
			if len(got) != 4 || pages != 2 {
				t.Errorf("%d items in %d pages", len(got), pages)
			}
		})
		t.Run("filter brand", func(t *testing.T) {
			got, _, err := db.FindAssortment(ctx, popkit.AssortmentFilter{EventID: w.event.ID, BrandID: a})
			must(t, err)
			if !slices.Equal(ids(got, func(a *popkit.AssortmentItem) string { return a.SKUID }), sortedIDs(aSKUs...)) {
				t.Errorf("brand items %v", got)
			}
		})
		t.Run("adjust stock", func(t *testing.T) {
			got, err := db.AdjustStock(ctx, w.event.ID, aSKUs[0], -2)
			must(t, err)
			if got.Stock != 3 {
				t.Errorf("stock %d, want 3", got.Stock)
			}
			got, err = db.AdjustStock(ctx, w.event.ID, aSKUs[0], 10)
			must(t, err)
			if got.Stock != 13 {
				t.Errorf("stock %d, want 13", got.Stock)
			}
			_, err = db.AdjustStock(ctx, w.event.ID, aSKUs[0], -14)
			wantCode(t, err, popkit.ECONFLICT, "")
			got, err = db.FindAssortmentItem(ctx, w.event.ID, aSKUs[0])
			must(t, err)
			if got.Stock != 13 {
				t.Errorf("refused adjustment changed stock to %d", got.Stock)
			}
		})
		t.Run("remove", func(t *testing.T) {
			must(t, db.RemoveAssortmentItem(ctx, w.event.ID, aSKUs[2]))
			_, err := db.FindAssortmentItem(ctx, w.event.ID, aSKUs[2])
			wantCode(t, err, popkit.ENOTFOUND, "")
			wantCode(t, db.RemoveAssortmentItem(ctx, w.event.ID, aSKUs[2]), popkit.ENOTFOUND, "")
		})

		before := count(t, db, "assortment_items")
		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"brand not in event", popkit.EINVALID, "sku_id", func() error {
				return db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: mkSKU(t, db, outsider).ID, Stock: 1})
			}},
			{"missing event", popkit.ENOTFOUND, "", func() error {
				return db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: popkit.NewID(), SKUID: aSKUs[0], Stock: 1})
			}},
			{"missing sku", popkit.ENOTFOUND, "", func() error {
				return db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: popkit.NewID(), Stock: 1})
			}},
			{"negative stock", popkit.EINVALID, "stock", func() error {
				return db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: aSKUs[0], Stock: -1})
			}},
			{"list missing event", popkit.ENOTFOUND, "", func() error {
				_, _, err := db.FindAssortment(ctx, popkit.AssortmentFilter{EventID: popkit.NewID()})
				return err
			}},
			{"adjust missing item", popkit.ENOTFOUND, "", func() error {
				_, err := db.AdjustStock(ctx, w.event.ID, popkit.NewID(), 1)
				return err
			}},
			{"adjust absurd delta", popkit.EINVALID, "delta", func() error {
				_, err := db.AdjustStock(ctx, w.event.ID, aSKUs[0], 1<<40)
				return err
			}},
			{"find missing item", popkit.ENOTFOUND, "", func() error {
				_, err := db.FindAssortmentItem(ctx, w.event.ID, popkit.NewID())
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "assortment_items"); n != before {
			t.Errorf("%d items after failed calls, want %d", n, before)
		}
	})
}

// TestAdjustStock_Concurrent takes one unit 50 times at once from a stock
// of 10: exactly 10 takes succeed and the stock ends at 0.
func TestAdjustStock_Concurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db)
		sku := mkSKU(t, db, w.brands[0].ID)
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: sku.ID, Stock: 10}))

		var ok, conflicts atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 50 {
			wg.Go(func() {
				<-start
				_, err := db.AdjustStock(ctx, w.event.ID, sku.ID, -1)
				switch popkit.ErrorCode(err) {
				case "":
					ok.Add(1)
				case popkit.ECONFLICT:
					conflicts.Add(1)
				default:
					t.Errorf("AdjustStock: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != 10 || conflicts.Load() != 40 {
			t.Errorf("%d takes succeeded and %d conflicted, want 10 and 40", ok.Load(), conflicts.Load())
		}
		got, err := db.FindAssortmentItem(ctx, w.event.ID, sku.ID)
		must(t, err)
		if got.Stock != 0 {
			t.Errorf("stock ends at %d, want 0", got.Stock)
		}
	})
}
