// Command telemetrybench measures telemetry series queries over a large
// store: it creates -events events, fills -days days of footfall minutes
// for each (one sensor, so events × days × 1,440 rollups) with one
// server-side INSERT ... SELECT per chunk of events, then times
// FindTelemetry for a 1-day and a 30-day range at 1h step on random events
// and prints the plan of each query.
//
//	go run ./bench/telemetrybench -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/telemetrybench -dsn /tmp/telemetry.db
//
// On PostgreSQL it works in a fresh schema that it drops at the end.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for seeding
	_ "modernc.org/sqlite"             // the "sqlite" driver, for seeding

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL URL or SQLite file (required)")
	events := flag.Int("events", 1000, "events to fill")
	days := flag.Int("days", 7, "days of minutes per event")
	queries := flag.Int("queries", 200, "queries per range")
	interleave := flag.Bool("interleave", true, "PostgreSQL: insert minute by minute across events, as live ingest does")
	flag.Parse()
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "telemetrybench: -dsn is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *dsn, *events, *days, *queries, *interleave); err != nil {
		fmt.Fprintln(os.Stderr, "telemetrybench:", err)
		os.Exit(1)
	}
}

// start is the first seeded minute.
var start = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func run(ctx context.Context, dsn string, nEvents, days, queries int, interleave bool) error {
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
	ids, err := mkEvents(ctx, db, nEvents)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := seed(ctx, dsn, postgres, interleave, ids, days); err != nil {
		return err
	}
	rows := nEvents * days * 1440
	log.Printf("seeded %d rollups in %v", rows, time.Since(t0).Round(time.Millisecond))

	fmt.Printf("store: %s, %d events × %d days × 1,440 minutes = %d rollups (interleaved heap: %v)\n\n", db.Dialect(), nEvents, days, rows, interleave && postgres)
	fmt.Println("| range | step | points | p50 | p95 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range []struct {
		name     string
		from, to time.Time
	}{
		{"1 day", start.Add(72 * time.Hour), start.Add(96 * time.Hour)},
		{"30 days", start.Add(-10 * 24 * time.Hour), start.Add(20 * 24 * time.Hour)},
	} {
		var lat []time.Duration
		points := 0
		for i := range queries {
			f := popkit.TelemetryFilter{EventID: ids[mrand.IntN(len(ids))], Metric: popkit.MetricFootfallIn, From: r.from, To: r.to, Step: time.Hour}
			q0 := time.Now()
			s, err := db.FindTelemetry(ctx, f)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(q0))
			if i == 0 {
				points = len(s.Points)
			}
		}
		slices.Sort(lat)
		fmt.Printf("| %s | 1h | %d | %v | %v | %v |\n", r.name, points, ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(lat[len(lat)-1]))
		plan, err := db.ExplainTelemetry(ctx, popkit.TelemetryFilter{EventID: ids[0], Metric: popkit.MetricFootfallIn, From: r.from, To: r.to, Step: time.Hour})
		if err != nil {
			return err
		}
		defer fmt.Printf("\nplan, %s:\n%s", r.name, plan)
	}
	return nil
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", math.Round(float64(d.Microseconds())/10)/100)
}

// mkEvents creates n events (one city, venue and brand) and returns their
// ids.
func mkEvents(ctx context.Context, db *sqlstore.DB, n int) ([]string, error) {
	city := &popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"}
	if err := db.CreateCity(ctx, city); err != nil {
		return nil, err
	}
	venue := &popkit.Venue{CityID: city.ID, Name: "Halle", Address: "Str. 1", Lat: 52.5, Lon: 13.4}
	if err := db.CreateVenue(ctx, venue); err != nil {
		return nil, err
	}
	brand := &popkit.Brand{Name: "Brand", Slug: "brand", ContactEmail: "b@example.com"}
	if err := db.CreateBrand(ctx, brand); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		e := &popkit.Event{VenueID: venue.ID, Name: "Pop-up", Slug: fmt.Sprintf("e-%d", i), BrandIDs: []string{brand.ID},
			Sessions: []popkit.Session{{Start: popkit.LocalTime("2026-05-01T10:00"), End: popkit.LocalTime("2026-05-01T18:00")}}}
		if err := db.CreateEvent(ctx, e); err != nil {
			return nil, fmt.Errorf("create event: %w", err)
		}
		ids[i] = e.ID
	}
	return ids, nil
}

// seed fills the rollups with one INSERT ... SELECT per 50 events,
// generating the minutes in the database.
//
// On PostgreSQL the heap is in insertion order. With interleave (the
// default), rows go in minute by minute across the events of a chunk, as
// live ingest from many sites writes them, so one event's rows are spread
// over many heap pages; without it, each event's rows lie together (the
// best case). SQLite tables here are WITHOUT ROWID, clustered by the key
// either way.
func seed(ctx context.Context, dsn string, postgres, interleave bool, ids []string, days int) error {
	order := "e, m"
	if interleave {
		order = "m, e"
	}
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
	for i := 0; i < len(ids); i += 50 {
		chunk := ids[i:min(i+50, len(ids))]
		var err error
		if postgres {
			_, err = sdb.ExecContext(ctx, `INSERT INTO telemetry_rollups (`+cols+`)
				SELECT e, 'footfall', $2::timestamptz + m * interval '1 minute', 'dev-' || e, 'door', 's', m + 1,
					m % 7, m % 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0, 0, 0
				FROM unnest($1::text[]) AS e CROSS JOIN generate_series(0, $3 - 1) AS m
				ORDER BY `+order, chunk, start, minutes)
		} else {
			list, _ := json.Marshal(chunk)
			_, err = sdb.ExecContext(ctx, `WITH RECURSIVE m(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM m WHERE x < ? - 1),
				e(id) AS (SELECT value FROM json_each(?))
				INSERT INTO telemetry_rollups (`+cols+`)
				SELECT e.id, 'footfall', ? + x * 60000000, 'dev-' || e.id, 'door', 's', x + 1,
					x % 7, x % 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
				FROM e CROSS JOIN m ORDER BY e.id, x`, minutes, string(list), start.UnixMicro())
		}
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	analyze := "ANALYZE"
	if postgres {
		analyze = "VACUUM (ANALYZE) telemetry_rollups" // sets the hint bits a first read would otherwise write
	}
	_, err = sdb.ExecContext(ctx, analyze)
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
