package popkit_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func session(start, end string) popkit.Session {
	return popkit.Session{Start: popkit.LocalTime(start), End: popkit.LocalTime(end)}
}

func validEvent() popkit.Event {
	return popkit.Event{
		VenueID:  venueID,
		Name:     "Kreuzberg Kitchen Pop-up",
		Slug:     "kreuzberg-kitchen-pop-up",
		BrandIDs: []string{brandA, brandB},
		Sessions: []popkit.Session{session("2026-05-11T10:00", "2026-05-11T19:00"), session("2026-05-12T10:00", "2026-05-12T19:00")},
		Costs:    popkit.Costs{RentMinor: 90000, StaffMinor: 52200, TransportMinor: 18000, EnergyTariffMinorKWh: 38},
	}
}

func TestEventResolveFields(t *testing.T) {
	t.Parallel()
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		name   string
		change func(e *popkit.Event)
		fields []string
	}{
		{"valid", func(*popkit.Event) {}, nil},
		{"one brand, one session", func(e *popkit.Event) {
			e.BrandIDs, e.Sessions = e.BrandIDs[:1], e.Sessions[:1]
		}, nil},
		{"adjacent sessions", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-11T10:00", "2026-05-11T14:00"), session("2026-05-11T14:00", "2026-05-11T19:00")}
		}, nil},
		{"session of exactly 24 hours", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-11T06:00", "2026-05-12T06:00")}
		}, nil},
		{"session crossing midnight", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-11T20:00", "2026-05-12T02:00")}
		}, nil},
		{"local time with zero seconds", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-11T10:00:00", "2026-05-11T19:00:00")}
		}, nil},
		{"no venue", func(e *popkit.Event) { e.VenueID = "" }, []string{"venue_id"}},
		{"no name", func(e *popkit.Event) { e.Name = "" }, []string{"name"}},
		{"bad slug", func(e *popkit.Event) { e.Slug = "Kreuzberg Pop-up" }, []string{"slug"}},
		{"unknown status", func(e *popkit.Event) { e.Status = "paused" }, []string{"status"}},
		{"no brands", func(e *popkit.Event) { e.BrandIDs = nil }, []string{"brand_ids"}},
		{"brand id not a uuid", func(e *popkit.Event) { e.BrandIDs[1] = "pantry-lane" }, []string{"brand_ids[1]"}},
		{"duplicate brand ids", func(e *popkit.Event) { e.BrandIDs = []string{brandA, brandB, brandA} }, []string{"brand_ids[2]"}},
		{"negative rent", func(e *popkit.Event) { e.Costs.RentMinor = -1 }, []string{"costs.rent_minor"}},
		{"negative costs", func(e *popkit.Event) {
			e.Costs = popkit.Costs{RentMinor: -1, StaffMinor: -1, TransportMinor: -1, EnergyTariffMinorKWh: -1}
		}, []string{"costs.rent_minor", "costs.staff_minor", "costs.transport_minor", "costs.energy_tariff_minor_per_kwh"}},
		{"no sessions", func(e *popkit.Event) { e.Sessions = nil }, []string{"sessions"}},
		{"too many sessions", func(e *popkit.Event) {
			e.Sessions = nil
			day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range popkit.MaxSessions + 1 {
				d := day.AddDate(0, 0, i)
				day := d.Format("2006-01-02")
				e.Sessions = append(e.Sessions, session(day+"T10:00", day+"T11:00"))
			}
		}, []string{"sessions"}},
		{"end before start", func(e *popkit.Event) { e.Sessions[1].End = "2026-05-12T09:00" }, []string{"sessions[1].end"}},
		{"end equal to start", func(e *popkit.Event) { e.Sessions[0].End = e.Sessions[0].Start }, []string{"sessions[0].end"}},
		{"session over 24 hours", func(e *popkit.Event) { e.Sessions[0].End = "2026-05-12T10:01" }, []string{"sessions[0].end"}},
		{"start not a local time", func(e *popkit.Event) { e.Sessions[0].Start = "2026-05-11 10:00" }, []string{"sessions[0].start"}},
		{"start with a zone", func(e *popkit.Event) { e.Sessions[0].Start = "2026-05-11T10:00Z" }, []string{"sessions[0].start"}},
		{"start with seconds", func(e *popkit.Event) { e.Sessions[0].Start = "2026-05-11T10:00:30" }, []string{"sessions[0].start"}},
		{"end on 31 April", func(e *popkit.Event) { e.Sessions[1].End = "2026-04-31T19:00" }, []string{"sessions[1].end"}},
		{"overlapping sessions", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-11T10:00", "2026-05-11T19:00"), session("2026-05-11T18:00", "2026-05-11T22:00")}
		}, []string{"sessions[1]"}},
		{"identical sessions", func(e *popkit.Event) { e.Sessions[1] = e.Sessions[0] }, []string{"sessions[1]"}},
		{"overlap found after sorting", func(e *popkit.Event) {
			e.Sessions = []popkit.Session{session("2026-05-12T10:00", "2026-05-12T19:00"), session("2026-05-11T12:00", "2026-05-12T10:30")}
		}, []string{"sessions[1]"}},
		{"many problems at once", func(e *popkit.Event) {
			e.Name, e.BrandIDs[1], e.Costs.StaffMinor = "", brandA, -5
			e.Sessions[0].End = "2026-05-11T09:00"
		}, []string{"name", "brand_ids[1]", "costs.staff_minor", "sessions[0].end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			tt.change(&e)
			checkFields(t, e.Resolve(berlin), tt.fields...)
		})
	}
}

