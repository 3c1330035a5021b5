package popkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Role is what a token may do.
type Role string

// Roles. Scoped roles carry the id of the one object they may act for.
const (
	RoleAdmin     Role = "admin"     // everything
	RoleCurator   Role = "curator"   // listings and read access to the catalogue
	RoleBrand     Role = "brand"     // its own brand only (BrandID)
	RoleFulfiller Role = "fulfiller" // its own fulfilment node only (NodeID)
	RoleDevice    Role = "device"    // its own event only (EventID)
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleCurator, RoleBrand, RoleFulfiller, RoleDevice}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Token is an API credential. Only the SHA-256 hash of the secret is stored;
// the secret is shown once, when the token is created.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	BrandID    string     `json:"brand_id,omitempty"`
	EventID    string     `json:"event_id,omitempty"`
	NodeID     string     `json:"node_id,omitempty"`
	Prefix     string     `json:"prefix"` // first characters of the secret, to recognise it
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Validate checks a token's role and scope: brand tokens need a brand,
// device tokens an event, fulfiller tokens a node, and no token carries a
// scope its role does not use.
func (t *Token) Validate() error {
	var v Validation
	v.Check(t.Role.Valid(), "role", "must be one of admin, curator, brand, fulfiller, device")
	v.Check(len(t.Name) <= 200, "name", "must be at most 200 characters")
	scope := func(field, id string, needed bool) {
		switch {
		case needed && !ValidID(id):
			v.Add(field, "is required for role %s", t.Role)
		case !needed && id != "":
			v.Add(field, "is not used by role %s", t.Role)
		}
	}
	scope("brand_id", t.BrandID, t.Role == RoleBrand)
	scope("event_id", t.EventID, t.Role == RoleDevice)
	scope("node_id", t.NodeID, t.Role == RoleFulfiller)
	return v.Err()
}

// Is reports whether the token has one of the roles.
func (t *Token) Is(roles ...Role) bool {
	if t == nil {
		return false
	}
	for _, r := range roles {
		if t.Role == r {
			return true
		}
	}
	return false
}

// TokenPrefix starts every token secret, so that secret scanners can find
// leaked popkit tokens.
const TokenPrefix = "pk_"

// NewTokenSecret returns a new random token secret and its hash.
func NewTokenSecret() (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the stored form of a token secret. Secrets are 256 random
// bits, so a plain SHA-256 is enough: there is nothing to brute-force.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// LooksLikeToken reports whether s has the shape of a token secret.
func LooksLikeToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) == len(TokenPrefix)+43
}

// TokenFilter selects tokens.
type TokenFilter struct {
	Role           Role
	IncludeRevoked bool
	Page
}

// TokenService manages API tokens.
type TokenService interface {
	// CreateToken stores a new token and returns its secret, which is not
	// kept. Returns EINVALID, EUNPROCESSABLE when the scoped brand or
	// event does not exist.
	CreateToken(ctx context.Context, t *Token) (secret string, err error)
	// Authenticate returns the live token with this secret. Returns
	// EUNAUTHORIZED for an unknown or revoked secret.
	Authenticate(ctx context.Context, secret string) (*Token, error)
	// FindTokens returns a page of tokens and the next cursor.
	FindTokens(ctx context.Context, f TokenFilter) ([]*Token, string, error)
	// RevokeToken revokes a token. Returns ENOTFOUND; revoking twice is not
	// an error.
	RevokeToken(ctx context.Context, id string) error
}
