package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
)

var _ popkit.ProgramService = (*DB)(nil)

// FindProgram returns the program settings.
func (db *DB) FindProgram(ctx context.Context) (*popkit.Program, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findProgram(ctx, tx)
}

// UpdateProgram replaces the program settings. Returns EINVALID. When the
// currency changes, every SKU's list price becomes its price in the new
// currency: the stored one where the SKU has a price in it, else the old
// list price figures are kept and stored as the new currency's price (as
// they were read before prices per currency existed).
func (db *DB) UpdateProgram(ctx context.Context, p *popkit.Program) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	old, err := findProgram(ctx, tx)
	if err != nil {
		return err
	}
	if old.Currency != p.Currency {
		if err := moveListPrices(ctx, tx, p.Currency); err != nil {
			return err
		}
	}
	if _, err := tx.exec(ctx, `UPDATE program SET name = ?, currency = ?, k_anonymity = ?, epoch_days = ?, updated_at = ? WHERE id = 1`,
		p.Name, p.Currency, p.KAnonymity, p.EpochDays, tx.timeArg(tx.now)); err != nil {
		return wrap("update program", err)
	}
	if err := tx.commit(); err != nil {
		return err
	}
	p.UpdatedAt = tx.now
	return nil
}

func findProgram(ctx context.Context, tx *txn) (*popkit.Program, error) {
	var p popkit.Program
	err := tx.queryRow(ctx, `SELECT name, currency, k_anonymity, epoch_days, updated_at FROM program WHERE id = 1`).
		Scan(&p.Name, &p.Currency, &p.KAnonymity, &p.EpochDays, scanTime(&p.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("program")
	} else if err != nil {
		return nil, wrap("find program", err)
	}
	return &p, nil
}
