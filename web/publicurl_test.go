package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/popkit/popkit/web"
)

// publicSurfaces are the pages and documents that carry absolute URLs.
var publicSurfaces = []string{
	"/", "/c/berlin", "/e/kaffee-days", "/b/kiez-kaffee",
	"/sitemap.xml", "/robots.txt", "/e/kaffee-days/calendar.ics", "/c/berlin/calendar.ics",
}

// getSpoofed fetches path from srv claiming to be evil.example in every
// header a proxy or client could set.
func getSpoofed(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	must(t, err)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Server", "evil.example")
	req.Header.Set("Forwarded", "host=evil.example;proto=https")
	res, err := noRedirect.Do(req)
	must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	var hdr strings.Builder
	must(t, res.Header.Write(&hdr))
	return res.StatusCode, hdr.String() + string(b)
}

// TestPublicURLNotFromHeaders checks that no absolute URL (canonical
// links, OpenGraph, JSON-LD, the sitemap, robots.txt, iCalendar URLs and
// UIDs) is built from the request's Host or X-Forwarded-* headers, with a
// public URL set and without one.
func TestPublicURLNotFromHeaders(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")

	unset := &web.Handler{Site: "popkit test", Source: f.h.Source, Now: f.h.Now}
	unsetSrv := httptest.NewServer(unset)
	t.Cleanup(func() { unsetSrv.Close(); unset.Close() })

	for _, tc := range []struct {
		name, origin string
		srv          *httptest.Server
	}{
		{"public URL set", "https://popups.example", f.srv},
		{"no public URL", web.DefaultBaseURL, unsetSrv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range publicSurfaces {
				status, got := getSpoofed(t, tc.srv, path)
				if status != http.StatusOK {
					t.Errorf("%s: status %d", path, status)
					continue
				}
				if strings.Contains(got, "evil.example") {
					t.Errorf("%s: evil.example appears in the answer:\n%s", path, got)
				}
				if !strings.Contains(got, tc.origin) {
					t.Errorf("%s: no URL under %s in the answer", path, tc.origin)
				}
			}
		})
	}
}

var uidLine = regexp.MustCompile(`(?m)^UID:(.*)\r$`)

// TestICalUIDsStableAcrossPublicURLs checks that moving the site to
// another public URL keeps every iCalendar UID, so that subscribed
// calendars do not duplicate their entries.
func TestICalUIDsStableAcrossPublicURLs(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00", "2026-05-02T10:00", "2026-05-02T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")

	moved := &web.Handler{Site: "popkit test", BaseURL: "https://new-home.example", Source: f.h.Source, Now: f.h.Now}
	movedSrv := httptest.NewServer(moved)
	t.Cleanup(func() { movedSrv.Close(); moved.Close() })

	uids := func(srv *httptest.Server) []string {
		_, got := getSpoofed(t, srv, "/c/berlin/calendar.ics")
		var out []string
		for _, m := range uidLine.FindAllStringSubmatch(got, -1) {
			out = append(out, m[1])
		}
		return out
	}
	before, after := uids(f.srv), uids(movedSrv)
	if len(before) != 2 {
		t.Fatalf("UIDs before the move: %q, want 2", before)
	}
	if strings.Join(before, " ") != strings.Join(after, " ") {
		t.Errorf("UIDs changed with the public URL: %q -> %q", before, after)
	}
}
