package popkit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// EventStatus is where an event is in its life.
type EventStatus string

// Event statuses. An event is scheduled, opens, and closes; it may be
// cancelled until it closes. A scheduled event may be postponed: it will
// happen but its new dates are not known yet. A postponed event is
// scheduled again (rescheduled, usually with new sessions) or cancelled.
const (
	EventScheduled EventStatus = "scheduled"
	EventOpen      EventStatus = "open"
	EventClosed    EventStatus = "closed"
	EventCancelled EventStatus = "cancelled"
	EventPostponed EventStatus = "postponed"
)

// eventTransitions lists the legal status changes.
var eventTransitions = map[EventStatus][]EventStatus{
	EventScheduled: {EventOpen, EventCancelled, EventPostponed},
	EventOpen:      {EventClosed, EventCancelled},
	EventClosed:    {},
	EventCancelled: {},
	EventPostponed: {EventScheduled, EventCancelled},
}

// EventStatusMessage is the validation message for an unknown status.
const EventStatusMessage = "must be one of scheduled, open, closed, cancelled, postponed"

// Valid reports whether s is a known status.
func (s EventStatus) Valid() bool {
	_, ok := eventTransitions[s]
	return ok
}

// CanBecome reports whether an event in status s may move to next.
func (s EventStatus) CanBecome(next EventStatus) bool {
	return s == next || slices.Contains(eventTransitions[s], next)
}

// LocalLayout is the layout of a LocalTime: a wall-clock time at the venue,
// with no zone.
const LocalLayout = "2006-01-02T15:04"

// LocalTime is a wall-clock time in the venue's time zone, written
// "2006-01-02T15:04" (seconds, when given, must be zero).
type LocalTime string

// Parse returns the instant that the local time names in loc. Around a
// daylight-saving change it follows RFC 5545 (iCalendar), so that feeds and
// calendars agree: a time that falls into a gap is read with the offset in
// force before the gap, which moves it forward by the gap as the wall clock
// does; a time that occurs twice names its first occurrence.
func (l LocalTime) Parse(loc *time.Location) (time.Time, error) {
	s := string(l)
	if len(s) == len("2006-01-02T15:04:05") && s[len(s)-3:] == ":00" {
		s = s[:len(s)-3]
	}
	wall, err := time.Parse(LocalLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be a local time like 2026-05-01T10:00")
	}
	return wallTime(wall, loc), nil
}

// wallTime returns the instant at which clocks in loc show wall (whose
// fields are read as a wall clock; its zone is ignored), resolving gaps and
// repeats as Parse documents. time.Date leaves the choice to the
// implementation, which picks differently east and west of UTC.
func wallTime(wall time.Time, loc *time.Location) time.Time {
	y, mo, d := wall.Date()
	h, mi, _ := wall.Clock()
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	shown := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	want := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	if shown.Before(want) {
		// In a gap, read with the offset after it: move forward by the gap.
		return t.Add(want.Sub(shown))
	}
	if shown.Equal(want) {
		// After clocks went back, the same wall time may also have occurred
		// under the previous offset; take that earlier instant.
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			_, off := t.Zone()
			_, prev := start.Add(-time.Second).Zone()
			if prev > off {
				c := t.Add(-time.Duration(prev-off) * time.Second)
				if c.Before(start) && c.Format(LocalLayout) == t.Format(LocalLayout) {
					return c
				}
			}
		}
	}
	return t
}

// Session is one opening period of an event, in the venue's local time.
// StartUTC and EndUTC are derived from Start, End and the venue's zone.
type Session struct {
	Start     LocalTime `json:"start"`
	End       LocalTime `json:"end"`
	StartUTC  time.Time `json:"start_utc"`
	EndUTC    time.Time `json:"end_utc"`
	Cancelled bool      `json:"cancelled,omitempty"`
}

// Costs are an event's fixed costs in minor units of the event's currency
// (its city's, Event.Currency), and the energy tariff in minor units of
// that currency per kWh.
type Costs struct {
	RentMinor            int64 `json:"rent_minor"`
	StaffMinor           int64 `json:"staff_minor"`
	TransportMinor       int64 `json:"transport_minor"`
	EnergyTariffMinorKWh int64 `json:"energy_tariff_minor_per_kwh"`
}

