// Package servertime measures the exact time an HTTP handler spends on each
// request: the "server time" columns of the benchmarks, taken around the
// handler inside the process rather than from histogram buckets.
package servertime

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Recorder collects per-request handler durations. The zero value is ready
// to use and safe for concurrent requests.
type Recorder struct {
	mu    sync.Mutex
	times []time.Duration
}

// Wrap returns h with every request's duration recorded in r.
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, req)
		d := time.Since(start)
		r.mu.Lock()
		r.times = append(r.times, d)
		r.mu.Unlock()
	})
}

// Reset forgets the durations recorded so far (for example those of a
// warm-up).
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.times = r.times[:0]
	r.mu.Unlock()
}

// Sorted returns a copy of the recorded durations in ascending order.
func (r *Recorder) Sorted() []time.Duration {
	r.mu.Lock()
	s := slices.Clone(r.times)
	r.mu.Unlock()
	slices.Sort(s)
	return s
}
