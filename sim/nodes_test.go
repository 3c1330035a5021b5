package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestSeedNodes seeds the demo's nodes around two pop-ups into the real
// store, and again: the second run updates the same nodes.
func TestSeedNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlstoretest.Open(t)
	svc := sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db}
	if _, err := sim.Seed(ctx, svc, sim.SeedOptions{Now: testNow, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	skus, _, err := db.FindSKUs(ctx, popkit.SKUFilter{Page: popkit.Page{Limit: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range skus {
		ids = append(ids, s.ID)
	}
	sites := []sim.NodeSite{
		{Name: "Markthalle", Lat: 52.5, Lon: 13.43, TimeZone: "Europe/Berlin", SKUs: ids, Perishable: ids[:1]},
		{Name: "Coal Drops Yard", Lat: 51.54, Lon: -0.13, TimeZone: "Europe/London", SKUs: ids},
	}
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	first, err := sim.SeedNodes(ctx, db, sites, now, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(first[0]) != 3 || len(first[1]) != 2 {
		t.Fatalf("nodes per site = %d/%d, want 3 and 2", len(first[0]), len(first[1]))
	}
	partner, micro, kitting := first[0][sim.NodePartner], first[0][sim.NodeMicrofactory], first[0][sim.NodeKitting]
	if !partner.External || !micro.ColdChain || len(micro.Makes) != 1 || kitting.External {
		t.Errorf("roles: partner external %v, microfactory cold %v makes %v, kitting external %v", partner.External, micro.ColdChain, micro.Makes, kitting.External)
	}
	// 10:00 UTC is 12:00 in Berlin: the kitting station's wave locks at 12:04.
	if kitting.SameDayCutoff != fulfil.Clock(12*60+4) {
		t.Errorf("kitting cutoff %s, want 12:04", kitting.SameDayCutoff)
	}
	stock, err := db.NodeStock(ctx, kitting.ID)
	if err != nil || len(stock) != len(ids) {
		t.Fatalf("kitting stock %d lines (%v), want %d", len(stock), err, len(ids))
	}
	for _, l := range stock {
		if l.OnHand < 20 || l.OnHand > 60 {
			t.Errorf("stock of %s = %d, want 20-60", l.SKUID, l.OnHand)
		}
	}

	// A second run an hour later keeps the nodes and moves the cutoff.
	again, err := sim.SeedNodes(ctx, db, sites, now.Add(time.Hour), 1)
	if err != nil {
		t.Fatal(err)
	}
	if again[0][sim.NodeKitting].ID != kitting.ID || again[1][sim.NodeMicrofactory].ID != first[1][sim.NodeMicrofactory].ID {
		t.Error("the second run made new nodes")
	}
	got, err := db.FindNodeByID(ctx, kitting.ID)
	if err != nil || got.SameDayCutoff != fulfil.Clock(13*60+4) {
		t.Errorf("after the second run the cutoff is %v (%v), want 13:04", got.SameDayCutoff, err)
	}
	all, _, err := db.FindNodes(ctx, fulfil.NodeFilter{})
	if err != nil || len(all) != 5 {
		t.Errorf("%d nodes stored (%v), want 5", len(all), err)
	}
}
