package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMicrosite checks that Main serves the microsite beside the API:
// API paths keep their JSON answers, everything else is the site.
func TestServeMicrosite(t *testing.T) {
	m := openMain(t, filepath.Join(t.TempDir(), "popkit.db"))
	tests := []struct {
		name, path string
		status     int
		ctype      string
	}{
		{"home", "/", 200, "text/html"},
		{"robots", "/robots.txt", 200, "text/plain"},
		{"sitemap", "/sitemap.xml", 200, "application/xml"},
		{"unknown page", "/e/nothing-here", 404, "text/html"},
		{"curator sign-in", "/curator/login", 200, "text/html"},
		{"health", "/healthz", 200, "application/json"},
		{"unknown API path", "/api/v1/nothing", 404, "application/problem+json"},
		{"malformed query", "/?day=someday", 400, "text/html"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := http.Get(m.URL() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.ctype) {
				t.Errorf("GET %s = %d %s, want %d %s", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.ctype)
			}
		})
	}
}

// TestDemoPrintsMicrosite checks that `popkit demo` names the microsite and
// the curator page, and that both answer.
func TestDemoPrintsMicrosite(t *testing.T) {
	pr, pw := io.Pipe()
	cmd := newRootCmd(pw, io.Discard)
	cmd.SetArgs([]string{"demo", "--addr", "127.0.0.1:0", "--history=false", "--db", filepath.Join(t.TempDir(), "demo.db")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	}()
	var site, curator string
	sc := bufio.NewScanner(pr)
	for (site == "" || curator == "") && sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "microsite:"); ok {
			site = strings.Fields(rest)[0]
		}
		if rest, ok := strings.CutPrefix(line, "curator page:"); ok {
			curator = strings.Fields(rest)[0]
		}
	}
	go io.Copy(io.Discard, pr)
	if site == "" || curator == "" {
		t.Fatalf("demo printed no microsite or curator URL (microsite %q, curator %q)", site, curator)
	}
	for _, u := range []string{site, curator} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s", u, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}
