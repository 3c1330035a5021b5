package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/internal/browsertest"
)

// BudgetBytes is the event page's first-view budget: HTML, CSS and JS as
// transferred (compressed), images excluded.
const BudgetBytes = 30 * 1024

// slowImage serves a PNG after a delay, so that it arrives after the first
// paint: a page without image dimensions would shift when it lands.
func slowImage(w, h int, delay time.Duration) http.HandlerFunc {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.Black)
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		rw.Header().Set("Content-Type", "image/png")
		rw.Write(buf.Bytes())
	}
}

// statusRecorder remembers the status of every page response.
type statusRecorder struct {
	mu    sync.Mutex
	codes map[string][]int
}

func (s *statusRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &codeWriter{ResponseWriter: w, code: 200}
		h.ServeHTTP(rw, r)
		s.mu.Lock()
		s.codes[r.URL.Path] = append(s.codes[r.URL.Path], rw.code)
		s.mu.Unlock()
	})
}

func (s *statusRecorder) get(path string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.codes[path]...)
}

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) { c.code = code; c.ResponseWriter.WriteHeader(code) }

// transfer is what the browser fetched for one request.
type transfer struct {
	url, mime, encoding string
	kind                network.ResourceType
	bytes               float64
	done                bool
}

// clsObserver sums layout shifts (CLS) from the start of the page.
const clsObserver = `window.__cls = 0; window.__shifts = [];
new PerformanceObserver(function (list) {
  for (const e of list.getEntries()) { if (!e.hadRecentInput) { window.__cls += e.value; window.__shifts.push(e.value); } }
}).observe({type: "layout-shift", buffered: true});`

func TestBrowserEventPage(t *testing.T) {
	ctx := browsertest.Start(t)
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00", "2026-05-02T10:00", "2026-05-02T18:00", "2026-05-03T10:00", "2026-05-03T18:00")
	c := f.content("Kaffee Days")
	c.Images = []popkit.Image{
		{URL: "/img/hero.png", Width: 1200, Height: 630, Alt: "The stall"},
		{URL: "/img/more.png", Width: 800, Height: 800, Alt: "Cakes"},
	}
	c.Description = strings.Repeat("Coffee from the roastery down the road, cakes baked on the morning, records to dig through. ", 12)
	f.listing(ev, c, "published")

	rec := &statusRecorder{codes: map[string][]int{}}
	mux := http.NewServeMux()
	mux.Handle("/img/", slowImage(1200, 630, 400*time.Millisecond))
	mux.Handle("/", rec.wrap(f.h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	url := srv.URL + "/e/kaffee-days"

	var mu sync.Mutex
	reqs := map[network.RequestID]*transfer{}
	must(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			enc := ""
			if v, ok := e.Response.Headers["Content-Encoding"]; ok {
				enc, _ = v.(string)
			} else if v, ok := e.Response.Headers["content-encoding"]; ok {
				enc, _ = v.(string)
			}
			reqs[e.RequestID] = &transfer{url: e.Response.URL, mime: e.Response.MimeType, kind: e.Type, encoding: enc}
		case *network.EventLoadingFinished:
			if r := reqs[e.RequestID]; r != nil {
				r.bytes, r.done = e.EncodedDataLength, true
			}
		}
	}))
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: clsObserver})
	must(t, err)
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	must(t, chromedp.Do(tctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(url),
	))
	// Wait for the hero image and for the live island's answer.
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`document.images.length > 0 && document.images[0].complete && document.images[0].naturalWidth > 0 && document.querySelector("[data-island=live]").textContent.includes("until")`))
	must(t, err)
	// The network events of the island's fetch may trail its effect.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		pending := 0
		for _, r := range reqs {
			if !r.done && r.kind != network.ResourceTypeImage {
				pending++
			}
		}
		mu.Unlock()
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cls, err := chromedp.Run(tctx, chromedp.Evaluate[float64]("window.__cls"))
	must(t, err)

	var total float64
	var doc *transfer
	mu.Lock()
	for _, r := range reqs {
		if r.kind == network.ResourceTypeImage {
			continue
		}
		total += r.bytes
		t.Logf("transferred %6.0f B  %-10s %-8s %s", r.bytes, r.kind, r.encoding, r.url)
		if r.kind == network.ResourceTypeDocument {
			doc = r
		}
	}
	mu.Unlock()
	t.Logf("event page first view: %.0f bytes transferred (HTML+CSS+JS, compressed; images excluded); CLS %.4f", total, cls)
	if doc == nil || doc.encoding != "gzip" {
		t.Errorf("the document was not sent gzip-compressed: %+v", doc)
	}
	if total <= 0 || total > BudgetBytes {
		t.Errorf("first view transferred %.0f bytes, budget %d", total, BudgetBytes)
	}
	if cls != 0 {
		t.Errorf("cumulative layout shift %.4f, want 0", cls)
	}

	// A reload revalidates with If-None-Match and gets a 304.
	must(t, chromedp.Do(tctx, chromedp.Reload()))
	codes := rec.get("/e/kaffee-days")
	if len(codes) < 2 || codes[len(codes)-1] != http.StatusNotModified {
		t.Errorf("page statuses %v, want a 304 on reload", codes)
	}

	t.Run("without JavaScript", func(t *testing.T) {
		nctx, cancel := chromedp.NewContext(ctx)
		defer cancel()
		nctx, cancel2 := context.WithTimeout(nctx, 30*time.Second)
		defer cancel2()
		_, err := chromedp.Call(nctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		must(t, err)
		must(t, chromedp.Do(nctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(url)))
		html, err := chromedp.Run(nctx, chromedp.OuterHTML(chromedp.CSS("main")))
		must(t, err)
		for _, want := range []string{"<h1>Kaffee Days</h1>", "Markthalle Neun", "Fri 1 May 2026, 10:00–18:00", "Kiez Kaffee", `method="post"`, "Open now"} {
			if !strings.Contains(html, want) {
				t.Errorf("page without JavaScript lacks %q", want)
			}
		}
		if strings.Contains(html, "until") {
			t.Error("the island ran although JavaScript is off")
		}
		box, err := chromedp.Run(nctx, chromedp.Dimensions(chromedp.CSS("h1")))
		must(t, err)
		if box.Width <= 0 || box.Height <= 0 {
			t.Errorf("h1 is not laid out: %+v", box)
		}
	})
}
