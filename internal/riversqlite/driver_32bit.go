//go:build 386 || arm || mips || mipsle

package riversqlite

import (
	"database/sql"
	"errors"

	"github.com/riverqueue/river/riverdriver"
)

// Driver fails on 32-bit targets: River's SQLite driver does not build
// there (v0.51.2). 32-bit builds are for the edge agent (a Raspberry Pi);
// a control plane on such a machine runs on PostgreSQL.
func Driver(pool *sql.DB) (riverdriver.Driver[*sql.Tx], error) {
	return nil, errors.New("durable jobs on SQLite need a 64-bit build (River's SQLite driver does not build for 32-bit targets): run the control plane on PostgreSQL or on a 64-bit machine")
}
