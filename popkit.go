// Package popkit is the domain of popkit, a platform that runs pop-up retail
// as a repeatable production channel: cities, venues, brands, events with
// their sessions and costs, SKUs and per-event assortments, edge devices and
// API tokens.
//
// The package holds types, filter and update structs, the service interfaces
// that storage implements, and validation. It imports no database or HTTP
// package; sqlstore implements the services and http serves them.
package popkit

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
)

// Build information, set by the linker in release builds.
var (
	Version = "dev"
	Commit  = ""
)

// NewID returns a new UUIDv7 as a string. UUIDv7 ids sort by creation time
// and are made offline on the edge without coordination.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s is a canonical UUID string: 36 characters,
// lower-case hex. Upper-case spellings are refused because the store
// compares ids as text.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// Page asks for one page of a list. Lists are ordered by id, which for
// UUIDv7 ids is creation order; After is an opaque cursor from a previous
// page's Next.
type Page struct {
	Limit int    // 1..MaxPageLimit; 0 means DefaultPageLimit
	After string // opaque cursor; "" for the first page
}

// Page limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Normalize checks the page request and returns the limit to use and the id
// to start after. Returns EINVALID for a bad limit or cursor.
func (p Page) Normalize() (limit int, afterID string, err error) {
	limit = p.Limit
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return 0, "", InvalidField("limit", "must be between 1 and %d", MaxPageLimit)
	}
	if p.After == "" {
		return limit, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.After)
	if err != nil || !ValidID(string(b)) {
		return 0, "", InvalidField("cursor", "is not a cursor returned by this API")
	}
	return limit, string(b), nil
}

// Cursor returns the opaque cursor that continues a list after id.
func Cursor(id string) string {
	if id == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// Program holds settings that apply to the whole pop-up program.
type Program struct {
	Name string `json:"name"`
	// Currency is the program's reporting currency (ISO 4217, e.g. "EUR"):
	// the currency program-wide figures are converted into with dated
	// exchange rates, and the currency of every SKU's list price
	// (SKU.PriceMinor). Amounts at an event are in its city's currency.
	Currency   string    `json:"currency"`
	KAnonymity int       `json:"k_anonymity"` // counts below this are suppressed in exports
	EpochDays  int       `json:"epoch_days"`  // pseudonym key lifetime
	UpdatedAt  time.Time `json:"updated_at"`
}

// DefaultProgram is the program a new database starts with.
func DefaultProgram() Program {
	return Program{Name: "popkit program", Currency: "EUR", KAnonymity: 5, EpochDays: 30}
}

// Validate checks the program settings.
func (p *Program) Validate() error {
	var v Validation
	v.Check(p.Name != "" && len(p.Name) <= 200, "name", "is required (at most 200 characters)")
	v.Check(ValidCurrency(p.Currency), "currency", CurrencyMessage)
	v.Check(p.KAnonymity >= 1 && p.KAnonymity <= 100, "k_anonymity", "must be between 1 and 100")
	v.Check(p.EpochDays >= 1 && p.EpochDays <= 366, "epoch_days", "must be between 1 and 366")
	return v.Err()
}

// ProgramService reads and changes the program settings.
type ProgramService interface {
	// FindProgram returns the program settings.
	FindProgram(ctx context.Context) (*Program, error)
	// UpdateProgram replaces the program settings. Returns EINVALID.
	UpdateProgram(ctx context.Context, p *Program) error
}

// Principal is the caller of a service: the token that authenticated a
// request. The http package puts it in the context.
type principalKey struct{}

// NewContextWithToken returns a context that carries the calling token.
func NewContextWithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, principalKey{}, t)
}

// TokenFromContext returns the calling token, or nil.
func TokenFromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(principalKey{}).(*Token)
	return t
}
