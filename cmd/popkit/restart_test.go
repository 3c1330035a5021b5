package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// flakyProxy forwards TCP connections to a backend and can be switched
// down, which drops every open connection and refuses new ones, as a
// PostgreSQL restart does from the client's side.
type flakyProxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newFlakyProxy(t *testing.T, backend string) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.SetDown(true) })
	go p.serve()
	return p
}

func (p *flakyProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		go func() { io.Copy(b, c); b.Close(); c.Close() }()
		go func() { io.Copy(c, b); b.Close(); c.Close() }()
	}
}

// SetDown switches the proxy down (dropping all connections) or up.
func (p *flakyProxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestPostgresRestart checks that /readyz goes red while PostgreSQL is
// unreachable and green again afterwards without restarting popkit, and
// that every write acknowledged before the outage is still there.
func TestPostgresRestart(t *testing.T) {
	if os.Getenv("POPKIT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL suite skipped: set POPKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	dsn := sqlstoretest.OpenDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFlakyProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	m := openMain(t, u.String())
	token := adminToken(t, m)

	var ids []string
	for _, name := range []string{"Berlin", "Hamburg", "Munich"} {
		var c struct{ ID string }
		if code := do(t, "POST", m.URL()+"/api/v1/cities", token, map[string]any{"name": name, "country": "DE", "time_zone": "Europe/Berlin"}, &c); code != 201 {
			t.Fatalf("create %s = %d", name, code)
		}
		ids = append(ids, c.ID)
	}

	proxy.SetDown(true)
	waitStatus(t, m.URL()+"/readyz", 503)
	if code := do(t, "POST", m.URL()+"/api/v1/cities", token, map[string]any{"name": "Cologne", "country": "DE", "time_zone": "Europe/Berlin"}, nil); code < 500 {
		t.Errorf("write during the outage = %d, want a 5xx (nothing acknowledged)", code)
	}
	proxy.SetDown(false)
	waitStatus(t, m.URL()+"/readyz", 200)

	for _, id := range ids {
		if code := do(t, "GET", m.URL()+"/api/v1/cities/"+id, token, nil, nil); code != 200 {
			t.Errorf("city %s acknowledged before the outage: GET = %d", id, code)
		}
	}
}

// waitStatus polls url until it answers want, failing after 30 seconds.
func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	waitUntil(t, 30*time.Second, fmt.Sprintf("GET %s to answer %d", url, want), func() bool {
		return do(t, "GET", url, "", nil, nil) == want
	})
}
