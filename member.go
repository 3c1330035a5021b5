package popkit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"
)

// DefaultMemberHold is how long a new member waits before early access.
const DefaultMemberHold = 48 * time.Hour

// Tier is a membership level: how early its members see listings, whether
// they see member-only sessions, and when the tier may be used.
type Tier struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
	// EarlyAccess is how long before public_from members see a listing; 0
	// means no early access. JSON: early_access_hours.
	EarlyAccess        time.Duration `json:"-"`
	MemberOnlySessions bool          `json:"member_only_sessions"`
	// Hold is how long a new member of this tier waits before early
	// access; DefaultMemberHold when not given. JSON: hold_hours.
	Hold       time.Duration `json:"-"`
	ValidFrom  *time.Time    `json:"valid_from,omitempty"`
	ValidUntil *time.Time    `json:"valid_until,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// Validate checks the tier.
func (t *Tier) Validate() error {
	var v Validation
	checkName(&v, "name", t.Name)
	v.Check(ValidSlug(t.Slug), "slug", "must be 1-80 lower-case letters, digits and hyphens")
	v.Check(t.EarlyAccess >= 0 && t.EarlyAccess <= 90*24*time.Hour && t.EarlyAccess%time.Hour == 0, "early_access_hours", "must be whole hours between 0 and 2160")
	v.Check(t.Hold >= 0 && t.Hold <= 90*24*time.Hour && t.Hold%time.Hour == 0, "hold_hours", "must be whole hours between 0 and 2160")
	if t.ValidFrom != nil && t.ValidUntil != nil && !t.ValidUntil.After(*t.ValidFrom) {
		v.Add("valid_until", "must be after valid_from")
	}
	return v.Err()
}

// ValidAt reports whether the tier may be used at now.
func (t *Tier) ValidAt(now time.Time) bool {
	return (t.ValidFrom == nil || !now.Before(*t.ValidFrom)) && (t.ValidUntil == nil || now.Before(*t.ValidUntil))
}

// TierUpdate holds the fields a tier update may change.
type TierUpdate struct {
	Name               *string        `json:"name"`
	EarlyAccess        *time.Duration `json:"-"`
	MemberOnlySessions *bool          `json:"member_only_sessions"`
	Hold               *time.Duration `json:"-"`
	ValidFrom          *time.Time     `json:"valid_from"`
	ValidUntil         *time.Time     `json:"valid_until"`
}

// Apply copies the set fields of u onto t.
func (u TierUpdate) Apply(t *Tier) {
	setString(&t.Name, u.Name)
	if u.EarlyAccess != nil {
		t.EarlyAccess = *u.EarlyAccess
	}
	if u.MemberOnlySessions != nil {
		t.MemberOnlySessions = *u.MemberOnlySessions
	}
	if u.Hold != nil {
		t.Hold = *u.Hold
	}
	if u.ValidFrom != nil {
		t.ValidFrom = u.ValidFrom
	}
	if u.ValidUntil != nil {
		t.ValidUntil = u.ValidUntil
	}
}

// TierService manages membership tiers.
type TierService interface {
	// FindTierByID returns one tier. Returns ENOTFOUND.
	FindTierByID(ctx context.Context, id string) (*Tier, error)
	// FindTiers returns every tier, ordered by id.
	FindTiers(ctx context.Context) ([]*Tier, error)
	// CreateTier stores a new tier. Returns EINVALID, and ECONFLICT when
	// the slug is taken.
	CreateTier(ctx context.Context, t *Tier) error
	// UpdateTier changes a tier. Returns ENOTFOUND, EINVALID.
	UpdateTier(ctx context.Context, id string, u TierUpdate) (*Tier, error)
}

// MemberStatus is the state of a membership.
type MemberStatus string

// Member statuses, as the billing provider reports them.
const (
	MemberActive    MemberStatus = "active"
	MemberPastDue   MemberStatus = "past_due" // payment failed; no benefits until paid
	MemberCancelled MemberStatus = "cancelled"
)

// Valid reports whether s is a known status.
func (s MemberStatus) Valid() bool {
	return s == MemberActive || s == MemberPastDue || s == MemberCancelled
}

// Member is a person with a membership. EligibleAt is when their
// early-access hold ends (set when the member is created, from the tier's
// hold).
type Member struct {
	ID          string       `json:"id"`
	Email       string       `json:"email"`
	TierID      string       `json:"tier_id"`
	Status      MemberStatus `json:"status"`
	StartsAt    time.Time    `json:"starts_at"`
	EndsAt      *time.Time   `json:"ends_at,omitempty"`
	ExternalRef string       `json:"external_ref,omitempty"` // the billing provider's subscription id
	EligibleAt  time.Time    `json:"eligible_at"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Validate checks the member.
