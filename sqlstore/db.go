// Package sqlstore implements the services of the popkit domain over
// database/sql, for SQLite (modernc.org/sqlite, the default) and PostgreSQL
// (pgx). Both dialects share the Go code and, where the dialects agree, the
// SQL; queries are written once with ? placeholders and rebound to $n for
// PostgreSQL.
//
// Every service method runs in one transaction. On SQLite, writes go through
// a pool of one connection that begins transactions with BEGIN IMMEDIATE,
// so that writers queue in Go instead of failing with SQLITE_BUSY, while
// reads use a separate pool of read-only transactions that WAL mode lets run
// beside the writer; each SQLite connection keeps its prepared statements
// (stmtcache.go). Times are TIMESTAMPTZ on PostgreSQL and integer
// microseconds since the Unix epoch on SQLite, always UTC.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/popkit/popkit"
	"github.com/riverqueue/river"
)

// Dialects returned by DB.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Connection settings.
const (
	sqliteBusyTimeout = 5 * time.Second
	connectTimeout    = 5 * time.Second
	pgMaxOpenConns    = 20
	pgMaxIdleConns    = 10
	pgConnMaxLifetime = 30 * time.Minute
	pgConnMaxIdleTime = 5 * time.Minute
)

// DefaultQueryTimeout is the QueryTimeout popkit serve sets unless told
// otherwise: a few seconds, long past any healthy call.
const DefaultQueryTimeout = 5 * time.Second

// DB is a popkit database. It implements every service of the popkit
// package. It is safe for concurrent use.
type DB struct {
	// Now returns the current time. It is time.Now unless a test sets it
	// before the DB is used; stored times are truncated to microseconds,
	// the precision both databases keep.
	Now func() time.Time

	// QueryTimeout bounds every service call: the wait for a connection
	// and each statement of its transaction, so that a database that has
	// gone silent answers EUNAVAILABLE instead of holding the caller. Zero
	// or less, as Open leaves it, means no bound; servers set it
	// (DefaultQueryTimeout is the usual value) before the DB is used.
	// Migrations are never bounded.
	QueryTimeout time.Duration

	dialect string
	rdb     *sql.DB // reads (and, on PostgreSQL, writes)
	wdb     *sql.DB // writes; on SQLite a pool of one connection

	// Background work (see analyze.go), ended by Close.
	closing     context.Context
	cancel      context.CancelFunc
	background  sync.WaitGroup
	created     atomic.Int64 // events created by this process
	nextAnalyze atomic.Int64 // created count that triggers the next ANALYZE
	analyzing   atomic.Bool

	// Orders and transactions the order writers stored (order_batch.go,
	// order_pg.go), and the orders handed to them and not yet answered.
	// plainOrders turns the writers off, giving every order its own
	// transaction (for benchmarks that compare).
	writtenOrders atomic.Int64
	orderBatches  atomic.Int64
	ordersPending atomic.Int64
	plainOrders   bool

	// Set by commits on SQLite; the background checkpoint (checkpoint.go)
	// clears it.
	walDirty atomic.Bool

	// The order writers (order_batch.go), started on first use.
	orderWriterOnce sync.Once
	orderReqs       chan *orderReq

	// Token readers (token_batch.go), started on first use, with the
	// reads they answered and the statements they ran.
	tokenReaderOnce sync.Once
	tokenReqs       chan *tokenReq
	tokenReads      atomic.Int64
	tokenStatements atomic.Int64

	// River insert-only client for durable jobs (jobs.go), made on first use.
	riverOnce sync.Once
	river     *river.Client[*sql.Tx]
	riverErr  error
}

// newDB returns a DB over the given pools.
func newDB(dialect string, rdb, wdb *sql.DB) *DB {
	db := &DB{Now: time.Now, dialect: dialect, rdb: rdb, wdb: wdb}
	db.closing, db.cancel = context.WithCancel(context.Background())
	db.nextAnalyze.Store(firstAutoAnalyze)
	return db
}

