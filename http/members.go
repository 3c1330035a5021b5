package http

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/popkit/popkit"
)

// tierInput is the body of POST /api/v1/tiers; durations are whole hours.
type tierInput struct {
	Name               string     `json:"name"`
	Slug               string     `json:"slug"`
	EarlyAccessHours   int64      `json:"early_access_hours"`
	MemberOnlySessions bool       `json:"member_only_sessions"`
	HoldHours          *int64     `json:"hold_hours"`
	ValidFrom          *time.Time `json:"valid_from"`
	ValidUntil         *time.Time `json:"valid_until"`
}

// tierPatch is the body of PATCH /api/v1/tiers/{id}.
type tierPatch struct {
	Name               *string    `json:"name"`
	EarlyAccessHours   *int64     `json:"early_access_hours"`
	MemberOnlySessions *bool      `json:"member_only_sessions"`
	HoldHours          *int64     `json:"hold_hours"`
	ValidFrom          *time.Time `json:"valid_from"`
	ValidUntil         *time.Time `json:"valid_until"`
}

// hours converts whole hours to a duration; values out of range become -1,
// which validation refuses.
func hours(h int64) time.Duration {
	if h < 0 || h > 100000 {
		return -1
	}
	return time.Duration(h) * time.Hour
}

func (s *Server) listTiers(w http.ResponseWriter, r *http.Request) {
	tiers, err := s.Tiers.FindTiers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.Tier]{Items: tiers})
}

func (s *Server) createTier() http.HandlerFunc {
	return handleCreate(s, "/api/v1/tiers", func(_ *popkit.Token, in *tierInput) (*popkit.Tier, error) {
		t := &popkit.Tier{Name: in.Name, Slug: in.Slug, EarlyAccess: hours(in.EarlyAccessHours), MemberOnlySessions: in.MemberOnlySessions,
			Hold: popkit.DefaultMemberHold, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil}
		if in.HoldHours != nil {
			t.Hold = hours(*in.HoldHours)
		}
		return t, nil
	}, s.Tiers.CreateTier, func(t *popkit.Tier) string { return t.ID })
}

func (s *Server) getTier() http.HandlerFunc {
	return handleGet(s, "tier", s.Tiers.FindTierByID, nil)
}

func (s *Server) patchTier() http.HandlerFunc {
	return handlePatch(s, "tier", s.Tiers.FindTierByID, nil, func(ctx context.Context, id string, p tierPatch) (*popkit.Tier, error) {
		u := popkit.TierUpdate{Name: p.Name, MemberOnlySessions: p.MemberOnlySessions, ValidFrom: p.ValidFrom, ValidUntil: p.ValidUntil}
		if p.EarlyAccessHours != nil {
			d := hours(*p.EarlyAccessHours)
			u.EarlyAccess = &d
		}
		if p.HoldHours != nil {
			d := hours(*p.HoldHours)
			u.Hold = &d
		}
		return s.Tiers.UpdateTier(ctx, id, u)
	})
}

// memberInput is the body of POST /api/v1/members.
type memberInput struct {
	Email       string              `json:"email"`
	TierID      string              `json:"tier_id"`
	Status      popkit.MemberStatus `json:"status"`
	StartsAt    *time.Time          `json:"starts_at"`
	EndsAt      *time.Time          `json:"ends_at"`
	ExternalRef string              `json:"external_ref"`
}

func validMemberStatus(s string) bool { return popkit.MemberStatus(s).Valid() }

func (s *Server) listMembers() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.MemberFilter, error) {
		return popkit.MemberFilter{
			TierID: q.id("tier_id"),
			Status: popkit.MemberStatus(q.str("status", validMemberStatus, "must be one of active, past_due, cancelled")),
			Email:  q.r.URL.Query().Get("email"),
			Page:   q.page(),
		}, nil
	}, s.Members.FindMembers)
}

func (s *Server) createMember() http.HandlerFunc {
	return handleCreate(s, "/api/v1/members", func(_ *popkit.Token, in *memberInput) (*popkit.Member, error) {
		m := &popkit.Member{Email: in.Email, TierID: in.TierID, Status: in.Status, EndsAt: in.EndsAt, ExternalRef: in.ExternalRef}
		if in.StartsAt != nil {
			m.StartsAt = *in.StartsAt
		}
		return m, nil
	}, s.Members.CreateMember, func(m *popkit.Member) string { return m.ID })
}

