package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore"
)

// seedDemo seeds the demo into the database at dsn once, before the demo
// serves: the program (sim.Seed), its listings and members
// (sim.SeedListings) and a year of closed events with what they produced
// (sim.SeedHistory). It opens its own store whose clock SeedHistory moves
// into the past while it writes, so that store-set times (publications,
// transitions) fall where they happened; nothing else uses that store.
// When the program is already there it writes nothing; with history false
// it seeds no history.
func seedDemo(ctx context.Context, dsn string, seed int64, history bool, out io.Writer) (err error) {
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	if _, err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	clock := &sim.Clock{}
	db.Now = clock.Now
	logf := func(format string, args ...any) { fmt.Fprintf(out, "  "+format+"\n", args...) }
	now := time.Now()
	start := now
	res, err := sim.Seed(ctx, sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db},
		sim.SeedOptions{Now: now, Seed: seed, Log: logf})
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if res.Skipped {
		fmt.Fprintf(out, "reusing the demo program already in %s\n", dsn)
		return nil
	}
	if _, err := sim.SeedListings(ctx, sim.ListingServices{Brands: db, Events: db, Listings: db, Tiers: db, Members: db},
		sim.SeedOptions{Now: now, Log: logf}); err != nil {
		return fmt.Errorf("seed listings: %w", err)
	}
	if !history {
		fmt.Fprintf(out, "seeded the demo program (%d events, no history) in %s into %s\n", res.Events, time.Since(start).Round(10*time.Millisecond), dsn)
		return nil
	}
	h, err := sim.SeedHistory(ctx, sim.HistoryServices{Venues: db, Brands: db, SKUs: db, Events: db, Assortment: db, Devices: db,
		Telemetry: db, Orders: db, Listings: db, Tiers: db, Members: db, Funnel: db, Fulfilment: db},
		sim.HistoryOptions{Now: now, Seed: seed, SetClock: clock.Set, Log: logf})
	clock.Reset()
	if err != nil {
		return fmt.Errorf("seed demo history: %w", err)
	}
	fmt.Fprintf(out, "seeded the demo program (%d events, %d of them a year of history) in %s into %s\n",
		res.Events+h.Events, h.Events, time.Since(start).Round(10*time.Millisecond), dsn)
	return nil
}
