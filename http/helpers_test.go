package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// env is one server over a fresh database, with an admin token.
type env struct {
	tb    testing.TB
	db    *sqlstore.DB
	srv   *pkhttp.Server
	h     http.Handler
	admin string
	logs  *logBuffer
	// allow5xx lets a test expect server errors; otherwise any 5xx fails.
	allow5xx bool
	// check, when set, is called with every request and its response; by
	// default it validates both against the OpenAPI document.
	check func(tb testing.TB, req *http.Request, reqBody []byte, res *response)
}

// newEnv starts a server over a fresh database; mods may replace services
// before the handler is built.
func newEnv(tb testing.TB, mods ...func(*pkhttp.Server)) *env {
	tb.Helper()
	db := sqlstoretest.Open(tb)
	logs := &logBuffer{}
	srv := pkhttp.NewServer(db)
	srv.Ready = db.Ping
	srv.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, m := range mods {
		m(srv)
	}
	e := &env{tb: tb, db: db, srv: srv, h: srv.Handler(), logs: logs, check: openAPICheck(tb, nil)}
	t := &popkit.Token{Name: "test admin", Role: popkit.RoleAdmin}
	secret, err := db.CreateToken(context.Background(), t)
	if err != nil {
		tb.Fatalf("create admin token: %v", err)
	}
	e.admin = secret
	return e
}

// with returns a copy of e that reports to tb, for subtests.
func (e *env) with(tb testing.TB) *env {
	c := *e
	c.tb = tb
	return &c
}

// logBuffer collects JSON log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the decoded log lines.
func (l *logBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is the client's view of a problem+json body.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Instance  string              `json:"instance"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id"`
	Errors    []popkit.FieldError `json:"errors"`
}

// hasField reports whether the problem names field.
func (p problem) hasField(field string) bool {
	for _, f := range p.Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}

// problem decodes a problem+json body, failing the test for any other.
func (r *response) problem(tb testing.TB) problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("decode problem %s: %v", r.Body, err)
	}
	if p.Status != r.Status || p.Type == "" || p.Title == "" || p.Code == "" || p.RequestID == "" {
		tb.Fatalf("incomplete problem (status %d): %s", r.Status, r.Body)
	}
	if p.RequestID != r.Header.Get("X-Request-Id") {
		tb.Fatalf("problem request_id %q, header %q", p.RequestID, r.Header.Get("X-Request-Id"))
	}
	return p
}

// header is one extra request header.
type header struct{ key, value string }

