package sqlstore

import (
	"context"

	"github.com/popkit/popkit"
)

// The order writers (order_batch.go) and the PostgreSQL token readers
// (token_batch.go) coalesce the calls that wait at the same moment: a
// caller hands its request over an unbuffered channel, and a background
// goroutine takes it with every other one waiting, up to a bound.

// handOver gives r to the goroutines reading ch. It fails when ctx ends or
// the DB closes first; the channel is unbuffered, so a request that was
// not taken is not answered by anyone.
func handOver[T any](ctx context.Context, db *DB, ch chan<- T, r T) error {
	select {
	case ch <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing.Done():
		return popkit.Errorf(popkit.EUNAVAILABLE, "database closed")
	}
}

// serveBatches takes the requests handed over on ch in batches of up to
// max, runs write for each batch and then answered for each of its
// requests, until the DB closes.
func serveBatches[T any](db *DB, ch <-chan T, max int, write func([]T), answered func(T)) {
	batch := make([]T, 0, max)
	for {
		var ok bool
		if batch, ok = nextBatch(db, ch, batch, max); !ok {
			return
		}
		write(batch)
		for _, r := range batch {
			answered(r)
		}
	}
}

// nextBatch waits for a request on ch and takes it with the ones already
// waiting, up to max, reusing batch's storage. It returns false when the
// DB closes.
func nextBatch[T any](db *DB, ch <-chan T, batch []T, max int) ([]T, bool) {
	select {
	case r := <-ch:
		batch = append(batch[:0], r)
	case <-db.closing.Done():
		return nil, false
	}
	for len(batch) < max {
		select {
		case r := <-ch:
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}
