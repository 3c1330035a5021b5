package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestSeedListings seeds the demo program and its listings into the real
// store and checks the demo's promises: most listings public now, one in
// review while its last publication stays live, a cancelled event's
// listing, a members-only window that a member past the hold sees now and
// the public only in three days, and a second run that writes nothing.
func TestSeedListings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlstoretest.Open(t)
	db.Now = func() time.Time { return testNow }
	opt := sim.SeedOptions{Now: testNow, Seed: 1}
	if _, err := sim.Seed(ctx, sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db}, opt); err != nil {
		t.Fatal(err)
	}
	svc := sim.ListingServices{Brands: db, Events: db, Listings: db, Tiers: db, Members: db}
	res, err := sim.SeedListings(ctx, svc, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Listings != 18 || res.Published != 17 || res.Tiers != 3 || res.Members != 5 {
		t.Errorf("result = %+v", res)
	}
	if l := res.InReview; l == nil || l.State != popkit.ListingSubmitted || l.Live == nil || l.Working.Title == l.Live.Title {
		t.Errorf("in review = %+v, want submitted with a different live revision", l)
	}
	if l := res.Cancelled; l == nil || l.EventStatus != popkit.EventCancelled || l.Live == nil {
		t.Errorf("cancelled = %+v", l)
	}
	if res.Member == nil || res.MembersOnly == nil {
		t.Fatalf("member %v, members-only listing %v", res.Member, res.MembersOnly)
	}
	tier, err := db.FindTierByID(ctx, res.Member.TierID)
	if err != nil {
		t.Fatal(err)
	}
	member := popkit.Viewer{Member: res.Member, Tier: tier}
	mo := res.MembersOnly
	if mo.VisibleTo(testNow, popkit.Viewer{}) || !mo.VisibleTo(testNow, member) || !mo.VisibleTo(testNow.Add(72*time.Hour), popkit.Viewer{}) {
		t.Errorf("members-only window: public now %v, member now %v, public in 3 days %v",
			mo.VisibleTo(testNow, popkit.Viewer{}), mo.VisibleTo(testNow, member), mo.VisibleTo(testNow.Add(72*time.Hour), popkit.Viewer{}))
	}
	public, _, err := db.FindListings(ctx, popkit.ListingFilter{VisibleAt: testNow, Page: popkit.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(public) != 16 {
		t.Errorf("%d listings public now, want 16 (all but the draft and the members-only one)", len(public))
	}

	again, err := sim.SeedListings(ctx, svc, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped || again.Listings != 18 || again.Member == nil || again.Member.ID != res.Member.ID || again.InReview == nil || again.MembersOnly == nil || again.Cancelled == nil {
		t.Errorf("second run = %+v", again)
	}
}
