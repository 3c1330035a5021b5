package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParsePageQuery checks that any query string either parses into
// values in range or is refused with an error, and never panics.
func FuzzParsePageQuery(f *testing.F) {
	for _, s := range []string{"", "day=2026-05-01", "limit=5", "limit=0", "day=x", "%zz", "a=1&a=2", "utm_source=x&limit=100", "day=2026-02-30", "limit=1e3", ";", "limit=%2B5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parsePageQuery(raw)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if q.Limit < 1 || q.Limit > 100 {
			t.Fatalf("limit %d out of range from %q", q.Limit, raw)
		}
		if !q.Day.IsZero() && q.Day.Format("2006-01-02") == "" {
			t.Fatalf("bad day from %q", raw)
		}
	})
}

// FuzzHandlerRequests sends arbitrary paths and query strings to the
// microsite: every answer is a 2xx, 3xx or 4xx, never a 5xx.
func FuzzHandlerRequests(f *testing.F) {
	for _, s := range []string{"/", "/?day=2026-05-01", "/e/x", "/e/x/calendar.ics", "/c/%zz", "/m/a.b.c", "/sitemap.xml?x", "/?limit=1&limit=2", "/curator?done=%", "/b/"} {
		f.Add(s)
	}
	h := &Handler{Source: fakeSource{}, Now: func() time.Time { return time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC) }}
	f.Fuzz(func(t *testing.T, target string) {
		if !utf8.ValidString(target) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "http://popups.example/", nil)
		r.URL = u
		r.RequestURI = target
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s: status %d\n%s", target, w.Code, w.Body)
		}
		if w.Code == 200 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") && !bytes.Contains(w.Body.Bytes(), []byte("</html>")) {
			t.Fatalf("%s: truncated page", target)
		}
	})
}
