package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
)

var _ popkit.BrandService = (*DB)(nil)

// FindBrandByID returns one brand. Returns ENOTFOUND.
func (db *DB) FindBrandByID(ctx context.Context, id string) (*popkit.Brand, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findBrandByID(ctx, tx, id)
}

// FindBrands returns a page of brands, ordered by id, and the next cursor.
// Returns EINVALID for a bad page.
func (db *DB) FindBrands(ctx context.Context, f popkit.BrandFilter) ([]*popkit.Brand, string, error) {
	var w where
	if f.Slug != "" {
		w.and("slug = ?", f.Slug)
	}
	return findPage(ctx, db, "find brands", f.Page, &w, brandCols, "brands", scanBrand, func(x *popkit.Brand) string { return x.ID })
}

// CreateBrand stores a new brand. Returns EINVALID, or ECONFLICT when the
// slug is taken.
func (db *DB) CreateBrand(ctx context.Context, b *popkit.Brand) error {
	if err := b.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b.ID = popkit.NewID()
	b.CreatedAt, b.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO brands (`+brandCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		b.ID, b.Name, b.Slug, b.ContactEmail, tx.timeArg(b.CreatedAt), tx.timeArg(b.UpdatedAt)); err != nil {
		if isUniqueViolation(err) {
			return taken("slug")
		}
		return wrap("insert brand", err)
	}
	return tx.commit()
}

// UpdateBrand changes a brand. Returns ENOTFOUND, EINVALID, and ECONFLICT
// when the new slug is taken.
func (db *DB) UpdateBrand(ctx context.Context, id string, u popkit.BrandUpdate) (*popkit.Brand, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	b, err := findBrandByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	u.Apply(b)
	if err := b.Validate(); err != nil {
		return nil, err
	}
	b.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE brands SET name = ?, slug = ?, contact_email = ?, updated_at = ? WHERE id = ?`,
		b.Name, b.Slug, b.ContactEmail, tx.timeArg(b.UpdatedAt), b.ID); err != nil {
		if isUniqueViolation(err) {
			return nil, taken("slug")
		}
		return nil, wrap("update brand", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return b, nil
}

const brandCols = `id, name, slug, contact_email, created_at, updated_at`

func scanBrand(s scanner) (*popkit.Brand, error) {
	var b popkit.Brand
	if err := s.Scan(&b.ID, &b.Name, &b.Slug, &b.ContactEmail, scanTime(&b.CreatedAt), scanTime(&b.UpdatedAt)); err != nil {
		return nil, err
	}
	return &b, nil
}

func findBrandByID(ctx context.Context, tx *txn, id string) (*popkit.Brand, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("brand")
	}
	b, err := scanBrand(tx.queryRow(ctx, `SELECT `+brandCols+` FROM brands WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("brand")
	} else if err != nil {
		return nil, wrap("find brand", err)
	}
	return b, nil
}

// missingBrands returns the ids among ids that name no brand.
func missingBrands(ctx context.Context, tx *txn, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	in, args := tx.db.inList("id", ids)
	rows, err := tx.query(ctx, `SELECT id FROM brands WHERE `+in, args...)
	if err != nil {
		return nil, wrap("find brands", err)
	}
	found, err := collect(rows, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
	if err != nil {
		return nil, wrap("find brands", err)
	}
	have := make(map[string]bool, len(found))
	for _, id := range found {
		have[id] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}
