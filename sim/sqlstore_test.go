package sim_test

import (
	"context"
	"testing"

	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestSeedSQLStore seeds the real store (SQLite, or PostgreSQL when
// POPKIT_TEST_POSTGRES_URL is set) and checks the program read back from it.
func TestSeedSQLStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlstoretest.Open(t)
	svc := sim.Services{Program: db, Cities: db, Venues: db, Brands: db, Events: db, SKUs: db, Assortment: db, Devices: db}
	opt := sim.SeedOptions{Now: testNow, Seed: 1}
	res, err := sim.Seed(ctx, svc, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Events != 18 || res.SKUs != 300 || res.Devices != 4 {
		t.Errorf("result = %+v", res)
	}
	got := checkSeeded(t, svc, testNow)

	// The store holds the same program as the in-memory fake.
	st := newFakeStore()
	if _, err := sim.Seed(ctx, st.services(), opt); err != nil {
		t.Fatal(err)
	}
	want := checkSeeded(t, st.services(), testNow)
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("store and fake differ; first difference:\n store: %s\n fake:  %s", got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("store has %d lines, fake %d", len(got), len(want))
	}

	res, err = sim.Seed(ctx, svc, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped {
		t.Errorf("second seed = %+v, want Skipped", res)
	}
	if again := checkSeeded(t, svc, testNow); len(again) != len(got) {
		t.Errorf("second seed changed the program: %d lines, then %d", len(got), len(again))
	}
}
