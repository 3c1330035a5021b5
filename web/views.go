package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/popkit/popkit"
)

// visitorKey identifies a browser for the page-view count without keeping
// its address: a hash of the client address and user agent, which the
// funnel service hashes again under a salt that rotates daily and is
// never stored (as Plausible does). No cookie is set or read for this.
func visitorKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	s := sha256.New()
	s.Write([]byte(host))
	s.Write([]byte{0})
	s.Write([]byte(r.UserAgent()))
	return hex.EncodeToString(s.Sum(nil))
}

// viewQueueSize bounds the page views waiting to be written; beyond it,
// views are dropped (and logged) rather than slowing pages down.
const viewQueueSize = 4096

// viewQueue records page views off the request path with one writer, so
// that pages never wait for a database write and writes do not contend
// with each other.
type viewQueue struct {
	mu      sync.Mutex
	ch      chan popkit.PageView
	closed  bool
	done    chan struct{}
	pending sync.WaitGroup
}

// countView queues a view of listing l. Prefetches are not counted.
func (h *Handler) countView(r *http.Request, l *Listing) {
	if h.Funnel == nil || r.Method != http.MethodGet {
		return
	}
	if r.Header.Get("Sec-Purpose") != "" || r.Header.Get("Purpose") == "prefetch" {
		return
	}
	pv := popkit.PageView{ListingID: l.ID, Visitor: visitorKey(r)}
	q := &h.viewq
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if q.ch == nil {
		q.ch = make(chan popkit.PageView, viewQueueSize)
		q.done = make(chan struct{})
		go h.writeViews(q.ch, q.done)
	}
	q.pending.Add(1)
	select {
	case q.ch <- pv:
	default:
		q.pending.Done()
		h.logger().Warn("page view dropped: queue full", "listing", pv.ListingID)
	}
}

func (h *Handler) writeViews(ch <-chan popkit.PageView, done chan<- struct{}) {
	defer close(done)
	for pv := range ch {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := h.Funnel.RecordPageView(ctx, pv); err != nil {
			h.logger().Warn("count page view", "listing", pv.ListingID, "error", err)
		}
		cancel()
		h.viewq.pending.Done()
	}
}

// Wait waits until the page views counted so far are written.
func (h *Handler) Wait() { h.viewq.pending.Wait() }

// Close writes the page views still queued and stops counting; call it
// before closing the store.
func (h *Handler) Close() {
	q := &h.viewq
	q.mu.Lock()
	q.closed = true
	if q.ch != nil {
		close(q.ch)
	}
	done := q.done
	q.mu.Unlock()
	if done != nil {
		<-done
	}
}
