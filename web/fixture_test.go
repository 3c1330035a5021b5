package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
	"github.com/popkit/popkit/web"
)

// testNow is the fixed clock of the tests: a Friday noon in Berlin.
var testNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// fixture is a fresh store with one city, venue and brand, and a microsite
// handler over it.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	db    *sqlstore.DB
	now   time.Time
	city  *popkit.City
	venue *popkit.Venue
	brand *popkit.Brand
	h     *web.Handler
	srv   *httptest.Server
}

type fixtureNames struct {
	city, venue, address, brand string
}

func newFixture(t testing.TB) *fixture {
	return newFixtureNamed(t, fixtureNames{"Berlin", "Markthalle Neun", "Eisenbahnstraße 42, 10997 Berlin", "Kiez Kaffee"})
}

func newFixtureNamed(t testing.TB, n fixtureNames) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: sqlstoretest.Open(t), now: testNow}
	f.db.Now = func() time.Time { return f.now }
	f.city = &popkit.City{Name: n.city, Country: "DE", TimeZone: "Europe/Berlin"}
	must(t, f.db.CreateCity(f.ctx, f.city))
	f.venue = &popkit.Venue{CityID: f.city.ID, Name: n.venue, Address: n.address, Lat: 52.5, Lon: 13.43}
	must(t, f.db.CreateVenue(f.ctx, f.venue))
	f.brand = &popkit.Brand{Name: n.brand, Slug: "kiez-kaffee"}
	must(t, f.db.CreateBrand(f.ctx, f.brand))
	f.h = &web.Handler{
		Site:    "popkit test",
		BaseURL: "https://popups.example",
		Source: &web.Store{
			Listings: f.db, Events: f.db, Venues: f.db, CityService: f.db, Brands: f.db, Program: f.db,
			Now: func() time.Time { return f.now }, CacheTTL: time.Nanosecond,
		},
		Members: &web.Members{Members: f.db, Tiers: f.db, Secrets: f.db},
		Funnel:  f.db,
		Curator: &web.Curator{Tokens: f.db, Listings: f.db, Events: f.db},
		Now:     func() time.Time { return f.now },
	}
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(func() {
		f.srv.Close()
		f.h.Close()
	})
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// event creates an event at the fixture's venue with sessions given as
// local start/end pairs.
func (f *fixture) event(slug string, sessions ...string) *popkit.Event {
	f.t.Helper()
	e := &popkit.Event{VenueID: f.venue.ID, Name: "Event " + slug, Slug: slug, BrandIDs: []string{f.brand.ID}}
	for i := 0; i+1 < len(sessions); i += 2 {
		e.Sessions = append(e.Sessions, popkit.Session{Start: popkit.LocalTime(sessions[i]), End: popkit.LocalTime(sessions[i+1])})
	}
	must(f.t, f.db.CreateEvent(f.ctx, e))
	return e
}

// content returns plain listing content for the fixture's brand.
func (f *fixture) content(title string) popkit.ListingContent {
	return popkit.ListingContent{
		Title:       title,
		Summary:     "Coffee, cake and records for three days.",
		Description: "First paragraph.\n\nSecond paragraph.",
		Images:      []popkit.Image{{URL: "https://img.example/hero.jpg", Width: 1200, Height: 630, Alt: "The stall"}},
		BrandIDs:    []string{f.brand.ID},
		Categories:  []string{"food"},
		Tags:        []string{"coffee"},
		Price:       &popkit.PriceRange{MinMinor: 250, MaxMinor: 1800},
	}
}

// listing creates a listing for ev and moves it through curation up to
// state (draft, submitted, approved or published).
func (f *fixture) listing(ev *popkit.Event, c popkit.ListingContent, state popkit.CurationState) *popkit.Listing {
	f.t.Helper()
	l := &popkit.Listing{EventID: ev.ID, Working: c}
	must(f.t, f.db.CreateListing(f.ctx, l))
	f.curate(l.ID, state)
	got, err := f.db.FindListingByID(f.ctx, l.ID)
	must(f.t, err)
	return got
}

// curate moves a listing's working revision from draft up to state.
func (f *fixture) curate(id string, state popkit.CurationState) {
	f.t.Helper()
	steps := map[popkit.CurationState][]popkit.CurationAction{
		popkit.ListingDraft:     nil,
		popkit.ListingSubmitted: {popkit.ActionSubmit},
		popkit.ListingApproved:  {popkit.ActionSubmit, popkit.ActionApprove},
		popkit.ListingPublished: {popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish},
	}[state]
	for _, a := range steps {
		_, err := f.db.CurateListing(f.ctx, id, popkit.CurationStep{Action: a})
		must(f.t, err)
	}
}

// get fetches path from the test server without following redirects.
func (f *fixture) get(path string, header ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	must(f.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirect.Do(req)
	must(f.t, err)
	return res
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{DisableCompression: true},
}
