// Command orderbench measures order creation over HTTP on loopback: POST
// /api/v1/orders with a fresh Idempotency-Key and a client-made UUIDv7 id
// per request (each order reserves stock in its transaction), under a
// bounded constant-rate vegeta load, on SQLite and — when a PostgreSQL URL
// is given — on PostgreSQL, and prints the figures side by side.
//
//	go run ./bench/orderbench
//	go run ./bench/orderbench -rate 1000 -duration 10s -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/popkit/popkit/bench/internal/cpustat"
	"github.com/popkit/popkit/bench/internal/servertime"
)

func main() {
	rate := flag.Int("rate", 1000, "orders per second")
	duration := flag.Duration("duration", 10*time.Second, "load duration (bounded)")
	skus := flag.Int("skus", 50, "SKUs in the event's assortment; each order takes 1-3 of them")
	pg := flag.String("postgres", os.Getenv("POPKIT_TEST_POSTGRES_URL"), "PostgreSQL URL; empty runs SQLite only")
	lite := flag.Bool("sqlite", true, "run on SQLite too")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *duration > 2*time.Minute {
		fmt.Fprintln(os.Stderr, "orderbench: -duration is capped at 2m")
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	type row struct {
		name string
		r    result
	}
	var rows []row
	dir, err := os.MkdirTemp("", "popkit-orderbench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if *lite {
		r, err := bench(ctx, filepath.Join(dir, "bench.db"), *rate, *duration, *skus)
		if err != nil {
			fail(fmt.Errorf("sqlite: %w", err))
		}
		rows = append(rows, row{"SQLite", r})
	}
	if *pg != "" {
		dsn, drop, err := pgSchema(ctx, *pg)
		if err != nil {
			fail(err)
		}
		r, err := bench(ctx, dsn, *rate, *duration, *skus)
		drop()
		if err != nil {
			fail(fmt.Errorf("postgres: %w", err))
		}
		rows = append(rows, row{"PostgreSQL", r})
	}
	fmt.Printf("\norder creation, POST /api/v1/orders with Idempotency-Key, %d/s for %s on loopback\n\n", *rate, *duration)
	fmt.Println("| store | requests | achieved/s | 201 | other | p50 | p95 | p99 | max | server p99 | machine CPU during the load |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, x := range rows {
		m := x.r.m
		fmt.Printf("| %s | %d | %.0f | %d | %d | %s | %s | %s | %s | %s | %s |\n", x.name, m.Requests, m.Throughput,
			m.StatusCodes["201"], int(m.Requests)-m.StatusCodes["201"], ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99), ms(m.Latencies.Max), ms(x.r.serverP99), x.r.cpu)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "orderbench: %v\n", err)
	os.Exit(1)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

type result struct {
	m         vegeta.Metrics
	serverP99 time.Duration
	cpu       string // the whole machine's CPU use while the load ran
}

// bench seeds one event with skus SKUs and ample stock in the store at
// dsn, serves it on loopback and sends orders at rate for duration.
func bench(ctx context.Context, dsn string, rate int, duration time.Duration, nSKUs int) (result, error) {
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return result{}, err
	}
	eventID, skuIDs, err := seed(ctx, db, nSKUs)
	if err != nil {
		return result{}, err
	}
	secret, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: eventID, Name: "pos"})
	if err != nil {
		return result{}, err
	}
	var rec servertime.Recorder
	srv := pkhttp.NewServer(db)
	srv.Ready, srv.Logger, srv.Registry = db.Ping, slog.New(slog.DiscardHandler), prometheus.NewRegistry()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	hs := &http.Server{Handler: rec.Wrap(srv.Handler())}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	header := http.Header{}
	header.Set("Authorization", "Bearer "+secret)
	header.Set("Content-Type", "application/json")
	var n atomic.Int64
	targeter := func(t *vegeta.Target) error {
		i := int(n.Add(1))
		lines := []map[string]any{}
		total := 0
		for k := range 1 + i%3 {
			lines = append(lines, map[string]any{"sku_id": skuIDs[(i+k*7)%len(skuIDs)], "quantity": 1, "unit_price_minor": 1200})
			total += 1200
		}
		body, err := json.Marshal(map[string]any{
			"id": popkit.NewID(), "event_id": eventID, "channel": "pos", "lines": lines,
			"payment": map[string]any{"method": "card", "amount_minor": total},
		})
		if err != nil {
			return err
		}
		h := header.Clone()
		h.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		*t = vegeta.Target{Method: "POST", URL: base + "/api/v1/orders", Body: body, Header: h}
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(8), vegeta.MaxWorkers(64))
	var m vegeta.Metrics
	fmt.Fprintf(os.Stderr, "%s: %d orders/s for %s\n", db.Dialect(), rate, duration)
	before, cpuErr := cpustat.Read()
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, duration, "orders") {
		m.Add(res)
	}
	m.Close()
	cpu := "unknown"
	if after, err := cpustat.Read(); err == nil && cpuErr == nil {
		cpu = after.Since(before).String()
	}
	st := rec.Sorted()
	var p99 time.Duration
	if len(st) > 0 {
		p99 = st[len(st)*99/100]
	}
	if len(m.Errors) > 0 {
		fmt.Fprintf(os.Stderr, "%s: first errors: %v\n", db.Dialect(), m.Errors[:min(3, len(m.Errors))])
	}
	return result{m: m, serverP99: p99, cpu: cpu}, nil
}

// seed makes one event with nSKUs SKUs of price 1200 and a stock no run
// exhausts.
func seed(ctx context.Context, db *sqlstore.DB, nSKUs int) (string, []string, error) {
	city := &popkit.City{Name: "Bench", Country: "DE", TimeZone: "Europe/Berlin"}
	if err := db.CreateCity(ctx, city); err != nil {
		return "", nil, err
	}
	venue := &popkit.Venue{CityID: city.ID, Name: "Hall", Address: "Str. 1", Lat: 52.5, Lon: 13.4}
	if err := db.CreateVenue(ctx, venue); err != nil {
		return "", nil, err
	}
	brand := &popkit.Brand{Name: "Bench", Slug: "bench"}
	if err := db.CreateBrand(ctx, brand); err != nil {
		return "", nil, err
	}
	ev := &popkit.Event{VenueID: venue.ID, Name: "Bench", Slug: "bench", BrandIDs: []string{brand.ID},
		Sessions: []popkit.Session{{Start: "2026-05-01T10:00", End: "2026-05-01T18:00"}}}
	if err := db.CreateEvent(ctx, ev); err != nil {
		return "", nil, err
	}
	ids := make([]string, nSKUs)
	for i := range ids {
		s := &popkit.SKU{BrandID: brand.ID, Code: fmt.Sprintf("B-%d", i), Name: "Thing", PriceMinor: 1200, UnitCostMinor: 400}
		if err := db.CreateSKU(ctx, s); err != nil {
			return "", nil, err
		}
		if err := db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev.ID, SKUID: s.ID, Stock: 10_000_000}); err != nil {
			return "", nil, err
		}
		ids[i] = s.ID
	}
	return ev.ID, ids, nil
}

// pgSchema creates a fresh schema in the PostgreSQL database at base and
// returns a URL selecting it and a function that drops it.
func pgSchema(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse postgres url: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "orderbench_" + hex.EncodeToString(b)
	admin, err := sqlstore.Open(ctx, base)
	if err != nil {
		return "", nil, err
	}
	exec := func(q string) error {
		_, err := admin.SQL().ExecContext(ctx, q)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "orderbench: drop schema %s: %v\n", schema, err)
		}
		admin.Close()
	}, nil
}