// Open opens the database named by dsn and checks that it is reachable. A
// "postgres://" or "postgresql://" URL opens PostgreSQL; anything else is a
// SQLite file path or "file:" URI, and the file is created when missing.
// Open fails fast, with a one-line error, when the database cannot be
// reached or created; a PostgreSQL server that cannot be reached (rather
// than one that refuses the login) is EUNAVAILABLE, which a caller may
// wait out. It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case dsn == "":
		return nil, errors.New("open database: no database named")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		return openSQLite(ctx, dsn)
	}
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	name, query, _ := strings.Cut(dsn, "?")
	name = strings.TrimSpace(name)
	if name == "" || name == "file:" || strings.Contains(name, ":memory:") || strings.Contains(query, "mode=memory") {
		return nil, fmt.Errorf("open database %s: in-memory databases are not supported, name a file", dsn)
	}
	params := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		// FULL: every commit syncs the WAL before it returns, so nothing
		// the server has acknowledged is lost on power loss (NORMAL syncs
		// only at checkpoints). Group commit (order_batch.go) shares one
		// sync among the orders that arrive together.
		"_pragma=synchronous(FULL)",
		fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", walAutoCheckpoint),
		"_txlock=immediate",
	}
	if query != "" {
		params = append(params, query)
	}
	full := name + "?" + strings.Join(params, "&")

	connector, err := newSQLiteConnector(full)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %s", name, oneLine(err))
	}
	wdb := sql.OpenDB(connector)
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	rdb := sql.OpenDB(connector)
	readers := max(4, runtime.NumCPU())
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)

	db := newDB(DialectSQLite, rdb, wdb)
	db.background.Go(db.checkpointWAL)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout+sqliteBusyTimeout)
	defer cancel()
	// The writer connects first: it creates the file and switches it to WAL.
	for _, p := range []*sql.DB{wdb, rdb} {
		if err := p.PingContext(pctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database %s: %s", name, oneLine(err))
		}
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	shown := redact(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %s", shown, oneLine(err))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	sdb := stdlib.OpenDB(*cfg)
	sdb.SetMaxOpenConns(pgMaxOpenConns)
	sdb.SetMaxIdleConns(pgMaxIdleConns)
	sdb.SetConnMaxLifetime(pgConnMaxLifetime)
	sdb.SetConnMaxIdleTime(pgConnMaxIdleTime)

	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := sdb.PingContext(pctx); err != nil {
		sdb.Close()
		msg := fmt.Sprintf("open database %s: %s", shown, oneLine(err))
		if unreachable(err) {
			// The server may come up later: callers may wait and retry.
			return nil, &popkit.Error{Code: popkit.EUNAVAILABLE, Message: msg}
		}
		return nil, errors.New(msg)
	}
	return newDB(DialectPostgres, sdb, sdb), nil
}

// redact hides the password of a PostgreSQL URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	u.RawQuery = ""
	return u.Redacted()
}

// oneLine returns the message of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Close stops background work and closes the database.
func (db *DB) Close() error {
	db.cancel()
	db.background.Wait()
	err := db.rdb.Close()
	if db.wdb != db.rdb {
		err = errors.Join(err, db.wdb.Close())
	}
	return err
}

// Ping checks that the database answers, for readiness probes. It returns
// EUNAVAILABLE when it does not.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.rdb.PingContext(ctx); err != nil {
		return unavailable("ping database", err)
	}
	var one int
	if err := db.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return unavailable("ping database", err)
	}
	return nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the main connection pool, for pool statistics. On SQLite it
// is the reader pool; writes use a separate pool of one connection.
func (db *DB) SQL() *sql.DB { return db.rdb }

// now returns the current time in UTC at the precision the database keeps.
func (db *DB) now() time.Time {
	f := db.Now
	if f == nil {
		f = time.Now
	}
	return f().UTC().Truncate(time.Microsecond)
}

// txn is one transaction of one service method. It carries the time the
// method runs at, so that every row it writes has the same timestamps.
type txn struct {
	*sql.Tx
	db  *DB
	now time.Time

	// base is the context the transaction began with and ctx the same
	// bounded by the DB's QueryTimeout; statements run under it (see
	// bound). cancels are released when the transaction ends.
	base, ctx context.Context
	cancels   []context.CancelFunc
}

// callContext returns ctx bounded by the DB's QueryTimeout, for database
// calls made outside a transaction.
func (db *DB) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.QueryTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.QueryTimeout)
}

