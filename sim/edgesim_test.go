package sim

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
)

func TestFootfallProfile(t *testing.T) {
	p, err := LoadFootfallProfile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		busy, quiet time.Time
	}{
		{"weekday lunch beats 3 am", time.Date(2026, 5, 6, 13, 0, 0, 0, time.UTC), time.Date(2026, 5, 6, 3, 0, 0, 0, time.UTC)},
		{"saturday afternoon beats sunday night", time.Date(2026, 5, 9, 14, 0, 0, 0, time.UTC), time.Date(2026, 5, 10, 23, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if p.At(tt.busy) <= p.At(tt.quiet) {
			t.Errorf("%s: %v <= %v", tt.name, p.At(tt.busy), p.At(tt.quiet))
		}
	}
	peak := 0.0
	for d := range 7 {
		for h := range 24 {
			peak = max(peak, p[d][h])
		}
	}
	if peak != 1 {
		t.Errorf("peak weight = %v, want 1", peak)
	}
}

// TestRunEdge runs simulated sites through real agents against a fake
// control plane: every site's rollups arrive, including the flaky one's
// after its link comes back.
func TestRunEdge(t *testing.T) {
	var mu sync.Mutex
	kinds := map[string]map[string]bool{} // device -> rollup kinds received
	coldest := map[string]float64{}       // device -> lowest fridge minimum received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b popkit.IngestBatch
		if err := json.NewDecoder(zr).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		if kinds[b.DeviceID] == nil {
			kinds[b.DeviceID] = map[string]bool{}
		}
		var last int64
		for _, rec := range b.Records {
			kinds[b.DeviceID][rec.Rollup.Kind] = true
			if r := rec.Rollup; r.Kind == popkit.RollupTemperature {
				if c, ok := coldest[b.DeviceID]; !ok || r.TempMin < c {
					coldest[b.DeviceID] = r.TempMin
				}
			}
			last = rec.Seq
		}
		mu.Unlock()
		json.NewEncoder(w).Encode(popkit.IngestResult{Stream: b.Stream, AckSeq: last, Stored: len(b.Records)})
	}))
	defer srv.Close()
	var sites []EdgeSite
	for i, name := range []string{"steady", "flaky"} {
		sites = append(sites, EdgeSite{Name: name, EventID: uuid.NewString(), DeviceID: uuid.NewString(), Token: "t", Flaky: i == 1})
	}
	sites[0].FridgeFailsAfter = time.Nanosecond // the steady site's fridge fails at once
	agents := map[string]*edge.Agent{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunEdge(ctx, EdgeSimOptions{
			ServerURL: srv.URL, DataDir: t.TempDir(), Sites: sites, Seed: 1,
			Tick: 20 * time.Millisecond, PeakPerHour: 200000, Lag: 3 * time.Minute,
			OfflineFor: 400 * time.Millisecond, OfflineEvery: 800 * time.Millisecond,
			Configure: func(c *edge.Config) {
				c.BatchInterval, c.RetryMin, c.RetryMax = 20*time.Millisecond, 10*time.Millisecond, 50*time.Millisecond
			},
			Ready: func(s EdgeSite, a *edge.Agent) { mu.Lock(); agents[s.Name] = a; mu.Unlock() },
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run edge: %v", err)
		}
	}()
	want := []string{popkit.RollupFootfall, popkit.RollupOccupancy, popkit.RollupQueue, popkit.RollupDwell, popkit.RollupTemperature, popkit.RollupEnergy}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		missing := []string{}
		for _, s := range sites {
			for _, k := range want {
				if !kinds[s.DeviceID][k] {
					missing = append(missing, s.Name+"/"+k)
				}
			}
		}
		flaky := agents["flaky"]
		mu.Unlock()
		if len(missing) == 0 && flaky != nil && uplinkErrors(t, flaky) > 0 {
			mu.Lock()
			failed, fine := coldest[sites[0].DeviceID], coldest[sites[1].DeviceID]
			mu.Unlock()
			if failed <= 8 || fine >= 8 {
				t.Errorf("coldest fridge minute: %.2f °C at the failed fridge (want above 8), %.2f °C at the working one (want below 8)", failed, fine)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing rollups %v (or the flaky link never failed)", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func uplinkErrors(t *testing.T, a *edge.Agent) int {
	resp, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "popkit_edge_uplink_errors_total "); ok && v != "0" {
			return 1
		}
	}
	return 0
}

// TestSensorsFollowLocalOpeningHours checks that a simulated site's doors
// count entries only while a session is open in the venue's zone, shaped
// by the footfall profile at the venue's local hour: none at 01:51 in
// Melbourne, a lunchtime crowd at 13:00 there.
func TestSensorsFollowLocalOpeningHours(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	p, err := LoadFootfallProfile()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Australia/Melbourne")
	if err != nil {
		t.Fatal(err)
	}
	day := func(h, m int) time.Time { return time.Date(2026, 5, 13, h, m, 0, 0, loc) }
	var entries int64
	site := EdgeSite{Name: "Queen Victoria Market", DeviceID: "0195f3a0-0000-7000-8000-000000000001", Location: loc,
		Sessions: []popkit.Session{{StartUTC: day(10, 0).UTC(), EndUTC: day(21, 0).UTC()}}}
	s := &sensors{site: site, url: srv.URL, profile: p, rng: rand.New(rand.NewPCG(1, 2)), scale: 1,
		o: EdgeSimOptions{Tick: time.Minute, PeakPerHour: 600, Logger: slog.New(slog.DiscardHandler), Entries: func(_ EdgeSite, n int64) { entries += n }}}
	count := func(from time.Time) int64 {
		entries = 0
		for i := range 60 {
			if err := s.report(context.Background(), from.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		return entries
	}
	if n := count(day(1, 51)); n != 0 {
		t.Errorf("%d entries in the hour from 01:51 local, when the pop-up is closed", n)
	}
	// Wednesday 13:00-14:00 in Melbourne: the profile's weight times 600.
	want := 600 * p.At(day(13, 0))
	if n := count(day(13, 0)); float64(n) < want*0.7 || float64(n) > want*1.3 {
		t.Errorf("%d entries from 13:00 local, want about %.0f (the Melbourne profile at the venue's hour)", n, want)
	}
}
