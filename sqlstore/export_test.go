package sqlstore

import (
	"context"

	"github.com/popkit/popkit"
)

// NotifyNodeThenRollback runs notifyNode in a write transaction and rolls
// it back, as a service method does when a later step of the change fails.
func (db *DB) NotifyNodeThenRollback(ctx context.Context, nodeID, eventType string, payload any) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return tx.notifyNode(ctx, nodeID, eventType, payload)
}

// SetOrderFastPaths turns the pipelined PostgreSQL orders (order_pg.go)
// and the SQLite order writer (order_batch.go) on or off. Set it before
// the DB is used.
func (db *DB) SetOrderFastPaths(on bool) { db.plainOrders = !on }

// OrderWriterStats returns the orders the order writers stored, the
// transactions they committed, and the orders handed to them and not yet
// answered.
func (db *DB) OrderWriterStats() (orders, txs, pending int64) {
	return db.writtenOrders.Load(), db.orderBatches.Load(), db.ordersPending.Load()
}

// HoldWriter begins a write transaction, which on SQLite keeps every other
// writer waiting until release is called.
func (db *DB) HoldWriter(ctx context.Context) (release func(), err error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	return func() { tx.Rollback() }, nil
}

// BatchAnswer is the answer to one order of WriteOrderBatch.
type BatchAnswer struct {
	Existed bool
	Err     error
	Batched bool // stored or refused by the batch itself, not the general path
}

// WriteOrderBatch writes orders as one batch of the order writer (SQLite's
// savepoints or PostgreSQL's pipeline), then sends the ones the batch left
// out through the general path, as CreateOrder does.
func (db *DB) WriteOrderBatch(ctx context.Context, orders []*popkit.Order, idems []*popkit.IdempotentWrite) []BatchAnswer {
	batch := make([]*orderReq, len(orders))
	for i, o := range orders {
		batch[i] = &orderReq{ctx: ctx, o: o, idem: idems[i]}
	}
	if db.dialect == DialectPostgres {
		db.writeOrdersPipelined(batch)
	} else {
		db.writeOrders(batch)
	}
	answers := make([]BatchAnswer, len(batch))
	for i, r := range batch {
		if r.fallback {
			answers[i].Existed, answers[i].Err = db.createOrderAlone(ctx, r.o, r.idem)
			continue
		}
		answers[i] = BatchAnswer{Existed: r.existed, Err: r.err, Batched: true}
	}
	return answers
}

// ReadTokenBatch answers token reads by hash as one batch of the token
// readers.
func (db *DB) ReadTokenBatch(hashes []string) ([]*popkit.Token, []error) {
	batch := make([]*tokenReq, len(hashes))
	for i, h := range hashes {
		batch[i] = &tokenReq{hash: h}
	}
	db.readTokens(batch)
	tokens, errs := make([]*popkit.Token, len(batch)), make([]error, len(batch))
	for i, r := range batch {
		tokens[i], errs[i] = r.t, r.err
	}
	return tokens, errs
}

// TokenReadStats returns the token reads the token readers answered and
// the statements they ran for them.
func (db *DB) TokenReadStats() (reads, statements int64) {
	return db.tokenReads.Load(), db.tokenStatements.Load()
}
