package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// BenchmarkFindEventsByCity lists events of one city, 50 a page, out of
// 10,000 events in 5 cities (each with 3 sessions and 2 brands). It reports
// the 99th percentile latency beside the mean. It runs on SQLite, and on
// PostgreSQL too when POPKIT_TEST_POSTGRES_URL is set.
func BenchmarkFindEventsByCity(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			cities := seedEvents(b, db, 10_000, 5)
			b.Run("first-page", func(b *testing.B) {
				i := 0
				benchLatency(b, func() {
					f := popkit.EventFilter{CityID: cities[i%len(cities)], Page: popkit.Page{Limit: 50}}
					i++
					events, _, err := db.FindEvents(b.Context(), f)
					if err != nil || len(events) != 50 {
						b.Fatalf("FindEvents: %d events, %v", len(events), err)
					}
				})
			})
			b.Run("walk-pages", func(b *testing.B) {
				next := ""
				benchLatency(b, func() {
					f := popkit.EventFilter{CityID: cities[0], Page: popkit.Page{Limit: 50, After: next}}
					events, n, err := db.FindEvents(b.Context(), f)
					if err != nil || len(events) == 0 {
						b.Fatalf("FindEvents: %d events, %v", len(events), err)
					}
					next = n
				})
			})
		})
	}
}

// benchLatency runs op b.N times and reports its 99th percentile latency.
func benchLatency(b *testing.B, op func()) {
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		op()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// seedEvents creates n events spread over the given number of cities and
// returns the city ids.
func seedEvents(b testing.TB, db *sqlstore.DB, n, nCities int) []string {
	b.Helper()
	ctx := b.Context()
	brands := []string{mkBrand(b, db).ID, mkBrand(b, db).ID, mkBrand(b, db).ID}
	var cities, venues []string
	for range nCities {
		c := mkCity(b, db, "Europe/Berlin")
		cities = append(cities, c.ID)
		venues = append(venues, mkVenue(b, db, c.ID, "").ID)
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		d := day.AddDate(0, 0, i%365).Format("2006-01-02")
		e := newEvent(venues[i%nCities], []string{brands[i%3], brands[(i+1)%3]},
			session(d, "09:00", "12:00"), session(d, "13:00", "17:00"), session(d, "18:00", "22:00"))
		e.Slug = fmt.Sprintf("seed-%d", i)
		if err := db.CreateEvent(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	must(b, db.Analyze(ctx))
	return cities
}
