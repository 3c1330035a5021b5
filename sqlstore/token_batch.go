package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/popkit/popkit"
)

// Every API request reads its token. On PostgreSQL that read is a round
// trip and a statement of its own, and once orders are written in batches
// (order_pg.go) most of the statements the server runs are token reads; on
// SQLite a read-only transaction per token (BEGIN, SELECT, ROLLBACK) was
// 14% of the CPU an order costs. Tokens are not cached, so that a token
// revoked on one server is refused by every server at once. Instead, the
// reads that wait at the same moment are coalesced on both stores: a
// reader takes every request waiting (up to maxTokenBatch, batcher.go) and
// answers them all with one SELECT (hash = ANY($1) on PostgreSQL, hash IN
// json_each(?) on SQLite, one statement text for any batch size, which the
// SQLite connections keep prepared). Each request's read still starts
// after the request arrived, so it sees every revocation committed before.

// Token readers, and the most reads one statement answers.
const (
	tokenReaders  = 2
	maxTokenBatch = 128
)

// tokenReq is one token read waiting for a reader.
type tokenReq struct {
	hash string
	t    *popkit.Token
	err  error
	done chan struct{}
}

// findTokenBatched reads the token with this hash through the readers.
func (db *DB) findTokenBatched(ctx context.Context, hash string) (*popkit.Token, error) {
	db.tokenReaderOnce.Do(func() {
		db.tokenReqs = make(chan *tokenReq)
		for range tokenReaders {
			db.background.Go(db.tokenReader)
		}
	})
	r := &tokenReq{hash: hash, done: make(chan struct{})}
	if err := handOver(ctx, db, db.tokenReqs, r); err != nil {
		return nil, err
	}
	// The reader answers r however long the statement takes; a caller
	// whose context ends first leaves without the answer.
	select {
	case <-r.done:
		return r.t, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tokenReader answers waiting token reads in batches until the DB closes.
func (db *DB) tokenReader() {
	serveBatches(db, db.tokenReqs, maxTokenBatch, db.readTokens, func(r *tokenReq) { close(r.done) })
}

// readTokens answers a batch of token reads with one statement.
func (db *DB) readTokens(batch []*tokenReq) {
	hashes := make([]string, 0, len(batch))
	for _, r := range batch {
		hashes = append(hashes, r.hash)
	}
	db.tokenStatements.Add(1)
	db.tokenReads.Add(int64(len(batch)))
	ctx, cancel := db.callContext(context.WithoutCancel(db.closing))
	defer cancel()
	var rows *sql.Rows
	var err error
	if db.dialect == DialectPostgres {
		rows, err = db.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ANY($1)`, hashes)
	} else {
		list, _ := json.Marshal(hashes) // a []string always marshals
		rows, err = db.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash IN (SELECT value FROM json_each(?))`, string(list))
	}
	var found []*popkit.Token
	if err == nil {
		found, err = collect(rows, scanToken)
	}
	if err != nil {
		for _, r := range batch {
			r.err = wrap("find token", err)
		}
		return
	}
	byHash := make(map[string]*popkit.Token, len(found))
	for _, t := range found {
		byHash[t.Hash] = t
	}
	for _, r := range batch {
		if t := byHash[r.hash]; t != nil {
			c := *t // each request gets its own copy
			r.t = &c
		} else {
			r.err = notFound("token")
		}
	}
}
