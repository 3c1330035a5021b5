package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"time"

	"github.com/popkit/popkit"
)

var (
	_ popkit.TierService    = (*DB)(nil)
	_ popkit.MemberService  = (*DB)(nil)
	_ popkit.BillingService = (*DB)(nil)
	_ popkit.SecretService  = (*DB)(nil)
)

const tierCols = `id, name, slug, early_access_s, member_only_sessions, hold_s, valid_from, valid_until, created_at, updated_at`

func scanTier(s scanner) (*popkit.Tier, error) {
	var t popkit.Tier
	var early, hold int64
	if err := s.Scan(&t.ID, &t.Name, &t.Slug, &early, &t.MemberOnlySessions, &hold,
		scanNullTime(&t.ValidFrom), scanNullTime(&t.ValidUntil), scanTime(&t.CreatedAt), scanTime(&t.UpdatedAt)); err != nil {
		return nil, err
	}
	t.EarlyAccess, t.Hold = time.Duration(early)*time.Second, time.Duration(hold)*time.Second
	return &t, nil
}

// FindTierByID returns one tier. Returns ENOTFOUND.
func (db *DB) FindTierByID(ctx context.Context, id string) (*popkit.Tier, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findTier(ctx, tx, "id", id)
}

func findTier(ctx context.Context, tx *txn, col, v string) (*popkit.Tier, error) {
	t, err := scanTier(tx.queryRow(ctx, `SELECT `+tierCols+` FROM tiers WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tier")
	} else if err != nil {
		return nil, wrap("find tier", err)
	}
	return t, nil
}

// FindTiers returns every tier, ordered by id.
func (db *DB) FindTiers(ctx context.Context) ([]*popkit.Tier, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.query(ctx, `SELECT `+tierCols+` FROM tiers ORDER BY id`)
	if err != nil {
		return nil, wrap("find tiers", err)
	}
	list, err := collect(rows, scanTier)
	if err != nil {
		return nil, wrap("find tiers", err)
	}
	return list, nil
}

// CreateTier stores a new tier. Returns EINVALID, and ECONFLICT when the
// slug is taken.
func (db *DB) CreateTier(ctx context.Context, t *popkit.Tier) error {
	if err := t.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t.ID = popkit.NewID()
	t.CreatedAt, t.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO tiers (`+tierCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Slug, int64(t.EarlyAccess/time.Second), t.MemberOnlySessions, int64(t.Hold/time.Second),
		tx.nullTimeArg(t.ValidFrom), tx.nullTimeArg(t.ValidUntil), tx.timeArg(t.CreatedAt), tx.timeArg(t.UpdatedAt)); err != nil {
		if isUniqueViolation(err) {
			return taken("slug")
		}
		return wrap("insert tier", err)
	}
	return tx.commit()
}

// UpdateTier changes a tier. Returns ENOTFOUND, EINVALID.
func (db *DB) UpdateTier(ctx context.Context, id string, u popkit.TierUpdate) (*popkit.Tier, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := findTier(ctx, tx, "id", id)
	if err != nil {
		return nil, err
	}
	u.Apply(t)
	if err := t.Validate(); err != nil {
		return nil, err
	}
	t.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE tiers SET name = ?, early_access_s = ?, member_only_sessions = ?, hold_s = ?, valid_from = ?, valid_until = ?, updated_at = ? WHERE id = ?`,
		t.Name, int64(t.EarlyAccess/time.Second), t.MemberOnlySessions, int64(t.Hold/time.Second),
		tx.nullTimeArg(t.ValidFrom), tx.nullTimeArg(t.ValidUntil), tx.timeArg(t.UpdatedAt), t.ID); err != nil {
		return nil, wrap("update tier", err)
	}
	return t, tx.commit()
}

const memberCols = `id, email, tier_id, status, starts_at, ends_at, external_ref, eligible_at, created_at, updated_at`

func scanMember(s scanner) (*popkit.Member, error) {
	var m popkit.Member
	var status string
	var ref *string
	if err := s.Scan(&m.ID, &m.Email, &m.TierID, &status, scanTime(&m.StartsAt), scanNullTime(&m.EndsAt), &ref,
		scanTime(&m.EligibleAt), scanTime(&m.CreatedAt), scanTime(&m.UpdatedAt)); err != nil {
		return nil, err
	}
	m.Status = popkit.MemberStatus(status)
	if ref != nil {
		m.ExternalRef = *ref
	}
	return &m, nil
}

// FindMemberByID returns one member. Returns ENOTFOUND.
func (db *DB) FindMemberByID(ctx context.Context, id string) (*popkit.Member, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findMember(ctx, tx, "id", id)
}

func findMember(ctx context.Context, tx *txn, col, v string) (*popkit.Member, error) {
	m, err := scanMember(tx.queryRow(ctx, `SELECT `+memberCols+` FROM members WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("member")
	} else if err != nil {
		return nil, wrap("find member", err)
	}
	return m, nil
}

// FindMembers returns a page of members, ordered by id, and the next
// cursor. Returns EINVALID for a bad page or status.
func (db *DB) FindMembers(ctx context.Context, f popkit.MemberFilter) ([]*popkit.Member, string, error) {
	var w where
	if f.TierID != "" {
		w.and("tier_id = ?", f.TierID)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, "", popkit.InvalidField("status", "must be one of active, past_due, cancelled")
		}
		w.and("status = ?", string(f.Status))
	}
	if f.Email != "" {
		w.and("email = ?", f.Email)
	}
	return findPage(ctx, db, "find members", f.Page, &w, memberCols, "members", scanMember, func(m *popkit.Member) string { return m.ID })
}