func (m *Member) Validate() error {
	var v Validation
	m.Email = strings.TrimSpace(m.Email)
	v.Check(validEmail(m.Email), "email", "must be an email address")
	v.Check(ValidID(m.TierID), "tier_id", "must be a tier id")
	if m.Status == "" {
		m.Status = MemberActive
	}
	v.Check(m.Status.Valid(), "status", "must be one of active, past_due, cancelled")
	v.Check(len(m.ExternalRef) <= 200 && !strings.ContainsAny(m.ExternalRef, "\x00\r\n"), "external_ref", "must be at most 200 characters on one line")
	if m.EndsAt != nil && !m.StartsAt.IsZero() && !m.EndsAt.After(m.StartsAt) {
		v.Add("ends_at", "must be after starts_at")
	}
	return v.Err()
}

// Active reports whether the membership is in force at now.
func (m *Member) Active(now time.Time) bool {
	return m.Status == MemberActive && !now.Before(m.StartsAt) && (m.EndsAt == nil || now.Before(*m.EndsAt))
}

// Eligible reports whether the member has early access at now: active and
// past the hold.
func (m *Member) Eligible(now time.Time) bool {
	return m.Active(now) && !now.Before(m.EligibleAt)
}

// MemberUpdate holds the fields a member update may change.
type MemberUpdate struct {
	Email       *string       `json:"email"`
	TierID      *string       `json:"tier_id"`
	Status      *MemberStatus `json:"status"`
	EndsAt      *time.Time    `json:"ends_at"`
	ExternalRef *string       `json:"external_ref"`
}

// Apply copies the set fields of u onto m.
func (u MemberUpdate) Apply(m *Member) {
	setString(&m.Email, u.Email)
	setString(&m.TierID, u.TierID)
	if u.Status != nil {
		m.Status = *u.Status
	}
	if u.EndsAt != nil {
		m.EndsAt = u.EndsAt
	}
	setString(&m.ExternalRef, u.ExternalRef)
}

// MemberFilter selects members.
type MemberFilter struct {
	TierID string
	Status MemberStatus
	Email  string
	Page
}

// MemberService manages members.
type MemberService interface {
	// FindMemberByID returns one member. Returns ENOTFOUND.
	FindMemberByID(ctx context.Context, id string) (*Member, error)
	// FindMembers returns a page of members and the next cursor.
	FindMembers(ctx context.Context, f MemberFilter) ([]*Member, string, error)
	// CreateMember stores a new member; StartsAt defaults to now and
	// EligibleAt to StartsAt plus the tier's hold. Returns EINVALID,
	// EUNPROCESSABLE when the tier does not exist, ECONFLICT when the
	// external reference is taken.
	CreateMember(ctx context.Context, m *Member) error
	// UpdateMember changes a member. Returns ENOTFOUND, EINVALID,
	// EUNPROCESSABLE.
	UpdateMember(ctx context.Context, id string, u MemberUpdate) (*Member, error)
}

// BillingEvent is one verified webhook event from the payment provider
// about a subscription. popkit keeps the subscription state; it takes no
// payments.
type BillingEvent struct {
	// WebhookID is the provider's unique message id; an event is applied
	// at most once.
	WebhookID   string       `json:"-"`
	Type        string       `json:"type"` // subscription.created, subscription.updated, subscription.cancelled
	ExternalRef string       `json:"subscription_id"`
	Email       string       `json:"email"`
	TierSlug    string       `json:"tier"`
	Status      MemberStatus `json:"status"`
	StartsAt    *time.Time   `json:"starts_at,omitempty"`
	EndsAt      *time.Time   `json:"ends_at,omitempty"`
}

// Billing event types.
const (
	BillingCreated   = "subscription.created"
	BillingUpdated   = "subscription.updated"
	BillingCancelled = "subscription.cancelled"
)

