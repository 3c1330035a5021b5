package http_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// BenchmarkIngestHTTP posts gzip'd batches of popkit.MaxIngestRecords
// footfall rollups through the whole handler (auth, gunzip, decode,
// store) and reports records per second; the batches are built and
// compressed outside the timer.
func BenchmarkIngestHTTP(b *testing.B) {
	e := newEnv(b)
	e.check = nil
	w := newWorld(e)
	stream := popkit.NewID()
	next := 1
	var busy time.Duration
	for b.Loop() {
		b.StopTimer()
		raw, err := json.Marshal(ingestBody(w.dev1.ID, w.e1.ID, stream, next, popkit.MaxIngestRecords))
		if err != nil {
			b.Fatal(err)
		}
		body := gz(b, raw)
		next += popkit.MaxIngestRecords
		b.StartTimer()
		start := time.Now()
		e.do("POST", "/api/v1/ingest", w.device, body, header{"Content-Encoding", "gzip"}).want(b, 200)
		busy += time.Since(start)
	}
	b.ReportMetric(float64(b.N*popkit.MaxIngestRecords)/busy.Seconds(), "records/s")
}
