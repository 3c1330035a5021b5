//go:build !(386 || arm || mips || mipsle)

// Package riversqlite gives River's SQLite driver to the store (which only
// inserts jobs) and to package jobs (which runs the workers), so that jobs
// does not import sqlstore. River's driver does not build for 32-bit
// targets; there Driver returns an error instead.
package riversqlite

import (
	"database/sql"

	"github.com/riverqueue/river/riverdriver"
	river_sqlite "github.com/riverqueue/river/riverdriver/riversqlite"
)

// Driver returns River's SQLite driver over pool, which must be the
// store's single-writer pool (sqlstore.DB.WritePool).
func Driver(pool *sql.DB) (riverdriver.Driver[*sql.Tx], error) {
	return river_sqlite.New(pool), nil
}
