// Command serverbench measures the control plane the way an operator sees
// it and prints a table: server-side and client-side latency of
// GET /api/v1/events?city=… (50 per page) over a SQLite store of 10,000
// events under a bounded vegeta load on loopback, cold start of
// `popkit serve` to a green /readyz, binary size and idle RSS.
//
//	go run ./bench/serverbench
//	go run ./bench/serverbench -events 10000 -rate 300 -duration 10s
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/popkit/popkit/bench/internal/servertime"
)

func main() {
	events := flag.Int("events", 10000, "events in the store")
	cities := flag.Int("cities", 20, "cities the events are spread over")
	rate := flag.Int("rate", 300, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "load duration (bounded)")
	starts := flag.Int("starts", 7, "cold starts to time")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the load phase to this file")
	flag.Parse()
	profile = *cpuprofile
	if err := run(context.Background(), *events, *cities, *rate, *duration, *starts); err != nil {
		fmt.Fprintf(os.Stderr, "serverbench: %v\n", err)
		os.Exit(1)
	}
}

// profile is where the load phase's CPU profile goes ("" for none).
var profile string

func run(ctx context.Context, nEvents, nCities, rate int, duration time.Duration, starts int) error {
	dir, err := os.MkdirTemp("", "popkit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "bench.db")

	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeding %d events over %d cities into %s\n", nEvents, nCities, dsn)
	cityIDs, err := seed(ctx, db, nEvents, nCities)
	if err != nil {
		return err
	}
	secret, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleAdmin, Name: "bench"})
	if err != nil {
		return err
	}

	// The server under test, with a timing wrapper that records the exact
	// time spent in the handler.
	var rec servertime.Recorder
	srv := pkhttp.NewServer(db)
	srv.Ready, srv.Logger, srv.Registry = db.Ping, slog.New(slog.DiscardHandler), prometheus.NewRegistry()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: rec.Wrap(srv.Handler())}
	go hs.Serve(ln)
	base := "http://" + ln.Addr().String()

	targets, err := pageTargets(base, secret, cityIDs)
	if err != nil {
		return err
	}
	rec.Reset()
	fmt.Fprintf(os.Stderr, "load: %d targets, %d req/s for %s\n", len(targets), rate, duration)
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(4), vegeta.MaxWorkers(32))
	var m vegeta.Metrics
	for res := range attacker.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: rate, Per: time.Second}, duration, "events-by-city") {
		m.Add(res)
	}
	m.Close()
	pprof.StopCPUProfile()
	hs.Close()
	db.Close()

	st := rec.Sorted()

	bin := filepath.Join(dir, "popkit")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/popkit").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	binStripped := filepath.Join(dir, "popkit-stripped")
	if out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", binStripped, "./cmd/popkit").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	binArm := filepath.Join(dir, "popkit-arm64")
	cross := exec.Command("go", "build", "-ldflags=-s -w", "-o", binArm, "./cmd/popkit")
	cross.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cross.CombinedOutput(); err != nil {
		return fmt.Errorf("cross-build: %v\n%s", err, out)
	}
	var startTimes []time.Duration
	var rssKB int
	for i := 0; i < starts; i++ {
		d, rss, err := coldStart(bin, dsn)
		if err != nil {
			return err
		}
		startTimes = append(startTimes, d)
		rssKB = rss
	}
	slices.Sort(startTimes)

	fmt.Printf("| measure | value |\n|---|---|\n")
	fmt.Printf("| store | SQLite, %d events over %d cities |\n", nEvents, nCities)
	fmt.Printf("| load | GET /api/v1/events?city=…&limit=50 (pages 1-5), %d req/s for %s, vegeta, keep-alive |\n", rate, duration)
	fmt.Printf("| requests / success | %d / %.2f%% (status %v) |\n", m.Requests, m.Success*100, m.StatusCodes)
	fmt.Printf("| server time p50 / p95 / p99 / max | %s / %s / %s / %s |\n", q(st, 0.50), q(st, 0.95), q(st, 0.99), q(st, 1))
	fmt.Printf("| client latency p50 / p95 / p99 / max | %s / %s / %s / %s |\n", r(m.Latencies.P50), r(m.Latencies.P95), r(m.Latencies.P99), r(m.Latencies.Max))
	fmt.Printf("| mean response size | %.0f bytes |\n", m.BytesIn.Mean)
	fmt.Printf("| cold start to /readyz green, median / max of %d | %s / %s |\n", starts, q(startTimes, 0.5), q(startTimes, 1))
	fmt.Printf("| binary size linux/amd64 (default / -s -w) | %s / %s |\n", size(bin), size(binStripped))
	fmt.Printf("| binary size linux/arm64 (-s -w, CGO_ENABLED=0) | %s |\n", size(binArm))
	fmt.Printf("| RSS at idle after start | %.1f MiB |\n", float64(rssKB)/1024)
	if m.Success < 1 {
		return fmt.Errorf("some requests failed: %v %v", m.StatusCodes, m.Errors)
	}
	return nil
}

