package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestStatementCache runs the same parameterised query twice at once on one
// connection (the second must not disturb the first's open rows) and more
// distinct queries than the cache holds.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	db := sqlstoretest.OpenSQLite(t)
	ctx := t.Context()
	conn, err := db.SQL().Conn(ctx)
	must(t, err)
	defer conn.Close()

	const q = "SELECT value FROM json_each(?) ORDER BY value"
	outer, err := conn.QueryContext(ctx, q, "[1, 2, 3]")
	must(t, err)
	var got []int
	for outer.Next() {
		var v int
		must(t, outer.Scan(&v))
		var inner []int
		rows, err := conn.QueryContext(ctx, q, fmt.Sprintf("[%d, %d]", 10*v, 10*v+1))
		must(t, err)
		for rows.Next() {
			var w int
			must(t, rows.Scan(&w))
			inner = append(inner, w)
		}
		must(t, rows.Err())
		rows.Close()
		if len(inner) != 2 || inner[0] != 10*v {
			t.Fatalf("inner query for %d returned %v", v, inner)
		}
		got = append(got, v)
	}
	must(t, outer.Err())
	outer.Close()
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("outer query returned %v, want [1 2 3]", got)
	}

	for i := range 300 {
		var n int
		must(t, conn.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&n))
		if n != i+1 {
			t.Fatalf("query %d returned %d", i, n)
		}
	}
	var n int
	must(t, conn.QueryRowContext(ctx, q+" LIMIT ?", "[7]", 1).Scan(&n))
	if n != 7 {
		t.Fatalf("query after evictions returned %d", n)
	}
}

func TestAnalyze(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		mkWorld(t, db)
		must(t, db.Analyze(t.Context()))
		if db.Dialect() != sqlstore.DialectPostgres {
			return
		}
		var analyzed bool
		must(t, db.SQL().QueryRowContext(t.Context(),
			"SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'events'::regclass").Scan(&analyzed))
		if !analyzed {
			t.Error("events was not analyzed")
		}
	})
}
