package http_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
)

func key(k string) header { return header{"Idempotency-Key", k} }

func countCities(e *env) int {
	e.tb.Helper()
	return len(decodeAs[listBody[popkit.City]](e.tb, e.do("GET", "/api/v1/cities?limit=200", e.admin, nil).want(e.tb, 200)).Items)
}

// TestIdempotencyReplay checks replays, reuse with another request, and
// that keys belong to one token.
func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.do("POST", "/api/v1/cities", e.admin, cityBody("Oslo"), key("k-1")).want(t, 201)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("first answer marked as replayed")
	}
	again := e.do("POST", "/api/v1/cities", e.admin, cityBody("Oslo"), key("k-1")).want(t, 201)
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry not marked as replayed: %v", again.Header)
	}
	if string(again.Body) != string(first.Body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("replay differs:\n%s %s\n%s %s", first.Body, first.Header.Get("Location"), again.Body, again.Header.Get("Location"))
	}
	if again.Header.Get("X-Request-Id") == first.Header.Get("X-Request-Id") {
		t.Error("replay reused the first request's X-Request-Id")
	}
	// A structured-field string names the same key.
	e.do("POST", "/api/v1/cities", e.admin, cityBody("Oslo"), key(`"k-1"`)).want(t, 201)
	if n := countCities(e); n != 1 {
		t.Fatalf("%d cities after retries, want 1", n)
	}

	p := e.do("POST", "/api/v1/cities", e.admin, cityBody("Bergen"), key("k-1")).want(t, 422).problem(t)
	if p.Code != popkit.EUNPROCESSABLE || !strings.Contains(p.Detail, "Idempotency-Key") {
		t.Errorf("different body: %+v", p)
	}
	e.do("POST", "/api/v1/brands", e.admin, map[string]any{"name": "B", "slug": "b"}, key("k-1")).want(t, 422).problem(t)

	// Another token's key space is its own.
	other := e.newToken(map[string]any{"role": "admin", "name": "second admin"})
	e.do("POST", "/api/v1/cities", other, cityBody("Bergen"), key("k-1")).want(t, 201)

	// A rejected request is stored too: the retry gets the same problem.
	bad := e.do("POST", "/api/v1/cities", e.admin, `{"name":""}`, key("k-2")).want(t, 400)
	bad2 := e.do("POST", "/api/v1/cities", e.admin, `{"name":""}`, key("k-2")).want(t, 400)
	if bad2.Header.Get("Idempotent-Replayed") != "true" || bad2.Header.Get("Content-Type") != "application/problem+json" || string(bad2.Body) != string(bad.Body) {
		t.Errorf("replayed problem: %v %s", bad2.Header, bad2.Body)
	}
	// Without a key nothing is replayed.
	e.do("POST", "/api/v1/cities", e.admin, cityBody("Oslo")).want(t, 201)
	e.do("POST", "/api/v1/cities", e.admin, cityBody("Oslo")).want(t, 201)
	if n := countCities(e); n != 4 {
		t.Errorf("%d cities, want 4", n)
	}
}

// TestIdempotencyKeyFormat checks the key's length and characters.
func TestIdempotencyKeyFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		key  string
		want int
	}{
		{"255 characters", strings.Repeat("k", 255), 201},
		{"256 characters", strings.Repeat("k", 256), 400},
		{"quoted 255", `"` + strings.Repeat("q", 255) + `"`, 201},
		{"empty quoted", `""`, 400},
		{"non-ASCII", "schlüssel", 400},
		{"control character", "a\tb", 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			res := e.do("POST", "/api/v1/cities", e.admin, cityBody("City "+itoa(i)), key(tt.key)).want(t, tt.want)
			if tt.want == 400 && !res.problem(t).hasField("Idempotency-Key") {
				t.Errorf("problem does not name Idempotency-Key: %s", res.Body)
			}
		})
	}
}

// blockingCities holds CreateCity until release is closed, after telling
// entered that a call arrived.
type blockingCities struct {
	popkit.CityService
	entered chan struct{}
	release chan struct{}
}

func (b *blockingCities) CreateCity(ctx context.Context, c *popkit.City) error {
	b.entered <- struct{}{}
	<-b.release
	return b.CityService.CreateCity(ctx, c)
}

// TestIdempotencyInFlight checks that a retry while the first request runs
// gets 409, and one after it finished gets the replay.
func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	block := &blockingCities{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnv(t, func(s *pkhttp.Server) {
		block.CityService = s.Cities
		s.Cities = block
	})
	done := make(chan *response)
	go func() { done <- e.do("POST", "/api/v1/cities", e.admin, cityBody("Turku"), key("slow")) }()
	<-block.entered

	res := e.do("POST", "/api/v1/cities", e.admin, cityBody("Turku"), key("slow")).want(t, 409)
	if p := res.problem(t); p.Code != popkit.ECONFLICT || res.Header.Get("Retry-After") == "" {
		t.Errorf("in-flight retry: %+v %v", p, res.Header)
	}
	e.do("POST", "/api/v1/cities", e.admin, cityBody("Espoo"), key("slow")).want(t, 422)

	close(block.release)
	first := (<-done).want(t, 201)
	replay := e.do("POST", "/api/v1/cities", e.admin, cityBody("Turku"), key("slow")).want(t, 201)
	if replay.Header.Get("Idempotent-Replayed") != "true" || string(replay.Body) != string(first.Body) {
		t.Errorf("replay after completion: %v %s", replay.Header, replay.Body)
	}
}

// failingCities fails (or panics in) CreateCity the first times, then
// works.
type failingCities struct {
	popkit.CityService
	fails  atomic.Int32
	panics bool
}

func (f *failingCities) CreateCity(ctx context.Context, c *popkit.City) error {
	if f.fails.Add(-1) >= 0 {
		if f.panics {
			panic("boom")
		}
		return errors.New("disk on fire")
	}
	return f.CityService.CreateCity(ctx, c)
}

// TestIdempotencyReleaseOnServerError checks that a 5xx (or a panic)
// releases the claim, so that the retry runs again.
func TestIdempotencyReleaseOnServerError(t *testing.T) {
	t.Parallel()
	for _, panics := range []bool{false, true} {
		name := map[bool]string{false: "error", true: "panic"}[panics]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fail := &failingCities{panics: panics}
			fail.fails.Store(1)
			e := newEnv(t, func(s *pkhttp.Server) {
				fail.CityService = s.Cities
				s.Cities = fail
			})
			e.allow5xx = true
			p := e.do("POST", "/api/v1/cities", e.admin, cityBody("Tampere"), key("retry-me")).want(t, 500).problem(t)
			if p.Detail != "internal error" {
				t.Errorf("detail %q", p.Detail)
			}
			res := e.do("POST", "/api/v1/cities", e.admin, cityBody("Tampere"), key("retry-me")).want(t, 201)
			if res.Header.Get("Idempotent-Replayed") != "" {
				t.Error("retry after a 5xx was replayed")
			}
			if n := countCities(e); n != 1 {
				t.Errorf("%d cities, want 1", n)
			}
		})
	}
}
