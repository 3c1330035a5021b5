package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateMoney applies 0011-money over data written before it: a city
// with an event keeps the program currency (its amounts were in it), a
// city without events takes its country's, one of a country without a
// default takes the program's, and each SKU's list price becomes its
// program-currency price.
func TestMigrateMoney(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, err := migrations(db.dialect)
	if err != nil {
		t.Fatal(err)
	}
	var money migration
	for _, m := range list {
		if strings.HasPrefix(m.name, "0011") {
			money = m
			break
		}
		if _, err := db.migrate(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.wdb.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const (
		london  = "01963d6e-8a10-7c3e-9a4e-000000000001"
		paris   = "01963d6e-8a10-7c3e-9a4e-000000000002"
		tokyo   = "01963d6e-8a10-7c3e-9a4e-000000000003"
		nowhere = "01963d6e-8a10-7c3e-9a4e-000000000004"
		venue   = "01963d6e-8a10-7c3e-9a4e-000000000005"
		event   = "01963d6e-8a10-7c3e-9a4e-000000000006"
		brand   = "01963d6e-8a10-7c3e-9a4e-000000000007"
		sku     = "01963d6e-8a10-7c3e-9a4e-000000000008"
	)
	exec(`UPDATE program SET currency = 'EUR'`)
	for id, country := range map[string]string{london: "GB", paris: "FR", tokyo: "JP", nowhere: "ZZ"} {
		exec(`INSERT INTO cities (id, name, country, time_zone, created_at, updated_at) VALUES (?, ?, ?, 'UTC', 0, 0)`, id, "c"+country, country)
	}
	exec(`INSERT INTO venues (id, city_id, name, address, lat, lon, time_zone, created_at, updated_at) VALUES (?, ?, 'v', 'a', 0, 0, 'UTC', 0, 0)`, venue, london)
	exec(`INSERT INTO events (id, venue_id, city_id, time_zone, name, slug, status, rent_minor, staff_minor, transport_minor, energy_tariff_minor_kwh, starts_at, ends_at, created_at, updated_at)
		VALUES (?, ?, ?, 'UTC', 'e', 'e', 'scheduled', 100, 0, 0, 0, 0, 1, 0, 0)`, event, venue, london)
	exec(`INSERT INTO brands (id, name, slug, contact_email, created_at, updated_at) VALUES (?, 'b', 'b', '', 0, 0)`, brand)
	exec(`INSERT INTO skus (id, brand_id, code, name, price_minor, unit_cost_minor, perishable, weight_grams, created_at, updated_at) VALUES (?, ?, 'c', 'n', 1200, 400, 0, 1, 0, 0)`, sku, brand)

	if ok, err := db.migrate(ctx, money); err != nil || !ok {
		t.Fatalf("0011: %v, %v", ok, err)
	}
	want := map[string]string{london: "EUR", paris: "EUR", tokyo: "JPY", nowhere: "EUR"}
	for id, cur := range want {
		var got string
		if err := db.rdb.QueryRowContext(ctx, `SELECT currency FROM cities WHERE id = ?`, id).Scan(&got); err != nil || got != cur {
			t.Errorf("city %s: currency %q, %v; want %s", id[len(id)-1:], got, err, cur)
		}
	}
	var cur string
	var price, cost int64
	if err := db.rdb.QueryRowContext(ctx, `SELECT currency, price_minor, unit_cost_minor FROM sku_prices WHERE sku_id = ?`, sku).Scan(&cur, &price, &cost); err != nil || cur != "EUR" || price != 1200 || cost != 400 {
		t.Errorf("sku price after migration: %s %d %d, %v; want EUR 1200 400", cur, price, cost, err)
	}
}
