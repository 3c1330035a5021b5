package sim_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// seedHistory seeds the program and a year of history into a fresh store
// (SQLite, or PostgreSQL when POPKIT_TEST_POSTGRES_URL is set).
func seedHistory(t *testing.T) (*sqlstore.DB, *sim.HistoryResult) {
	t.Helper()
	ctx := context.Background()
	db := sqlstoretest.Open(t)
	clock := &sim.Clock{}
	db.Now = clock.Now
	if _, err := sim.Seed(ctx, sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db},
		sim.SeedOptions{Now: testNow, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	start, cpu := time.Now(), cpuTime()
	res, err := sim.SeedHistory(ctx, sim.HistoryServices{Venues: db, Brands: db, SKUs: db, Events: db, Assortment: db, Devices: db,
		Telemetry: db, Orders: db, Listings: db, Tiers: db, Members: db, Funnel: db, Fulfilment: db},
		sim.HistoryOptions{Now: testNow, Seed: 1, SetClock: clock.Set})
	if err != nil {
		t.Fatal(err)
	}
	clock.Reset()
	t.Logf("history seeded in %s wall, %s CPU of this process (store included): %+v", time.Since(start).Round(time.Millisecond), (cpuTime() - cpu).Round(time.Millisecond), *res)
	return db, res
}

// TestSeedHistory checks the shape of the seeded year as the store holds
// it: closed events in four cities over a year, conversion (till sales ÷
// door entries, both read back) in the documented band, no oversell,
// every sale and every counted entry inside the venue's local opening
// hours, a few refunds, listings published part-way through their event,
// and one concept run twice at one venue.
func TestSeedHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, res := seedHistory(t)

	events, err := collectAll(func(p popkit.Page) ([]*popkit.Event, string, error) {
		return db.FindEvents(ctx, popkit.EventFilter{Status: popkit.EventClosed, Page: p})
	})
	if err != nil {
		t.Fatal(err)
	}
	cities := map[string]int{}
	var history []*popkit.Event
	first, last := testNow, time.Time{}
	for _, e := range events {
		if e.StartsAt.After(testNow.AddDate(0, 0, -65)) {
			continue // the program's own recent past events
		}
		history = append(history, e)
		cities[e.CityID]++
		if e.StartsAt.Before(first) {
			first = e.StartsAt
		}
		if e.EndsAt.After(last) {
			last = e.EndsAt
		}
	}
	if len(history) != res.Events || len(cities) != 4 {
		t.Fatalf("%d history events (result %d) in %d cities, want 4 cities", len(history), res.Events, len(cities))
	}
	for c, n := range cities {
		if n < 5 {
			t.Errorf("city %s: %d closed events in the year", c, n)
		}
	}
	if span := last.Sub(first); first.Before(testNow.AddDate(-1, 0, -1)) || span < 280*24*time.Hour {
		t.Errorf("history from %s to %s: want about a year before %s", first, last, testNow)
	}

	var entries, sales, refunded int64
	var sameDay, delivered, cancelled int
	concept := map[string][]*popkit.Event{}
	for _, e := range history {
		concept[e.Name+"@"+e.VenueID] = append(concept[e.Name+"@"+e.VenueID], e)
		loc, err := time.LoadLocation(e.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		series, err := db.FindTelemetry(ctx, popkit.TelemetryFilter{EventID: e.ID, Metric: popkit.MetricFootfallIn, From: e.StartsAt.Truncate(time.Hour), To: e.EndsAt.Add(time.Hour), Step: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range series.Points {
			if p.Value == 0 {
				continue
			}
			entries += int64(p.Value)
			if !openAt(e, p.T) {
				t.Errorf("event %s: %v entries in the hour from %s local, outside its sessions", e.Slug, p.Value, p.T.In(loc).Format("2006-01-02 15:04"))
			}
		}
		orders, err := collectAll(func(p popkit.Page) ([]*popkit.Order, string, error) {
			return db.FindOrders(ctx, popkit.OrderFilter{EventID: e.ID, Page: p})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			if o.Channel == popkit.ChannelSameDay {
				sameDay++
				switch o.Status {
				case popkit.OrderCancelled:
					cancelled++
				case popkit.OrderFulfilled, popkit.OrderCompleted:
					delivered++
				}
			}
			if o.Channel != popkit.ChannelPOS {
				continue
			}
			sales++
			if o.Status == popkit.OrderRefunded {
				refunded++
			}
			if !openAt(e, o.OccurredAt) {
				t.Errorf("event %s: sale at %s local, outside its sessions", e.Slug, o.OccurredAt.In(loc).Format("2006-01-02 15:04"))
			}
		}
	}
	if entries != res.Entries || sales != res.Sales {
		t.Errorf("store holds %d entries and %d sales, the seed made %d and %d", entries, sales, res.Entries, res.Sales)
	}
	conv := float64(sales) / float64(entries)
	if conv < sim.ConversionLow || conv > sim.ConversionHigh {
		t.Errorf("conversion %.3f (%d sales / %d entries), want within [%.2f, %.2f]", conv, sales, entries, sim.ConversionLow, sim.ConversionHigh)
	}
	if entries < 20000 {
		t.Errorf("%d entries in a year of pop-ups: too quiet to measure", entries)
	}
	if r := float64(refunded) / float64(sales); refunded == 0 || r > 0.03 {
		t.Errorf("%d of %d sales refunded, want a few (about 1.5%%)", refunded, sales)
	}

	if sameDay != res.SameDay || delivered != res.Delivered || cancelled != res.Cancelled || sameDay < 50 || cancelled == 0 || cancelled > sameDay/10 {
		t.Errorf("same-day orders %d, delivered %d, cancelled %d; the seed says %d, %d, %d", sameDay, delivered, cancelled, res.SameDay, res.Delivered, res.Cancelled)
	}

	exc, _, err := db.FindExceptions(ctx, popkit.ExceptionFilter{Page: popkit.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 0 {
		t.Errorf("history made %d exceptions (first %s %s), want none", len(exc), exc[0].Kind, exc[0].Detail)
	}

	twice := 0
	for _, es := range concept {
		if len(es) == 2 {
			twice++
		}
	}
	if twice < 1 || len(res.Iterations) != 2 {
		t.Errorf("%d concepts ran twice at one venue, iterations %v", twice, res.Iterations)
	}

	listings, err := collectAll(func(p popkit.Page) ([]*popkit.Listing, string, error) {
		return db.FindListings(ctx, popkit.ListingFilter{Page: p})
	})
	if err != nil {
		t.Fatal(err)
	}
	partWay := 0
	for _, l := range listings {
		for _, e := range history {
			if l.EventID == e.ID && l.PublishedAt != nil && l.PublishedAt.After(e.StartsAt) && l.PublishedAt.Before(e.EndsAt) {
				partWay++
			}
		}
	}
	if partWay != res.Listings || partWay < 4 {
		t.Errorf("%d listings published part-way through their event, the seed says %d", partWay, res.Listings)
	}
	if res.Checkins == 0 || res.Members == 0 {
		t.Errorf("no check-ins: %+v", res)
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openAt reports whether a session of e covers t.
func openAt(e *popkit.Event, t time.Time) bool {
	for _, s := range e.Sessions {
		if !t.Before(s.StartUTC) && t.Before(s.EndUTC) {
			return true
		}
	}
	return false
}

// collectAll pages through a list.
func collectAll[T any](find func(popkit.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		page, next, err := find(p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}
