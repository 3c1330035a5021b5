package popkit

import (
	"context"
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
