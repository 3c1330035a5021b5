package web

import (
	"context"
	"time"

	"github.com/popkit/popkit"
)

// Listing is what the microsite shows of one listing: the live (last
// approved and published) revision joined with its event, venue, city and
// brands. Sources return only published listings; the handler further
// hides listings whose visibility window has not opened for the visitor.
type Listing struct {
	ID          string
	EventID     string
	Slug        string
	Title       string
	Summary     string
	Description string
	Images      []Image
	Brands      []Brand
	Sessions    []Session
	Venue       Venue
	City        City
	TimeZone    string // IANA zone of the venue
	Categories  []string
	Price       *Price
	Status      Status
	// PreviousStart is the start before a reschedule or postponement; the
	// store sets it for rescheduled listings, from the event's
	// PreviousStartsAt.
	PreviousStart time.Time
	// Revision counts changes to the published listing; iCalendar
	// SEQUENCE numbers follow it.
	Revision int
	// UpdatedAt is when the live revision was published (Last-Modified).
	UpdatedAt time.Time
}

// Image is a listing picture; Width and Height are set so that pages
// reserve its box and nothing shifts when it loads.
type Image struct {
	URL    string
	Width  int
	Height int
	Alt    string
}

// Brand is a brand taking part in a listing.
type Brand struct {
	Slug string
	Name string
	URL  string
}

// Session is one opening period in the venue's local time.
type Session struct {
	Start       time.Time
	End         time.Time
	Cancelled   bool
	MembersOnly bool
}

// Venue is where a listing takes place.
type Venue struct {
	Name    string
	Street  string
	Country string // ISO 3166-1 alpha-2
	Lat     float64
	Lon     float64
}

// City is a city the program runs pop-ups in.
type City struct {
	Slug string
	Name string
}

// Price is a price range in minor units of Currency.
type Price struct {
	MinMinor int64
	MaxMinor int64
	Currency string // ISO 4217
}

// Status is the public status of a listed event.
type Status string

// Statuses shown on the microsite; they map onto schema.org EventStatusType.
const (
	StatusScheduled   Status = "scheduled"
	StatusCancelled   Status = "cancelled"
	StatusPostponed   Status = "postponed"
	StatusRescheduled Status = "rescheduled"
)

// Location returns the listing's time zone, UTC when it cannot be loaded.
func (l *Listing) Location() *time.Location {
	if loc, err := time.LoadLocation(l.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Start returns the first session's start, or the zero time.
func (l *Listing) Start() time.Time {
	if len(l.Sessions) == 0 {
		return time.Time{}
	}
	return l.Sessions[0].Start
}

// End returns the last session's end, or the zero time.
func (l *Listing) End() time.Time {
	if len(l.Sessions) == 0 {
		return time.Time{}
	}
	return l.Sessions[len(l.Sessions)-1].End
}

// OpenAt returns the session open at now, if any.
func (l *Listing) OpenAt(now time.Time) (Session, bool) {
	if l.Status == StatusCancelled || l.Status == StatusPostponed {
		return Session{}, false
	}
	for _, s := range l.Sessions {
		if !s.Cancelled && !now.Before(s.Start) && now.Before(s.End) {
			return s, true
		}
	}
	return Session{}, false
}

// NextSession returns the first session that has not ended at now.
func (l *Listing) NextSession(now time.Time) (Session, bool) {
	for _, s := range l.Sessions {
		if !s.Cancelled && now.Before(s.End) {
			return s, true
		}
	}
	return Session{}, false
}

// ListingQuery selects published listings. Zero fields do not filter.
type ListingQuery struct {
	CitySlug  string
	BrandSlug string
	// EndsAfter keeps listings with a session ending after it.
	EndsAfter time.Time
	Limit     int
}

// Source gives the microsite its published listings as the viewer may
// see them. Implementations return only listings with a live (published)
// revision that is visible to the viewer at the source's clock: nothing in
// draft, review or rejected, nothing before its public (or, for members
// with early access, members') window, and no member-only session to
// anyone but members whose tier allows them.
type Source interface {
	// PublishedListings returns visible listings matching q, soonest
	// first.
	PublishedListings(ctx context.Context, q ListingQuery, v popkit.Viewer) ([]*Listing, error)
	// PublishedListing returns the visible listing with this slug.
	// Returns ENOTFOUND when there is none.
	PublishedListing(ctx context.Context, slug string, v popkit.Viewer) (*Listing, error)
	// Cities returns every city of the program.
	Cities(ctx context.Context) ([]City, error)
	// City returns a city by slug. Returns ENOTFOUND.
	City(ctx context.Context, slug string) (*City, error)
	// Brand returns a brand by slug. Returns ENOTFOUND.
	Brand(ctx context.Context, slug string) (*Brand, error)
}

// QueueReporter reports the live queue at an event, from the edge's
// telemetry. ok is false when there is no recent reading.
type QueueReporter interface {
	QueueWait(ctx context.Context, eventID string, now time.Time) (wait time.Duration, ok bool, err error)
}
