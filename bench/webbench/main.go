// Command webbench measures the microsite's server time and prints a
// table: per-request handler time (p50, p90, p99, max) of the event page,
// its iCalendar feed, the city page and the home page over a store of
// 10,000 published listings, with gzip, as a phone would ask for them,
// paced at -rate requests a second (page views are written in the
// background, as in production). Requests run in-process against the
// handler (httptest recorder), so the figures are server time without the
// network.
//
//	go run ./bench/webbench
//	go run ./bench/webbench -events 10000 -requests 3000 -rate 0 -db postgres://postgres@127.0.0.1:5432/bench
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/web"
)

func main() {
	events := flag.Int("events", 10000, "published listings in the store")
	requests := flag.Int("requests", 3000, "requests per page kind")
	dsn := flag.String("db", "", "database (default: a SQLite file in a temporary directory)")
	flag.IntVar(&rate, "rate", 300, "requests per second (0: back to back), like serverbench's bounded load")
	flag.BoolVar(&countViews, "views", true, "count page views (a background write per event page), as production does")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the event-page phase to this file")
	flag.Parse()
	if err := run(context.Background(), *dsn, *events, *requests); err != nil {
		fmt.Fprintf(os.Stderr, "webbench: %v\n", err)
		os.Exit(1)
	}
}

var (
	rate       int
	countViews bool
	cpuProfile string
)

// cities of the benchmark program, with their zones.
var cities = []struct{ name, country, zone string }{
	{"Berlin", "DE", "Europe/Berlin"},
	{"London", "GB", "Europe/London"},
	{"New York", "US", "America/New_York"},
	{"Tokyo", "JP", "Asia/Tokyo"},
}

