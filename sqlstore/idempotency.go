package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/popkit/popkit"
)

var _ popkit.IdempotencyService = (*DB)(nil)

// maxIdempotencyKey bounds the length of an Idempotency-Key.
const maxIdempotencyKey = 255

// ClaimIdempotencyKey atomically claims (TokenID, Key) for a new request.
// An INSERT that does nothing on conflict decides the winner, so of two
// concurrent claims exactly one gets claimed=true. When the key is new it
// stores rec as in flight (setting CreatedAt) and returns (nil, true, nil);
// otherwise it returns the existing record and claimed=false. Returns
// EINVALID for an empty or overlong key.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, rec *popkit.IdempotencyRecord) (*popkit.IdempotencyRecord, bool, error) {
	var v popkit.Validation
	v.Check(rec.TokenID != "", "token_id", "is required")
	v.Check(rec.Key != "" && len(rec.Key) <= maxIdempotencyKey && utf8.ValidString(rec.Key), "idempotency_key", "must be 1 to %d characters", maxIdempotencyKey)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `INSERT INTO idempotency_keys (token_id, key, method, path, request_hash, status, content_type, location, body, created_at, completed_at)
		VALUES (?, ?, ?, ?, ?, 0, '', '', NULL, ?, NULL) ON CONFLICT (token_id, key) DO NOTHING`,
		rec.TokenID, rec.Key, rec.Method, rec.Path, rec.RequestHash, tx.timeArg(tx.now))
	if err != nil {
		return nil, false, wrap("claim idempotency key", err)
	}
	if n == 1 {
		if err := tx.commit(); err != nil {
			return nil, false, err
		}
		rec.CreatedAt, rec.Status, rec.CompletedAt = tx.now, 0, nil
		return nil, true, nil
	}
	existing, err := findIdempotencyRecord(ctx, tx, rec.TokenID, rec.Key)
	if err != nil {
		return nil, false, err
	}
	return existing, false, nil
}

// CompleteIdempotencyKey stores the response of a claimed key and sets
// rec.CompletedAt. Returns ENOTFOUND when the key is not claimed.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, rec *popkit.IdempotencyRecord) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ?, completed_at = ? WHERE token_id = ? AND key = ?`,
		rec.Status, rec.ContentType, rec.Location, rec.Body, tx.timeArg(tx.now), rec.TokenID, rec.Key)
	if err != nil {
		return wrap("complete idempotency key", err)
	}
	if n == 0 {
		return notFound("idempotency key")
	}
	if err := tx.commit(); err != nil {
		return err
	}
	now := tx.now
	rec.CompletedAt = &now
	return nil
}

// ReleaseIdempotencyKey deletes an in-flight claim so that the request may
// be retried. A completed or unknown key is left alone and is not an error.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, tokenID, key string) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND completed_at IS NULL`, tokenID, key); err != nil {
		return wrap("release idempotency key", err)
	}
	return tx.commit()
}

// ReapIdempotencyKeys deletes claims created before cutoff and returns how
// many it deleted.
func (db *DB) ReapIdempotencyKeys(ctx context.Context, cutoff time.Time) (int, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, tx.timeArg(cutoff))
	if err != nil {
		return 0, wrap("reap idempotency keys", err)
	}
	if err := tx.commit(); err != nil {
		return 0, err
	}
	return int(n), nil
}

func findIdempotencyRecord(ctx context.Context, tx *txn, tokenID, key string) (*popkit.IdempotencyRecord, error) {
	var r popkit.IdempotencyRecord
	err := tx.queryRow(ctx, `SELECT token_id, key, method, path, request_hash, status, content_type, location, body, created_at, completed_at
		FROM idempotency_keys WHERE token_id = ? AND key = ?`, tokenID, key).
		Scan(&r.TokenID, &r.Key, &r.Method, &r.Path, &r.RequestHash, &r.Status, &r.ContentType, &r.Location, &r.Body,
			scanTime(&r.CreatedAt), scanNullTime(&r.CompletedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("idempotency key")
	} else if err != nil {
		return nil, wrap("find idempotency key", err)
	}
	return &r, nil
}

// storeKeyInTx claims the key of w in tx together with the response the
// change will be answered with (see popkit.IdempotentWrite): one INSERT,
// placed by the caller after the change's rows and before it takes any
// stock lock. A concurrent transaction with the same key waits on the
// key's unique index until this one ends; it then finds the stored
// response (a replay) or, if this one rolled back, stores its own. A
// completed claim older than the TTL that the reaper has not yet deleted
// is replaced. It returns popkit.ErrKeyClaimed, with w.Existing set, when
// the key is taken.
func storeKeyInTx(ctx context.Context, tx *txn, w *popkit.IdempotentWrite, existed bool) error {
	if w.Respond == nil {
		return popkit.Errorf(popkit.EINTERNAL, "idempotent write without a response renderer")
	}
	rec := w.Record
	status, contentType, location, body, err := w.Respond(existed)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		n, err := tx.execN(ctx, `INSERT INTO idempotency_keys (token_id, key, method, path, request_hash, status, content_type, location, body, created_at, completed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_id, key) DO NOTHING`,
			rec.TokenID, rec.Key, rec.Method, rec.Path, rec.RequestHash, status, contentType, location, body, tx.timeArg(tx.now), tx.timeArg(tx.now))
		if err != nil {
			return wrap("store idempotency key", err)
		}
		if n == 1 {
			now := tx.now
			rec.Status, rec.ContentType, rec.Location, rec.Body, rec.CreatedAt, rec.CompletedAt = status, contentType, location, body, now, &now
			return nil
		}
		existing, err := findIdempotencyRecord(ctx, tx, rec.TokenID, rec.Key)
		if err != nil {
			return err
		}
		if attempt > 0 || existing.InFlight() || tx.now.Sub(existing.CreatedAt) < popkit.IdempotencyTTL {
			w.Existing = existing
			return popkit.ErrKeyClaimed
		}
		if _, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE token_id = ? AND key = ?`, rec.TokenID, rec.Key); err != nil {
			return wrap("release expired idempotency key", err)
		}
	}
}
