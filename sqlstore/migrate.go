package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// migrationFS holds the migrations. A file is named NNNN-name.sql when both
// dialects run it, or NNNN-name.sqlite.sql and NNNN-name.postgres.sql where
// they differ. The name recorded in schema_migrations is NNNN-name.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one schema change.
type migration struct {
	name string
	sql  string
}

// migrations returns the migrations of dialect in order.
func migrations(dialect string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	byName := map[string]migration{}
	for _, ent := range entries {
		base, ok := strings.CutSuffix(ent.Name(), ".sql")
		if !ok {
			continue
		}
		name, suffix, hasSuffix := strings.Cut(base, ".")
		if hasSuffix && suffix != dialect {
			continue
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("migration %s exists both shared and for %s", name, dialect)
		}
		b, err := migrationFS.ReadFile("migrations/" + ent.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", ent.Name(), err)
		}
		byName[name] = migration{name: name, sql: string(b)}
	}
	list := make([]migration, 0, len(byName))
	for _, m := range byName {
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list, nil
}

// Migrate brings the schema up to date and returns the names of the
// migrations it applied, none when the schema was current. Each migration
// runs in its own transaction together with its schema_migrations row.
// Processes that migrate one database at once are safe: on SQLite the write
// transaction excludes other writers, on PostgreSQL a transaction-scoped
// advisory lock (per schema) does.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	list, err := migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	applied := []string{}
	for _, m := range list {
		ok, err := db.migrate(ctx, m)
		if err != nil {
			return applied, err
		}
		if ok {
			applied = append(applied, m.name)
		}
	}
	river, err := db.migrateRiver(ctx)
	return append(applied, river...), err
}

// migrate applies m unless it was applied before, and reports whether it
// applied it.
func (db *DB) migrate(ctx context.Context, m migration) (bool, error) {
	tx, err := db.beginMigration(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	if db.dialect == DialectPostgres {
		// Serialise migrations of this schema across processes; the lock
		// ends with the transaction.
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('popkit.migrate'), hashtext(current_schema()))`); err != nil {
			return false, fmt.Errorf("lock migrations: %w", err)
		}
	}
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, m.name).Scan(&n); err != nil {
		return false, fmt.Errorf("read schema_migrations: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, m.name, tx.now.Format(time.RFC3339Nano)); err != nil {
		return false, fmt.Errorf("record migration %s: %w", m.name, err)
	}
	if err := tx.commit(); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	return true, nil
}

// migrateLockWait bounds how long a migration on SQLite waits for the
// write lock while other processes migrate (or write) the same file.
const migrateLockWait = 2 * time.Minute

// beginMigration begins a migration's write transaction. On SQLite, where
// processes starting at once take turns on the file's write lock, it
// tries again while the lock stays busy beyond the busy timeout (another
// process is running migrations, which may take longer on a loaded
// machine), up to migrateLockWait: a process waits for another's
// migration rather than failing to start.
func (db *DB) beginMigration(ctx context.Context) (*txn, error) {
	deadline := time.Now().Add(migrateLockWait)
	for {
		tx, err := db.beginWithin(ctx, true, 0) // a migration may take long
		if err == nil || db.dialect != DialectSQLite || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond): // the busy timeout already waited; a short pause between turns
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a busy lock
// (extended codes keep it in the low byte).
const sqliteBusy = 5

// isSQLiteBusy reports whether err is SQLite's "database is locked".
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}
