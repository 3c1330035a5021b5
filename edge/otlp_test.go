package edge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit/edge/edgetest"
)

// TestOTLPPush checks that rollups reach an OTLP/HTTP JSON receiver as
// gauge data points with the sensor attribute.
func TestOTLPPush(t *testing.T) {
	t.Parallel()
	type point struct {
		TimeUnixNano string
		AsInt        string
		AsDouble     *float64
		Attributes   []struct {
			Key   string
			Value struct{ StringValue string }
		}
	}
	var req struct {
		ResourceMetrics []struct {
			Resource struct {
				Attributes []struct {
					Key   string
					Value struct{ StringValue string }
				}
			}
			ScopeMetrics []struct {
				Metrics []struct {
					Name  string
					Gauge struct{ DataPoints []point }
				}
			}
		}
	}
	var mu sync.Mutex
	got := map[string]string{} // metric name -> value of sensor door
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/metrics" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode otlp: %v", err)
			return
		}
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					for _, p := range m.Gauge.DataPoints {
						for _, a := range p.Attributes {
							if a.Key == "popkit.sensor" && a.Value.StringValue == "door" {
								v := p.AsInt
								if p.AsDouble != nil {
									v = strconv.FormatFloat(*p.AsDouble, 'f', -1, 64)
								}
								got[m.Name] = v
							}
						}
					}
				}
			}
		}
	}))
	defer recv.Close()
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	c.OTLP.URL = recv.URL + "/v1/metrics"
	a := startAgent(t, c)
	body, sum := edgetest.FootfallJSON("door", time.Now().Add(-3*time.Minute).Truncate(time.Minute), 10)
	if code, _ := post(t, a, body); code != http.StatusAccepted {
		t.Fatalf("post = %d", code)
	}
	waitFor(t, 10*time.Second, "otlp push", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["popkit.footfall.in"] == strconv.FormatInt(sum, 10) && got["popkit.footfall.out"] == "10"
	})
}