// seed writes nCities cities with one venue each, two brands, and nEvents
// one-session events spread over the cities.
func seed(ctx context.Context, db *sqlstore.DB, nEvents, nCities int) ([]string, error) {
	zones := []string{"Europe/Berlin", "Europe/London", "America/New_York", "Australia/Melbourne", "Asia/Tokyo"}
	var brands []string
	for i := range 2 {
		b := &popkit.Brand{Name: fmt.Sprintf("Brand %d", i), Slug: fmt.Sprintf("brand-%d", i)}
		if err := db.CreateBrand(ctx, b); err != nil {
			return nil, err
		}
		brands = append(brands, b.ID)
	}
	var cityIDs, venueIDs []string
	for i := range nCities {
		tz := zones[i%len(zones)]
		c := &popkit.City{Name: fmt.Sprintf("City %d", i), Country: "DE", TimeZone: tz}
		if err := db.CreateCity(ctx, c); err != nil {
			return nil, err
		}
		v := &popkit.Venue{CityID: c.ID, Name: fmt.Sprintf("Hall %d", i), Address: fmt.Sprintf("%d Market Street", i+1), Lat: 52.5, Lon: 13.4, TimeZone: tz}
		if err := db.CreateVenue(ctx, v); err != nil {
			return nil, err
		}
		cityIDs = append(cityIDs, c.ID)
		venueIDs = append(venueIDs, v.ID)
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range nEvents {
		d := day.AddDate(0, 0, i%700)
		e := &popkit.Event{
			VenueID:  venueIDs[i%len(venueIDs)],
			Name:     fmt.Sprintf("Pop-up %d", i),
			Slug:     fmt.Sprintf("pop-up-%d", i),
			BrandIDs: []string{brands[i%2]},
			Sessions: []popkit.Session{{Start: popkit.LocalTime(d.Format("2006-01-02") + "T10:00"), End: popkit.LocalTime(d.Format("2006-01-02") + "T19:00")}},
			Costs:    popkit.Costs{RentMinor: 50000, StaffMinor: 30000},
		}
		if err := db.CreateEvent(ctx, e); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if (i+1)%2000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d/%d events\n", i+1, nEvents)
		}
	}
	return cityIDs, nil
}

// pageTargets walks the first five pages of each city's event list and
// returns them as load targets.
func pageTargets(base, secret string, cityIDs []string) ([]vegeta.Target, error) {
	hdr := http.Header{"Authorization": {"Bearer " + secret}}
	var targets []vegeta.Target
	for _, city := range cityIDs {
		cursor := ""
		for range 5 {
			u := base + "/api/v1/events?limit=50&city=" + city
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			targets = append(targets, vegeta.Target{Method: "GET", URL: u, Header: hdr})
			req, _ := http.NewRequest("GET", u, nil)
			req.Header = hdr
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return nil, fmt.Errorf("GET %s: %d %v", u, resp.StatusCode, err)
			}
			if len(page.Items) != 50 {
				return nil, fmt.Errorf("GET %s: %d items, want 50", u, len(page.Items))
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	return targets, nil
}

// coldStart starts the binary on the existing database, waits for /readyz
// to answer 200, and returns the time that took and the RSS at that point.
func coldStart(bin, dsn string) (time.Duration, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	deadline := start.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				d := time.Since(start)
				return d, rss(cmd.Process.Pid), nil
			}
		}
		time.Sleep(time.Millisecond) // polling interval of the readiness probe
	}
	return 0, 0, fmt.Errorf("serve did not become ready within 10s")
}

func rss(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func q(s []time.Duration, p float64) string {
	if len(s) == 0 {
		return "-"
	}
	i := min(len(s)-1, int(p*float64(len(s))))
	return r(s[i])
}

func r(d time.Duration) string {
	return cmp.Or(d.Round(10*time.Microsecond).String(), "0")
}

func size(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
}
