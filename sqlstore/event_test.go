package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestEvents_ResolveInVenueZone checks that sessions are resolved in the
// venue's zone across daylight-saving changes, stored, and read back.
func TestEvents_ResolveInVenueZone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		brand := mkBrand(t, db)
		tests := []struct {
			name     string
			zone     string
			sessions []popkit.Session
			want     [][2]time.Time // UTC start and end of each session, sorted
		}{
			{
				name: "Berlin spring forward",
				zone: "Europe/Berlin",
				sessions: []popkit.Session{
					session("2026-03-30", "10:00", "18:00"), // CEST, given out of order
					session("2026-03-28", "10:00", "18:00"), // CET
					session("2026-03-29", "01:00", "04:00"), // spans the gap: 2 real hours
				},
				want: [][2]time.Time{
					{utc("2026-03-28T09:00Z"), utc("2026-03-28T17:00Z")},
					{utc("2026-03-29T00:00Z"), utc("2026-03-29T02:00Z")},
					{utc("2026-03-30T08:00Z"), utc("2026-03-30T16:00Z")},
				},
			},
			{
				name:     "Berlin time in the gap moves forward",
				zone:     "Europe/Berlin",
				sessions: []popkit.Session{session("2026-03-29", "02:30", "05:00")},
				want:     [][2]time.Time{{utc("2026-03-29T01:30Z"), utc("2026-03-29T03:00Z")}},
			},
			{
				name:     "Melbourne fall back",
				zone:     "Australia/Melbourne",
				sessions: []popkit.Session{session("2026-04-05", "01:00", "04:00")}, // 4 real hours
				want:     [][2]time.Time{{utc("2026-04-04T14:00Z"), utc("2026-04-04T18:00Z")}},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				city := mkCity(t, db, tt.zone)
				venue := mkVenue(t, db, city.ID, "")
				e := newEvent(venue.ID, []string{brand.ID}, tt.sessions...)
				e.CityID, e.TimeZone = "ignored", "ignored"
				must(t, db.CreateEvent(ctx, e))
				if e.CityID != city.ID || e.TimeZone != tt.zone || e.Status != popkit.EventScheduled {
					t.Errorf("derived city %q zone %q status %q", e.CityID, e.TimeZone, e.Status)
				}
				got, err := db.FindEventByID(ctx, e.ID)
				must(t, err)
				if len(got.Sessions) != len(tt.want) {
					t.Fatalf("%d sessions stored, want %d", len(got.Sessions), len(tt.want))
				}
				for i, s := range got.Sessions {
					if !s.StartUTC.Equal(tt.want[i][0]) || !s.EndUTC.Equal(tt.want[i][1]) {
						t.Errorf("session %d (%s-%s) = %v..%v, want %v..%v", i, s.Start, s.End, s.StartUTC, s.EndUTC, tt.want[i][0], tt.want[i][1])
					}
					if s.Start != e.Sessions[i].Start || s.End != e.Sessions[i].End {
						t.Errorf("session %d local times %s-%s, want %s-%s", i, s.Start, s.End, e.Sessions[i].Start, e.Sessions[i].End)
					}
				}
				if !got.StartsAt.Equal(tt.want[0][0]) || !got.EndsAt.Equal(tt.want[len(tt.want)-1][1]) {
					t.Errorf("span %v..%v", got.StartsAt, got.EndsAt)
				}
				if got.CityID != city.ID || got.TimeZone != tt.zone || !slices.Equal(got.BrandIDs, []string{brand.ID}) || got.Costs != e.Costs {
					t.Errorf("stored event %+v", got)
				}
			})
		}
	})
}

