// Command kpibench measures KPI reports over a large program: it creates
// -events events spread over a year in four cities (Berlin, London, New
// York, Melbourne), each open 10:00-18:00 local on -days days with a
// footfall and an energy rollup for every minute of those days (so events
// × days × 1,440 × 2 rollups) and -orders POS orders per event, all written
// with server-side INSERT ... SELECT so that the hourly aggregates are
// filled by the same triggers live writes fire. It then times, on the
// store's KPIService:
//
//   - the program grouped by city over 90 days (p50, p99 over -queries);
//   - one event grouped by hour over its days (p50, p99 over -queries);
//   - GET /api/v1/kpis of the whole year by day for all events as CSV,
//     through the HTTP handler (p50 and max over 5).
//
// Run it on either store; -events 40 -orders 100 -queries 20 is a quick run:
//
//	go run ./bench/kpibench -dsn /tmp/kpi.db
//	go run ./bench/kpibench -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// On PostgreSQL it works in a fresh schema that it drops at the end.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	mrand "math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for seeding
	_ "modernc.org/sqlite"             // the "sqlite" driver, for seeding

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/sqlstore"
)

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL URL or SQLite file (required)")
	events := flag.Int("events", 1000, "events in the program")
	days := flag.Int("days", 7, "days of minute rollups per event")
	orders := flag.Int("orders", 1000, "POS orders per event")
	queries := flag.Int("queries", 100, "queries per measured report")
	flag.Parse()
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "kpibench: -dsn is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *dsn, *events, *days, *orders, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "kpibench:", err)
		os.Exit(1)
	}
}

// year is the program's year: events start between these days.
var year = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type seeded struct {
	id       string
	firstDay time.Time // UTC midnight of its first day
	zone     string
}

func run(ctx context.Context, dsn string, nEvents, days, nOrders, queries int) error {
	postgres := strings.HasPrefix(dsn, "postgres")
	if postgres {
		schema, drop, err := freshSchema(ctx, dsn)
		if err != nil {
			return err
		}
		defer drop()
		dsn = schema
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	evs, err := mkEvents(ctx, db, nEvents, days)
	if err != nil {
		return err
	}
	if err := seed(ctx, dsn, postgres, evs, days, nOrders); err != nil {
		return err
	}
	rollups := nEvents * days * 1440 * 2
	log.Printf("seeded %d events, %d rollups, %d orders in %v", nEvents, rollups, nEvents*nOrders, time.Since(t0).Round(time.Second))
	fmt.Printf("store: %s; %d events × %d days × 1,440 minutes × 2 kinds = %d rollups; %d orders\n\n", db.Dialect(), nEvents, days, rollups, nEvents*nOrders)
	fmt.Println("| report | rows | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|")

	mid := year.AddDate(0, 4, 0)
	measure := func(name string, n int, f func() (int, error)) error {
		var lat []time.Duration
		rows := 0
		for range n {
			q0 := time.Now()
			r, err := f()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			lat = append(lat, time.Since(q0))
			rows = r
		}
		slices.Sort(lat)
		fmt.Printf("| %s | %d | %s | %s | %s |\n", name, rows, ms(lat[len(lat)/2]), ms(lat[min(len(lat)-1, len(lat)*99/100)]), ms(lat[len(lat)-1]))
		return nil
	}
	if err := measure("program by city, 90 days", queries, func() (int, error) {
		from := mid.AddDate(0, 0, mrand.IntN(120))
		rep, err := db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeProgram, Group: popkit.GroupCity, From: from, To: from.AddDate(0, 0, 90)})
		if err != nil {
			return 0, err
		}
		return len(rep.Rows), nil
	}); err != nil {
		return err
	}
	if err := measure("one event by hour, its days", queries, func() (int, error) {
		e := evs[mrand.IntN(len(evs))]
		rep, err := db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeEvent, ID: e.id, Group: popkit.GroupHour,
			From: e.firstDay.Add(-24 * time.Hour), To: e.firstDay.AddDate(0, 0, days+1)})
		if err != nil {
			return 0, err
		}
		return len(rep.Rows), nil
	}); err != nil {
		return err
	}
	tok := &popkit.Token{Name: "bench", Role: popkit.RoleAdmin}
	secret, err := db.CreateToken(ctx, tok)
	if err != nil {
		return err
	}
	h := pkhttp.NewServer(db).Handler()
	path := "/api/v1/kpis?scope=program&group=day&format=csv&from=" + year.Format(time.RFC3339) + "&to=" + year.AddDate(1, 0, 0).Format(time.RFC3339)
	return measure("CSV, a year by day, all events (HTTP)", 5, func() (int, error) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			return 0, fmt.Errorf("status %d: %s", rec.Code, rec.Body.String())
		}
		body, _ := io.ReadAll(rec.Body)
		return strings.Count(string(body), "\r\n") - 1, nil
	})
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", math.Round(float64(d.Microseconds())/10)/100)
}