func TestEventResolveDefaultsStatus(t *testing.T) {
	t.Parallel()
	e := validEvent()
	if err := e.Resolve(time.UTC); err != nil {
		t.Fatal(err)
	}
	if e.Status != popkit.EventScheduled {
		t.Errorf("status = %q, want %q", e.Status, popkit.EventScheduled)
	}
}

func TestEventResolveSortsAndSpans(t *testing.T) {
	t.Parallel()
	e := validEvent()
	e.Sessions = []popkit.Session{
		session("2026-05-13T10:00", "2026-05-13T19:00"),
		session("2026-05-11T12:00", "2026-05-11T18:00"),
		{Start: "2026-05-12T10:00", End: "2026-05-12T19:00", Cancelled: true},
	}
	if err := e.Resolve(mustLoad(t, "America/New_York")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range e.Sessions {
		got = append(got, fmt.Sprintf("%s %s %s %t", s.Start, s.StartUTC.Format(time.RFC3339), s.EndUTC.Format(time.RFC3339), s.Cancelled))
	}
	want := []string{
		"2026-05-11T12:00 2026-05-11T16:00:00Z 2026-05-11T22:00:00Z false",
		"2026-05-12T10:00 2026-05-12T14:00:00Z 2026-05-12T23:00:00Z true",
		"2026-05-13T10:00 2026-05-13T14:00:00Z 2026-05-13T23:00:00Z false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sessions:\n%q\nwant\n%q", got, want)
	}
	if !e.StartsAt.Equal(utc("2026-05-11T16:00:00Z")) || !e.EndsAt.Equal(utc("2026-05-13T23:00:00Z")) {
		t.Errorf("span = %s to %s", e.StartsAt, e.EndsAt)
	}
	if e.StartsAt.Location() != time.UTC || e.Sessions[0].EndUTC.Location() != time.UTC {
		t.Error("resolved instants are not in UTC")
	}
}