func TestEvents_CreateErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db)
		b := w.brands[0].ID
		tests := []struct {
			name, code, field string
			event             *popkit.Event
		}{
			{"overlapping sessions", popkit.EINVALID, "sessions[1]", newEvent(w.venue.ID, []string{b},
				session("2026-05-01", "10:00", "14:00"), session("2026-05-01", "13:00", "18:00"))},
			{"end before start", popkit.EINVALID, "sessions[0].end", newEvent(w.venue.ID, []string{b}, session("2026-05-01", "18:00", "10:00"))},
			{"no brands", popkit.EINVALID, "brand_ids", newEvent(w.venue.ID, nil)},
			{"missing venue", popkit.EUNPROCESSABLE, "venue_id", newEvent(popkit.NewID(), []string{b})},
			{"missing brand", popkit.EUNPROCESSABLE, "brand_ids[1]", newEvent(w.venue.ID, []string{b, popkit.NewID()})},
			{"malformed venue id", popkit.EINVALID, "venue_id", newEvent("venue-1", []string{b})},
			{"taken slug", popkit.ECONFLICT, "slug", func() *popkit.Event {
				e := newEvent(w.venue.ID, []string{b})
				e.Slug = w.event.Slug
				return e
			}()},
			{"negative cost", popkit.EINVALID, "costs.rent_minor", func() *popkit.Event {
				e := newEvent(w.venue.ID, []string{b})
				e.Costs.RentMinor = -1
				return e
			}()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, db.CreateEvent(ctx, tt.event), tt.code, tt.field)
			})
		}
		for table, want := range map[string]int{"events": 1, "event_sessions": 1, "event_brands": 2} {
			if n := count(t, db, table); n != want {
				t.Errorf("%d rows in %s after failed creates, want %d", n, table, want)
			}
		}
		_, err := db.FindEventByID(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
	})
}

func TestEvents_Update(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db)
		b0, b1, b2 := w.brands[0].ID, w.brands[1].ID, mkBrand(t, db).ID
		other := mkEvent(t, db, w.venue.ID, []string{b0})

		t.Run("sessions, brands and costs", func(t *testing.T) {
			sessions := []popkit.Session{session("2026-06-02", "12:00", "20:00"), session("2026-06-01", "12:00", "20:00")}
			brands := []string{b2, b0, b1}
			costs := popkit.Costs{RentMinor: 1}
			got, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Name: ptr("Summer"), Sessions: &sessions, BrandIDs: &brands, Costs: &costs})
			must(t, err)
			again, err := db.FindEventByID(ctx, w.event.ID)
			must(t, err)
			for _, e := range []*popkit.Event{got, again} {
				if e.Name != "Summer" || len(e.Sessions) != 2 || !slices.Equal(e.BrandIDs, brands) || e.Costs != costs {
					t.Fatalf("after update %+v", e)
				}
				if !e.StartsAt.Equal(utc("2026-06-01T10:00Z")) || !e.EndsAt.Equal(utc("2026-06-02T18:00Z")) {
					t.Errorf("span %v..%v", e.StartsAt, e.EndsAt)
				}
			}
		})
		t.Run("status transitions", func(t *testing.T) {
			open := popkit.EventOpen
			got, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &open})
			must(t, err)
			if got.Status != popkit.EventOpen {
				t.Errorf("status %q", got.Status)
			}
			back := popkit.EventScheduled
			_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &back})
			wantCode(t, err, popkit.ECONFLICT, "")
		})
		t.Run("removing a brand with SKUs in the assortment", func(t *testing.T) {
			sku := mkSKU(t, db, b1)
			must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: sku.ID, Stock: 3}))
			brands := []string{b0, b2}
			_, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{BrandIDs: &brands})
			wantCode(t, err, popkit.ECONFLICT, "brand_ids")

			must(t, db.RemoveAssortmentItem(ctx, w.event.ID, sku.ID))
			got, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{BrandIDs: &brands})
			must(t, err)
			if !slices.Equal(got.BrandIDs, brands) {
				t.Errorf("brands %v", got.BrandIDs)
			}
		})

		before, err := db.FindEventByID(ctx, w.event.ID)
		must(t, err)
		errTests := []struct {
			name, code, field string
			id                string
			u                 popkit.EventUpdate
		}{
			{"missing event", popkit.ENOTFOUND, "", popkit.NewID(), popkit.EventUpdate{Name: ptr("x")}},
			{"taken slug", popkit.ECONFLICT, "slug", w.event.ID, popkit.EventUpdate{Slug: &other.Slug}},
			{"overlap", popkit.EINVALID, "sessions[1]", w.event.ID, popkit.EventUpdate{Sessions: &[]popkit.Session{
				session("2026-07-01", "10:00", "12:00"), session("2026-07-01", "11:00", "13:00")}}},
			{"missing brand", popkit.EUNPROCESSABLE, "brand_ids[0]", w.event.ID, popkit.EventUpdate{BrandIDs: &[]string{popkit.NewID()}}},
			{"invalid status", popkit.EINVALID, "status", w.event.ID, popkit.EventUpdate{Status: ptr(popkit.EventStatus("paused"))}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.UpdateEvent(ctx, tt.id, tt.u)
				wantCode(t, err, tt.code, tt.field)
			})
		}
		after, err := db.FindEventByID(ctx, w.event.ID)
		must(t, err)
		if after.Slug != before.Slug || len(after.Sessions) != len(before.Sessions) || !slices.Equal(after.BrandIDs, before.BrandIDs) || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("failed updates changed the event: %+v, was %+v", after, before)
		}
	})
}

