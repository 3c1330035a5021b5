package sqlstore

import (
	"context"

	"github.com/popkit/popkit"
)

// SQLite has one writer, so concurrent orders queue for it, and each pays
// for its own BEGIN and COMMIT, and COMMIT writes every page the order
// touched to the WAL: the orders table and its three indexes, the lines,
// the key and the stock rows. Orders that arrive while the writer is busy
// therefore share a transaction (group commit): the writer takes every
// order waiting, up to maxOrderBatch, and runs each inside its own
// SAVEPOINT, so that an order that fails (insufficient stock, a bad line,
// a replayed key) is rolled back alone and answered with its own error,
// while the others commit together. Consecutive orders mostly touch the
// same pages, so one COMMIT writes far fewer pages than one per order.
//
// No order is answered before the transaction's COMMIT: a replay that
// found a key stored earlier in the same transaction, like an order that
// was stored, is answered only once that is durable. If COMMIT fails, every
// order of the batch gets the error.

// maxOrderBatch bounds the orders of one transaction, and with it the
// time the writer is held and the latency of the first order of a batch.
const maxOrderBatch = 64

// orderReq is one CreateOrder call waiting for the writer.
type orderReq struct {
	ctx     context.Context
	o       *popkit.Order
	idem    *popkit.IdempotentWrite
	existed bool
	err     error
	// fallback sends the order through the general path once its batch
	// has ended (order_pg.go).
	fallback bool
	done     chan struct{}
}

// createOrderBatched hands o to the order writer and waits for its answer.
func (db *DB) createOrderBatched(ctx context.Context, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	db.orderWriterOnce.Do(func() {
		db.orderReqs = make(chan *orderReq)
		writers, write := 1, db.writeOrders
		if db.dialect == DialectPostgres {
			writers, write = pgOrderWriters, db.writeOrdersPipelined
		}
		for range writers {
			db.background.Go(func() { db.orderWriter(write) })
		}
	})
	r := &orderReq{ctx: ctx, o: o, idem: idem, done: make(chan struct{})}
	db.ordersPending.Add(1)
	defer db.ordersPending.Add(-1)
	if err := handOver(ctx, db, db.orderReqs, r); err != nil {
		return false, err
	}
	// Once taken, the order is answered after its batch ends, even if ctx
	// ends first: only then is it known whether it was stored.
	<-r.done
	if r.fallback {
		return db.createOrderAlone(ctx, o, idem)
	}
	return r.existed, r.err
}

// orderWriter takes waiting orders in batches and writes each batch with
// write, until the DB closes (batcher.go).
func (db *DB) orderWriter(write func([]*orderReq)) {
	serveBatches(db, db.orderReqs, maxOrderBatch, func(batch []*orderReq) { writeBatch(write, batch) },
		func(r *orderReq) { close(r.done) })
}

// writeBatch runs write for batch, turning a panic, which would otherwise
// end the process from this goroutine, into an error for every order of
// the batch: what it wrote is unknown, and its transaction is rolled back
// as the panic unwinds.
func writeBatch(write func([]*orderReq), batch []*orderReq) {
	defer func() {
		if p := recover(); p != nil {
			err := popkit.Errorf(popkit.EINTERNAL, "create order: panic: %v", p)
			for _, r := range batch {
				r.existed, r.fallback, r.err = false, false, err
			}
		}
	}()
	write(batch)
}

// writeOrders stores a batch of orders in one transaction, each in its own
// savepoint, and sets every request's answer.
func (db *DB) writeOrders(batch []*orderReq) {
	failAll := func(err error) {
		for _, r := range batch {
			r.existed, r.err = false, err
		}
	}
	// The transaction is the batch's, not any one caller's: a caller that
	// goes away must not roll back the others.
	tx, err := db.begin(context.WithoutCancel(db.closing), true)
	if err != nil {
		failAll(err)
		return
	}
	defer tx.Rollback()
	// An order alone needs no savepoint: if it fails, the transaction is
	// rolled back.
	alone := len(batch) == 1
	for _, r := range batch {
		// A caller gone before its turn is skipped. Once begun, an order
		// runs to its end: SQLite rolls back the whole transaction when a
		// write is interrupted, and that would take the batch with it.
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		ctx := context.WithoutCancel(r.ctx)
		tx.now = db.now()
		if !alone {
			if _, err := tx.exec(ctx, `SAVEPOINT order_write`); err != nil {
				failAll(wrap("savepoint", err))
				return
			}
		}
		r.existed, r.err = createOrderTx(ctx, tx, r.o, r.idem)
		if alone {
			if r.err != nil {
				return
			}
			continue
		}
		if r.err != nil {
			// This fails when SQLite has rolled back the whole
			// transaction itself (a full disk, an I/O error).
			if _, err := tx.exec(ctx, `ROLLBACK TO order_write`); err != nil {
				failAll(wrap("roll back to savepoint", err))
				return
			}
		}
		if _, err := tx.exec(ctx, `RELEASE order_write`); err != nil {
			failAll(wrap("release savepoint", err))
			return
		}
	}
	if err := tx.commit(); err != nil {
		failAll(err)
		return
	}
	db.orderBatches.Add(1)
	for _, r := range batch {
		if r.err == nil {
			db.writtenOrders.Add(1)
			if r.idem != nil {
				r.idem.Completed = true
			}
		}
	}
}
