package sim

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
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