func (s *Server) getMember() http.HandlerFunc {
	return handleGet(s, "member", s.Members.FindMemberByID, nil)
}

func (s *Server) patchMember() http.HandlerFunc {
	return handlePatch(s, "member", s.Members.FindMemberByID, nil, s.Members.UpdateMember)
}

// memberLinkTTL bounds how long a member link is valid.
const memberLinkTTL = 90 * 24 * time.Hour

// memberLink is the body of POST /api/v1/members/{id}/link.
type memberLink struct {
	Code      string    `json:"code"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createMemberLink issues a personal signed link: HMAC-SHA256 under the
// member-link secret over the member id and the expiry, which is 90 days
// ahead or the end of the membership, whichever comes first.
func (s *Server) createMemberLink(w http.ResponseWriter, r *http.Request) {
	m, err := load(r, "id", "member", s.Members.FindMemberByID, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	if !m.Active(now) && !now.Before(m.StartsAt) {
		s.writeError(w, r, popkit.Errorf(popkit.ECONFLICT, "the membership is not in force"))
		return
	}
	exp := now.Add(memberLinkTTL).Truncate(time.Second)
	if m.EndsAt != nil && m.EndsAt.Before(exp) {
		exp = m.EndsAt.Truncate(time.Second)
	}
	key, err := s.Secrets.Secret(r.Context(), popkit.SecretMemberLink)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := popkit.SignMemberCode(key, m.ID, exp)
	writeJSON(w, r, http.StatusCreated, memberLink{Code: code, Path: "/m/" + code, ExpiresAt: exp.UTC()})
}

// billingResult is the answer to an applied billing webhook.
type billingResult struct {
	Status   string `json:"status"`
	MemberID string `json:"member_id"`
}

// billingWebhook serves POST /api/v1/webhooks/billing. It authenticates the
// message by its Standard Webhooks signature, not a bearer token: a bad
// signature or a stale timestamp is 401, a webhook id applied before is
// 409, and in both cases nothing changes.
func (s *Server) billingWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key := s.BillingSecret
	if len(key) == 0 {
		if key, err = s.Secrets.Secret(r.Context(), popkit.SecretBilling); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	id := r.Header.Get("webhook-id")
	if err := popkit.VerifyWebhook(key, id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	var ev popkit.BillingEvent
	if err := decodeBytes(body, &ev); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev.WebhookID = id
	m, err := s.Billing.ApplyBillingEvent(r.Context(), &ev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, billingResult{Status: "applied", MemberID: m.ID})
}

// checkinInput is the body of POST /api/v1/checkins.
type checkinInput struct {
	Code    string               `json:"code"`
	EventID string               `json:"event_id"`
	Source  popkit.CheckinSource `json:"source"`
}

// createCheckin records a member at an event's door from the member code
// that the POS scanned or typed. Device tokens check in at their own event
// (event_id may be left out); admins must name the event.
func (s *Server) createCheckin(w http.ResponseWriter, r *http.Request) {
	var in checkinInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t := token(r)
	if t.Role == popkit.RoleDevice {
		if in.EventID == "" {
			in.EventID = t.EventID
		}
		if err := useEvent(t, in.EventID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if in.Source == "" {
		in.Source = popkit.CheckinPOS
	}
	key, err := s.Secrets.Secret(r.Context(), popkit.SecretMemberLink)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	memberID, err := popkit.VerifyMemberCode(key, in.Code, s.now())
	if err != nil {
		// A bad code is bad input from the scanner, not bad credentials.
		var e *popkit.Error
		msg := "member code is not valid"
		if errors.As(err, &e) {
			msg = e.Message
		}
		s.writeError(w, r, &popkit.Error{Code: popkit.EUNPROCESSABLE, Message: msg, Fields: []popkit.FieldError{{Field: "code", Message: msg}}})
		return
	}
	c := &popkit.Checkin{MemberID: memberID, EventID: in.EventID, Source: in.Source}
	if err := s.Funnel.CreateCheckin(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, c)
}
