package popkit

import (
	"context"
	"errors"
	"time"
)

// IdempotencyTTL is how long a stored response answers retries of the same
// Idempotency-Key. It is at least 72 hours because offline sales may be
// uploaded up to 72 hours late.
const IdempotencyTTL = 96 * time.Hour

// IdempotencyRecord is one claimed Idempotency-Key of one token. While the
// first request is in flight Status is 0; when it finished, Status, Header
// and Body hold the response that retries replay.
type IdempotencyRecord struct {
	TokenID     string
	Key         string
	Method      string
	Path        string
	RequestHash string // SHA-256 of method, path and body
	Status      int
	ContentType string
	Location    string
	Body        []byte
	CreatedAt   time.Time
	CompletedAt *time.Time
}

// InFlight reports whether the first request with this key has not
// finished.
func (r *IdempotencyRecord) InFlight() bool { return r.CompletedAt == nil }

// IdempotencyService stores Idempotency-Key claims and their responses.
type IdempotencyService interface {
	// ClaimIdempotencyKey atomically claims (TokenID, Key) for a new request.
	// When the key is new it stores rec as in flight and returns
	// (nil, true, nil); when the key was already claimed it returns the
	// existing record and claimed=false.
	ClaimIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) (existing *IdempotencyRecord, claimed bool, err error)
	// CompleteIdempotencyKey stores the response of a claimed key.
	CompleteIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) error
	// ReleaseIdempotencyKey deletes an in-flight claim, so the request may
	// be retried (used when the request failed with a server error).
	ReleaseIdempotencyKey(ctx context.Context, tokenID, key string) error
	// ReapIdempotencyKeys deletes claims created before cutoff and returns
	// how many it deleted.
	ReapIdempotencyKeys(ctx context.Context, cutoff time.Time) (int, error)
}

// IdempotentWrite lets a store method claim an Idempotency-Key and store
// its response inside the method's own transaction, so that the claim, the
// change and the stored response commit together: one transaction instead
// of three. The HTTP layer puts one in the request's context (see
// WithIdempotentWrite) for routes whose store method supports it.
//
// Once the change's rows are written, and before it locks any stock, the
// store calls Respond with whether the object already existed and inserts
// Record with that response. When the key was already claimed it sets
// Existing and returns ErrKeyClaimed, and the transaction rolls back; the
// caller answers as for a retry. After the commit it sets Completed.
type IdempotentWrite struct {
	Record *IdempotencyRecord
	// Respond renders the response the request will be answered with;
	// the store calls it inside its transaction, once the object is
	// complete. Set by the handler before it calls the store.
	Respond func(existed bool) (status int, contentType, location string, body []byte, err error)

	Existing  *IdempotencyRecord // set when the key was already claimed
	Completed bool               // set when the claim and response were stored
}

// ErrKeyClaimed is returned by a store method given an IdempotentWrite
// whose key was already claimed; IdempotentWrite.Existing holds the claim.
var ErrKeyClaimed = errors.New("idempotency key already claimed")

type idempotentWriteKey struct{}

// WithIdempotentWrite returns ctx carrying w.
func WithIdempotentWrite(ctx context.Context, w *IdempotentWrite) context.Context {
	return context.WithValue(ctx, idempotentWriteKey{}, w)
}

// IdempotentWriteFrom returns the IdempotentWrite of ctx, or nil.
func IdempotentWriteFrom(ctx context.Context) *IdempotentWrite {
	w, _ := ctx.Value(idempotentWriteKey{}).(*IdempotentWrite)
	return w
}