func run(ctx context.Context, dsn string, nEvents, nRequests int) error {
	if dsn == "" {
		dir, err := os.MkdirTemp("", "popkit-webbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "bench.db")
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Hour)
	t0 := time.Now()
	slugs, err := seed(ctx, db, nEvents, now)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d published listings in %s (%s)\n\n", len(slugs), time.Since(t0).Round(time.Second), db.Dialect())

	h := &web.Handler{
		BaseURL: "https://popups.example",
		Source:  &web.Store{Listings: db, Events: db, Venues: db, CityService: db, Brands: db, Program: db},
		Members: &web.Members{Members: db, Tiers: db, Secrets: db},
	}
	if countViews {
		h.Funnel = db
	}
	defer h.Close()
	kinds := []struct {
		name string
		path func(i int) string
	}{
		{"event page /e/{slug}", func(i int) string { return "/e/" + slugs[i%len(slugs)] }},
		{"event feed /e/{slug}/calendar.ics", func(i int) string { return "/e/" + slugs[i%len(slugs)] + "/calendar.ics" }},
		{"city page /c/berlin", func(int) string { return "/c/berlin" }},
		{"home page /", func(int) string { return "/" }},
	}
	fmt.Printf("paced at %d requests/s (0: back to back); page views counted: %v\n\n", rate, countViews)
	fmt.Printf("| page | requests | p50 | p90 | p99 | max | bytes (gzip) |\n|---|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		n := nRequests
		if k.name == "home page /" || k.name == "city page /c/berlin" {
			n = max(nRequests/10, 50)
		}
		// Warm up: caches, prepared statements, the page-view writer.
		for i := range 50 {
			serve(h, k.path(i*7919))
		}
		h.Wait()
		if cpuProfile != "" && k.name == kinds[0].name {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		times := make([]time.Duration, n)
		var size atomic.Int64
		var tick <-chan time.Time
		if rate > 0 {
			tk := time.NewTicker(time.Second / time.Duration(rate))
			tick = tk.C
			defer tk.Stop()
		}
		for i := range n {
			if tick != nil {
				<-tick
			}
			start := time.Now()
			code, b := serve(h, k.path(i*7919))
			times[i] = time.Since(start)
			if code != http.StatusOK {
				return fmt.Errorf("%s: status %d", k.path(i*7919), code)
			}
			size.Store(int64(b))
		}
		h.Wait()
		if cpuProfile != "" && k.name == kinds[0].name {
			pprof.StopCPUProfile()
		}
		slices.Sort(times)
		q := func(p float64) string {
			return fmt.Sprintf("%.2f ms", float64(times[int(p*float64(len(times)-1))].Microseconds())/1000)
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s | %d |\n", k.name, n, q(0.50), q(0.90), q(0.99), q(1), size.Load())
	}
	return nil
}

func serve(h http.Handler, path string) (int, int) {
	r := httptest.NewRequest(http.MethodGet, "http://popups.example"+path, nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r.RemoteAddr = "203.0.113.9:4711"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Len()
}

// seed writes nEvents events with three sessions each across the cities'
// venues, and a published listing for each, through the domain services.
func seed(ctx context.Context, db *sqlstore.DB, nEvents int, now time.Time) ([]string, error) {
	var venues []*popkit.Venue
	for _, c := range cities {
		city := &popkit.City{Name: c.name, Country: c.country, TimeZone: c.zone}
		if err := db.CreateCity(ctx, city); err != nil {
			return nil, err
		}
		for v := range 5 {
			ve := &popkit.Venue{CityID: city.ID, Name: fmt.Sprintf("%s hall %d", c.name, v+1), Address: fmt.Sprintf("%d Market Street", v+1)}
			if err := db.CreateVenue(ctx, ve); err != nil {
				return nil, err
			}
			venues = append(venues, ve)
		}
	}
	var brands []string
	for b := range 20 {
		br := &popkit.Brand{Name: fmt.Sprintf("Brand %d", b+1), Slug: fmt.Sprintf("brand-%d", b+1)}
		if err := db.CreateBrand(ctx, br); err != nil {
			return nil, err
		}
		brands = append(brands, br.ID)
	}
	slugs := make([]string, nEvents)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	next := atomic.Int64{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= nEvents {
					return
				}
				if err := seedOne(ctx, db, i, venues, brands, now, slugs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return slugs, nil
}

func seedOne(ctx context.Context, db *sqlstore.DB, i int, venues []*popkit.Venue, brands []string, now time.Time, slugs []string) error {
	ve := venues[i%len(venues)]
	loc := ve.Location()
	day := now.In(loc).AddDate(0, 0, i%60-2)
	e := &popkit.Event{VenueID: ve.ID, Name: fmt.Sprintf("Pop-up %d", i), Slug: fmt.Sprintf("pop-up-%d", i),
		BrandIDs: []string{brands[i%len(brands)], brands[(i+7)%len(brands)]}}
	for d := range 3 {
		s := time.Date(day.Year(), day.Month(), day.Day()+d, 10, 0, 0, 0, time.UTC)
		e.Sessions = append(e.Sessions, popkit.Session{Start: popkit.LocalTime(s.Format(popkit.LocalLayout)), End: popkit.LocalTime(s.Add(8 * time.Hour).Format(popkit.LocalLayout))})
	}
	if err := db.CreateEvent(ctx, e); err != nil {
		return fmt.Errorf("create event: %w", err)
	}
	l := &popkit.Listing{EventID: e.ID, Working: popkit.ListingContent{
		Title:       fmt.Sprintf("Pop-up %d: coffee, cake and records", i),
		Summary:     "Three days of coffee, cake and records from two local brands.",
		Description: "Coffee from the roastery down the road.\n\nCakes baked in the morning; records to dig through.",
		Images:      []popkit.Image{{URL: "https://img.example/" + e.Slug + ".jpg", Width: 1200, Height: 630, Alt: "The stall"}},
		BrandIDs:    e.BrandIDs,
		Categories:  []string{"food", "music"},
		Price:       &popkit.PriceRange{MinMinor: 250, MaxMinor: 2500},
	}}
	if err := db.CreateListing(ctx, l); err != nil {
		return fmt.Errorf("create listing: %w", err)
	}
	for _, a := range []popkit.CurationAction{popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish} {
		if _, err := db.CurateListing(ctx, l.ID, popkit.CurationStep{Action: a}); err != nil {
			return fmt.Errorf("%s listing: %w", a, err)
		}
	}
	slugs[i] = l.Slug
	return nil
}
