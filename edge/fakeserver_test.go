package edge

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// fakeIngest is a control plane that keeps the uplink contract of
// popkit.IngestBatch: it stores each (stream, seq) once, acknowledges the
// highest contiguous seq, and keeps the record with the highest (stream,
// seq) per (sensor, kind, minute). It stands in for the server until
// POST /api/v1/ingest exists in package http.
type fakeIngest struct {
	t     testing.TB
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	down     bool
	streams  map[string]*fakeStream
	latest   map[minuteKey]fakeLatest
	order    []int64 // seqs in arrival order of new records
	requests int
}

type fakeStream struct {
	ack    int64
	stored map[int64]bool
}

type fakeLatest struct {
	stream string
	seq    int64
	r      popkit.Rollup
}

func newFakeIngest(t testing.TB) *fakeIngest {
	f := &fakeIngest{t: t, token: "device-token", streams: map[string]*fakeStream{}, latest: map[minuteKey]fakeLatest{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIngest) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeIngest) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.requests++
	f.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/api/v1/ingest" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		http.Error(w, "want gzip", http.StatusUnsupportedMediaType)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b popkit.IngestBatch
	dec := json.NewDecoder(zr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(b.Records) > popkit.MaxIngestRecords {
		http.Error(w, "too many", http.StatusRequestEntityTooLarge)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.streams[b.Stream]
	if s == nil {
		s = &fakeStream{stored: map[int64]bool{}}
		f.streams[b.Stream] = s
	}
	res := popkit.IngestResult{Stream: b.Stream}
	for _, rec := range b.Records {
		if s.stored[rec.Seq] {
			res.Duplicates++
			continue
		}
		s.stored[rec.Seq] = true
		res.Stored++
		f.order = append(f.order, rec.Seq)
		if rec.Rollup != nil {
			k := minuteKey{Sensor: rec.Rollup.Sensor, Kind: rec.Rollup.Kind, Minute: rec.Rollup.Minute.Unix()}
			old, ok := f.latest[k]
			if !ok || old.stream < b.Stream || old.stream == b.Stream && old.seq < rec.Seq {
				f.latest[k] = fakeLatest{stream: b.Stream, seq: rec.Seq, r: *rec.Rollup}
			}
		}
	}
	for s.stored[s.ack+1] {
		s.ack++
	}
	res.AckSeq = s.ack
	res.ClockSkew = time.Until(b.SentAt).Seconds()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// footfallIn returns the server's footfall-in total per sensor.
func (f *fakeIngest) footfallIn() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int64{}
	for k, l := range f.latest {
		if k.Kind == popkit.RollupFootfall {
			m[k.Sensor] += l.r.In
		}
	}
	return m
}

func (f *fakeIngest) rollups(kind string) []popkit.Rollup {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []popkit.Rollup
	for k, l := range f.latest {
		if k.Kind == kind {
			out = append(out, l.r)
		}
	}
	return out
}
