package sqlstore

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"
)

// SQLite compiles every statement it runs, and for the short queries of a
// service method compiling costs as much as running. database/sql only
// reuses statements that were prepared outside the transaction, which the
// one-connection writer pool cannot do without deadlocking, so the SQLite
// connections themselves keep their recently used statements.

// maxCachedStmts bounds the statements one connection keeps.
const maxCachedStmts = 128

// sqliteConnector opens SQLite connections that cache prepared statements.
type sqliteConnector struct {
	driver.Connector
}

func newSQLiteConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sqliteConnector{base}, nil
}

// Connect implements driver.Connector.
func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks context methods", conn)
	}
	return &stmtCacheConn{sqliteConn: inner, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what every modernc.org/sqlite connection implements; the
// wrapper forwards all of it.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// preparedStmt is a driver statement with context methods.
type preparedStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// sqliteRows is what modernc.org/sqlite rows implement.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedStmt is one prepared statement of a connection. A statement serves
// one execution at a time: while its rows are open it is busy, and a second
// use of the same query on the connection runs a one-off statement.
type cachedStmt struct {
	query  string
	stmt   preparedStmt
	busy   bool
	cached bool // false for a one-off statement, closed when released
}

// stmtCacheConn is a SQLite connection that keeps its most recently used
// parameterised statements. database/sql never uses a connection from two
// goroutines at once, so it needs no lock.
type stmtCacheConn struct {
	sqliteConn
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front is most recently used
}

// Unwrap returns the driver's own connection.
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.sqliteConn }

// acquire returns a statement for query, marked busy: the cached one when
// it is idle, else a newly prepared one that is cached unless the cached one
// is busy. Callers release it when done.
func (c *stmtCacheConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	el, ok := c.byQuery[query]
	if ok {
		if cs := el.Value.(*cachedStmt); !cs.busy {
			c.lru.MoveToFront(el)
			cs.busy = true
			return cs, nil
		}
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, isPrepared := ds.(preparedStmt)
	if !isPrepared {
		ds.Close()
		return nil, fmt.Errorf("sqlite statement %T lacks context methods", ds)
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true, cached: !ok}
	if cs.cached {
		c.byQuery[query] = c.lru.PushFront(cs)
		c.evict()
	}
	return cs, nil
}

// release ends a use of cs.
func (c *stmtCacheConn) release(cs *cachedStmt) {
	if cs.cached {
		cs.busy = false
	} else if cs.busy {
		cs.busy = false
		cs.stmt.Close()
	}
}

// evict closes idle statements beyond the cache's size, least recently
// used first.
func (c *stmtCacheConn) evict() {
	for el := c.lru.Back(); el != nil && c.lru.Len() > maxCachedStmts; {
		prev := el.Prev()
		if cs := el.Value.(*cachedStmt); !cs.busy {
			cs.stmt.Close()
			c.lru.Remove(el)
			delete(c.byQuery, cs.query)
		}
		el = prev
	}
}

// ExecContext implements driver.ExecerContext, with a cached statement when
// the statement has arguments (scripts, which have none, are not cached).
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	defer c.release(cs)
	return cs.stmt.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext, with a cached statement
// when the query has arguments. The statement stays busy until the rows are
// closed.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	r, ok := rows.(sqliteRows)
	if !ok {
		rows.Close()
		c.release(cs)
		return nil, fmt.Errorf("sqlite rows %T lack column type methods", rows)
	}
	return &stmtRows{sqliteRows: r, release: func() { c.release(cs) }}, nil
}

// Close closes the cached statements and the connection.
func (c *stmtCacheConn) Close() error {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	return c.sqliteConn.Close()
}

// stmtRows releases its statement when closed.
type stmtRows struct {
	sqliteRows
	release func()
}

// Close implements driver.Rows.
func (r *stmtRows) Close() error {
	err := r.sqliteRows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}
