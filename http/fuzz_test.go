package http_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

// The fuzz tests send arbitrary bodies, query strings and headers. do
// fails the test on any 5xx, which is also how a panic would surface (the
// recover middleware answers 500); every error must be a problem.

// fuzzTarget is one route with its ids filled in.
type fuzzTarget struct{ method, path string }

// bodyTargets are the routes that take a JSON body.
func bodyTargets(w *world) []fuzzTarget {
	item := "/api/v1/events/" + w.e1.ID + "/assortment/" + w.skuA.ID
	return []fuzzTarget{
		{"PUT", "/api/v1/program"},
		{"POST", "/api/v1/cities"},
		{"PATCH", "/api/v1/cities/" + w.city.ID},
		{"POST", "/api/v1/venues"},
		{"PATCH", "/api/v1/venues/" + w.venue.ID},
		{"POST", "/api/v1/brands"},
		{"PATCH", "/api/v1/brands/" + w.brandA.ID},
		{"POST", "/api/v1/events"},
		{"PATCH", "/api/v1/events/" + w.e1.ID},
		{"POST", "/api/v1/skus"},
		{"PATCH", "/api/v1/skus/" + w.skuA.ID},
		{"PUT", item},
		{"POST", item + "/adjustments"},
		{"POST", "/api/v1/devices"},
		{"PATCH", "/api/v1/devices/" + w.dev1.ID},
		{"POST", "/api/v1/tokens"},
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// fuzzEnv is a server with a world for fuzzing. The OpenAPI check stays
// on for responses.
func fuzzEnv(f *testing.F) (*env, *world) {
	e := newEnv(f)
	return e, newWorld(e)
}

// wantProblem checks that an error answer is a problem.
func wantProblem(t *testing.T, res *response) {
	t.Helper()
	if res.Status >= 400 {
		res.problem(t)
	}
}

// FuzzBodies drives every route that takes a body with fuzzed bodies, as
// an admin, a brand or a device token.
func FuzzBodies(f *testing.F) {
	e, w := fuzzEnv(f)
	targets := bodyTargets(w)
	valid := []string{
		mustJSON(map[string]any{"name": "P", "currency": "EUR", "k_anonymity": 5, "epoch_days": 30}),
		mustJSON(cityBody("Fuzz")),
		`{"name":"Renamed","time_zone":null}`,
		mustJSON(venueBody(w.city.ID)),
		`{"lat":-90,"lon":180}`,
		`{"name":"F","slug":"f","contact_email":"a@b.c"}`,
		`{"slug":"brand-b"}`,
		mustJSON(eventBody(w.venue.ID, "fz", "2026-10-25", w.brandA.ID)),
		`{"status":"open","sessions":[{"start":"2026-03-29T02:30","end":"2026-03-29T03:30"}]}`,
		mustJSON(skuBody(w.brandA.ID, "FZ")),
		`{"price_minor":9223372036854775807}`,
		`{"stock":3,"price_minor":null}`,
		`{"delta":-9223372036854775808}`,
		mustJSON(map[string]any{"event_id": w.e1.ID, "name": "d"}),
		`{"name":"\ud800"}`,
		mustJSON(map[string]any{"role": "brand", "brand_id": w.brandA.ID}),
	}
	invalid := []string{
		``, `null`, `[]`, `"x"`, `{`, `{}`, `{}{}`, `{"name":1}`, `{"x":1}`, `{"name":"\u0000"}`,
		`{"name":"a","name":"b"}`, `{"sessions":[{"start":"9999-99-99T99:99","end":"0000-01-01T00:00"}]}`,
		`{"lat":1e400}`, `{"stock":-1}`, `{"costs":{"rent_minor":-1}}`, `{"brand_ids":[null]}`,
	}
	for i, body := range valid {
		f.Add(uint8(i), []byte(body))
	}
	for i, body := range invalid {
		f.Add(uint8(i*7), []byte(body))
	}
	tokens := []string{e.admin, w.brand, w.device}
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		e := e.with(t)
		target := targets[int(pick)%len(targets)]
		token := tokens[int(pick)/len(targets)%len(tokens)]
		wantProblem(t, e.do(target.method, target.path, token, body))
	})
}

// listTargets are the list routes.
func listTargets(w *world) []string {
	return []string{
		"/api/v1/cities", "/api/v1/venues", "/api/v1/brands", "/api/v1/events", "/api/v1/skus",
		"/api/v1/events/" + w.e1.ID + "/assortment", "/api/v1/devices", "/api/v1/tokens",
	}
}

// FuzzQuery drives every list route with fuzzed query strings.
func FuzzQuery(f *testing.F) {
	e, w := fuzzEnv(f)
	targets := listTargets(w)
	for i, q := range []string{
		"limit=1", "limit=0", "limit=-1", "limit=99999999999999999999", "cursor=" + popkit.Cursor(w.e1.ID), "cursor=%00",
		"city_id=" + w.city.ID, "slug=brand-a", "city=x&from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
		"status=open", "brand_id=" + w.brandB.ID, "event_id=" + w.e2.ID, "role=admin&include_revoked=1",
		"country=%C3%BC%C3%BC", "from=2026-13-01T00:00:00Z", "limit=1&limit=2",
	} {
		f.Add(uint8(i), q)
	}
	tokens := []string{e.admin, w.brand, w.device}
	f.Fuzz(func(t *testing.T, pick uint8, query string) {
		u, err := url.ParseRequestURI(targets[int(pick)%len(targets)] + "?" + query)
		if err != nil || u.Path != targets[int(pick)%len(targets)] || strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			t.Skip("not a request target a client could send")
		}
		e := e.with(t)
		token := tokens[int(pick)/len(targets)%len(tokens)]
		wantProblem(t, e.do("GET", u.RequestURI(), token, nil))
	})
}

// FuzzHeaders fuzzes the headers the server reads: Authorization,
// Idempotency-Key, X-Request-Id and Content-Type.
func FuzzHeaders(f *testing.F) {
	e, _ := fuzzEnv(f)
	f.Add("Bearer "+e.admin, "key-1", "req-1", "application/json")
	f.Add("bearer  "+e.admin, `"quoted"`, "", "application/json; charset=utf-8")
	f.Add("Basic Zm9vOmJhcg==", strings.Repeat("k", 300), strings.Repeat("r", 200), "text/plain")
	f.Add("Bearer pk_"+strings.Repeat("A", 43), "\x7f", "a b", "application/json;;")
	f.Add("Bearer", `"unterminated`, "\xff", "")
	f.Fuzz(func(t *testing.T, auth, idemKey, requestID, contentType string) {
		for _, v := range []string{auth, idemKey, requestID, contentType} {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Skip("not a header value a client could send")
			}
		}
		e := e.with(t)
		res := e.do("POST", "/api/v1/cities", "", cityBody("Headers"),
			header{"Authorization", auth}, header{"Idempotency-Key", idemKey},
			header{"X-Request-Id", requestID}, header{"Content-Type", contentType})
		wantProblem(t, res)
		if id := res.Header.Get("X-Request-Id"); id == "" || len(id) > 128 {
			t.Errorf("X-Request-Id %q", id)
		}
	})
}
