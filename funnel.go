package popkit

import (
	"context"
	"time"
)

// CheckinSource is where a member checked in.
type CheckinSource string

// Check-in sources: the edge point of sale scanned or typed the member's
// code, or a door device did.
const (
	CheckinPOS  CheckinSource = "pos"
	CheckinDoor CheckinSource = "door"
)

// Valid reports whether s is a known source.
func (s CheckinSource) Valid() bool { return s == CheckinPOS || s == CheckinDoor }

// Checkin records a member at an event's door: the consented basis for
// repeat-visit counting.
type Checkin struct {
	ID       string        `json:"id"`
	MemberID string        `json:"member_id"`
	EventID  string        `json:"event_id"`
	Source   CheckinSource `json:"source"`
	At       time.Time     `json:"at"`
}

// NotifySignup asks to be told when a listing opens. ConsentAt is when the
// person agreed to be emailed about it.
type NotifySignup struct {
	ID        string    `json:"id"`
	ListingID string    `json:"listing_id"`
	Email     string    `json:"email"`
	ConsentAt time.Time `json:"consent_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the sign-up.
func (n *NotifySignup) Validate() error {
	var v Validation
	v.Check(ValidID(n.ListingID), "listing_id", "must be a listing id")
	v.Check(validEmail(n.Email), "email", "must be an email address")
	v.Check(!n.ConsentAt.IsZero(), "consent", "must be given")
	return v.Err()
}

// PageView is one view of a listing page. Visitor is what identifies a
// browser for one day only (typically the client IP and User-Agent); it is
// hashed with a salt that rotates daily and is never stored.
type PageView struct {
	ListingID string
	Visitor   string
}

// FunnelDay holds the counts of one listing on one UTC day. Uniques is an
// estimate of distinct visitors that day.
type FunnelDay struct {
	ListingID string `json:"listing_id"`
	Day       string `json:"day"` // 2006-01-02 (UTC)
	Views     int64  `json:"views"`
	Uniques   int64  `json:"uniques"`
	Notifies  int64  `json:"notifies"`
	Checkins  int64  `json:"checkins"`
}

// FunnelService records and reads the discovery funnel without personal
// data for page views: counts per listing per day, and a salted hash per
// visitor that lives only for the day.
type FunnelService interface {
	// RecordPageView counts one view of a listing page. Returns ENOTFOUND
	// for an unknown listing.
	RecordPageView(ctx context.Context, v PageView) error
	// CreateNotifySignup stores a notify-me sign-up; signing up twice for
	// one listing keeps the first. Returns EINVALID, ENOTFOUND for an
	// unknown or unpublished listing.
	CreateNotifySignup(ctx context.Context, n *NotifySignup) error
	// CreateCheckin records a member at an event. Returns EINVALID,
	// EUNPROCESSABLE when the member or event does not exist, ECONFLICT
	// when the membership is not active.
	CreateCheckin(ctx context.Context, c *Checkin) error
	// FunnelCounts returns the daily counts of a listing for days in
	// [from, to), oldest first; days without activity are left out.
	FunnelCounts(ctx context.Context, listingID string, from, to time.Time) ([]FunnelDay, error)
}
