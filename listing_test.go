package popkit_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func TestListingVisibleTo(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	public := t0.Add(72 * time.Hour)
	early := &popkit.Tier{ID: popkit.NewID(), Name: "Member", Slug: "member", EarlyAccess: 48 * time.Hour, MemberOnlySessions: true}
	free := &popkit.Tier{ID: popkit.NewID(), Name: "Free", Slug: "free"}
	member := &popkit.Member{ID: popkit.NewID(), TierID: early.ID, Status: popkit.MemberActive, StartsAt: t0.Add(-30 * 24 * time.Hour), EligibleAt: t0.Add(-28 * 24 * time.Hour)}
	newbie := &popkit.Member{ID: popkit.NewID(), TierID: early.ID, Status: popkit.MemberActive, StartsAt: t0, EligibleAt: t0.Add(popkit.DefaultMemberHold)}
	lapsed := *member
	lapsed.Status = popkit.MemberCancelled
	freeMember := &popkit.Member{ID: popkit.NewID(), TierID: free.ID, Status: popkit.MemberActive, StartsAt: t0.Add(-time.Hour * 1000)}
	expiredTier := *early
	until := t0
	expiredTier.ValidUntil = &until

	withWindow := func(members *time.Time) *popkit.Listing {
		p := public
		return &popkit.Listing{Live: &popkit.ListingContent{PublicFrom: &p, MembersFrom: members}, LiveRevision: 1, WorkingRevision: 1, State: popkit.ListingPublished}
	}
	membersFrom := t0.Add(-time.Hour)
	tests := []struct {
		name    string
		listing *popkit.Listing
		viewer  popkit.Viewer
		at      time.Time
		want    bool
	}{
		{"unpublished never", &popkit.Listing{State: popkit.ListingApproved, Working: popkit.ListingContent{}}, popkit.Viewer{Member: member, Tier: early}, public.Add(1000 * time.Hour), false},
		{"public just before", withWindow(nil), popkit.Viewer{}, public.Add(-time.Nanosecond), false},
		{"public at public_from", withWindow(nil), popkit.Viewer{}, public, true},
		{"no window is public at once", &popkit.Listing{Live: &popkit.ListingContent{}, LiveRevision: 1}, popkit.Viewer{}, t0, true},
		{"member at tier offset", withWindow(nil), popkit.Viewer{Member: member, Tier: early}, public.Add(-48 * time.Hour), true},
		{"member just before offset", withWindow(nil), popkit.Viewer{Member: member, Tier: early}, public.Add(-48*time.Hour - time.Nanosecond), false},
		{"members_from overrides offset", withWindow(&membersFrom), popkit.Viewer{Member: member, Tier: early}, membersFrom, true},
		{"before members_from", withWindow(&membersFrom), popkit.Viewer{Member: member, Tier: early}, membersFrom.Add(-time.Nanosecond), false},
		{"public ignores members_from", withWindow(&membersFrom), popkit.Viewer{}, membersFrom, false},
		{"member on hold", withWindow(&membersFrom), popkit.Viewer{Member: newbie, Tier: early}, t0.Add(47 * time.Hour), false},
		{"member hold just over", withWindow(&membersFrom), popkit.Viewer{Member: newbie, Tier: early}, t0.Add(48 * time.Hour), true},
		{"cancelled member", withWindow(&membersFrom), popkit.Viewer{Member: &lapsed, Tier: early}, t0, false},
		{"tier without early access", withWindow(&membersFrom), popkit.Viewer{Member: freeMember, Tier: free}, t0, false},
		{"tier no longer valid", withWindow(&membersFrom), popkit.Viewer{Member: member, Tier: &expiredTier}, t0, false},
		{"tier of another member", withWindow(&membersFrom), popkit.Viewer{Member: freeMember, Tier: early}, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.listing.VisibleTo(tt.at, tt.viewer); got != tt.want {
				t.Fatalf("VisibleTo = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSessionVisibleTo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tier := &popkit.Tier{ID: popkit.NewID(), MemberOnlySessions: true, EarlyAccess: time.Hour}
	m := &popkit.Member{ID: popkit.NewID(), TierID: tier.ID, Status: popkit.MemberActive, StartsAt: now}
	l := &popkit.Listing{Live: &popkit.ListingContent{MemberOnlySessions: []popkit.LocalTime{"2026-05-02T18:00"}}, LiveRevision: 1}
	open := popkit.Session{Start: "2026-05-02T10:00"}
	private := popkit.Session{Start: "2026-05-02T18:00"}
	tests := []struct {
		name   string
		s      popkit.Session
		viewer popkit.Viewer
		want   bool
	}{
		{"open session public", open, popkit.Viewer{}, true},
		{"member-only hidden from public", private, popkit.Viewer{}, false},
		{"member-only shown to member (no hold needed)", private, popkit.Viewer{Member: m, Tier: tier}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.SessionVisibleTo(tt.s, now, tt.viewer); got != tt.want {
				t.Fatalf("SessionVisibleTo = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemberCode(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id := popkit.NewID()
	code := popkit.SignMemberCode(secret, id, now.Add(time.Hour))
	tests := []struct {
		name   string
		secret []byte
		code   string
		at     time.Time
		ok     bool
	}{
		{"valid", secret, code, now, true},
		{"expired at expiry", secret, code, now.Add(time.Hour), false},
		{"other secret", []byte("another secret"), code, now, false},
		{"tampered id", secret, popkit.NewID() + code[36:], now, false},
		{"tampered expiry", secret, code[:37] + "9" + code[38:], now, false},
		{"garbage", secret, "not.a.code", now, false},
		{"empty", secret, "", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := popkit.VerifyMemberCode(tt.secret, tt.code, tt.at)
			if tt.ok != (err == nil) || (tt.ok && got != id) {
				t.Fatalf("VerifyMemberCode = %q, %v; want ok=%v", got, err, tt.ok)
			}
			if err != nil && popkit.ErrorCode(err) != popkit.EUNAUTHORIZED {
				t.Fatalf("code %s, want unauthorized", popkit.ErrorCode(err))
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("whsec-test-secret")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"subscription.created"}`)
	ts := func(t time.Time) string { return itoa(t.Unix()) }
	sig := popkit.SignWebhook(secret, "msg_1", now, body)
	tests := []struct {
		name          string
		id, stamp, sg string
		body          []byte
		ok            bool
	}{
		{"valid", "msg_1", ts(now), sig, body, true},
		{"valid among several", "msg_1", ts(now), "v1,AAAA " + sig, body, true},
		{"at tolerance", "msg_1", ts(now.Add(-5 * time.Minute)), popkit.SignWebhook(secret, "msg_1", now.Add(-5*time.Minute), body), body, true},
		{"too old", "msg_1", ts(now.Add(-5*time.Minute - time.Second)), popkit.SignWebhook(secret, "msg_1", now.Add(-5*time.Minute-time.Second), body), body, false},
		{"from the future", "msg_1", ts(now.Add(6 * time.Minute)), popkit.SignWebhook(secret, "msg_1", now.Add(6*time.Minute), body), body, false},
		{"body changed", "msg_1", ts(now), sig, []byte(`{"type":"subscription.cancelled"}`), false},
		{"id changed", "msg_2", ts(now), sig, body, false},
		{"wrong version", "msg_1", ts(now), "v2" + sig[2:], body, false},
		{"no signature", "msg_1", ts(now), "", body, false},
		{"bad timestamp", "msg_1", "12x", sig, body, false},
		{"no id", "", ts(now), sig, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := popkit.VerifyWebhook(secret, tt.id, tt.stamp, tt.sg, tt.body, now)
			if tt.ok != (err == nil) {
				t.Fatalf("VerifyWebhook = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func FuzzVerifyWebhook(f *testing.F) {
	secret := []byte("whsec-fuzz")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"subscription.created"}`)
	f.Add("msg_1", "1777636800", popkit.SignWebhook(secret, "msg_1", now, body), body)
	f.Add("", "", "v1,", []byte{})
	f.Fuzz(func(t *testing.T, id, stamp, sig string, body []byte) {
		err := popkit.VerifyWebhook(secret, id, stamp, sig, body, now)
		if err == nil {
			// Accepted: the header must hold the signature of this very id,
			// timestamp and body.
			n, perr := strconv.ParseInt(stamp, 10, 64)
			if perr != nil || !slices.Contains(strings.Fields(sig), popkit.SignWebhook(secret, id, time.Unix(n, 0), body)) {
				t.Fatalf("accepted a message whose signature does not match: id %q ts %q sig %q", id, stamp, sig)
			}
		}
		if err != nil && popkit.ErrorCode(err) != popkit.EUNAUTHORIZED {
			t.Fatalf("code %s, want unauthorized", popkit.ErrorCode(err))
		}
	})
}

func FuzzVerifyMemberCode(f *testing.F) {
	secret := []byte("member-secret")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Add(popkit.SignMemberCode(secret, "0190f1a2-0000-7000-8000-000000000000", now.Add(time.Hour)))
	f.Add("x.y.z")
	f.Fuzz(func(t *testing.T, code string) {
		id, err := popkit.VerifyMemberCode(secret, code, now)
		if err == nil && !popkit.ValidID(id) {
			t.Fatalf("accepted code %q with bad id %q", code, id)
		}
	})
}

func TestCurationStepValidate(t *testing.T) {
	tests := []struct {
		name  string
		step  popkit.CurationStep
		field string // "" when valid
	}{
		{"submit", popkit.CurationStep{Action: popkit.ActionSubmit}, ""},
		{"reject with reason", popkit.CurationStep{Action: popkit.ActionReject, Reason: popkit.RejectPolicy}, ""},
		{"reject without reason", popkit.CurationStep{Action: popkit.ActionReject}, "reason"},
		{"reject off the list", popkit.CurationStep{Action: popkit.ActionReject, Reason: "ugly"}, "reason"},
		{"other needs a note", popkit.CurationStep{Action: popkit.ActionReject, Reason: popkit.RejectOther}, "note"},
		{"other with a note", popkit.CurationStep{Action: popkit.ActionReject, Reason: popkit.RejectOther, Note: "tone"}, ""},
		{"approve with reason", popkit.CurationStep{Action: popkit.ActionApprove, Reason: popkit.RejectPolicy}, "reason"},
		{"unknown action", popkit.CurationStep{Action: "delete"}, "action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.step.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !slices.ContainsFunc(popkit.ErrorFields(err), func(f popkit.FieldError) bool { return f.Field == tt.field }) {
				t.Fatalf("Validate = %v, want a %s error", err, tt.field)
			}
		})
	}
}

func TestCurationTransitions(t *testing.T) {
	states := []popkit.CurationState{popkit.ListingDraft, popkit.ListingSubmitted, popkit.ListingApproved, popkit.ListingRejected, popkit.ListingPublished}
	actions := []popkit.CurationAction{popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionReject, popkit.ActionPublish}
	legal := map[string]popkit.CurationState{
		"draft submit": popkit.ListingSubmitted, "submitted approve": popkit.ListingApproved, "submitted reject": popkit.ListingRejected,
		"approved reject": popkit.ListingRejected, "approved publish": popkit.ListingPublished,
	}
	for _, s := range states {
		for _, a := range actions {
			name := string(s) + " " + string(a)
			t.Run(name, func(t *testing.T) {
				got, err := s.Next(a)
				want, ok := legal[name]
				if ok && (err != nil || got != want) {
					t.Fatalf("Next = %s, %v; want %s", got, err, want)
				}
				if !ok && popkit.ErrorCode(err) != popkit.ECONFLICT {
					t.Fatalf("Next = %s, %v; want a conflict", got, err)
				}
			})
		}
	}
}
