package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// timeArg returns t as a query argument of the database's time type:
// TIMESTAMPTZ on PostgreSQL, INTEGER microseconds since the Unix epoch on
// SQLite (they sort as numbers and read back without parsing).
func (db *DB) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if db.dialect == DialectSQLite {
		return t.UnixMicro()
	}
	return t
}

// timeArg returns t as a query argument of the database's time type.
func (tx *txn) timeArg(t time.Time) any { return tx.db.timeArg(t) }

// nullTimeArg is timeArg for a nullable time.
func (tx *txn) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return tx.db.timeArg(*t)
}

// nullString stores "" as NULL, for optional references.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeScanner scans a time column of either dialect into a UTC time.Time.
type timeScanner struct{ t *time.Time }

// scanTime returns a scan destination for a NOT NULL time column.
func scanTime(t *time.Time) timeScanner { return timeScanner{t} }

// Scan implements sql.Scanner.
func (s timeScanner) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*s.t = t
	return nil
}

// nullTimeScanner scans a nullable time column into a *time.Time.
type nullTimeScanner struct{ t **time.Time }

// scanNullTime returns a scan destination for a nullable time column.
func scanNullTime(t **time.Time) nullTimeScanner { return nullTimeScanner{t} }

// Scan implements sql.Scanner.
func (s nullTimeScanner) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*s.t = &t
	return nil
}

func parseTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case int64:
		return time.UnixMicro(v).UTC(), nil
	case time.Time:
		return v.UTC(), nil
	case string:
		return parseTimeText(v)
	case []byte:
		return parseTimeText(string(v))
	default:
		return time.Time{}, fmt.Errorf("scan time: unsupported type %T", src)
	}
}

func parseTimeText(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("scan time: %w", err)
	}
	return t.UTC(), nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// where collects the conditions and arguments of a WHERE clause.
type where struct {
	conds []string
	args  []any
}

// and adds a condition with its arguments.
func (w *where) and(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// String returns the clause, with a leading space, or "".
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// pageWhere normalises p, adds the cursor condition on col to w, and
// returns the page size.
func pageWhere(p popkit.Page, w *where, col string) (int, error) {
	limit, after, err := p.Normalize()
	if err != nil {
		return 0, err
	}
	if after != "" {
		w.and(col+" > ?", after)
	}
	return limit, nil
}

// listQuery returns a query for one page: the rows of from matching w,
// ordered by orderCol, one more than limit so that the caller knows whether
// there is a next page. It appends the limit to w's arguments.
func listQuery(cols, from string, w *where, orderCol string, limit int) (string, []any) {
	q := "SELECT " + cols + " FROM " + from + w.String() + " ORDER BY " + orderCol + " LIMIT ?"
	return q, append(w.args, limit+1)
}

// nextPage trims items to limit and returns the cursor of the next page, or
// "" when items held no more than limit.
func nextPage[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, popkit.Cursor(key(items[limit-1]))
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	items := make([]T, 0)
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return items, nil
}

// inList returns the condition "col is one of ids" and its arguments: one
// array argument on PostgreSQL (col = ANY(?), a single statement text for
// any number of ids), a placeholder per id on SQLite.
func (db *DB) inList(col string, ids []string) (string, []any) {
	if len(ids) == 0 {
		return "1 = 0", nil
	}
	if db.dialect == DialectPostgres {
		return col + " = ANY(?)", []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (" + strings.Repeat("?, ", len(ids)-1) + "?)", args
}

// findPage runs a read-only list query over table, filtered by w and paged
// by p in id order, and returns the scanned rows and the next page's cursor.
// what names the list in errors.
func findPage[T any](ctx context.Context, db *DB, what string, p popkit.Page, w *where, cols, table string, scan func(scanner) (T, error), id func(T) string) ([]T, string, error) {
	return findPageThen(ctx, db, what, p, w, cols, table, "id", scan, id, nil)
}

// findPageThen is findPage over from (a table or a join) paged by idCol,
// and then, when set, runs in the same read transaction on the page's rows
// (to load their children, as an order's lines).
func findPageThen[T any](ctx context.Context, db *DB, what string, p popkit.Page, w *where, cols, from, idCol string,
	scan func(scanner) (T, error), id func(T) string, then func(context.Context, *txn, []T) error) ([]T, string, error) {
	limit, err := pageWhere(p, w, idCol)
	if err != nil {
		return nil, "", err
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	q, args := listQuery(cols, from, w, idCol, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, "", wrap(what, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return nil, "", wrap(what, err)
	}
	items, next := nextPage(items, limit, id)
	if then != nil {
		if err := then(ctx, tx, items); err != nil {
			return nil, "", err
		}
	}
	return items, next, nil
}