// TestEvents_Reschedule checks that moving an event's first session records
// the start before the latest move, and the postponed status's transitions.
func TestEvents_Reschedule(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db) // Berlin, 2026-05-01 10:00-18:00 = 08:00Z
		previous := func(t *testing.T, want string) {
			t.Helper()
			got, err := db.FindEventByID(ctx, w.event.ID)
			must(t, err)
			switch {
			case want == "" && got.PreviousStartsAt != nil:
				t.Errorf("previous_starts_at %v, want none", *got.PreviousStartsAt)
			case want != "" && (got.PreviousStartsAt == nil || !got.PreviousStartsAt.Equal(utc(want))):
				t.Errorf("previous_starts_at %v, want %s", got.PreviousStartsAt, want)
			}
		}
		if w.event.PreviousStartsAt != nil {
			t.Fatalf("new event has previous_starts_at %v", *w.event.PreviousStartsAt)
		}

		// Changes that keep the first start leave it unset.
		later := []popkit.Session{session("2026-05-01", "10:00", "18:00"), session("2026-05-02", "10:00", "18:00")}
		_, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Name: ptr("Renamed"), Sessions: &later})
		must(t, err)
		previous(t, "")

		postponed := popkit.EventPostponed
		got, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &postponed})
		must(t, err)
		if got.Status != popkit.EventPostponed || got.PreviousStartsAt != nil {
			t.Errorf("postponed: status %q previous %v", got.Status, got.PreviousStartsAt)
		}
		list, _, err := db.FindEvents(ctx, popkit.EventFilter{Status: popkit.EventPostponed})
		must(t, err)
		if len(list) != 1 || list[0].ID != w.event.ID {
			t.Errorf("postponed filter found %d events", len(list))
		}
		for _, to := range []popkit.EventStatus{popkit.EventOpen, popkit.EventClosed} {
			_, err := db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &to})
			wantCode(t, err, popkit.ECONFLICT, "")
		}

		// Rescheduled: back to scheduled with new sessions.
		scheduled := popkit.EventScheduled
		june := []popkit.Session{session("2026-06-05", "12:00", "20:00")}
		got, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &scheduled, Sessions: &june})
		must(t, err)
		if got.Status != popkit.EventScheduled || got.PreviousStartsAt == nil || !got.PreviousStartsAt.Equal(utc("2026-05-01T08:00Z")) {
			t.Errorf("rescheduled: status %q previous %v", got.Status, got.PreviousStartsAt)
		}
		previous(t, "2026-05-01T08:00Z")

		// A later move replaces it with the start just before that move;
		// other changes keep it.
		july := []popkit.Session{session("2026-07-03", "12:00", "20:00")}
		_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Sessions: &july})
		must(t, err)
		previous(t, "2026-06-05T10:00Z")
		_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Name: ptr("Again")})
		must(t, err)
		previous(t, "2026-06-05T10:00Z")

		// Postponed may also be cancelled, and cancelled is final.
		_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &postponed})
		must(t, err)
		cancelled := popkit.EventCancelled
		_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &cancelled})
		must(t, err)
		_, err = db.UpdateEvent(ctx, w.event.ID, popkit.EventUpdate{Status: &postponed})
		wantCode(t, err, popkit.ECONFLICT, "")

		// An open event cannot be postponed.
		open := mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID})
		_, err = db.UpdateEvent(ctx, open.ID, popkit.EventUpdate{Status: ptr(popkit.EventOpen)})
		must(t, err)
		_, err = db.UpdateEvent(ctx, open.ID, popkit.EventUpdate{Status: &postponed})
		wantCode(t, err, popkit.ECONFLICT, "")

	})
}

// TestVenues_ZoneChangeResolvesEvents checks that moving a venue to another
// zone moves its events' UTC instants with it.
func TestVenues_ZoneChangeResolvesEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db) // Berlin, 2026-05-01 10:00-18:00 = 08:00Z
		_, err := db.UpdateVenue(ctx, w.venue.ID, popkit.VenueUpdate{TimeZone: ptr("Europe/Lisbon")})
		must(t, err)
		e, err := db.FindEventByID(ctx, w.event.ID)
		must(t, err)
		if e.TimeZone != "Europe/Lisbon" || !e.StartsAt.Equal(utc("2026-05-01T09:00Z")) || !e.Sessions[0].StartUTC.Equal(utc("2026-05-01T09:00Z")) {
			t.Errorf("after zone change: zone %q starts %v session %v", e.TimeZone, e.StartsAt, e.Sessions[0].StartUTC)
		}
	})
}

func TestFindEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		berlin, paris := mkCity(t, db, "Europe/Berlin"), mkCity(t, db, "Europe/Paris")
		vb1, vb2, vp := mkVenue(t, db, berlin.ID, ""), mkVenue(t, db, berlin.ID, ""), mkVenue(t, db, paris.ID, "")
		x, y := mkBrand(t, db).ID, mkBrand(t, db).ID

		may := mkEvent(t, db, vb1.ID, []string{x}, session("2026-05-01", "10:00", "18:00"), session("2026-05-02", "10:00", "18:00"))
		june := mkEvent(t, db, vb2.ID, []string{x, y}, session("2026-06-01", "10:00", "18:00"))
		july := mkEvent(t, db, vp.ID, []string{y}, session("2026-07-01", "10:00", "18:00"))
		aug := mkEvent(t, db, vb1.ID, []string{y}, session("2026-08-01", "10:00", "18:00"))
		_, err := db.UpdateEvent(ctx, aug.ID, popkit.EventUpdate{Status: ptr(popkit.EventCancelled)})
		must(t, err)

		tests := []struct {
			name string
			f    popkit.EventFilter
			want []*popkit.Event
		}{
			{"all", popkit.EventFilter{}, []*popkit.Event{may, june, july, aug}},
			{"city", popkit.EventFilter{CityID: berlin.ID}, []*popkit.Event{may, june, aug}},
			{"venue", popkit.EventFilter{VenueID: vb1.ID}, []*popkit.Event{may, aug}},
			{"brand", popkit.EventFilter{BrandID: x}, []*popkit.Event{may, june}},
			{"status", popkit.EventFilter{Status: popkit.EventCancelled}, []*popkit.Event{aug}},
			{"city and brand", popkit.EventFilter{CityID: berlin.ID, BrandID: y}, []*popkit.Event{june, aug}},
			{"window overlaps", popkit.EventFilter{From: utc("2026-05-02T12:00Z"), To: utc("2026-07-01T00:00Z")}, []*popkit.Event{may, june}},
			{"window end is exclusive", popkit.EventFilter{From: utc("2026-06-01T16:00Z"), To: utc("2026-07-01T08:00Z")}, nil},
			{"from only", popkit.EventFilter{From: utc("2026-07-01T15:59Z")}, []*popkit.Event{july, aug}},
			{"unknown city", popkit.EventFilter{CityID: popkit.NewID()}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, _ := allPages(t, 1, func(e *popkit.Event) string { return e.ID }, func(p popkit.Page) ([]*popkit.Event, string, error) {
					f := tt.f
					f.Page = p
					return db.FindEvents(ctx, f)
				})
				want := sortedIDs(ids(tt.want, func(e *popkit.Event) string { return e.ID })...)
				if gotIDs := ids(got, func(e *popkit.Event) string { return e.ID }); !slices.Equal(gotIDs, want) {
					t.Errorf("got %v, want %v", gotIDs, want)
				}
				for _, e := range got {
					if len(e.Sessions) == 0 || len(e.BrandIDs) == 0 {
						t.Errorf("event %s listed without sessions or brands", e.ID)
					}
				}
			})
		}

		t.Run("page carries details", func(t *testing.T) {
			got, next, err := db.FindEvents(ctx, popkit.EventFilter{CityID: berlin.ID, Page: popkit.Page{Limit: 2}})
			must(t, err)
			if len(got) != 2 || next == "" {
				t.Fatalf("got %d events, next %q", len(got), next)
			}
			if len(got[0].Sessions) != 2 || !slices.Equal(got[1].BrandIDs, []string{x, y}) {
				t.Errorf("page details: %+v / %+v", got[0], got[1])
			}
		})

		errTests := []struct {
			name, field string
			f           popkit.EventFilter
		}{
			{"bad status", "status", popkit.EventFilter{Status: "paused"}},
			{"empty window", "to", popkit.EventFilter{From: utc("2026-06-01T00:00Z"), To: utc("2026-06-01T00:00Z")}},
			{"bad cursor", "cursor", popkit.EventFilter{Page: popkit.Page{After: popkit.Cursor("not-an-id")}}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := db.FindEvents(ctx, tt.f)
				wantCode(t, err, popkit.EINVALID, tt.field)
			})
		}
	})
}
