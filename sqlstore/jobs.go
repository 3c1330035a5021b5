package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/popkit/popkit/internal/riversqlite"
)

// Durable jobs are River jobs in River's own tables, which Migrate creates
// in the same database. The store only inserts jobs, always inside the
// transaction of the change that causes them (tx.enqueue), so a job exists
// if and only if its change committed; package jobs runs the workers.

// riverDriver returns the River driver for the store's write pool: the
// SQLite driver over the single-writer pool, or the database/sql driver
// over the PostgreSQL pool (insert-only; the workers use pgx directly).
func (db *DB) riverDriver() (riverdriver.Driver[*sql.Tx], error) {
	if db.dialect == DialectSQLite {
		return riversqlite.Driver(db.wdb)
	}
	return riverdatabasesql.New(db.wdb), nil
}

// WritePool returns the pool the store writes through, for River's workers
// on SQLite (which must share the single writer connection).
func (db *DB) WritePool() *sql.DB { return db.wdb }

// inserter returns the store's insert-only River client, made once.
func (db *DB) inserter() (*river.Client[*sql.Tx], error) {
	db.riverOnce.Do(func() {
		driver, err := db.riverDriver()
		if err != nil {
			db.riverErr = err
			return
		}
		db.river, db.riverErr = river.NewClient(driver, &river.Config{})
		if db.riverErr != nil {
			db.riverErr = fmt.Errorf("river client: %w", db.riverErr)
		}
	})
	return db.river, db.riverErr
}

// enqueue inserts a durable job in tx; it becomes visible to the workers
// when tx commits and vanishes if tx rolls back.
func (tx *txn) enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	c, err := tx.db.inserter()
	if err != nil {
		return err
	}
	if _, err := c.InsertTx(ctx, tx.Tx, args, opts); err != nil {
		return wrap("enqueue "+args.Kind(), err)
	}
	return nil
}

// migrateRiver brings River's tables up to date, one River version per
// transaction (PostgreSQL cannot use an enum value in the transaction that
// adds it); on PostgreSQL each under a transaction advisory lock, so that
// two processes starting together do not race.
// It returns the versions it applied, named "river-NNN".
func (db *DB) migrateRiver(ctx context.Context) ([]string, error) {
	driver, err := db.riverDriver()
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	var applied []string
	for {
		v, err := db.migrateRiverStep(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migrate river: %w", err)
		}
		if v == 0 {
			return applied, nil
		}
		applied = append(applied, fmt.Sprintf("river-%03d", v))
	}
}

// migrateRiverStep applies the next River migration, if any, and returns
// its version (0 when none was due).
func (db *DB) migrateRiverStep(ctx context.Context, m *rivermigrate.Migrator[*sql.Tx]) (int, error) {
	tx, err := db.beginWithin(ctx, true, 0) // a migration may take long
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if db.dialect == DialectPostgres {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(7012026)`); err != nil {
			return 0, fmt.Errorf("lock: %w", err)
		}
	}
	// MigrateTx is deprecated because some River versions cannot share a
	// transaction; applying exactly one version per transaction avoids
	// that, and a transaction is what holds the advisory lock.
	//lint:ignore SA1019 one version per transaction, see above
	res, err := m.MigrateTx(ctx, tx.Tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
	if err != nil {
		return 0, err
	}
	if len(res.Versions) == 0 {
		return 0, nil
	}
	return res.Versions[0].Version, tx.commit()
}
