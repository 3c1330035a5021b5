package http_test

import (
	"strings"
	"testing"

	pkhttp "github.com/popkit/popkit/http"
)

// TestMetricsToken checks that with a metrics token set /metrics answers
// 401 without it or with another token (an admin API token included), and
// the metrics with it; without one set /metrics stays open.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *pkhttp.Server) { s.MetricsToken = "scrape-secret-1" })
	e.do("GET", "/metrics", "", nil).want(t, 401)
	e.do("GET", "/metrics", "scrape-secret-2", nil).want(t, 401)
	e.do("GET", "/metrics", e.admin, nil).want(t, 401)
	if r := e.do("GET", "/metrics", "scrape-secret-1", nil).want(t, 200); !strings.Contains(string(r.Body), "# TYPE") {
		t.Errorf("metrics body: %.200s", r.Body)
	}
	open := newEnv(t)
	open.do("GET", "/metrics", "", nil).want(t, 200)
}
