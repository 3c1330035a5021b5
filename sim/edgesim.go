package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
)

// EdgeSite is one simulated pop-up: an edge agent (the real agent code)
// fed by simulated sensors over its local HTTP input.
type EdgeSite struct {
	Name     string
	EventID  string
	DeviceID string
	Token    string // device token for the uplink
	Flaky    bool   // its internet link drops for a while, then comes back
	// FridgeFailsAfter, when positive, makes the site's fridge (sensor
	// fridge-1) warm up to about 11 °C that long after the agent starts,
	// and stay warm: a cold-chain excursion for the demo.
	FridgeFailsAfter time.Duration
	// Listen is the agent's listener (sensor input and till), e.g.
	// "127.0.0.1:8090"; empty picks a free port.
	Listen string
	// Till labels the agent's till on its page, receipts and sales; empty
	// keeps the agent's default.
	Till string
	// Location and Sessions are the venue's zone and the event's opening
	// sessions: the doors count entries only inside a session, shaped by
	// the footfall profile at the venue's local hour. With no sessions the
	// doors never close (tests).
	Location *time.Location
	Sessions []popkit.Session
}

// OpenAt reports whether a session of the site covers t; a site without
// sessions is always open.
func (s EdgeSite) OpenAt(t time.Time) bool {
	if len(s.Sessions) == 0 {
		return true
	}
	for _, ss := range s.Sessions {
		if !t.Before(ss.StartUTC) && t.Before(ss.EndUTC) {
			return true
		}
	}
	return false
}

// local returns t in the venue's zone (t's own zone without one).
func (s EdgeSite) local(t time.Time) time.Time {
	if s.Location == nil {
		return t
	}
	return t.In(s.Location)
}

// EdgeSimOptions configure RunEdge.
type EdgeSimOptions struct {
	ServerURL string     // control plane base URL
	DataDir   string     // one sub-directory per site
	Sites     []EdgeSite // the pop-ups
	Seed      int64

	Tick         time.Duration // how often sensors report; default 5s
	PeakPerHour  float64       // entries in the busiest hour of the week; default 600
	Lag          time.Duration // readings are stamped this far in the past; tests use it
	OfflineFor   time.Duration // a flaky site's link is down this long...; default 2m
	OfflineEvery time.Duration // ...every this long; default 6m
	Logger       *slog.Logger
	Configure    func(*edge.Config) // optional changes to each agent's config
	Ready        func(site EdgeSite, agent *edge.Agent)
	// Entries, when set, hears of every tick's door entries at a site:
	// the demo's cashiers serve a share of them (see Buyers).
	Entries func(site EdgeSite, n int64)
}

