package sqlstore

import (
	"context"

	"github.com/popkit/popkit"
)

var _ popkit.SKUPriceService = (*DB)(nil)

// FindSKUPrices returns every price of a SKU, ordered by currency. Returns
// ENOTFOUND when the SKU does not exist.
func (db *DB) FindSKUPrices(ctx context.Context, skuID string) ([]*popkit.SKUPrice, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := findSKUByID(ctx, tx, skuID); err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `SELECT sku_id, currency, price_minor, unit_cost_minor, updated_at FROM sku_prices WHERE sku_id = ? ORDER BY currency`, skuID)
	if err != nil {
		return nil, wrap("find sku prices", err)
	}
	prices, err := collect(rows, func(s scanner) (*popkit.SKUPrice, error) {
		var p popkit.SKUPrice
		return &p, s.Scan(&p.SKUID, &p.Currency, &p.PriceMinor, &p.UnitCostMinor, scanTime(&p.UpdatedAt))
	})
	if err != nil {
		return nil, wrap("find sku prices", err)
	}
	return prices, nil
}

// SetSKUPrice stores the price of a SKU in a currency, replacing any. The
// program currency's price is the SKU's list price and changes it too.
// Returns EINVALID, ENOTFOUND when the SKU does not exist.
func (db *DB) SetSKUPrice(ctx context.Context, p *popkit.SKUPrice) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	s, err := findSKUByID(ctx, tx, p.SKUID)
	if err != nil {
		return err
	}
	prog, err := findProgram(ctx, tx)
	if err != nil {
		return err
	}
	p.UpdatedAt = tx.now
	if err := upsertSKUPrice(ctx, tx, p); err != nil {
		return err
	}
	if p.Currency == prog.Currency && (s.PriceMinor != p.PriceMinor || s.UnitCostMinor != p.UnitCostMinor) {
		if _, err := tx.exec(ctx, `UPDATE skus SET price_minor = ?, unit_cost_minor = ?, updated_at = ? WHERE id = ?`,
			p.PriceMinor, p.UnitCostMinor, tx.timeArg(tx.now), s.ID); err != nil {
			return wrap("update sku list price", err)
		}
	}
	return tx.commit()
}

// DeleteSKUPrice removes the price of a SKU in a currency. Returns
// ENOTFOUND, and ECONFLICT for the program currency's price.
func (db *DB) DeleteSKUPrice(ctx context.Context, skuID, currency string) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := findSKUByID(ctx, tx, skuID); err != nil {
		return err
	}
	prog, err := findProgram(ctx, tx)
	if err != nil {
		return err
	}
	if currency == prog.Currency {
		return conflict("currency", "the program currency's price is the SKU's list price; change it instead")
	}
	res, err := tx.exec(ctx, `DELETE FROM sku_prices WHERE sku_id = ? AND currency = ?`, skuID, currency)
	if err != nil {
		return wrap("delete sku price", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("delete sku price", err)
	} else if n == 0 {
		return notFound("sku price")
	}
	return tx.commit()
}

func upsertSKUPrice(ctx context.Context, tx *txn, p *popkit.SKUPrice) error {
	if _, err := tx.exec(ctx, `INSERT INTO sku_prices (sku_id, currency, price_minor, unit_cost_minor, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sku_id, currency) DO UPDATE SET price_minor = excluded.price_minor, unit_cost_minor = excluded.unit_cost_minor, updated_at = excluded.updated_at`,
		p.SKUID, p.Currency, p.PriceMinor, p.UnitCostMinor, tx.timeArg(p.UpdatedAt)); err != nil {
		return wrap("upsert sku price", err)
	}
	return nil
}

// setListPrice stores a SKU's list price as its price in the program
// currency.
func setListPrice(ctx context.Context, tx *txn, s *popkit.SKU) error {
	prog, err := findProgram(ctx, tx)
	if err != nil {
		return err
	}
	return upsertSKUPrice(ctx, tx, &popkit.SKUPrice{SKUID: s.ID, Currency: prog.Currency,
		PriceMinor: s.PriceMinor, UnitCostMinor: s.UnitCostMinor, UpdatedAt: s.UpdatedAt})
}

// moveListPrices makes every SKU's list price its price in currency: SKUs
// with a price in it take that one, the others keep their list price
// figures, stored as their price in currency.
func moveListPrices(ctx context.Context, tx *txn, currency string) error {
	if _, err := tx.exec(ctx, `UPDATE skus SET
		price_minor = (SELECT p.price_minor FROM sku_prices p WHERE p.sku_id = skus.id AND p.currency = ?),
		unit_cost_minor = (SELECT p.unit_cost_minor FROM sku_prices p WHERE p.sku_id = skus.id AND p.currency = ?)
		WHERE EXISTS (SELECT 1 FROM sku_prices p WHERE p.sku_id = skus.id AND p.currency = ?)`, currency, currency, currency); err != nil {
		return wrap("move list prices", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO sku_prices (sku_id, currency, price_minor, unit_cost_minor, updated_at)
		SELECT id, ?, price_minor, unit_cost_minor, ? FROM skus
		WHERE NOT EXISTS (SELECT 1 FROM sku_prices p WHERE p.sku_id = skus.id AND p.currency = ?)`, currency, tx.timeArg(tx.now), currency); err != nil {
		return wrap("move list prices", err)
	}
	return nil
}