// Event is one pop-up: a run of opening sessions at a venue with a set of
// brands taking part.
type Event struct {
	ID       string      `json:"id"`
	VenueID  string      `json:"venue_id"`
	CityID   string      `json:"city_id"`   // derived from the venue
	TimeZone string      `json:"time_zone"` // derived from the venue
	Currency string      `json:"currency"`  // derived from the venue's city: ISO 4217 of every amount at the event
	Name     string      `json:"name"`
	Slug     string      `json:"slug"`
	Status   EventStatus `json:"status"`
	BrandIDs []string    `json:"brand_ids"`
	Sessions []Session   `json:"sessions"`
	Costs    Costs       `json:"costs"`
	// StartsAt and EndsAt span the sessions (UTC).
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// PreviousStartsAt is read-only: the store sets it, when an update
	// moves StartsAt, to StartsAt just before that latest move (schema.org's
	// previousStartDate), so a second move replaces it. Nil when the event
	// never moved.
	PreviousStartsAt *time.Time `json:"previous_starts_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// MaxSessions bounds the sessions of one event.
const MaxSessions = 400

// Resolve validates the event in the venue's zone loc, computes each
// session's UTC instants and the event's span, and sorts the sessions.
// It returns an EINVALID *Error naming every bad field: a session that ends
// before it starts, sessions that overlap, bad costs, duplicate brands.
func (e *Event) Resolve(loc *time.Location) error {
	var v Validation
	v.Check(ValidID(e.VenueID), "venue_id", "must be a venue id")
	checkName(&v, "name", e.Name)
	v.Check(ValidSlug(e.Slug), "slug", "must be 1-80 lower-case letters, digits and hyphens")
	if e.Status == "" {
		e.Status = EventScheduled
	}
	v.Check(e.Status.Valid(), "status", EventStatusMessage)
	v.Check(len(e.BrandIDs) > 0, "brand_ids", "must name at least one brand")
	seen := map[string]bool{}
	for i, id := range e.BrandIDs {
		field := fmt.Sprintf("brand_ids[%d]", i)
		v.Check(ValidID(id), field, "must be a brand id")
		v.Check(!seen[id], field, "is listed twice")
		seen[id] = true
	}
	v.Check(e.Costs.RentMinor >= 0, "costs.rent_minor", "must not be negative")
	v.Check(e.Costs.StaffMinor >= 0, "costs.staff_minor", "must not be negative")
	v.Check(e.Costs.TransportMinor >= 0, "costs.transport_minor", "must not be negative")
	v.Check(e.Costs.EnergyTariffMinorKWh >= 0, "costs.energy_tariff_minor_per_kwh", "must not be negative")
	v.Check(len(e.Sessions) > 0 && len(e.Sessions) <= MaxSessions, "sessions", "must have 1 to %d sessions", MaxSessions)
	ok := true
	for i := range e.Sessions {
		s := &e.Sessions[i]
		start, err := s.Start.Parse(loc)
		if err != nil {
			v.Add(fmt.Sprintf("sessions[%d].start", i), "%v", err)
			ok = false
			continue
		}
		end, err := s.End.Parse(loc)
		if err != nil {
			v.Add(fmt.Sprintf("sessions[%d].end", i), "%v", err)
			ok = false
			continue
		}
		if !end.After(start) {
			v.Add(fmt.Sprintf("sessions[%d].end", i), "must be after start")
			ok = false
		} else if end.Sub(start) > 24*time.Hour {
			v.Add(fmt.Sprintf("sessions[%d].end", i), "a session lasts at most 24 hours")
			ok = false
		}
		s.StartUTC, s.EndUTC = start.UTC(), end.UTC()
	}
	if ok && len(e.Sessions) > 0 {
		sort.SliceStable(e.Sessions, func(i, j int) bool { return e.Sessions[i].StartUTC.Before(e.Sessions[j].StartUTC) })
		for i := 1; i < len(e.Sessions); i++ {
			if e.Sessions[i].StartUTC.Before(e.Sessions[i-1].EndUTC) {
				v.Add(fmt.Sprintf("sessions[%d]", i), "overlaps the session starting %s", e.Sessions[i-1].Start)
			}
		}
		e.StartsAt = e.Sessions[0].StartUTC
		e.EndsAt = e.Sessions[len(e.Sessions)-1].EndUTC
	}
	return v.Err()
}

// HasBrand reports whether brand id takes part in the event.
func (e *Event) HasBrand(id string) bool {
	return slices.Contains(e.BrandIDs, id)
}

// EventFilter selects events. Zero fields do not filter. From and To select
// events whose span overlaps [From, To).
type EventFilter struct {
	CityID  string
	VenueID string
	BrandID string
	Status  EventStatus
	From    time.Time
	To      time.Time
	Page
}

// EventUpdate holds the fields an event update may change. Sessions and
// BrandIDs replace the whole list when set.
type EventUpdate struct {
	Name     *string      `json:"name"`
	Slug     *string      `json:"slug"`
	Status   *EventStatus `json:"status"`
	BrandIDs *[]string    `json:"brand_ids"`
	Sessions *[]Session   `json:"sessions"`
	Costs    *Costs       `json:"costs"`
}

// Apply copies the set fields of u onto e. It returns ECONFLICT for an
// illegal status change; other checks happen in Resolve.
func (u EventUpdate) Apply(e *Event) error {
	setString(&e.Name, u.Name)
	setString(&e.Slug, u.Slug)
	if u.Status != nil {
		if !u.Status.Valid() {
			return InvalidField("status", EventStatusMessage)
		}
		if !e.Status.CanBecome(*u.Status) {
			return Errorf(ECONFLICT, "event status cannot change from %s to %s", e.Status, *u.Status)
		}
		e.Status = *u.Status
	}
	if u.BrandIDs != nil {
		e.BrandIDs = slices.Clone(*u.BrandIDs)
	}
	if u.Sessions != nil {
		e.Sessions = slices.Clone(*u.Sessions)
	}
	if u.Costs != nil {
		e.Costs = *u.Costs
	}
	return nil
}

// EventService manages events.
type EventService interface {
	// FindEventByID returns one event. Returns ENOTFOUND.
	FindEventByID(ctx context.Context, id string) (*Event, error)
	// FindEvents returns a page of events and the next cursor.
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, string, error)
	// CreateEvent validates and stores a new event with its sessions and
	// brands. Returns EINVALID; EUNPROCESSABLE when the venue or a brand
	// does not exist; ECONFLICT when the slug is taken.
	CreateEvent(ctx context.Context, e *Event) error
	// UpdateEvent changes an event. Returns ENOTFOUND, EINVALID,
	// EUNPROCESSABLE, and ECONFLICT for an illegal status change, or when a
	// brand that still has SKUs in the assortment is removed.
	UpdateEvent(ctx context.Context, id string, u EventUpdate) (*Event, error)
}
