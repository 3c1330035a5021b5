package popkit

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// CurationState is where a listing's working revision is in curation.
type CurationState string

// Curation states. A revision is drafted, submitted for review, approved or
// rejected by a curator, and an approved revision is published. Editing a
// rejected, approved or published listing starts a new draft revision;
// the last published revision stays live until a newer one is published.
const (
	ListingDraft     CurationState = "draft"
	ListingSubmitted CurationState = "submitted"
	ListingApproved  CurationState = "approved"
	ListingRejected  CurationState = "rejected"
	ListingPublished CurationState = "published"
)

// Valid reports whether s is a known curation state.
func (s CurationState) Valid() bool {
	switch s {
	case ListingDraft, ListingSubmitted, ListingApproved, ListingRejected, ListingPublished:
		return true
	}
	return false
}

// CurationAction is one step of curation.
type CurationAction string

// Curation actions. Create and Update are recorded in the log like the
// review steps, so that the log tells the whole story of a listing.
const (
	ActionCreate  CurationAction = "create"
	ActionUpdate  CurationAction = "update"
	ActionSubmit  CurationAction = "submit"
	ActionApprove CurationAction = "approve"
	ActionReject  CurationAction = "reject"
	ActionPublish CurationAction = "publish"
)

// curationTransitions maps a review action to the states it may start from
// and the state it leads to.
var curationTransitions = map[CurationAction]struct {
	from []CurationState
	to   CurationState
}{
	ActionSubmit:  {[]CurationState{ListingDraft}, ListingSubmitted},
	ActionApprove: {[]CurationState{ListingSubmitted}, ListingApproved},
	ActionReject:  {[]CurationState{ListingSubmitted, ListingApproved}, ListingRejected},
	ActionPublish: {[]CurationState{ListingApproved}, ListingPublished},
}

// Next returns the state that action leads to from state s. It returns
// EINVALID for an action that is not a review step and ECONFLICT for an
// illegal transition.
func (s CurationState) Next(action CurationAction) (CurationState, error) {
	t, ok := curationTransitions[action]
	if !ok {
		return "", InvalidField("action", "must be one of submit, approve, reject, publish")
	}
	if !slices.Contains(t.from, s) {
		return "", Errorf(ECONFLICT, "cannot %s a listing that is %s", action, s)
	}
	return t.to, nil
}

// RejectReason is why a curator rejected a revision, from a fixed list.
type RejectReason string

// Reject reasons.
const (
	RejectIncomplete   RejectReason = "incomplete"    // required information is missing
	RejectInaccurate   RejectReason = "inaccurate"    // dates, venue or prices are wrong
	RejectImageQuality RejectReason = "image_quality" // images missing, too small, or unsuitable
	RejectOffBrief     RejectReason = "off_brief"     // does not fit the program's curation brief
	RejectPolicy       RejectReason = "policy"        // breaks the content policy
	RejectDuplicate    RejectReason = "duplicate"     // duplicates another listing
	RejectOther        RejectReason = "other"         // see the note
)

// RejectReasons lists every reject reason.
var RejectReasons = []RejectReason{RejectIncomplete, RejectInaccurate, RejectImageQuality, RejectOffBrief, RejectPolicy, RejectDuplicate, RejectOther}

// Valid reports whether r is a known reason.
func (r RejectReason) Valid() bool { return slices.Contains(RejectReasons, r) }

// Image is a picture of a listing. Width and height are in pixels, so that
// pages reserve the space and do not shift when the image loads.
type Image struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Alt    string `json:"alt"`
}

// PriceRange is the range of prices at an event in minor units of the
// event's currency (its city's, Event.Currency).
type PriceRange struct {
	MinMinor int64 `json:"min_minor"`
	MaxMinor int64 `json:"max_minor"`
}

// ListingContent is the editable content of one listing revision. Sessions
// and venue come from the event; MemberOnlySessions names sessions of the
// event (by their local start) that only members of a tier allowing
// member-only sessions may see.
type ListingContent struct {
	Title              string      `json:"title"`
	Summary            string      `json:"summary"`
	Description        string      `json:"description"`
	Images             []Image     `json:"images"`
	BrandIDs           []string    `json:"brand_ids"`
	Categories         []string    `json:"categories"`
	Tags               []string    `json:"tags"`
	Price              *PriceRange `json:"price,omitempty"`
	MemberOnlySessions []LocalTime `json:"member_only_sessions"`
	MembersFrom        *time.Time  `json:"members_from,omitempty"`
	PublicFrom         *time.Time  `json:"public_from,omitempty"`
}

