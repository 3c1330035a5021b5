package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// openMain starts a Main on a free loopback port over dsn and closes it at
// the end of the test.
func openMain(tb testing.TB, dsn string) *Main {
	tb.Helper()
	m := &Main{Addr: "127.0.0.1:0", DSN: dsn, ShutdownTimeout: 10 * time.Second}
	if err := m.Open(context.Background()); err != nil {
		tb.Fatalf("open main: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// adminToken creates an admin token directly in m's database.
func adminToken(tb testing.TB, m *Main) string {
	tb.Helper()
	secret, err := m.DB.CreateToken(context.Background(), &popkit.Token{Role: popkit.RoleAdmin, Name: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// do sends a request with a bearer token and decodes a JSON response into
// out (when not nil). It returns the status code.
func do(tb testing.TB, method, url, token string, body any, out any) int {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

func TestServeHealthAndMetrics(t *testing.T) {
	m := openMain(t, filepath.Join(t.TempDir(), "popkit.db"))
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		if code := do(t, "GET", m.URL()+path, "", nil, nil); code != 200 {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"popkit_http_requests_total", "popkit_http_request_duration_seconds", "go_sql_open_connections"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeFailsFast checks that a bad --db ends serve at once with a
// one-line error instead of serving a broken API.
func TestServeFailsFast(t *testing.T) {
	tests := []struct {
		name string
		db   string
		want string
	}{
		{"unwritable path", "/proc/popkit-no-such-dir/popkit.db", "open"},
		// serve waits for an unreachable database; --db-wait bounds that.
		{"unreachable postgres", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := newRootCmd(&stdout, &stderr)
			cmd.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--db", tt.db, "--db-wait", "1s"})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := cmd.ExecuteContext(ctx)
			if err == nil {
				t.Fatal("serve succeeded, want an error")
			}
			if ctx.Err() != nil {
				t.Fatalf("serve did not fail fast: ran %s", time.Since(start))
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want one line mentioning %q", msg, tt.want)
			}
		})
	}
}

// TestServeGracefulShutdown checks that Close lets a request that is in
// flight when shutdown starts finish with its full response.
//
// "In flight" means the handler is running: the request asks for
// "100 Continue", which net/http sends only once the handler reads the
// body, so the test closes the server only after the handler has started.
// (A connection-state hook is not enough: net/http marks a connection
// active before it checks for shutdown, and drops the request if shutdown
// has begun in between.)
func TestServeGracefulShutdown(t *testing.T) {
	m := openMain(t, filepath.Join(t.TempDir(), "popkit.db"))
	token := adminToken(t, m)
	addr := strings.TrimPrefix(m.URL(), "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"Berlin","country":"DE","time_zone":"Europe/Berlin"}`
	head := fmt.Sprintf("POST /api/v1/cities HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, token, len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	interim, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read interim response: %v", err)
	}
	if interim.StatusCode != http.StatusContinue {
		b, _ := io.ReadAll(interim.Body)
		t.Fatalf("before the body the server answered %d %s, want 100 Continue", interim.StatusCode, b)
	}
	// The handler is reading the body: the request is in flight.
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	// Shutdown has begun once the listener refuses new connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting 10s after Close")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a request was in flight", err)
	default:
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request was cut: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight POST = %d, want 201", resp.StatusCode)
	}
	resp.Body.Close()
	conn.Close()
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
}

// demoRun is one `popkit demo` running in the background.
type demoRun struct {
	URL, Token string
	Output     []string // lines printed before the token
	stop       func() error
}

// startDemo runs `popkit demo` on dbPath and waits until it has printed its
// URL and admin token.
func startDemo(t *testing.T, dbPath string) *demoRun {
	t.Helper()
	pr, pw := io.Pipe()
	cmd := newRootCmd(pw, io.Discard)
	args := []string{"demo", "--addr", "127.0.0.1:0", "--db", dbPath}
	if testing.Short() {
		// The year of history takes most of a minute under -race; sim's
		// TestSeedHistory checks it, and ./test.sh --full runs the demo
		// with it.
		args = append(args, "--history=false")
	}
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()

	d := &demoRun{}
	sc := bufio.NewScanner(pr)
	for (d.URL == "" || d.Token == "") && sc.Scan() {
		line := sc.Text()
		d.Output = append(d.Output, line)
		if u, ok := strings.CutPrefix(line, "popkit demo is running at "); ok {
			d.URL = strings.TrimSpace(u)
		}
		if tok, ok := strings.CutPrefix(line, "admin token: "); ok {
			d.Token = strings.TrimSpace(tok)
		}
	}
	go io.Copy(io.Discard, pr)
	d.stop = func() error { cancel(); return <-done }
	if d.URL == "" || d.Token == "" {
		t.Fatalf("demo did not print its URL and token (err %v); output %q", d.stop(), d.Output)
	}
	return d
}

// TestDemo runs `popkit demo` on a fresh database, reads the URL and token
// it prints, and checks the seeded program through the API.
func TestDemo(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "demo.db")
	d := startDemo(t, dbPath)
	count := func(path string) int {
		n, cursor := 0, ""
		for {
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			u := d.URL + path + "?limit=200"
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			if code := do(t, "GET", u, d.Token, nil, &page); code != 200 {
				t.Fatalf("GET %s = %d", u, code)
			}
			n += len(page.Items)
			if page.NextCursor == "" {
				return n
			}
			cursor = page.NextCursor
		}
	}
	for path, min := range map[string]int{"/api/v1/cities": 3, "/api/v1/venues": 6, "/api/v1/brands": 8, "/api/v1/events": 15, "/api/v1/skus": 8} {
		if n := count(path); n < min {
			t.Errorf("%s has %d items, want at least %d", path, n, min)
		}
	}
	checkDemoOrders(t, d)
	if err := d.stop(); err != nil {
		t.Fatalf("demo: %v", err)
	}

	// A second run reuses the database instead of seeding twice.
	d = startDemo(t, dbPath)
	defer d.stop()
	if !strings.Contains(strings.Join(d.Output, "\n"), "reusing the demo program") {
		t.Errorf("second demo run did not reuse the data: %q", d.Output)
	}
	if n := count("/api/v1/events"); n < 15 || n > 60 { // the program and a year of history
		t.Errorf("after a second run there are %d events", n)
	}
}

// TestTwoServersSharePostgres starts two servers on one PostgreSQL database
// and shows that what one writes the other reads.
func TestTwoServersSharePostgres(t *testing.T) {
	if os.Getenv("POPKIT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL suite skipped: set POPKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	dsn := sqlstoretest.OpenDSN(t)
	a := openMain(t, dsn)
	b := openMain(t, dsn)
	token := adminToken(t, a) // created through a's store, used on b

	var city popkit.City
	if code := do(t, "POST", a.URL()+"/api/v1/cities", token, map[string]any{"name": "Melbourne", "country": "AU", "time_zone": "Australia/Melbourne"}, &city); code != 201 {
		t.Fatalf("create city on a = %d", code)
	}
	var got popkit.City
	if code := do(t, "GET", b.URL()+"/api/v1/cities/"+city.ID, token, nil, &got); code != 200 {
		t.Fatalf("get city on b = %d", code)
	}
	if got.Name != "Melbourne" || got.TimeZone != "Australia/Melbourne" {
		t.Errorf("b read %+v", got)
	}
	if code := do(t, "PATCH", b.URL()+"/api/v1/cities/"+city.ID, token, map[string]any{"name": "Naarm Melbourne"}, nil); code != 200 {
		t.Fatalf("patch on b = %d", code)
	}
	if code := do(t, "GET", a.URL()+"/api/v1/cities/"+city.ID, token, nil, &got); code != 200 || got.Name != "Naarm Melbourne" {
		t.Errorf("a read %d %+v after b's update", code, got)
	}
	// A token revoked through b is refused by a at once: no server caches
	// credentials.
	var tokens struct {
		Items []popkit.Token `json:"items"`
	}
	do(t, "GET", b.URL()+"/api/v1/tokens", token, nil, &tokens)
	if len(tokens.Items) == 0 {
		t.Fatal("no tokens listed")
	}
	if code := do(t, "DELETE", b.URL()+"/api/v1/tokens/"+tokens.Items[0].ID, token, nil, nil); code != 204 {
		t.Fatalf("revoke on b = %d", code)
	}
	if code := do(t, "GET", a.URL()+"/api/v1/cities", token, nil, nil); code != 401 {
		t.Errorf("revoked token on a = %d, want 401", code)
	}
}

// checkDemoOrders waits (bounded) until the demo's order side has shown
// itself: sales rung up at the simulated tills synced as pos orders, the
// offline till's oversell as an exception, same-day orders routed to
// fulfilment orders, shared bundles, and a signed webhook delivered to the
// partner station.
func checkDemoOrders(t *testing.T, d *demoRun) {
	t.Helper()
	want := map[string]int{
		"/api/v1/orders?channel=pos&":                  1,
		"/api/v1/exceptions?kind=oversell&":            1,
		"/api/v1/fulfilment-orders?":                   5,
		"/api/v1/bundles?":                             2,
		"/api/v1/webhook-deliveries?status=delivered&": 1,
	}
	deadline := time.Now().Add(90 * time.Second)
	for path, min := range want {
		for {
			n := countQuery(t, d, path)
			if n >= min {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s has %d items after 90 s, want at least %d", path, n, min)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// countQuery counts the items of the first page (limit 200) of a list
// path that already ends in "?" or "&".
func countQuery(t *testing.T, d *demoRun, path string) int {
	t.Helper()
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if code := do(t, "GET", d.URL+path+"limit=200", d.Token, nil, &page); code != 200 {
		t.Fatalf("GET %s = %d", path, code)
	}
	return len(page.Items)
}