// RunEdge runs an edge agent and its simulated sensors per site until ctx
// ends: two doors with footfall following the Melbourne weekly profile,
// occupancy, a till queue, BLE presence, a fridge and an energy meter.
// Flaky sites uplink through a link that goes down and comes back, so the
// demo shows an agent catching up after an outage.
func RunEdge(ctx context.Context, o EdgeSimOptions) error {
	if o.Tick == 0 {
		o.Tick = 5 * time.Second
	}
	if o.PeakPerHour == 0 {
		o.PeakPerHour = 600
	}
	if o.OfflineFor == 0 {
		o.OfflineFor = 2 * time.Minute
	}
	if o.OfflineEvery == 0 {
		o.OfflineEvery = 6 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	profile, err := LoadFootfallProfile()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(o.Sites))
	for i, site := range o.Sites {
		serverURL := o.ServerURL
		if site.Flaky {
			link, err := newFlakyLink(ctx, o.ServerURL, o.OfflineFor, o.OfflineEvery, o.Logger.With("site", site.Name))
			if err != nil {
				return err
			}
			serverURL = link
		}
		c := edge.DefaultConfig()
		c.ServerURL, c.Token, c.DeviceID, c.EventID = serverURL, site.Token, site.DeviceID, site.EventID
		c.DataDir = filepath.Join(o.DataDir, site.DeviceID)
		c.Listen = "127.0.0.1:0"
		if site.Listen != "" {
			c.Listen = site.Listen
		}
		if site.Till != "" {
			c.POS.Till = site.Till
		}
		c.RetryMax = 10 * time.Second
		if o.Configure != nil {
			o.Configure(&c)
		}
		a := &edge.Agent{Config: c, Logger: o.Logger.With("site", site.Name)}
		if err := a.Open(ctx); err != nil {
			return fmt.Errorf("open edge agent of %s: %w", site.Name, err)
		}
		if o.Ready != nil {
			o.Ready(site, a)
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil {
				errs <- fmt.Errorf("edge agent of %s: %w", site.Name, err)
			}
		}()
		go func() {
			defer wg.Done()
			s := &sensors{site: site, url: "http://" + a.Addr() + "/v1/readings", o: o, profile: profile,
				rng: rand.New(rand.NewPCG(uint64(o.Seed), uint64(i))), scale: 0.6 + 0.2*float64(i%3)}
			s.run(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// sensors simulates the devices of one pop-up.
type sensors struct {
	site    EdgeSite
	url     string
	o       EdgeSimOptions
	profile *FootfallProfile
	rng     *rand.Rand
	scale   float64

	inside []string // BLE ids of visitors inside
	nextID int
	kwh    float64
	client http.Client

	// fridgeFailsAt is when the fridge warms up; zero: never.
	fridgeFailsAt time.Time
}

func (s *sensors) run(ctx context.Context) {
	t := time.NewTicker(s.o.Tick)
	defer t.Stop()
	s.kwh = 1000 * s.rng.Float64()
	if s.site.FridgeFailsAfter > 0 {
		s.fridgeFailsAt = time.Now().Add(s.site.FridgeFailsAfter)
	}
	for {
		if err := s.report(ctx, time.Now().Add(-s.o.Lag)); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("simulated sensors", "site", s.site.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poisson draws from a Poisson distribution of mean m.
func poisson(rng *rand.Rand, m float64) int64 {
	if m > 50 {
		return max(0, int64(math.Round(m+math.Sqrt(m)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-m), int64(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// report sends one tick of readings.
func (s *sensors) report(ctx context.Context, now time.Time) error {
	hours := s.o.Tick.Hours()
	rate := 0.0
	open := s.site.OpenAt(now)
	if open {
		rate = s.o.PeakPerHour * s.scale * s.profile.At(s.site.local(now))
	}
	var rs []map[string]any
	add := func(m map[string]any) {
		m["ts"] = now.Add(time.Duration(len(rs)) * time.Microsecond).UTC().Format(time.RFC3339Nano)
		rs = append(rs, m)
	}
	const meanStay = 20 * time.Minute
	var entries int64
	for door := range 2 {
		in := poisson(s.rng, rate*hours/2)
		entries += in
		var out int64
		for range in {
			s.nextID++
			id := fmt.Sprintf("ble-%s-%d", s.site.DeviceID[:8], s.nextID)
			s.inside = append(s.inside, id)
			add(map[string]any{"type": "presence", "sensor": "ble", "id": id, "action": "enter"})
		}
		leave := float64(len(s.inside)) * s.o.Tick.Seconds() / meanStay.Seconds() / 2
		if !open {
			leave = float64(len(s.inside)) // closing time: everyone leaves
		}
		for n := poisson(s.rng, leave); n > 0 && len(s.inside) > 0; n-- {
			i := s.rng.IntN(len(s.inside))
			add(map[string]any{"type": "presence", "sensor": "ble", "id": s.inside[i], "action": "exit"})
			s.inside[i] = s.inside[len(s.inside)-1]
			s.inside = s.inside[:len(s.inside)-1]
			out++
		}
		add(map[string]any{"type": "footfall", "sensor": fmt.Sprintf("door-%d", door+1), "in": in, "out": out})
	}
	occ := len(s.inside)
	add(map[string]any{"type": "occupancy", "sensor": "floor", "count": occ})
	add(map[string]any{"type": "queue", "sensor": "tills", "length": max(0, math.Round(float64(occ)*0.15+s.rng.NormFloat64())), "open_tills": 1 + occ/25})
	fridge := 4 + 0.6*math.Sin(float64(now.Unix())/600) + 0.2*s.rng.NormFloat64()
	if s.rng.IntN(200) == 0 {
		fridge += 4 // the door was left open
	}
	if !s.fridgeFailsAt.IsZero() && !now.Before(s.fridgeFailsAt.Add(-s.o.Lag)) {
		fridge += 7 // the compressor failed
	}
	add(map[string]any{"type": "temperature", "sensor": "fridge-1", "celsius": math.Round(fridge*100) / 100})
	load := 0.4 // fridge and standby when closed, kW
	if open {
		load = 1.5 + 0.02*float64(occ)
	}
	s.kwh += load * hours
	add(map[string]any{"type": "energy", "sensor": "meter-1", "kwh": math.Round(s.kwh*1000) / 1000})
	if s.o.Entries != nil && entries > 0 {
		s.o.Entries(s.site, entries)
	}
	body, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("encode readings: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post readings: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("agent answered %s: %s", resp.Status, b)
	}
	return nil
}

// newFlakyLink starts a local proxy to target that refuses every request
// (as a dead internet link would) for offFor out of every period, and
// returns its URL.
func newFlakyLink(ctx context.Context, target string, offFor, period time.Duration, log *slog.Logger) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("parse server url: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen flaky link: %w", err)
	}
	var down atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "simulated outage", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	go func() {
		start := time.Now()
		t := time.NewTicker(min(time.Second, offFor/4))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				srv.Close()
				return
			case <-t.C:
				off := time.Since(start)%period >= period-offFor
				if down.Swap(off) != off {
					log.Info("simulated internet link", "down", off)
				}
			}
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// TillLabel returns the label of the demo till at the named venue: the
// venue's slug and "till-1", e.g. "queen-victoria-market:till-1", so each
// till says where it stands.
func TillLabel(venue string) string {
	l := slugify(venue)
	if len(l) > 50 {
		l = strings.TrimRight(l[:50], "-")
	}
	return l + ":till-1"
}