// mkEvents creates n events over the year in four cities, each open
// 10:00-18:00 local on days consecutive days.
func mkEvents(ctx context.Context, db *sqlstore.DB, n, days int) ([]seeded, error) {
	type place struct{ name, country, zone string }
	places := []place{{"Berlin", "DE", "Europe/Berlin"}, {"London", "GB", "Europe/London"}, {"New York", "US", "America/New_York"}, {"Melbourne", "AU", "Australia/Melbourne"}}
	brand := &popkit.Brand{Name: "Brand", Slug: "brand", ContactEmail: "b@example.com"}
	if err := db.CreateBrand(ctx, brand); err != nil {
		return nil, err
	}
	venues := make([]string, len(places))
	for i, p := range places {
		c := &popkit.City{Name: p.name, Country: p.country, TimeZone: p.zone}
		if err := db.CreateCity(ctx, c); err != nil {
			return nil, err
		}
		v := &popkit.Venue{CityID: c.ID, Name: "Halle", Address: "Str. 1", Lat: 52.5, Lon: 13.4}
		if err := db.CreateVenue(ctx, v); err != nil {
			return nil, err
		}
		venues[i] = v.ID
	}
	out := make([]seeded, n)
	for i := range out {
		p := i % len(places)
		first := year.AddDate(0, 0, i*(365-days)/max(n, 1))
		var sessions []popkit.Session
		for d := range days {
			day := first.AddDate(0, 0, d).Format(time.DateOnly)
			sessions = append(sessions, popkit.Session{Start: popkit.LocalTime(day + "T10:00"), End: popkit.LocalTime(day + "T18:00")})
		}
		e := &popkit.Event{VenueID: venues[p], Name: "Pop-up", Slug: fmt.Sprintf("e-%d", i), BrandIDs: []string{brand.ID}, Sessions: sessions,
			Costs: popkit.Costs{RentMinor: 500000, StaffMinor: 300000, TransportMinor: 50000, EnergyTariffMinorKWh: 30}}
		if err := db.CreateEvent(ctx, e); err != nil {
			return nil, fmt.Errorf("create event: %w", err)
		}
		out[i] = seeded{id: e.ID, firstDay: first, zone: places[p].zone}
	}
	return out, nil
}

// seed writes the rollups and orders of each event with INSERT ... SELECT,
// the minutes generated in the database; the 0012 triggers fill the
// hourly aggregates as they would for live writes.
func seed(ctx context.Context, dsn string, postgres bool, evs []seeded, days, nOrders int) error {
	driver := "sqlite"
	if postgres {
		driver = "pgx"
	}
	sdb, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer sdb.Close()
	minutes := days * 1440
	const cols = `event_id, kind, minute, device_id, sensor, src_stream, src_seq, in_count, out_count, occupancy_max,
		queue_samples, queue_p50, queue_p95, queue_max, open_tills, visitors, repeat_visitors, dwell_median_seconds,
		suppressed, temp_samples, temp_min, temp_max, temp_mean, kwh`
	const ocols = `id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref, total_minor, cost_minor, occurred_at, created_at, updated_at`
	for _, e := range evs {
		if postgres {
			if _, err := sdb.ExecContext(ctx, `INSERT INTO telemetry_rollups (`+cols+`)
				SELECT $1, k, $2::timestamptz + m * interval '1 minute', 'dev', k, 's', m + 1,
					CASE WHEN k = 'footfall' THEN m % 7 ELSE 0 END, m % 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0, 0,
					CASE WHEN k = 'energy' THEN 0.05 ELSE 0 END
				FROM generate_series(0, $3 - 1) AS m CROSS JOIN (VALUES ('footfall'), ('energy')) AS kinds(k)`, e.id, e.firstDay, minutes); err != nil {
				return fmt.Errorf("seed rollups: %w", err)
			}
			if _, err := sdb.ExecContext(ctx, `INSERT INTO orders (`+ocols+`)
				SELECT $1 || '-' || n, $1, 'pos', CASE WHEN n % 20 = 0 THEN 'refunded' ELSE 'completed' END, 'card', 2400, '', 2400, 800,
					$2::timestamptz + (n % $3) * interval '1 minute', now(), now()
				FROM generate_series(0, $4 - 1) AS n`, e.id, e.firstDay, minutes, nOrders); err != nil {
				return fmt.Errorf("seed orders: %w", err)
			}
			continue
		}
		if _, err := sdb.ExecContext(ctx, `WITH RECURSIVE m(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM m WHERE x < ? - 1),
			kinds(k) AS (VALUES ('footfall'), ('energy'))
			INSERT INTO telemetry_rollups (`+cols+`)
			SELECT ?, k, ? + x * 60000000, 'dev', k, 's', x + 1,
				CASE WHEN k = 'footfall' THEN x % 7 ELSE 0 END, x % 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				CASE WHEN k = 'energy' THEN 0.05 ELSE 0 END
			FROM m CROSS JOIN kinds`, minutes, e.id, e.firstDay.UnixMicro()); err != nil {
			return fmt.Errorf("seed rollups: %w", err)
		}
		if _, err := sdb.ExecContext(ctx, `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ? - 1)
			INSERT INTO orders (`+ocols+`)
			SELECT ? || '-' || x, ?, 'pos', CASE WHEN x % 20 = 0 THEN 'refunded' ELSE 'completed' END, 'card', 2400, '', 2400, 800,
				? + (x % ?) * 60000000, 0, 0
			FROM n`, nOrders, e.id, e.id, e.firstDay.UnixMicro(), minutes); err != nil {
			return fmt.Errorf("seed orders: %w", err)
		}
	}
	_, err = sdb.ExecContext(ctx, "ANALYZE")
	return err
}

// freshSchema creates a schema in the PostgreSQL database at base and
// returns a URL selecting it and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	drop := func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