// Limits of listing content.
const (
	MaxSummaryRunes     = 160
	MaxDescriptionRunes = 10000
	MaxListingImages    = 20
	MaxListingTerms     = 20 // categories, and tags
)

// Normalize makes nil lists empty, so that JSON shows [] and comparisons
// see no difference between nil and empty.
func (c *ListingContent) Normalize() {
	if c.Images == nil {
		c.Images = []Image{}
	}
	if c.BrandIDs == nil {
		c.BrandIDs = []string{}
	}
	if c.Categories == nil {
		c.Categories = []string{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.MemberOnlySessions == nil {
		c.MemberOnlySessions = []LocalTime{}
	}
	for _, t := range []*time.Time{c.MembersFrom, c.PublicFrom} {
		if t != nil {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
}

// Validate checks the content against the event it presents: brands must
// take part in the event and member-only sessions must be sessions of it.
// ev may be nil when the event is not known; those checks are then skipped.
// It returns an EINVALID *Error naming every bad field.
func (c *ListingContent) Validate(ev *Event) error {
	c.Normalize()
	var v Validation
	checkText(&v, "title", c.Title, 200, true)
	checkText(&v, "summary", c.Summary, MaxSummaryRunes, true)
	checkText(&v, "description", c.Description, MaxDescriptionRunes, false)
	v.Check(len(c.Images) <= MaxListingImages, "images", "at most %d images", MaxListingImages)
	for i, im := range c.Images {
		f := fmt.Sprintf("images[%d]", i)
		v.Check(validImageURL(im.URL), f+".url", "must be an absolute http(s) URL or a path starting with /")
		v.Check(im.Width >= 1 && im.Width <= 10000, f+".width", "must be between 1 and 10000 pixels")
		v.Check(im.Height >= 1 && im.Height <= 10000, f+".height", "must be between 1 and 10000 pixels")
		checkText(&v, f+".alt", im.Alt, 300, true)
	}
	seen := map[string]bool{}
	for i, id := range c.BrandIDs {
		f := fmt.Sprintf("brand_ids[%d]", i)
		switch {
		case !ValidID(id):
			v.Add(f, "must be a brand id")
		case seen[id]:
			v.Add(f, "is listed twice")
		case ev != nil && !ev.HasBrand(id):
			v.Add(f, "does not take part in the event")
		}
		seen[id] = true
	}
	checkTerms(&v, "categories", c.Categories)
	checkTerms(&v, "tags", c.Tags)
	if c.Price != nil {
		v.Check(c.Price.MinMinor >= 0, "price.min_minor", "must not be negative")
		v.Check(c.Price.MaxMinor >= c.Price.MinMinor, "price.max_minor", "must not be below min_minor")
	}
	seenStart := map[LocalTime]bool{}
	for i, s := range c.MemberOnlySessions {
		f := fmt.Sprintf("member_only_sessions[%d]", i)
		switch {
		case seenStart[s]:
			v.Add(f, "is listed twice")
		case ev != nil && !slices.ContainsFunc(ev.Sessions, func(x Session) bool { return x.Start == s }):
			v.Add(f, "must be the start of one of the event's sessions")
		}
		seenStart[s] = true
	}
	if c.MembersFrom != nil && c.PublicFrom != nil && c.MembersFrom.After(*c.PublicFrom) {
		v.Add("members_from", "must not be after public_from")
	}
	return v.Err()
}

func checkText(v *Validation, field, s string, maxRunes int, required bool) {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		v.Add(field, "must be valid UTF-8 text")
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > maxRunes:
		v.Add(field, "must be at most %d characters", maxRunes)
	}
}

func checkTerms(v *Validation, field string, terms []string) {
	if len(terms) > MaxListingTerms {
		v.Add(field, "at most %d entries", MaxListingTerms)
		return
	}
	seen := map[string]bool{}
	for i, t := range terms {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ValidSlug(t):
			v.Add(f, "must be 1-80 lower-case letters, digits and hyphens")
		case seen[t]:
			v.Add(f, "is listed twice")
		}
		seen[t] = true
	}
}

func validImageURL(s string) bool {
	if len(s) > 2000 || s == "" {
		return false
	}
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return !strings.ContainsAny(s, " \t\r\n\"'<>\\")
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n\"'<>\\")
}

// Listing presents one event on the microsite. Its content lives in
// numbered revisions: Working is the revision being edited or reviewed and
// State is where that revision is in curation; Live is the last published
// revision (nil until the first publication), which the public sees while a
// newer revision is in review. When nothing is pending, Working and Live
// are the same revision and State is published.
type Listing struct {
	ID       string `json:"id"`
	EventID  string `json:"event_id"`
	Slug     string `json:"slug"`
	CityID   string `json:"city_id"`   // from the event's venue
	VenueID  string `json:"venue_id"`  // from the event
	TimeZone string `json:"time_zone"` // from the event's venue
	// EventBrandIDs are the brands taking part in the event, which may act
	// on the listing with brand tokens.
	EventBrandIDs []string    `json:"event_brand_ids"`
	EventStatus   EventStatus `json:"event_status"`
	StartsAt      time.Time   `json:"starts_at"` // the event's span (UTC)
	EndsAt        time.Time   `json:"ends_at"`

	State           CurationState   `json:"state"`
	WorkingRevision int             `json:"working_revision"`
	Working         ListingContent  `json:"working"`
	LiveRevision    int             `json:"live_revision,omitempty"` // 0 while never published
	Live            *ListingContent `json:"live,omitempty"`
	RejectReason    RejectReason    `json:"reject_reason,omitempty"`
	RejectNote      string          `json:"reject_note,omitempty"`

	PublishedAt *time.Time `json:"published_at,omitempty"` // first publication
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// HasEventBrand reports whether brand id takes part in the listing's event.
func (l *Listing) HasEventBrand(id string) bool {
	return slices.Contains(l.EventBrandIDs, id)
}

// Pending reports whether the working revision differs from the live one.
func (l *Listing) Pending() bool {
	return l.Live == nil || l.WorkingRevision != l.LiveRevision
}

// Viewer is who looks at a public page: nobody known (both nil), or a
// member with their tier.
type Viewer struct {
	Member *Member
	Tier   *Tier
}

// EarlyAccess reports whether the viewer is entitled to early access at
// now: an active member past their hold, whose tier is valid at now and
// grants early access.
func (v Viewer) EarlyAccess(now time.Time) bool {
	return v.Member != nil && v.Tier != nil && v.Member.TierID == v.Tier.ID &&
		v.Member.Eligible(now) && v.Tier.ValidAt(now) && v.Tier.EarlyAccess > 0
}

// MemberSessions reports whether the viewer may see member-only sessions at
// now.
func (v Viewer) MemberSessions(now time.Time) bool {
	return v.Member != nil && v.Tier != nil && v.Member.TierID == v.Tier.ID &&
		v.Member.Active(now) && v.Tier.ValidAt(now) && v.Tier.MemberOnlySessions
}

// VisibleFrom returns the first instant at which the live revision is
// visible to viewer, and false when it never is (nothing published).
// The public sees it from public_from (or at once when unset). A viewer
// with early access sees it from members_from when set, else from
// public_from minus the tier's early-access offset; never later than the
// public.
func (l *Listing) VisibleFrom(viewer Viewer, now time.Time) (time.Time, bool) {
	if l.Live == nil {
		return time.Time{}, false
	}
	public := time.Time{}
	if l.Live.PublicFrom != nil {
		public = *l.Live.PublicFrom
	}
	if !viewer.EarlyAccess(now) {
		return public, true
	}
	early := public
	if l.Live.MembersFrom != nil {
		early = *l.Live.MembersFrom
	} else if !public.IsZero() {
		early = public.Add(-viewer.Tier.EarlyAccess)
	}
	if early.After(public) {
		early = public
	}
	return early, true
}

// VisibleTo reports whether the live revision of the listing may be shown
// to viewer at now. Nothing unpublished is ever visible.
func (l *Listing) VisibleTo(now time.Time, viewer Viewer) bool {
	from, ok := l.VisibleFrom(viewer, now)
	return ok && !now.Before(from)
}

// SessionVisibleTo reports whether session s of the listing's event may be
// shown to viewer at now: sessions the live revision marks member-only are
// shown only to members whose tier allows them.
func (l *Listing) SessionVisibleTo(s Session, now time.Time, viewer Viewer) bool {
	if l.Live == nil {
		return false
	}
	if !slices.Contains(l.Live.MemberOnlySessions, s.Start) {
		return true
	}
	return viewer.MemberSessions(now)
}

// ListingChange is one field that differs between two revisions.
type ListingChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// DiffListingContent returns the fields that differ from a to b, in a
// fixed order. A nil a (nothing published yet) compares as empty content.
func DiffListingContent(a, b *ListingContent) []ListingChange {
	var zero ListingContent
	zero.Normalize()
	if a == nil {
		a = &zero
	}
	if b == nil {
		b = &zero
	}
	changes := []ListingChange{}
	add := func(field string, from, to any, same bool) {
		if !same {
			changes = append(changes, ListingChange{Field: field, From: from, To: to})
		}
	}
	add("title", a.Title, b.Title, a.Title == b.Title)
	add("summary", a.Summary, b.Summary, a.Summary == b.Summary)
	add("description", a.Description, b.Description, a.Description == b.Description)
	add("images", a.Images, b.Images, slices.Equal(a.Images, b.Images))
	add("brand_ids", a.BrandIDs, b.BrandIDs, slices.Equal(a.BrandIDs, b.BrandIDs))
	add("categories", a.Categories, b.Categories, slices.Equal(a.Categories, b.Categories))
	add("tags", a.Tags, b.Tags, slices.Equal(a.Tags, b.Tags))
	add("price", a.Price, b.Price, equalPtr(a.Price, b.Price, func(x, y PriceRange) bool { return x == y }))
	add("member_only_sessions", a.MemberOnlySessions, b.MemberOnlySessions, slices.Equal(a.MemberOnlySessions, b.MemberOnlySessions))
	add("members_from", a.MembersFrom, b.MembersFrom, equalPtr(a.MembersFrom, b.MembersFrom, time.Time.Equal))
	add("public_from", a.PublicFrom, b.PublicFrom, equalPtr(a.PublicFrom, b.PublicFrom, time.Time.Equal))
	return changes
}

func equalPtr[T any](a, b *T, eq func(T, T) bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return eq(*a, *b)
}

// ListingUpdate holds the content fields an update may change. Lists
// replace the whole list when set. Clear lists the optional fields to
// unset ("price", "members_from", "public_from").
type ListingUpdate struct {
	Title              *string      `json:"title"`
	Summary            *string      `json:"summary"`
	Description        *string      `json:"description"`
	Images             *[]Image     `json:"images"`
	BrandIDs           *[]string    `json:"brand_ids"`
	Categories         *[]string    `json:"categories"`
	Tags               *[]string    `json:"tags"`
	Price              *PriceRange  `json:"price"`
	MemberOnlySessions *[]LocalTime `json:"member_only_sessions"`
	MembersFrom        *time.Time   `json:"members_from"`
	PublicFrom         *time.Time   `json:"public_from"`
	Clear              []string     `json:"clear"`
}

// Apply returns c with the set fields of u applied. Returns EINVALID for an
// unknown field in Clear.
func (u ListingUpdate) Apply(c ListingContent) (ListingContent, error) {
	setString(&c.Title, u.Title)
	setString(&c.Summary, u.Summary)
	setString(&c.Description, u.Description)
	if u.Images != nil {
		c.Images = slices.Clone(*u.Images)
	}
	if u.BrandIDs != nil {
		c.BrandIDs = slices.Clone(*u.BrandIDs)
	}
	if u.Categories != nil {
		c.Categories = slices.Clone(*u.Categories)
	}
	if u.Tags != nil {
		c.Tags = slices.Clone(*u.Tags)
	}
	if u.Price != nil {
		p := *u.Price
		c.Price = &p
	}
	if u.MemberOnlySessions != nil {
		c.MemberOnlySessions = slices.Clone(*u.MemberOnlySessions)
	}
	if u.MembersFrom != nil {
		t := *u.MembersFrom
		c.MembersFrom = &t
	}
	if u.PublicFrom != nil {
		t := *u.PublicFrom
		c.PublicFrom = &t
	}
	for i, f := range u.Clear {
		switch f {
		case "price":
			c.Price = nil
		case "members_from":
			c.MembersFrom = nil
		case "public_from":
			c.PublicFrom = nil
		default:
			return c, InvalidField(fmt.Sprintf("clear[%d]", i), "must be one of price, members_from, public_from")
		}
	}
	c.Normalize()
	return c, nil
}

// CurationStep asks for one review step.
type CurationStep struct {
	Action CurationAction `json:"action"`
	Reason RejectReason   `json:"reason,omitempty"` // required to reject
	Note   string         `json:"note,omitempty"`
}

// Validate checks the step: a rejection needs a reason from the fixed
// list; other steps take none.
func (s *CurationStep) Validate() error {
	var v Validation
	if _, ok := curationTransitions[s.Action]; !ok {
		v.Add("action", "must be one of submit, approve, reject, publish")
	}
	if s.Action == ActionReject {
		v.Check(s.Reason.Valid(), "reason", "must be one of incomplete, inaccurate, image_quality, off_brief, policy, duplicate, other")
		v.Check(s.Reason != RejectOther || strings.TrimSpace(s.Note) != "", "note", "is required when the reason is other")
	} else {
		v.Check(s.Reason == "", "reason", "is only used to reject")
	}
	checkText(&v, "note", s.Note, 2000, false)
	return v.Err()
}

// CurationEvent records one curation step: who (the token and its role),
// when, what (the action, the revision and the states) and why (reason and
// note).
type CurationEvent struct {
	ID        string         `json:"id"`
	ListingID string         `json:"listing_id"`
	Revision  int            `json:"revision"`
	Action    CurationAction `json:"action"`
	FromState CurationState  `json:"from_state,omitempty"`
	ToState   CurationState  `json:"to_state"`
	ActorID   string         `json:"actor_id,omitempty"` // token id; "" for the system (seeding, CLI)
	ActorRole Role           `json:"actor_role,omitempty"`
	Reason    RejectReason   `json:"reason,omitempty"`
	Note      string         `json:"note,omitempty"`
	At        time.Time      `json:"at"`
}

// ListingFilter selects listings. Zero fields do not filter.
type ListingFilter struct {
	State   CurationState // state of the working revision
	BrandID string        // listings of events this brand takes part in
	CityID  string
	EventID string
	// Published selects listings that have a live revision.
	Published bool
	// VisibleAt selects listings whose live revision the public may see at
	// this instant (implies Published).
	VisibleAt time.Time
	// EarlyAccess widens VisibleAt to what a member with this early-access
	// offset sees (members_from, else public_from minus the offset).
	EarlyAccess time.Duration
	// EndsAfter selects listings whose event ends after this instant.
	EndsAfter time.Time
	Page
}

// ListingService manages listings and their curation. Methods that change
// a listing record the caller (TokenFromContext) in the curation log.
// Lists are ordered by the event's start, then id.
type ListingService interface {
	// FindListingByID returns one listing. Returns ENOTFOUND.
	FindListingByID(ctx context.Context, id string) (*Listing, error)
	// FindListingBySlug returns the listing with this slug. Returns
	// ENOTFOUND.
	FindListingBySlug(ctx context.Context, slug string) (*Listing, error)
	// FindListings returns a page of listings and the next cursor. Returns
	// EINVALID for a bad filter.
	FindListings(ctx context.Context, f ListingFilter) ([]*Listing, string, error)
	// CreateListing stores a new draft listing for l.EventID with content
	// l.Working; the slug defaults to the event's. Returns EINVALID;
	// EUNPROCESSABLE when the event does not exist; ECONFLICT when the
	// event already has a listing or the slug is taken.
	CreateListing(ctx context.Context, l *Listing) error
	// UpdateListing applies u to the working revision. A listing that is
	// submitted, approved, rejected or published gets a new draft revision
	// (the live revision stays live). Returns ENOTFOUND, EINVALID.
	UpdateListing(ctx context.Context, id string, u ListingUpdate) (*Listing, error)
	// CurateListing applies one review step to the working revision.
	// Returns ENOTFOUND, EINVALID, and ECONFLICT for an illegal transition.
	CurateListing(ctx context.Context, id string, step CurationStep) (*Listing, error)
	// FindCurationEvents returns the curation log of a listing, oldest
	// first. Returns ENOTFOUND.
	FindCurationEvents(ctx context.Context, listingID string) ([]*CurationEvent, error)
}
