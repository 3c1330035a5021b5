// Package web serves popkit's public microsite and the curator page:
// server-rendered HTML that reads without JavaScript, with schema.org
// JSON-LD, OpenGraph tags, iCalendar feeds, a sitemap, member links and
// small progressive islands.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/popkit/popkit"
)

//go:embed templates/layout.html templates/curator.html templates/style.css templates/island.js
var files embed.FS

var (
	inlineCSS    = mustRead("templates/style.css")
	inlineScript = mustRead("templates/island.js")
	templates    = template.Must(template.New("").Funcs(template.FuncMap{}).ParseFS(files, "templates/*.html"))
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Handler serves the microsite. Set the fields before the first request.
type Handler struct {
	// Site is the site name shown in the header and OpenGraph tags.
	Site string
	// BaseURL is the public origin for canonical URLs, JSON-LD, feeds,
	// robots.txt and the sitemap, e.g. "https://popups.example"; empty
	// means DefaultBaseURL. No URL is ever built from the request's
	// headers (Host, X-Forwarded-*), which a client chooses.
	BaseURL string
	Source  Source
	// Members resolves member links; nil serves the public view only.
	Members *Members
	// Queue feeds the live badge's queue estimate; nil shows "open now"
	// from the sessions only.
	Queue QueueReporter
	// Funnel counts page views and stores "notify me" sign-ups; nil
	// counts nothing and refuses sign-ups with 503.
	Funnel popkit.FunnelService
	// Curator serves /curator; nil answers 404 there.
	Curator *Curator
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	once  sync.Once
	mux   *http.ServeMux
	viewq viewQueue
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ServeHTTP serves the microsite.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.build)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	w.Header().Set("Content-Security-Policy", siteCSP)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) build() {
	if h.Site == "" {
		h.Site = "popkit pop-ups"
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.home)
	m.HandleFunc("GET /c/{city}", h.city)
	m.HandleFunc("GET /c/{city}/calendar.ics", h.cityCalendar)
	m.HandleFunc("GET /e/{slug}", h.event)
	m.HandleFunc("GET /e/{slug}/calendar.ics", h.eventCalendar)
	m.HandleFunc("GET /e/{slug}/live", h.live)
	m.HandleFunc("POST /e/{slug}/notify", h.notify)
	m.HandleFunc("GET /b/{brand}", h.brand)
	m.HandleFunc("GET /m/{code}", h.memberLink)
	m.HandleFunc("GET /member", h.memberCard)
	m.HandleFunc("GET /sitemap.xml", h.sitemap)
	m.HandleFunc("GET /robots.txt", h.robots)
	m.HandleFunc("GET /favicon.ico", serveFavicon)
	m.HandleFunc("GET /favicon.svg", serveFavicon)
	if h.Curator != nil {
		h.Curator.register(m, h)
	}
	registerKitting(m, h)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.notFound(w, r)
	})
	h.mux = m
}

// DefaultBaseURL is the public origin of a Handler whose BaseURL is empty.
const DefaultBaseURL = "http://localhost"

// base returns the public origin. It takes the request only to keep the
// call sites uniform: the origin never comes from the request.
func (h *Handler) base(*http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimRight(h.BaseURL, "/")
	}
	return DefaultBaseURL
}

// pageData is what the layout needs.
type pageData struct {
	Site        string
	Title       string
	Description string
	Canonical   string
	NoIndex     bool
	Member      bool
	OG          *openGraph
	JSONLD      template.JS
	CSS         template.CSS
	Script      template.JS
	Islands     bool
}

// openGraph holds OpenGraph and Twitter card values.
type openGraph struct {
	Type, Title, Description, URL, Site string
	Image                               *Image
}

func (h *Handler) page(r *http.Request, title, canonicalPath string) *pageData {
	p := &pageData{
		Site:   h.Site,
		Title:  title,
		CSS:    template.CSS(inlineCSS),
		Script: template.JS(inlineScript),
	}
	if canonicalPath != "" {
		p.Canonical = h.base(r) + canonicalPath
	}
	return p
}

// render executes a template into a buffer and writes it with caching
// headers; a template error is a 500 with nothing half-written.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any, modified time.Time) {
	h.renderStatus(w, r, http.StatusOK, name, data, modified)
}

func (h *Handler) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any, modified time.Time) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := templates.ExecuteTemplate(buf, name, data); err != nil {
		h.serverError(w, r, err)
		return
	}
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(buf.Bytes())
		return
	}
	writeCached(w, r, "text/html; charset=utf-8", buf.Bytes(), modified)
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	p := h.page(r, heading, "")
	p.NoIndex = true
	h.renderStatus(w, r, status, "message", struct {
		*pageData
		Heading, Message string
	}{p, heading, msg}, time.Time{})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusNotFound, "Not found", "There is no page at this address. The pop-up may have ended or the link may be mistyped.")
}

func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.message(w, r, http.StatusBadRequest, "Bad request", msg)
}

// serverError answers 500, or 503 when the database is unavailable.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if popkit.ErrorCode(err) == popkit.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		h.unavailable(w, r, err)
		return
	}
	h.logger().ErrorContext(r.Context(), "web", "path", r.URL.Path, "error", err)
	h.message(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}

// fail maps a source error: ENOTFOUND to 404, EUNAVAILABLE (the database
// is down or did not answer in time) to 503, the rest to 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		h.notFound(w, r)
		return
	}
	h.serverError(w, r, err)
}

// unavailable answers 503 with a page asking to come back shortly.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().WarnContext(r.Context(), "web: unavailable", "path", r.URL.Path, "error", err)
	w.Header().Set("Retry-After", "5")
	h.message(w, r, http.StatusServiceUnavailable, "Back in a moment", "This page cannot be shown right now. Please try again in a few seconds.")
}

// ctxTimeout bounds the store work of one page.
func ctxTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 5*time.Second)
}