// do sends a request. body is nil (no body), a string or []byte (sent as
// is), or a value sent as JSON; a body gets Content-Type application/json
// unless a header sets another.
func (e *env) do(method, path, token string, body any, headers ...header) *response {
	e.tb.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.tb.Fatalf("marshal body: %v", err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		if h.value == "" {
			req.Header.Del(h.key)
		} else {
			req.Header.Set(h.key, h.value)
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := &response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
	if res.Status >= 500 && !e.allow5xx {
		e.tb.Errorf("%s %s: status %d: %s", method, path, res.Status, res.Body)
	}
	if e.check != nil {
		check := httptest.NewRequest(method, path, bytes.NewReader(raw))
		check.Header = req.Header.Clone()
		e.check(e.tb, check, raw, res)
	}
	return res
}

// want fails the test unless the response has status.
func (r *response) want(tb testing.TB, status int) *response {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// decodeAs decodes a JSON response body.
func decodeAs[T any](tb testing.TB, r *response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

// listBody is a list response.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// create posts body as admin (or token) and returns the created object.
func create[T any](e *env, path, token string, body any) T {
	e.tb.Helper()
	if token == "" {
		token = e.admin
	}
	return decodeAs[T](e.tb, e.do("POST", path, token, body).want(e.tb, http.StatusCreated))
}

// listAll follows next_cursor through a whole list with the given page
// size and returns the items and the number of pages.
func listAll[T any](e *env, path, token string, limit int) ([]T, int) {
	e.tb.Helper()
	var all []T
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor, pages := "", 0
	for {
		url := path + sep + "limit=" + itoa(limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		page := decodeAs[listBody[T]](e.tb, e.do("GET", url, token, nil).want(e.tb, http.StatusOK))
		pages++
		if len(page.Items) > limit {
			e.tb.Fatalf("page of %d items for limit %d", len(page.Items), limit)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" || pages > 100 {
			return all, pages
		}
		cursor = page.NextCursor
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// world is a small catalogue: one city and venue, brands A and B, event E1
// with both brands and E2 with A only, SKUs of each brand stocked at E1,
// a device per event, and a token per role.
type world struct {
	city               popkit.City
	venue              popkit.Venue
	brandA, brandB     popkit.Brand
	e1, e2             popkit.Event
	skuA, skuB         popkit.SKU
	dev1, dev2         popkit.Device
	curator, fulfiller string
	brand, device      string // tokens of brand A and of the device of E1
}

func newWorld(e *env) *world {
	e.tb.Helper()
	w := &world{}
	w.city = create[popkit.City](e, "/api/v1/cities", "", cityBody("Berlin"))
	w.venue = create[popkit.Venue](e, "/api/v1/venues", "", venueBody(w.city.ID))
	w.brandA = create[popkit.Brand](e, "/api/v1/brands", "", map[string]any{"name": "Brand A", "slug": "brand-a"})
	w.brandB = create[popkit.Brand](e, "/api/v1/brands", "", map[string]any{"name": "Brand B", "slug": "brand-b"})
	w.e1 = create[popkit.Event](e, "/api/v1/events", "", eventBody(w.venue.ID, "e1", "2026-05-01", w.brandA.ID, w.brandB.ID))
	w.e2 = create[popkit.Event](e, "/api/v1/events", "", eventBody(w.venue.ID, "e2", "2026-06-01", w.brandA.ID))
	w.skuA = create[popkit.SKU](e, "/api/v1/skus", "", skuBody(w.brandA.ID, "A-1"))
	w.skuB = create[popkit.SKU](e, "/api/v1/skus", "", skuBody(w.brandB.ID, "B-1"))
	for _, s := range []popkit.SKU{w.skuA, w.skuB} {
		e.do("PUT", "/api/v1/events/"+w.e1.ID+"/assortment/"+s.ID, e.admin, map[string]any{"stock": 10}).want(e.tb, http.StatusOK)
	}
	w.dev1 = create[popkit.Device](e, "/api/v1/devices", "", map[string]any{"event_id": w.e1.ID, "name": "door counter"})
	w.dev2 = create[popkit.Device](e, "/api/v1/devices", "", map[string]any{"event_id": w.e2.ID, "name": "fridge"})
	w.curator = e.newToken(map[string]any{"role": "curator", "name": "curator"})
	w.fulfiller = e.newToken(map[string]any{"role": "fulfiller", "node_id": popkit.NewID()})
	w.brand = e.newToken(map[string]any{"role": "brand", "brand_id": w.brandA.ID})
	w.device = e.newToken(map[string]any{"role": "device", "event_id": w.e1.ID})
	return w
}

// newToken creates a token through the API and returns its secret.
func (e *env) newToken(body map[string]any) string {
	e.tb.Helper()
	t := create[struct {
		Secret string `json:"secret"`
	}](e, "/api/v1/tokens", "", body)
	if !popkit.LooksLikeToken(t.Secret) {
		e.tb.Fatalf("token secret %q", t.Secret)
	}
	return t.Secret
}

func cityBody(name string) map[string]any {
	return map[string]any{"name": name, "country": "DE", "time_zone": "Europe/Berlin"}
}

func venueBody(cityID string) map[string]any {
	return map[string]any{"city_id": cityID, "name": "Halle 7", "address": "Hauptstr. 1", "lat": 52.5, "lon": 13.4}
}

// eventBody is an event on day (2006-01-02) with two sessions.
func eventBody(venueID, slug, day string, brandIDs ...string) map[string]any {
	return map[string]any{
		"venue_id": venueID, "name": "Pop-up " + slug, "slug": slug, "brand_ids": brandIDs,
		"sessions": []map[string]any{
			{"start": day + "T10:00", "end": day + "T14:00"},
			{"start": day + "T15:00", "end": day + "T19:00"},
		},
		"costs": map[string]any{"rent_minor": 50000, "staff_minor": 20000},
	}
}

func skuBody(brandID, code string) map[string]any {
	b := map[string]any{"code": code, "name": "Thing " + code, "price_minor": 1200, "unit_cost_minor": 400, "weight_grams": 250}
	if brandID != "" {
		b["brand_id"] = brandID
	}
	return b
}