// Validate checks the event.
func (e *BillingEvent) Validate() error {
	var v Validation
	v.Check(e.WebhookID != "" && len(e.WebhookID) <= 200, "webhook-id", "is required (at most 200 characters)")
	v.Check(e.Type == BillingCreated || e.Type == BillingUpdated || e.Type == BillingCancelled, "type", "must be one of subscription.created, subscription.updated, subscription.cancelled")
	v.Check(e.ExternalRef != "" && len(e.ExternalRef) <= 200 && !strings.ContainsAny(e.ExternalRef, "\x00\r\n"), "subscription_id", "is required (at most 200 characters on one line)")
	if e.Type != BillingCancelled {
		v.Check(validEmail(e.Email), "email", "must be an email address")
		v.Check(ValidSlug(e.TierSlug), "tier", "must be a tier slug")
		v.Check(e.Status == "" || e.Status.Valid(), "status", "must be one of active, past_due, cancelled")
	}
	return v.Err()
}

// BillingService keeps memberships in step with the payment provider.
type BillingService interface {
	// ApplyBillingEvent applies a verified webhook event in one
	// transaction: creates or updates the member with the event's
	// subscription id. Returns EINVALID, EUNPROCESSABLE for an unknown
	// tier or an update of an unknown subscription, and ECONFLICT when the
	// webhook id was applied before (nothing changes).
	ApplyBillingEvent(ctx context.Context, e *BillingEvent) (*Member, error)
}

// SecretService keeps server secrets in the database, so that replicas
// share them.
type SecretService interface {
	// Secret returns the secret with this name, creating 32 random bytes
	// on first use. Concurrent first uses agree on one value.
	Secret(ctx context.Context, name string) ([]byte, error)
}

// Secret names.
const (
	SecretMemberLink = "member_link"
	SecretBilling    = "billing_webhook"
)

// tierJSON is the wire form of a Tier: durations in whole hours.
type tierJSON struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Slug               string     `json:"slug"`
	EarlyAccessHours   int64      `json:"early_access_hours"`
	MemberOnlySessions bool       `json:"member_only_sessions"`
	HoldHours          *int64     `json:"hold_hours,omitempty"`
	ValidFrom          *time.Time `json:"valid_from,omitempty"`
	ValidUntil         *time.Time `json:"valid_until,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// MarshalJSON writes the tier with its durations in hours.
func (t Tier) MarshalJSON() ([]byte, error) {
	hold := int64(t.Hold / time.Hour)
	return json.Marshal(tierJSON{ID: t.ID, Name: t.Name, Slug: t.Slug,
		EarlyAccessHours: int64(t.EarlyAccess / time.Hour), MemberOnlySessions: t.MemberOnlySessions,
		HoldHours: &hold, ValidFrom: t.ValidFrom, ValidUntil: t.ValidUntil, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
}

// UnmarshalJSON reads the tier with its durations in hours; a missing
// hold_hours means DefaultMemberHold.
func (t *Tier) UnmarshalJSON(b []byte) error {
	var j tierJSON
	if err := strictJSON(b, &j); err != nil {
		return err
	}
	*t = Tier{ID: j.ID, Name: j.Name, Slug: j.Slug, EarlyAccess: hours(j.EarlyAccessHours),
		MemberOnlySessions: j.MemberOnlySessions, Hold: DefaultMemberHold,
		ValidFrom: j.ValidFrom, ValidUntil: j.ValidUntil, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	if j.HoldHours != nil {
		t.Hold = hours(*j.HoldHours)
	}
	return nil
}

// UnmarshalJSON reads a tier update with its durations in hours.
func (u *TierUpdate) UnmarshalJSON(b []byte) error {
	var j struct {
		Name               *string    `json:"name"`
		EarlyAccessHours   *int64     `json:"early_access_hours"`
		MemberOnlySessions *bool      `json:"member_only_sessions"`
		HoldHours          *int64     `json:"hold_hours"`
		ValidFrom          *time.Time `json:"valid_from"`
		ValidUntil         *time.Time `json:"valid_until"`
	}
	if err := strictJSON(b, &j); err != nil {
		return err
	}
	*u = TierUpdate{Name: j.Name, MemberOnlySessions: j.MemberOnlySessions, ValidFrom: j.ValidFrom, ValidUntil: j.ValidUntil}
	if j.EarlyAccessHours != nil {
		d := hours(*j.EarlyAccessHours)
		u.EarlyAccess = &d
	}
	if j.HoldHours != nil {
		d := hours(*j.HoldHours)
		u.Hold = &d
	}
	return nil
}

// hours converts whole hours to a duration, clamping values that would
// overflow so that validation reports them instead.
func hours(h int64) time.Duration {
	const maxHours = int64(1 << 62 / int64(time.Hour))
	if h > maxHours || h < -maxHours {
		return -1
	}
	return time.Duration(h) * time.Hour
}

// strictJSON decodes b into v, refusing unknown fields, as the API does.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