// TestEventResolveDST pins the UTC instants of local times around
// daylight-saving changes: a time in a gap moves forward by the gap, a time
// that occurs twice is its first occurrence (RFC 5545), in every zone.
func TestEventResolveDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		zone       string
		start, end string
		startUTC   string
		endUTC     string
		field      string // invalid field, "" when valid
	}{
		{"Berlin gap start", "Europe/Berlin", "2026-03-29T02:30", "2026-03-29T10:00", "2026-03-29T01:30:00Z", "2026-03-29T08:00:00Z", ""},
		{"Berlin gap end", "Europe/Berlin", "2026-03-28T20:00", "2026-03-29T02:30", "2026-03-28T19:00:00Z", "2026-03-29T01:30:00Z", ""},
		{"Berlin just before gap", "Europe/Berlin", "2026-03-29T01:59", "2026-03-29T03:00", "2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", ""},
		{"Berlin overlap start", "Europe/Berlin", "2026-10-25T02:30", "2026-10-25T10:00", "2026-10-25T00:30:00Z", "2026-10-25T09:00:00Z", ""},
		{"Berlin overlap end", "Europe/Berlin", "2026-10-24T22:00", "2026-10-25T02:30", "2026-10-24T20:00:00Z", "2026-10-25T00:30:00Z", ""},
		{"Berlin after overlap", "Europe/Berlin", "2026-10-25T03:00", "2026-10-25T04:00", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", ""},
		{"Berlin night across fall back", "Europe/Berlin", "2026-10-24T20:00", "2026-10-25T06:00", "2026-10-24T18:00:00Z", "2026-10-25T05:00:00Z", ""},
		{"Berlin 24 wall hours over fall back are 25", "Europe/Berlin", "2026-10-24T12:00", "2026-10-25T12:00", "", "", "sessions[0].end"},
		{"Berlin 24 wall hours over spring forward are 23", "Europe/Berlin", "2026-03-28T12:00", "2026-03-29T12:00", "2026-03-28T11:00:00Z", "2026-03-29T10:00:00Z", ""},
		{"Berlin gap start equal to its end", "Europe/Berlin", "2026-03-29T02:30", "2026-03-29T03:30", "", "", "sessions[0].end"},
		{"New York gap", "America/New_York", "2026-03-08T02:30", "2026-03-08T10:00", "2026-03-08T07:30:00Z", "2026-03-08T14:00:00Z", ""},
		{"New York overlap", "America/New_York", "2026-11-01T01:30", "2026-11-01T10:00", "2026-11-01T05:30:00Z", "2026-11-01T15:00:00Z", ""},
		{"Melbourne overlap", "Australia/Melbourne", "2026-04-05T02:30", "2026-04-05T10:00", "2026-04-04T15:30:00Z", "2026-04-05T00:00:00Z", ""},
		{"Melbourne gap", "Australia/Melbourne", "2026-10-04T02:30", "2026-10-04T10:00", "2026-10-03T16:30:00Z", "2026-10-03T23:00:00Z", ""},
		{"Lord Howe half-hour overlap", "Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-05T10:00", "2026-04-04T14:45:00Z", "2026-04-04T23:30:00Z", ""},
		{"Lord Howe half-hour gap", "Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-04T10:00", "2026-10-03T15:45:00Z", "2026-10-03T23:00:00Z", ""},
		{"London summer", "Europe/London", "2026-07-01T10:00", "2026-07-01T19:00", "2026-07-01T09:00:00Z", "2026-07-01T18:00:00Z", ""},
		{"UTC", "UTC", "2026-03-29T02:30", "2026-03-29T03:30", "2026-03-29T02:30:00Z", "2026-03-29T03:30:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			e.Sessions = []popkit.Session{session(tt.start, tt.end)}
			err := e.Resolve(mustLoad(t, tt.zone))
			if tt.field != "" {
				checkFields(t, err, tt.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := e.Sessions[0]
			if !s.StartUTC.Equal(utc(tt.startUTC)) || !s.EndUTC.Equal(utc(tt.endUTC)) {
				t.Errorf("session = %s to %s, want %s to %s", s.StartUTC.Format(time.RFC3339), s.EndUTC.Format(time.RFC3339), tt.startUTC, tt.endUTC)
			}
			if !e.StartsAt.Equal(s.StartUTC) || !e.EndsAt.Equal(s.EndUTC) {
				t.Errorf("span = %s to %s", e.StartsAt, e.EndsAt)
			}
		})
	}
}

// TestLocalTimeParseWallClock checks, every half hour for two years, that
// a local time that exists reads back as itself.
func TestLocalTimeParseWallClock(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Melbourne", "Australia/Lord_Howe"} {
		loc := mustLoad(t, zone)
		for at := utc("2026-01-01T00:00:00Z"); at.Before(utc("2028-01-01T00:00:00Z")); at = at.Add(30 * time.Minute) {
			l := popkit.LocalTime(at.In(loc).Format(popkit.LocalLayout))
			got, err := l.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			if got.In(loc).Format(popkit.LocalLayout) != string(l) {
				t.Fatalf("%s %s: parsed to %s", zone, l, got.In(loc))
			}
			// A wall time that occurs twice resolves to its first occurrence.
			if first := at.Add(-time.Hour); first.In(loc).Format(popkit.LocalLayout) == string(l) && !got.Equal(first) {
				t.Fatalf("%s %s: parsed to %s, want the first occurrence %s", zone, l, got, first)
			}
		}
	}
}

func TestEventStatusTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to popkit.EventStatus
		code     string // "" when the change is allowed
	}{
		{popkit.EventScheduled, popkit.EventOpen, ""},
		{popkit.EventScheduled, popkit.EventCancelled, ""},
		{popkit.EventScheduled, popkit.EventScheduled, ""},
		{popkit.EventScheduled, popkit.EventClosed, popkit.ECONFLICT},
		{popkit.EventOpen, popkit.EventClosed, ""},
		{popkit.EventOpen, popkit.EventCancelled, ""},
		{popkit.EventOpen, popkit.EventOpen, ""},
		{popkit.EventOpen, popkit.EventScheduled, popkit.ECONFLICT},
		{popkit.EventClosed, popkit.EventOpen, popkit.ECONFLICT},
		{popkit.EventClosed, popkit.EventCancelled, popkit.ECONFLICT},
		{popkit.EventClosed, popkit.EventScheduled, popkit.ECONFLICT},
		{popkit.EventClosed, popkit.EventClosed, ""},
		{popkit.EventCancelled, popkit.EventOpen, popkit.ECONFLICT},
		{popkit.EventCancelled, popkit.EventScheduled, popkit.ECONFLICT},
		{popkit.EventCancelled, popkit.EventCancelled, ""},
		{popkit.EventScheduled, popkit.EventPostponed, ""},
		{popkit.EventOpen, popkit.EventPostponed, popkit.ECONFLICT},
		{popkit.EventClosed, popkit.EventPostponed, popkit.ECONFLICT},
		{popkit.EventCancelled, popkit.EventPostponed, popkit.ECONFLICT},
		{popkit.EventPostponed, popkit.EventScheduled, ""},
		{popkit.EventPostponed, popkit.EventCancelled, ""},
		{popkit.EventPostponed, popkit.EventPostponed, ""},
		{popkit.EventPostponed, popkit.EventOpen, popkit.ECONFLICT},
		{popkit.EventPostponed, popkit.EventClosed, popkit.ECONFLICT},
		{popkit.EventScheduled, "paused", popkit.EINVALID},
		{popkit.EventOpen, "", popkit.EINVALID},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s to %s", tt.from, tt.to), func(t *testing.T) {
			e := validEvent()
			e.Status = tt.from
			to := tt.to
			err := popkit.EventUpdate{Status: &to}.Apply(&e)
			if code := popkit.ErrorCode(err); code != tt.code {
				t.Fatalf("Apply: code %q (%v), want %q", code, err, tt.code)
			}
			want := tt.to
			if tt.code != "" {
				want = tt.from
			}
			if e.Status != want {
				t.Errorf("status = %s, want %s", e.Status, want)
			}
			if got := tt.from.CanBecome(tt.to); got != (tt.code == "") {
				t.Errorf("CanBecome = %t", got)
			}
		})
	}
}

func TestEventUpdateApply(t *testing.T) {
	t.Parallel()
	e := validEvent()
	brands := []string{brandB}
	sessions := []popkit.Session{session("2026-06-01T10:00", "2026-06-01T19:00")}
	name := "Renamed"
	if err := (popkit.EventUpdate{Name: &name, BrandIDs: &brands, Sessions: &sessions}).Apply(&e); err != nil {
		t.Fatal(err)
	}
	if e.Name != "Renamed" || e.Slug != "kreuzberg-kitchen-pop-up" || !slices.Equal(e.BrandIDs, brands) || !slices.Equal(e.Sessions, sessions) {
		t.Errorf("after Apply: %+v", e)
	}
	brands[0], sessions[0].Start = brandA, "2030-01-01T00:00"
	if e.BrandIDs[0] != brandB || e.Sessions[0].Start != "2026-06-01T10:00" {
		t.Error("Apply shares the update's slices with the event")
	}
	if !e.HasBrand(brandB) || e.HasBrand(brandA) {
		t.Error("HasBrand disagrees with BrandIDs")
	}
}