// begin starts a transaction: a read-only one on the reader pool, or a
// write transaction (BEGIN IMMEDIATE on SQLite) on the writer pool. Callers
// defer Rollback and Commit write transactions when done; read-only
// transactions are simply rolled back.
//
// On PostgreSQL a pooled connection may have died since its last use (the
// server restarted, or ended the session); the driver then fails the BEGIN
// and marks the connection broken, so database/sql discards it, and begin
// tries again on another connection.
func (db *DB) begin(ctx context.Context, write bool) (*txn, error) {
	return db.beginWithin(ctx, write, db.QueryTimeout)
}

// beginWithin is begin with the transaction bounded by timeout instead of
// the DB's QueryTimeout; zero or less means unbounded.
func (db *DB) beginWithin(ctx context.Context, write bool, timeout time.Duration) (*txn, error) {
	pool := db.rdb
	if write {
		pool = db.wdb
	}
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		tctx, cancel = context.WithTimeout(ctx, timeout)
	}
	for attempt := 1; ; attempt++ {
		tx, err := pool.BeginTx(tctx, &sql.TxOptions{ReadOnly: !write})
		if err == nil {
			return &txn{Tx: tx, db: db, now: db.now(), base: ctx, ctx: tctx, cancels: []context.CancelFunc{cancel}}, nil
		}
		if tctx.Err() != nil {
			cancel()
			if ctx.Err() == nil {
				// Our own deadline: the database did not answer in time.
				return nil, unavailable("begin transaction", err)
			}
			return nil, fmt.Errorf("begin transaction: %w", err)
		}
		if db.dialect == DialectPostgres && attempt < maxBeginAttempts && brokenConn(err) {
			continue
		}
		cancel()
		return nil, unavailable("begin transaction", err)
	}
}

// maxBeginAttempts bounds how often begin tries a fresh connection.
const maxBeginAttempts = 3

// brokenConn reports whether a failed BEGIN on PostgreSQL means the
// connection is gone rather than that the server refused the statement.
func brokenConn(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: shutdown, crash, not
		// yet accepting connections.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return true
}

// bound returns the context a statement of tx runs under: ctx, ended no
// later than the transaction's deadline.
func (tx *txn) bound(ctx context.Context) context.Context {
	if ctx == tx.base {
		return tx.ctx
	}
	d, ok := tx.ctx.Deadline()
	if !ok {
		return ctx
	}
	if cd, ok := ctx.Deadline(); ok && !cd.After(d) {
		return ctx
	}
	c, cancel := context.WithDeadline(ctx, d)
	tx.cancels = append(tx.cancels, cancel)
	return c
}

// release cancels the contexts of tx.
func (tx *txn) release() {
	for _, c := range tx.cancels {
		c()
	}
	tx.cancels = nil
}

// Rollback rolls the transaction back (a no-op once it has ended) and
// releases its deadline.
func (tx *txn) Rollback() error {
	err := tx.Tx.Rollback()
	tx.release()
	return err
}

// commit commits the transaction.
func (tx *txn) commit() error {
	err := tx.Commit()
	deadline := tx.ctx.Err() != nil && tx.base.Err() == nil
	tx.release()
	if err != nil {
		if deadline {
			return unavailable("commit", err)
		}
		return classify("commit", err)
	}
	if tx.db.dialect == DialectSQLite {
		tx.db.walDirty.Store(true)
	}
	return nil
}

// exec runs a statement written with ? placeholders.
func (tx *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(tx.bound(ctx), tx.db.rebind(query), args...)
}

// execN runs a statement and returns the number of rows it changed.
func (tx *txn) execN(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs a query written with ? placeholders.
func (tx *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(tx.bound(ctx), tx.db.rebind(query), args...)
}

// queryRow runs a query written with ? placeholders that returns one row.
func (tx *txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.QueryRowContext(tx.bound(ctx), tx.db.rebind(query), args...)
}

// rebind rewrites ? placeholders to $1, $2, ... for PostgreSQL. Queries in
// this package never contain a literal question mark.
func (db *DB) rebind(query string) string {
	if db.dialect != DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if c := query[i]; c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