// CreateMember stores a new member; StartsAt defaults to now and EligibleAt
// to StartsAt plus the tier's hold. Returns EINVALID, EUNPROCESSABLE when
// the tier does not exist, ECONFLICT when the external reference is taken.
func (db *DB) CreateMember(ctx context.Context, m *popkit.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createMember(ctx, tx, m); err != nil {
		return err
	}
	return tx.commit()
}

func createMember(ctx context.Context, tx *txn, m *popkit.Member) error {
	tier, err := findTier(ctx, tx, "id", m.TierID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("tier_id", "tier")
	} else if err != nil {
		return err
	}
	m.ID = popkit.NewID()
	if m.StartsAt.IsZero() {
		m.StartsAt = tx.now
	}
	m.StartsAt = m.StartsAt.UTC().Truncate(time.Microsecond)
	m.EligibleAt = m.StartsAt.Add(tier.Hold)
	m.CreatedAt, m.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO members (`+memberCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Email, m.TierID, string(m.Status), tx.timeArg(m.StartsAt), tx.nullTimeArg(m.EndsAt), nullString(m.ExternalRef),
		tx.timeArg(m.EligibleAt), tx.timeArg(m.CreatedAt), tx.timeArg(m.UpdatedAt)); err != nil {
		if isUniqueViolation(err) {
			return taken("external_ref")
		}
		return wrap("insert member", err)
	}
	return nil
}

// UpdateMember changes a member. Returns ENOTFOUND, EINVALID,
// EUNPROCESSABLE when the new tier does not exist.
func (db *DB) UpdateMember(ctx context.Context, id string, u popkit.MemberUpdate) (*popkit.Member, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m, err := findMember(ctx, tx, "id", id)
	if err != nil {
		return nil, err
	}
	u.Apply(m)
	if err := updateMember(ctx, tx, m); err != nil {
		return nil, err
	}
	return m, tx.commit()
}

func updateMember(ctx context.Context, tx *txn, m *popkit.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if _, err := findTier(ctx, tx, "id", m.TierID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("tier_id", "tier")
	} else if err != nil {
		return err
	}
	m.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE members SET email = ?, tier_id = ?, status = ?, ends_at = ?, external_ref = ?, updated_at = ? WHERE id = ?`,
		m.Email, m.TierID, string(m.Status), tx.nullTimeArg(m.EndsAt), nullString(m.ExternalRef), tx.timeArg(m.UpdatedAt), m.ID); err != nil {
		if isUniqueViolation(err) {
			return taken("external_ref")
		}
		return wrap("update member", err)
	}
	return nil
}

// ApplyBillingEvent applies a verified webhook event in one transaction.
// The webhook id is recorded first, so that a replay changes nothing.
// Returns EINVALID, EUNPROCESSABLE for an unknown tier or an update of an
// unknown subscription, and ECONFLICT for a webhook id seen before.
func (db *DB) ApplyBillingEvent(ctx context.Context, e *popkit.BillingEvent) (*popkit.Member, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `INSERT INTO billing_webhooks (webhook_id, received_at) VALUES (?, ?)`, e.WebhookID, tx.timeArg(tx.now)); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict("webhook-id", "webhook %s was already applied", e.WebhookID)
		}
		return nil, wrap("record webhook", err)
	}
	m, err := findMember(ctx, tx, "external_ref", e.ExternalRef)
	if err != nil && popkit.ErrorCode(err) != popkit.ENOTFOUND {
		return nil, err
	}
	var tier *popkit.Tier
	if e.TierSlug != "" {
		tier, err = findTier(ctx, tx, "slug", e.TierSlug)
		if popkit.ErrorCode(err) == popkit.ENOTFOUND {
			return nil, missingRef("tier", "tier")
		} else if err != nil {
			return nil, err
		}
	}
	status := e.Status
	if e.Type == popkit.BillingCancelled {
		status = popkit.MemberCancelled
	} else if status == "" {
		status = popkit.MemberActive
	}
	switch {
	case m == nil && e.Type != popkit.BillingCreated:
		return nil, missingRef("subscription_id", "subscription")
	case m == nil:
		m = &popkit.Member{Email: e.Email, TierID: tier.ID, Status: status, ExternalRef: e.ExternalRef, EndsAt: e.EndsAt}
		if e.StartsAt != nil {
			m.StartsAt = *e.StartsAt
		}
		if err := m.Validate(); err != nil {
			return nil, err
		}
		if err := createMember(ctx, tx, m); err != nil {
			return nil, err
		}
	default:
		m.Status = status
		if e.Email != "" {
			m.Email = e.Email
		}
		if tier != nil {
			m.TierID = tier.ID
		}
		if e.EndsAt != nil {
			m.EndsAt = e.EndsAt
		}
		if err := updateMember(ctx, tx, m); err != nil {
			return nil, err
		}
	}
	return m, tx.commit()
}

// Secret returns the secret with this name, creating 32 random bytes on
// first use. Replicas that start together agree on one value: the insert
// does nothing when another replica won, and the stored value is read back.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	read := func() ([]byte, error) {
		tx, err := db.begin(ctx, false)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		var v []byte
		err = tx.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, wrap("read secret", err)
		}
		return v, nil
	}
	if v, err := read(); err != nil || v != nil {
		return v, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v := make([]byte, 32)
	rand.Read(v)
	if _, err := tx.exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, v, tx.timeArg(tx.now)); err != nil {
		return nil, wrap("store secret", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return read()
}
