package http_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
)

// TestRequestID checks that a sane X-Request-Id is kept, and any other is
// replaced by a UUIDv7.
func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"sane", "req-42.a_b:c", true},
		{"absent", "", false},
		{"spaces", "two words", false},
		{"too long", strings.Repeat("r", 129), false},
		{"log injection", "x\"}\n{\"level\":\"ERROR", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			res := e.do("GET", "/api/v1/cities/"+popkit.NewID(), e.admin, nil, header{"X-Request-Id", tt.in}).want(t, 404)
			got := res.Header.Get("X-Request-Id")
			if tt.keep && got != tt.in {
				t.Errorf("X-Request-Id %q, want %q", got, tt.in)
			}
			if !tt.keep {
				if id, err := uuid.Parse(got); err != nil || id.Version() != 7 {
					t.Errorf("X-Request-Id %q is not a UUIDv7", got)
				}
			}
			if p := res.problem(t); p.RequestID != got {
				t.Errorf("problem request_id %q, header %q", p.RequestID, got)
			}
		})
	}
}

// TestAccessLog checks the access log line and that no secret is logged.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	city := create[popkit.City](e, "/api/v1/cities", "", cityBody("Lyon"))
	res := e.do("GET", "/api/v1/cities/"+city.ID, e.admin, nil, header{"X-Request-Id", "trace-me"}).want(t, 200)
	_ = res
	var line map[string]any
	for _, l := range e.logs.lines() {
		if l["request_id"] == "trace-me" && l["msg"] == "http request" {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no access log line for the request:\n%s", e.logs)
	}
	want := map[string]any{"method": "GET", "route": "/api/v1/cities/{id}", "status": float64(200)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("log line without duration: %v", line)
	}
	secret := e.newToken(map[string]any{"role": "curator"})
	e.do("GET", "/api/v1/cities", secret, nil).want(t, 200)
	if logs := e.logs.String(); strings.Contains(logs, e.admin) || strings.Contains(logs, secret) || strings.Contains(logs, "Bearer") {
		t.Error("the log holds a token secret")
	}
}

// TestMetrics checks that requests are counted by route pattern, never by
// raw path.
func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(s *pkhttp.Server) { s.Registry = reg })
	id := popkit.NewID()
	e.do("GET", "/api/v1/cities/"+id, e.admin, nil).want(t, 404)
	e.do("GET", "/no/such/"+id, "", nil).want(t, 404)
	body := string(e.do("GET", "/metrics", "", nil).want(t, 200).Body)
	for _, want := range []string{
		`popkit_http_requests_total{method="GET",route="/api/v1/cities/{id}",status="404"} 1`,
		`popkit_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`popkit_http_request_duration_seconds_bucket{method="GET",route="/api/v1/cities/{id}",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, id) {
		t.Error("metrics hold a raw path")
	}
	// A second server may share the registry.
	(&pkhttp.Server{
		Program: e.db, Cities: e.db, Venues: e.db, Brands: e.db, Events: e.db, SKUs: e.db,
		Assortment: e.db, Devices: e.db, Tokens: e.db, Idempotency: e.db, Telemetry: e.db, Registry: reg,
		Listings: e.db, Tiers: e.db, Members: e.db, Billing: e.db, Funnel: e.db, Secrets: e.db,
		Reconcile: e.db, ColdChain: e.db, KPIs: e.db,
	}).Handler()
}

// TestHealth checks /healthz and /readyz.
func TestHealth(t *testing.T) {
	t.Parallel()
	var down error
	e := newEnv(t, func(s *pkhttp.Server) {
		s.Ready = func(ctx context.Context) error { return down }
	})
	e.do("GET", "/healthz", "", nil).want(t, 200)
	e.do("GET", "/readyz", "", nil).want(t, 200)
	e.allow5xx = true
	down = errors.New("connection refused")
	p := e.do("GET", "/readyz", "", nil).want(t, 503).problem(t)
	if p.Code != popkit.EUNAVAILABLE || strings.Contains(p.Detail, "refused") {
		t.Errorf("readyz problem %+v", p)
	}
	e.do("GET", "/healthz", "", nil).want(t, 200)
}

// brokenCities fails every call in its own way.
type brokenCities struct {
	popkit.CityService
	err   error
	panic bool
}

func (b brokenCities) FindCities(ctx context.Context, f popkit.CityFilter) ([]*popkit.City, string, error) {
	if b.panic {
		panic("nil map somewhere")
	}
	return nil, "", b.err
}

// TestServerErrors checks that failures reach the client as problems that
// leak nothing, and reach the log with the request id.
func TestServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		broken brokenCities
		status int
		detail string
		log    string
	}{
		{"plain error", brokenCities{err: errors.New("pq: secret table missing")}, 500, "internal error", "secret table missing"},
		{"wrapped internal", brokenCities{err: popkit.Errorf(popkit.EINTERNAL, "secret state")}, 500, "internal error", "secret state"},
		{"unavailable", brokenCities{err: popkit.Errorf(popkit.EUNAVAILABLE, "database unavailable")}, 503, "database unavailable", "database unavailable"},
		{"panic", brokenCities{panic: true}, 500, "internal error", "nil map somewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(s *pkhttp.Server) {
				tt.broken.CityService = s.Cities
				s.Cities = tt.broken
			})
			e.allow5xx = true
			res := e.do("GET", "/api/v1/cities", e.admin, nil, header{"X-Request-Id", "broken-1"}).want(t, tt.status)
			p := res.problem(t)
			if p.Detail != tt.detail {
				t.Errorf("detail %q, want %q", p.Detail, tt.detail)
			}
			if tt.status == 500 && strings.Contains(string(res.Body), tt.log) {
				t.Errorf("the response leaks the cause: %s", res.Body)
			}
			found := false
			for _, l := range e.logs.lines() {
				if l["request_id"] == "broken-1" && l["level"] == "ERROR" && strings.Contains(stringOf(l["error"])+" "+stringOf(l["panic"]), tt.log) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error log line with the request id and cause:\n%s", e.logs)
			}
		})
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// TestMissingService checks that wiring mistakes fail at once.
func TestMissingService(t *testing.T) {
	t.Parallel()
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "Server.") {
			t.Errorf("Handler with missing services: recover() = %v", v)
		}
	}()
	(&pkhttp.Server{}).Handler()
}

// TestHEAD checks that GET routes answer HEAD without a body.
func TestHEAD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD /healthz: %d", rec.Code)
	}
}
