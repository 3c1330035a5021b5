//go:build !(386 || arm || mips || mipsle)

package sqlstore

import (
	"database/sql"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// RiverSQLiteDriver returns River's SQLite driver over pool, which must be
// the store's single-writer pool (DB.WritePool).
func RiverSQLiteDriver(pool *sql.DB) (riverdriver.Driver[*sql.Tx], error) {
	return riversqlite.New(pool), nil
}
