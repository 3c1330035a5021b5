package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServePublicURL checks that serve builds the site's absolute URLs
// from --public-url, or else from its own listen address, and never from
// the Host header a client sends.
func TestServePublicURL(t *testing.T) {
	for _, tc := range []struct {
		name, public string
	}{
		{"public URL set", "https://popups.example"},
		{"listen address", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Main{Addr: "127.0.0.1:0", DSN: filepath.Join(t.TempDir(), "popkit.db"), ShutdownTimeout: 10 * time.Second, PublicURL: tc.public}
			if err := m.Open(context.Background()); err != nil {
				t.Fatalf("open main: %v", err)
			}
			t.Cleanup(func() { m.Close() })
			want := tc.public
			if want == "" {
				want = m.URL()
			}
			for _, path := range []string{"/robots.txt", "/sitemap.xml", "/"} {
				req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = "evil.example"
				req.Header.Set("X-Forwarded-Host", "evil.example")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if strings.Contains(string(b), "evil.example") {
					t.Errorf("%s names evil.example:\n%s", path, b)
				}
				if path == "/robots.txt" && !strings.Contains(string(b), "Sitemap: "+want+"/sitemap.xml") {
					t.Errorf("robots.txt does not point at %s:\n%s", want, b)
				}
			}
		})
	}
}

// TestServeRejectsBadPublicURL checks that a --public-url that is not an
// absolute http(s) URL ends serve with a one-line error.
func TestServeRejectsBadPublicURL(t *testing.T) {
	for _, bad := range []string{"popups.example", "ftp://popups.example", "https://", "https://popups.example/?x=1"} {
		cmd := newRootCmd(io.Discard, io.Discard)
		cmd.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "p.db"), "--public-url", bad})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := cmd.ExecuteContext(ctx)
		cancel()
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: error %v, want one line naming --public-url", bad, err)
		}
	}
}
