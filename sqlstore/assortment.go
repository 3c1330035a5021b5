package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
)

var _ popkit.AssortmentService = (*DB)(nil)

// maxStockDelta bounds one stock adjustment, so that no input overflows.
const maxStockDelta = 1_000_000_000

// FindAssortment returns a page of an event's assortment, ordered by SKU id,
// and the next cursor. Returns ENOTFOUND when the event does not exist,
// EINVALID for a bad page.
func (db *DB) FindAssortment(ctx context.Context, f popkit.AssortmentFilter) ([]*popkit.AssortmentItem, string, error) {
	var w where
	w.and("event_id = ?", f.EventID)
	if f.BrandID != "" {
		w.and("brand_id = ?", f.BrandID)
	}
	limit, err := pageWhere(f.Page, &w, "sku_id")
	if err != nil {
		return nil, "", err
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, f.EventID); err != nil {
		return nil, "", err
	}
	q, args := listQuery(itemReadCols, "assortment_items", &w, "sku_id", limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, "", wrap("find assortment", err)
	}
	items, err := collect(rows, scanItem)
	if err != nil {
		return nil, "", wrap("find assortment", err)
	}
	items, next := nextPage(items, limit, func(a *popkit.AssortmentItem) string { return a.SKUID })
	return items, next, nil
}

// FindAssortmentItem returns one item. Returns ENOTFOUND.
func (db *DB) FindAssortmentItem(ctx context.Context, eventID, skuID string) (*popkit.AssortmentItem, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findItem(ctx, tx, eventID, skuID)
}

// SetAssortmentItem adds a SKU to an event's assortment or replaces its
// stock and price there. It sets the item's BrandID and UpdatedAt. Returns
// EINVALID (also, with field sku_id, for a SKU whose brand does not take
// part in the event), ENOTFOUND when the event or SKU does not exist.
func (db *DB) SetAssortmentItem(ctx context.Context, a *popkit.AssortmentItem) error {
	if err := a.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, a.EventID); err != nil {
		return err
	}
	sku, err := findSKUByID(ctx, tx, a.SKUID)
	if err != nil {
		return err
	}
	var brands int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM event_brands WHERE event_id = ? AND brand_id = ?`, a.EventID, sku.BrandID).Scan(&brands); err != nil {
		return wrap("find event brand", err)
	}
	if brands == 0 {
		return popkit.InvalidField("sku_id", "the SKU's brand does not take part in the event")
	}
	var price sql.NullInt64
	if a.PriceMinor != nil {
		price = sql.NullInt64{Int64: *a.PriceMinor, Valid: true}
	}
	n, err := tx.execN(ctx, `INSERT INTO assortment_items (`+itemCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, sku_id) DO UPDATE SET price_minor = excluded.price_minor, stock = excluded.stock, updated_at = excluded.updated_at
		WHERE assortment_items.reserved <= excluded.stock`,
		a.EventID, a.SKUID, sku.BrandID, price, a.Stock, tx.timeArg(tx.now))
	if err != nil {
		return wrap("upsert assortment item", err)
	}
	if n == 0 {
		return conflict("stock", "stock must not be below the %d units reserved by orders", reservedOf(ctx, tx, a.EventID, a.SKUID))
	}
	if err := tx.commit(); err != nil {
		return err
	}
	a.BrandID, a.UpdatedAt = sku.BrandID, tx.now
	return nil
}

// AdjustStock adds delta (which may be negative) to the stock of an item
// and returns the item. One conditional UPDATE does the check and the
// change, so concurrent adjustments never take stock below zero. Returns
// ENOTFOUND, EINVALID for an absurd delta, and ECONFLICT when the stock
// would go below zero.
func (db *DB) AdjustStock(ctx context.Context, eventID, skuID string, delta int) (*popkit.AssortmentItem, error) {
	if delta < -maxStockDelta || delta > maxStockDelta {
		return nil, popkit.InvalidField("delta", "must be between %d and %d", -maxStockDelta, maxStockDelta)
	}
	if !popkit.ValidID(eventID) || !popkit.ValidID(skuID) {
		return nil, notFound("assortment item")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `UPDATE assortment_items SET stock = stock + ?, updated_at = ? WHERE event_id = ? AND sku_id = ? AND stock + ? >= reserved`,
		delta, tx.timeArg(tx.now), eventID, skuID, delta)
	if err != nil {
		return nil, wrap("adjust stock", err)
	}
	if n == 0 {
		if _, err := findItem(ctx, tx, eventID, skuID); err != nil {
			return nil, err
		}
		return nil, conflict("stock", "insufficient stock: stock must not go below zero or below the units reserved by orders")
	}
	a, err := findItem(ctx, tx, eventID, skuID)
	if err != nil {
		return nil, err
	}
	// In the ledger, so that a stock count synced later keeps it.
	if err := insertMovement(ctx, tx, &popkit.StockMovement{EventID: eventID, SKUID: skuID, Kind: popkit.MovementAdjust,
		OccurredAt: tx.now, Quantity: delta, Delta: delta}, a.BrandID); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return a, nil
}

// RemoveAssortmentItem takes a SKU out of an event. Returns ENOTFOUND, and
// ECONFLICT while orders hold a reservation of it.
func (db *DB) RemoveAssortmentItem(ctx context.Context, eventID, skuID string) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `DELETE FROM assortment_items WHERE event_id = ? AND sku_id = ? AND reserved = 0`, eventID, skuID)
	if err != nil {
		return wrap("delete assortment item", err)
	}
	if n == 0 {
		if _, err := findItem(ctx, tx, eventID, skuID); err != nil {
			return err
		}
		return conflict("sku_id", "the item holds stock reserved by orders")
	}
	return tx.commit()
}

const itemCols = `event_id, sku_id, brand_id, price_minor, stock, updated_at`

// itemReadCols are the columns scanItem reads: itemCols and the reserved
// stock, which only orders change.
const itemReadCols = itemCols + `, reserved`

// reservedOf returns the reserved stock of an item, 0 when unknown; it only
// words an error message.
func reservedOf(ctx context.Context, tx *txn, eventID, skuID string) int {
	var n int
	_ = tx.queryRow(ctx, `SELECT reserved FROM assortment_items WHERE event_id = ? AND sku_id = ?`, eventID, skuID).Scan(&n)
	return n
}

func scanItem(s scanner) (*popkit.AssortmentItem, error) {
	var a popkit.AssortmentItem
	var price sql.NullInt64
	if err := s.Scan(&a.EventID, &a.SKUID, &a.BrandID, &price, &a.Stock, scanTime(&a.UpdatedAt), &a.Reserved); err != nil {
		return nil, err
	}
	if price.Valid {
		a.PriceMinor = &price.Int64
	}
	return &a, nil
}

func findItem(ctx context.Context, tx *txn, eventID, skuID string) (*popkit.AssortmentItem, error) {
	a, err := scanItem(tx.queryRow(ctx, `SELECT `+itemReadCols+` FROM assortment_items WHERE event_id = ? AND sku_id = ?`, eventID, skuID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("assortment item")
	} else if err != nil {
		return nil, wrap("find assortment item", err)
	}
	return a, nil
}
