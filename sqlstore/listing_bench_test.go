package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// BenchmarkPublicListings measures the store side of the microsite's
// pages with 10,000 published listings in 5 cities: an event page's lookup
// by slug, a city page (the next 20 public listings of one city that have
// not ended) and the home page (the next 50 over all cities). It reports
// the 99th percentile latency beside the mean, on SQLite and, when
// POPKIT_TEST_POSTGRES_URL is set, on PostgreSQL.
func BenchmarkPublicListings(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			cities := seedEvents(b, db, 10_000, 5)
			seedPublishedListings(b, db)
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			b.Run("by-slug", func(b *testing.B) {
				i := 0
				benchLatency(b, func() {
					slug := fmt.Sprintf("seed-%d", (i*7919)%10_000)
					i++
					l, err := db.FindListingBySlug(b.Context(), slug)
					if err != nil || l.Live == nil {
						b.Fatalf("FindListingBySlug(%s): %v", slug, err)
					}
				})
			})
			b.Run("city-page", func(b *testing.B) {
				i := 0
				benchLatency(b, func() {
					f := popkit.ListingFilter{CityID: cities[i%len(cities)], VisibleAt: now, EndsAfter: now, Page: popkit.Page{Limit: 20}}
					i++
					ls, _, err := db.FindListings(b.Context(), f)
					if err != nil || len(ls) != 20 {
						b.Fatalf("FindListings: %d listings, %v", len(ls), err)
					}
				})
			})
			b.Run("home-page", func(b *testing.B) {
				benchLatency(b, func() {
					f := popkit.ListingFilter{VisibleAt: now, EndsAfter: now, Page: popkit.Page{Limit: 50}}
					ls, _, err := db.FindListings(b.Context(), f)
					if err != nil || len(ls) != 50 {
						b.Fatalf("FindListings: %d listings, %v", len(ls), err)
					}
				})
			})
		})
	}
}

// seedPublishedListings gives every event a published listing.
func seedPublishedListings(b testing.TB, db *sqlstore.DB) {
	b.Helper()
	ctx := b.Context()
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		events, next, err := db.FindEvents(ctx, popkit.EventFilter{Page: p})
		must(b, err)
		for _, e := range events {
			l := &popkit.Listing{EventID: e.ID, Working: listingContent(e.BrandIDs[0])}
			must(b, db.CreateListing(ctx, l))
			curate(b, db, l.ID, popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish)
		}
		if next == "" {
			break
		}
		p.After = next
	}
	must(b, db.Analyze(ctx))
}
