package sim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
)

// testNow is a Wednesday, 11:30 in London.
var testNow = time.Date(2026, 5, 13, 10, 30, 0, 0, time.UTC)

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newFakeStore()
	var logs []string
	res, err := sim.Seed(ctx, st.services(), sim.SeedOptions{Now: testNow, Seed: 1, Log: func(f string, a ...any) {
		logs = append(logs, fmt.Sprintf(f, a...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped {
		t.Fatal("first seed was skipped")
	}
	want := sim.SeedResult{Cities: 4, Venues: 8, Brands: 8, Events: 18, SKUs: 300, Devices: 4}
	got := *res
	got.AssortmentItems = 0
	if got != want {
		t.Errorf("result = %+v, want %+v (without assortment items)", got, want)
	}
	if res.AssortmentItems < 6*res.Events || res.AssortmentItems > 20*res.Events {
		t.Errorf("assortment items = %d for %d events", res.AssortmentItems, res.Events)
	}
	if len(logs) == 0 {
		t.Error("Seed logged nothing")
	}
	checkSeeded(t, st.services(), testNow)
}

// TestSeedAtAnyTime seeds at instants spread over a day and over the
// daylight-saving changes of the demo's zones: whatever the hour, some
// events are open and every status agrees with the clock.
func TestSeedAtAnyTime(t *testing.T) {
	t.Parallel()
	var nows []time.Time
	for m := 0; m < 24*60; m += 37 {
		nows = append(nows, testNow.Add(time.Duration(m)*time.Minute))
	}
	for _, s := range []string{
		"2026-03-29T01:00:00Z", // Europe: clocks go forward
		"2026-10-25T00:30:00Z", // Europe: 02:30 CEST, before the clocks go back
		"2026-10-25T01:30:00Z", // Europe: 02:30 CET, after the clocks go back
		"2026-03-08T07:00:00Z", // New York: clocks go forward
		"2026-11-01T06:30:00Z", // New York: 01:30 EST, the second time round
		"2026-04-04T16:30:00Z", // Melbourne: 02:30 AEST, after the clocks go back
		"2026-10-03T16:00:00Z", // Melbourne: clocks go forward
		"2026-12-31T23:59:00Z",
	} {
		now, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		nows = append(nows, now)
	}
	for _, now := range nows {
		t.Run(now.Format(time.RFC3339), func(t *testing.T) {
			st := newFakeStore()
			if _, err := sim.Seed(context.Background(), st.services(), sim.SeedOptions{Now: now, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			checkSeeded(t, st.services(), now)
		})
	}
}

func TestSeedDeterministic(t *testing.T) {
	t.Parallel()
	snapshot := func(seed int64, now time.Time) []string {
		st := newFakeStore()
		if _, err := sim.Seed(context.Background(), st.services(), sim.SeedOptions{Now: now, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return checkSeeded(t, st.services(), now)
	}
	a, b := snapshot(42, testNow), snapshot(42, testNow)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("same seed, different programs; first difference:\n%s\n%s", a[i], b[i])
			}
		}
		t.Fatalf("same seed, %d and %d lines", len(a), len(b))
	}
	if c := snapshot(43, testNow); slices.Equal(a, c) {
		t.Error("seeds 42 and 43 made the same program")
	}
}

func TestSeedIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newFakeStore()
	opt := sim.SeedOptions{Now: testNow, Seed: 1}
	if _, err := sim.Seed(ctx, st.services(), opt); err != nil {
		t.Fatal(err)
	}
	before := st.Writes()
	res, err := sim.Seed(ctx, st.services(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped || *res != (sim.SeedResult{Skipped: true}) {
		t.Errorf("second seed = %+v, want only Skipped", res)
	}
	if after := st.Writes(); after != before {
		t.Errorf("second seed wrote %d times", after-before)
	}
}

// collect pages through a list.
func collect[T any](t testing.TB, find func(popkit.Page) ([]T, string, error)) []T {
	t.Helper()
	var out []T
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		items, next, err := find(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		p.After = next
	}
}

// checkSeeded asserts what the demo program promises at now, reading it back
// through the services, and returns a sorted description of the program
// without ids and store times.
func checkSeeded(t testing.TB, svc sim.Services, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	var snap []string
	add := func(format string, args ...any) { snap = append(snap, fmt.Sprintf(format, args...)) }

	p, err := svc.Program.FindProgram(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != sim.ProgramName || p.Currency != sim.Currency {
		t.Errorf("program = %q %s", p.Name, p.Currency)
	}

	cities := collect(t, func(pg popkit.Page) ([]*popkit.City, string, error) {
		return svc.Cities.FindCities(ctx, popkit.CityFilter{Page: pg})
	})
	zones := map[string]bool{}
	cityByID := map[string]*popkit.City{}
	for _, c := range cities {
		zones[c.TimeZone] = true
		cityByID[c.ID] = c
		add("city %s %s %s", c.Name, c.Country, c.TimeZone)
	}
	if len(cities) < 3 || len(zones) < 3 {
		t.Errorf("%d cities in %d zones, want 3+ in 3+", len(cities), len(zones))
	}

	venues := collect(t, func(pg popkit.Page) ([]*popkit.Venue, string, error) {
		return svc.Venues.FindVenues(ctx, popkit.VenueFilter{Page: pg})
	})
	venueByID := map[string]*popkit.Venue{}
	for _, v := range venues {
		venueByID[v.ID] = v
		c := cityByID[v.CityID]
		if c == nil || v.TimeZone != c.TimeZone {
			t.Errorf("venue %s: zone %s, city %v", v.Name, v.TimeZone, c)
		}
		if v.Lat == 0 || v.Lon == 0 || v.Address == "" {
			t.Errorf("venue %s: no address or coordinates", v.Name)
		}
		add("venue %s | %s | %.5f,%.5f %s", v.Name, v.Address, v.Lat, v.Lon, v.TimeZone)
	}
	if len(venues) < 6 {
		t.Errorf("%d venues, want 6+", len(venues))
	}

	brands := collect(t, func(pg popkit.Page) ([]*popkit.Brand, string, error) {
		return svc.Brands.FindBrands(ctx, popkit.BrandFilter{Page: pg})
	})
	brandSlug := map[string]string{}
	for _, b := range brands {
		brandSlug[b.ID] = b.Slug
		add("brand %s %s %s", b.Slug, b.Name, b.ContactEmail)
	}
	if len(brands) != 8 {
		t.Errorf("%d brands, want 8", len(brands))
	}

	skus := collect(t, func(pg popkit.Page) ([]*popkit.SKU, string, error) {
		return svc.SKUs.FindSKUs(ctx, popkit.SKUFilter{Page: pg})
	})
	skuByID := map[string]*popkit.SKU{}
	perishable := 0
	for _, k := range skus {
		skuByID[k.ID] = k
		if k.Perishable {
			perishable++
		}
		if !(k.PriceMinor > k.UnitCostMinor && k.UnitCostMinor > 0) {
			t.Errorf("SKU %s: price %d, unit cost %d", k.Code, k.PriceMinor, k.UnitCostMinor)
		}
		add("sku %s %s %q %d %d %t %d", brandSlug[k.BrandID], k.Code, k.Name, k.PriceMinor, k.UnitCostMinor, k.Perishable, k.WeightGrams)
	}
	if perishable == 0 {
		t.Error("no perishable SKUs")
	}

	devices := collect(t, func(pg popkit.Page) ([]*popkit.Device, string, error) {
		return svc.Devices.FindDevices(ctx, popkit.DeviceFilter{Page: pg})
	})
	devicesOf := map[string]int{}
	for _, d := range devices {
		devicesOf[d.EventID]++
	}

	events := collect(t, func(pg popkit.Page) ([]*popkit.Event, string, error) {
		return svc.Events.FindEvents(ctx, popkit.EventFilter{Page: pg})
	})
	if len(events) < 15 {
		t.Errorf("%d events, want 15+", len(events))
	}
	statuses := map[popkit.EventStatus]int{}
	withPerishable, openNow := 0, 0
	for _, e := range events {
		statuses[e.Status]++
		v := venueByID[e.VenueID]
		if v == nil || e.TimeZone != v.TimeZone || e.CityID != v.CityID {
			t.Errorf("event %s: venue %v, zone %s", e.Slug, v, e.TimeZone)
			continue
		}
		covers, today := false, false
		loc, err := time.LoadLocation(e.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		var sess []string
		for _, s := range e.Sessions {
			covers = covers || !now.Before(s.StartUTC) && now.Before(s.EndUTC)
			today = today || s.StartUTC.In(loc).Format(time.DateOnly) == now.In(loc).Format(time.DateOnly)
			sess = append(sess, fmt.Sprintf("%s/%s", s.Start, s.End))
			// Opening hours that make sense locally: a session starts
			// at 09:00 or 10:00 and ends by 21:00 on the same local day.
			start, end := s.StartUTC.In(loc), s.EndUTC.In(loc)
			if start.Hour() < 9 || start.Hour() > 10 || end.Hour() > 21 || end.Hour() < 19 || start.YearDay() != end.YearDay() {
				t.Errorf("event %s: session %s-%s local time is outside opening hours", e.Slug, start.Format("2006-01-02 15:04"), end.Format("15:04"))
			}
		}
		if covers {
			openNow++
		}
		switch {
		case covers && e.Status != popkit.EventOpen:
			t.Errorf("event %s: a session covers now but it is %s", e.Slug, e.Status)
		case e.Status == popkit.EventOpen && !today:
			t.Errorf("event %s: open but has no session on today's local date", e.Slug)
		case e.Status == popkit.EventClosed && e.EndsAt.After(now):
			t.Errorf("event %s: closed but ends %s", e.Slug, e.EndsAt)
		case (e.Status == popkit.EventScheduled || e.Status == popkit.EventCancelled) && !e.StartsAt.After(now):
			t.Errorf("event %s: %s but started %s", e.Slug, e.Status, e.StartsAt)
		}
		if n := len(e.Sessions); n < 2 || n > 7 {
			t.Errorf("event %s: %d sessions", e.Slug, n)
		}
		if n := len(e.BrandIDs); n < 1 || n > 3 {
			t.Errorf("event %s: %d brands", e.Slug, n)
		}
		wantDevices := 0
		if e.Status == popkit.EventOpen {
			wantDevices = 1
		}
		if devicesOf[e.ID] != wantDevices {
			t.Errorf("event %s (%s): %d devices, want %d", e.Slug, e.Status, devicesOf[e.ID], wantDevices)
		}
		var bs []string
		for _, id := range e.BrandIDs {
			bs = append(bs, brandSlug[id])
		}
		// Slugs carry the local date, which depends on now; leave them out.
		add("event %s | %s | %s | %s | %v | %+v", e.Name, e.Status, v.Name, strings.Join(bs, ","), sess, e.Costs)

		items := collect(t, func(pg popkit.Page) ([]*popkit.AssortmentItem, string, error) {
			return svc.Assortment.FindAssortment(ctx, popkit.AssortmentFilter{EventID: e.ID, Page: pg})
		})
		if n := len(items); n < 6 || n > 20 {
			t.Errorf("event %s: %d SKUs in the assortment, want 6-20", e.Slug, n)
		}
		brandItems := map[string]int{}
		hasPerishable := false
		for _, a := range items {
			k := skuByID[a.SKUID]
			if k == nil || a.BrandID != k.BrandID || !e.HasBrand(k.BrandID) {
				t.Errorf("event %s: item %s of brand %s", e.Slug, a.SKUID, a.BrandID)
				continue
			}
			if a.Stock < 0 {
				t.Errorf("event %s: stock %d", e.Slug, a.Stock)
			}
			brandItems[a.BrandID]++
			hasPerishable = hasPerishable || k.Perishable
			add("item %s | %s | %d", e.Name, k.Code, a.Stock)
		}
		if len(brandItems) != len(e.BrandIDs) {
			t.Errorf("event %s: %d brands but SKUs of %d", e.Slug, len(e.BrandIDs), len(brandItems))
		}
		if hasPerishable {
			withPerishable++
		}
	}
	for _, st := range []popkit.EventStatus{popkit.EventClosed, popkit.EventOpen, popkit.EventScheduled, popkit.EventCancelled} {
		if statuses[st] == 0 {
			t.Errorf("no %s event (statuses %v)", st, statuses)
		}
	}
	if withPerishable == 0 {
		t.Error("no event sells perishable SKUs")
	}
	if openNow == 0 {
		t.Errorf("no pop-up is open at %s", now.Format(time.RFC3339))
	}
	if len(devices) != statuses[popkit.EventOpen] {
		t.Errorf("%d devices for %d open events", len(devices), statuses[popkit.EventOpen])
	}
	slices.Sort(snap)
	return snap
}
