package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// Modes of a chaosProxy.
const (
	proxyUp        = iota // forward bytes both ways
	proxyRefuse           // close every connection, accept none
	proxyBlackHole        // accept connections, forward nothing, close nothing
)

// chaosProxy forwards TCP connections to PostgreSQL and can refuse
// connections (as a stopped server does) or black-hole them (as a
// network that silently drops packets does: connections are accepted and
// open connections stay open, but no byte gets through either way).
type chaosProxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	mode  int
	conns map[net.Conn]bool
}

func newChaosProxy(t *testing.T, backend string) *chaosProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &chaosProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.SetMode(proxyRefuse) })
	go p.serve()
	return p
}

func (p *chaosProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		switch p.Mode() {
		case proxyRefuse:
			c.Close()
			continue
		case proxyBlackHole:
			p.track(c)
			go io.Copy(io.Discard, c) // swallow what the client sends
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.track(c)
		p.track(b)
		go p.pipe(b, c)
		go p.pipe(c, b)
	}
}

func (p *chaosProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = true
}

// pipe copies from src to dst while the proxy is up and drops the bytes
// while it black-holes.
func (p *chaosProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.Mode() == proxyUp {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Mode returns the proxy's mode.
func (p *chaosProxy) Mode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// SetMode switches the proxy. Refusing closes every open connection;
// black-holing keeps them open and silent; up forwards on new
// connections (connections that were black-holed stay silent, as a
// peer that missed bytes cannot go on).
func (p *chaosProxy) SetMode(mode int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode != proxyBlackHole {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// outageCheck is one request made during an outage.
type outageCheck struct {
	name, method, path string
	body               any
	token              bool
	contentType        string // of the 503
}

// TestDatabaseOutage runs popkit on PostgreSQL behind a proxy that first
// refuses connections and then black-holes them. Every API route answers
// 503 problem+json with Retry-After within the database deadline, the
// microsite a 503 page, and nothing hangs; when the database is back,
// requests succeed again without a restart.
func TestDatabaseOutage(t *testing.T) {
	if os.Getenv("POPKIT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL suite skipped: set POPKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	dsn := sqlstoretest.OpenDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newChaosProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()

	const deadline = time.Second
	m := &Main{Addr: "127.0.0.1:0", DSN: u.String(), ShutdownTimeout: 10 * time.Second, DBTimeout: deadline, Workers: -1}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open main: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	token := adminToken(t, m)
	var city struct{ ID string }
	if code := do(t, "POST", m.URL()+"/api/v1/cities", token, map[string]any{"name": "Berlin", "country": "DE", "time_zone": "Europe/Berlin"}, &city); code != 201 {
		t.Fatalf("create city = %d", code)
	}

	checks := []outageCheck{
		{"list cities", "GET", "/api/v1/cities", nil, true, "application/problem+json"},
		{"get city", "GET", "/api/v1/cities/" + city.ID, nil, true, "application/problem+json"},
		{"create city", "POST", "/api/v1/cities", map[string]any{"name": "Hamburg", "country": "DE", "time_zone": "Europe/Berlin"}, true, "application/problem+json"},
		{"microsite home", "GET", "/", nil, false, "text/html"},
	}
	// The bound on an answer: the deadline, plus a connection attempt
	// PostgreSQL's client makes within it, plus slack for a loaded machine.
	limit := 2*deadline + 3*time.Second
	for _, mode := range []struct {
		name string
		mode int
	}{{"refused", proxyRefuse}, {"black hole", proxyBlackHole}} {
		t.Run(mode.name, func(t *testing.T) {
			proxy.SetMode(mode.mode)
			for _, c := range checks {
				tok := ""
				if c.token {
					tok = token
				}
				start := time.Now()
				status, h, body := rawDo(t, c.method, m.URL()+c.path, tok, c.body)
				took := time.Since(start)
				if status != http.StatusServiceUnavailable {
					t.Errorf("%s: status %d, want 503; body %s", c.name, status, body)
					continue
				}
				if took > limit {
					t.Errorf("%s: answered after %s, want within %s", c.name, took, limit)
				}
				if h.Get("Retry-After") == "" {
					t.Errorf("%s: no Retry-After", c.name)
				}
				if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, c.contentType) {
					t.Errorf("%s: Content-Type %q, want %s", c.name, ct, c.contentType)
				}
				if c.contentType == "application/problem+json" {
					var p struct{ Code string }
					if err := json.Unmarshal(body, &p); err != nil || p.Code != "unavailable" {
						t.Errorf("%s: problem %s, want code unavailable", c.name, body)
					}
				}
			}
			proxy.SetMode(proxyUp)
			waitUntil(t, 30*time.Second, "the API to answer again", func() bool {
				return do(t, "GET", m.URL()+"/api/v1/cities/"+city.ID, token, nil, nil) == 200
			})
		})
	}
}

// rawDo sends a request and returns the status, headers and body.
func rawDo(t *testing.T, method, url, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "outage-"+time.Now().Format(time.RFC3339Nano))
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeWaitsForDatabase starts popkit while PostgreSQL cannot be
// reached: Open tries again with backoff, logging each try, and serves
// once the database is back instead of exiting.
func TestServeWaitsForDatabase(t *testing.T) {
	if os.Getenv("POPKIT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL suite skipped: set POPKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	dsn := sqlstoretest.OpenDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newChaosProxy(t, u.Host)
	proxy.SetMode(proxyRefuse)
	u.Host = proxy.ln.Addr().String()

	var logs syncBuffer
	m := &Main{Addr: "127.0.0.1:0", DSN: u.String(), ShutdownTimeout: 10 * time.Second, Workers: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	opened := make(chan error, 1)
	go func() { opened <- m.Open(context.Background()) }()
	waitUntil(t, 30*time.Second, "two logged tries", func() bool {
		return strings.Count(logs.String(), "database unreachable, trying again") >= 2
	})
	select {
	case err := <-opened:
		t.Fatalf("Open returned while the database was down: %v", err)
	default:
	}
	proxy.SetMode(proxyUp)
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Open did not return after the database came back")
	}
	t.Cleanup(func() { m.Close() })
	if code := do(t, "GET", m.URL()+"/readyz", "", nil, nil); code != 200 {
		t.Errorf("readyz = %d, want 200", code)
	}
}
