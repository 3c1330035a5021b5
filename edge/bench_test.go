package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit/edge/edgetest"
)

// BenchmarkIngestHTTP measures POST /v1/readings of 1000-reading requests
// through decoding, validation and the durable group commit.
func BenchmarkIngestHTTP(b *testing.B) {
	f := newFakeIngest(b)
	f.setDown(true)
	a := startAgent(b, testConfig(b, f.srv.URL))
	h := a.Handler()
	bodies := make([]string, 16)
	for i := range bodies {
		bodies[i], _ = edgetest.FootfallJSON("door-"+string(rune('a'+i)), time.Now().Add(-time.Hour+time.Duration(i)*time.Minute), 1000)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/readings", strings.NewReader(bodies[i%len(bodies)])))
			if rec.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkDecodeReadings measures decoding and validating 1000 readings.
func BenchmarkDecodeReadings(b *testing.B) {
	body, _ := edgetest.FootfallJSON("door", decodeNow.Add(-time.Hour), 1000)
	for b.Loop() {
		if _, _, errs, err := DecodeReadings([]byte(body), decodeNow, DefaultLimits); err != nil || len(errs) > 0 {
			b.Fatal(err, errs)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "readings/s")
}
