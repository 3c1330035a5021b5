package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.TokenService = (*DB)(nil)

// Token settings.
const (
	// tokenPrefixLen is how much of a secret is kept to recognise it: the
	// "pk_" marker and five random characters, 30 of its 256 bits.
	tokenPrefixLen = 8
	// lastUsedEvery is how stale last_used_at may get: Authenticate writes
	// it at most once per interval per token, not on every request.
	lastUsedEvery = time.Minute
)

// CreateToken stores a new token and returns its secret. Only the secret's
// SHA-256 hash and its first characters (Prefix) are stored. Returns
// EINVALID, EUNPROCESSABLE when the scoped brand or event does not exist.
func (db *DB) CreateToken(ctx context.Context, t *popkit.Token) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if t.BrandID != "" {
		if _, err := findBrandByID(ctx, tx, t.BrandID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
			return "", missingRef("brand_id", "brand")
		} else if err != nil {
			return "", err
		}
	}
	if t.EventID != "" {
		if err := eventExists(ctx, tx, t.EventID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
			return "", missingRef("event_id", "event")
		} else if err != nil {
			return "", err
		}
	}
	secret, hash := popkit.NewTokenSecret()
	t.ID = popkit.NewID()
	t.Prefix = secret[:tokenPrefixLen]
	t.Hash = hash
	t.CreatedAt = tx.now
	t.LastUsedAt, t.RevokedAt = nil, nil
	if _, err := tx.exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Role), nullString(t.BrandID), nullString(t.EventID), nullString(t.NodeID),
		t.Prefix, t.Hash, tx.timeArg(t.CreatedAt), nil, nil); err != nil {
		return "", wrap("insert token", err)
	}
	if err := tx.commit(); err != nil {
		return "", err
	}
	return secret, nil
}

// Authenticate returns the live token with this secret. It records when
// the token was last used, at most once a minute. Returns EUNAUTHORIZED for
// an unknown or revoked secret.
func (db *DB) Authenticate(ctx context.Context, secret string) (*popkit.Token, error) {
	if !popkit.LooksLikeToken(secret) {
		return nil, popkit.Errorf(popkit.EUNAUTHORIZED, "unknown token")
	}
	t, err := db.findTokenByHash(ctx, popkit.HashToken(secret))
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return nil, popkit.Errorf(popkit.EUNAUTHORIZED, "unknown token")
	} else if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, popkit.Errorf(popkit.EUNAUTHORIZED, "token revoked")
	}
	if now := db.now(); t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedEvery {
		if err := db.touchToken(ctx, t.ID, now); err != nil {
			return nil, err
		}
		t.LastUsedAt = &now
	}
	return t, nil
}

// findTokenByHash reads a token without taking a write lock, in one
// statement with the other token reads waiting at the same moment
// (token_batch.go): on PostgreSQL a transaction would cost two more round
// trips on every request, and on SQLite two more statements.
func (db *DB) findTokenByHash(ctx context.Context, hash string) (*popkit.Token, error) {
	return db.findTokenBatched(ctx, hash)
}

// touchToken sets last_used_at to now unless another request did so within
// the last interval.
func (db *DB) touchToken(ctx context.Context, id string, now time.Time) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		tx.timeArg(now), id, tx.timeArg(now.Add(-lastUsedEvery))); err != nil {
		return wrap("touch token", err)
	}
	return tx.commit()
}

// FindTokens returns a page of tokens, ordered by id, and the next cursor.
// Revoked tokens are left out unless asked for. Returns EINVALID for a bad
// page or role.
func (db *DB) FindTokens(ctx context.Context, f popkit.TokenFilter) ([]*popkit.Token, string, error) {
	var w where
	if f.Role != "" {
		if !f.Role.Valid() {
			return nil, "", popkit.InvalidField("role", "must be one of admin, curator, brand, fulfiller, device")
		}
		w.and("role = ?", string(f.Role))
	}
	if !f.IncludeRevoked {
		w.and("revoked_at IS NULL")
	}
	return findPage(ctx, db, "find tokens", f.Page, &w, tokenCols, "tokens", scanToken, func(x *popkit.Token) string { return x.ID })
}

// RevokeToken revokes a token. Returns ENOTFOUND; revoking twice is not an
// error and keeps the first revocation time.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	if !popkit.ValidID(id) {
		return notFound("token")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, tx.timeArg(tx.now), id)
	if err != nil {
		return wrap("revoke token", err)
	}
	if n == 0 {
		var exists int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM tokens WHERE id = ?`, id).Scan(&exists); err != nil {
			return wrap("find token", err)
		}
		if exists == 0 {
			return notFound("token")
		}
	}
	return tx.commit()
}

const tokenCols = `id, name, role, brand_id, event_id, node_id, prefix, hash, created_at, last_used_at, revoked_at`

func scanToken(s scanner) (*popkit.Token, error) {
	var t popkit.Token
	var role string
	var brandID, eventID, nodeID sql.NullString
	if err := s.Scan(&t.ID, &t.Name, &role, &brandID, &eventID, &nodeID, &t.Prefix, &t.Hash,
		scanTime(&t.CreatedAt), scanNullTime(&t.LastUsedAt), scanNullTime(&t.RevokedAt)); err != nil {
		return nil, err
	}
	t.Role = popkit.Role(role)
	t.BrandID, t.EventID, t.NodeID = brandID.String, eventID.String, nodeID.String
	return &t, nil
}
