package sqlstore

import (
	"context"
	"database/sql"

	"github.com/popkit/popkit"
)

var _ popkit.TillService = (*DB)(nil)

// FindTillAssortment returns an event's whole assortment with names and
// prices in the event's currency, in one read. Returns ENOTFOUND, and
// ECONFLICT past popkit.MaxTillItems items.
func (db *DB) FindTillAssortment(ctx context.Context, eventID string) (*popkit.TillAssortment, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, eventID); err != nil {
		return nil, err
	}
	out := &popkit.TillAssortment{EventID: eventID, Items: []popkit.TillItem{}}
	if err := tx.queryRow(ctx, `SELECT c.currency FROM events e JOIN cities c ON c.id = e.city_id WHERE e.id = ?`, eventID).Scan(&out.Currency); err != nil {
		return nil, wrap("find event currency", err)
	}
	rows, err := tx.query(ctx, `SELECT a.sku_id, s.name, COALESCE(a.price_minor, sp.price_minor), a.stock, a.reserved, s.perishable
		FROM assortment_items a JOIN skus s ON s.id = a.sku_id
		LEFT JOIN sku_prices sp ON sp.sku_id = a.sku_id AND sp.currency = ?
		WHERE a.event_id = ? ORDER BY a.sku_id LIMIT ?`, out.Currency, eventID, popkit.MaxTillItems+1)
	if err != nil {
		return nil, wrap("find till assortment", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it popkit.TillItem
		var price sql.NullInt64
		if err := rows.Scan(&it.SKUID, &it.Name, &price, &it.Stock, &it.Reserved, &it.Perishable); err != nil {
			return nil, wrap("scan till item", err)
		}
		if price.Valid {
			it.PriceMinor = &price.Int64
		}
		out.Items = append(out.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find till assortment", err)
	}
	if len(out.Items) > popkit.MaxTillItems {
		return nil, popkit.Errorf(popkit.ECONFLICT, "the assortment has more than %d SKUs", popkit.MaxTillItems)
	}
	return out, nil
}
