package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
)

var _ popkit.SKUService = (*DB)(nil)

// FindSKUByID returns one SKU. Returns ENOTFOUND.
func (db *DB) FindSKUByID(ctx context.Context, id string) (*popkit.SKU, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findSKUByID(ctx, tx, id)
}

// FindSKUs returns a page of SKUs, ordered by id, and the next cursor.
// Returns EINVALID for a bad page.
func (db *DB) FindSKUs(ctx context.Context, f popkit.SKUFilter) ([]*popkit.SKU, string, error) {
	var w where
	if f.BrandID != "" {
		w.and("brand_id = ?", f.BrandID)
	}
	return findPage(ctx, db, "find skus", f.Page, &w, skuCols, "skus", scanSKU, func(x *popkit.SKU) string { return x.ID })
}

// CreateSKU stores a new SKU. Returns EINVALID; EUNPROCESSABLE when the
// brand does not exist; ECONFLICT when the brand already has the code.
func (db *DB) CreateSKU(ctx context.Context, s *popkit.SKU) error {
	if err := s.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := findBrandByID(ctx, tx, s.BrandID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("brand_id", "brand")
	} else if err != nil {
		return err
	}
	s.ID = popkit.NewID()
	s.CreatedAt, s.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO skus (`+skuCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.BrandID, s.Code, s.Name, s.PriceMinor, s.UnitCostMinor, s.Perishable, s.WeightGrams,
		tx.timeArg(s.CreatedAt), tx.timeArg(s.UpdatedAt)); err != nil {
		if isUniqueViolation(err) {
			return conflict("code", "code already taken by another SKU of this brand")
		}
		return wrap("insert sku", err)
	}
	if err := setListPrice(ctx, tx, s); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateSKU changes a SKU. Returns ENOTFOUND, EINVALID, and ECONFLICT when
// the brand already has the new code.
func (db *DB) UpdateSKU(ctx context.Context, id string, u popkit.SKUUpdate) (*popkit.SKU, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s, err := findSKUByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	u.Apply(s)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE skus SET code = ?, name = ?, price_minor = ?, unit_cost_minor = ?, perishable = ?, weight_grams = ?, updated_at = ? WHERE id = ?`,
		s.Code, s.Name, s.PriceMinor, s.UnitCostMinor, s.Perishable, s.WeightGrams, tx.timeArg(s.UpdatedAt), s.ID); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict("code", "code already taken by another SKU of this brand")
		}
		return nil, wrap("update sku", err)
	}
	if err := setListPrice(ctx, tx, s); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return s, nil
}

const skuCols = `id, brand_id, code, name, price_minor, unit_cost_minor, perishable, weight_grams, created_at, updated_at`

func scanSKU(sc scanner) (*popkit.SKU, error) {
	var s popkit.SKU
	if err := sc.Scan(&s.ID, &s.BrandID, &s.Code, &s.Name, &s.PriceMinor, &s.UnitCostMinor, &s.Perishable, &s.WeightGrams,
		scanTime(&s.CreatedAt), scanTime(&s.UpdatedAt)); err != nil {
		return nil, err
	}
	return &s, nil
}

func findSKUByID(ctx context.Context, tx *txn, id string) (*popkit.SKU, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("sku")
	}
	s, err := scanSKU(tx.queryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("sku")
	} else if err != nil {
		return nil, wrap("find sku", err)
	}
	return s, nil
}
