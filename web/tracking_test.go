package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var canonicalLink = regexp.MustCompile(`<link rel="canonical" href="([^"]*)"`)

// TestTrackingParametersIgnored checks that links carrying the tracking
// parameters of ad networks, mail tools and social apps open the page (and
// its feeds), that the canonical link drops them, and that malformed values
// of the parameters a page uses are still refused.
func TestTrackingParametersIgnored(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")

	params := []string{"msclkid=abc", "mc_cid=1f2e", "mc_eid=3d", "igshid=MzRlODBi", "_gl=1*1x2y3z*_ga*MTIz*_ga_X*MTcx",
		"gbraid=0AAAAA", "srsltid=AfmBOo", "ttclid=E.C.P", "utm_source=news&utm_medium=email", "_gl=1*broken%zz"}
	pages := map[string]string{
		"/":                      "https://popups.example/",
		"/c/berlin":              "https://popups.example/c/berlin",
		"/e/kaffee-days":         "https://popups.example/e/kaffee-days",
		"/b/kiez-kaffee":         "https://popups.example/b/kiez-kaffee",
		"/sitemap.xml":           "",
		"/robots.txt":            "",
		"/c/berlin/calendar.ics": "",
	}
	for path, canonical := range pages {
		for _, p := range params {
			res := f.get(path + "?" + p)
			b := body(t, res)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s?%s: status %d, want 200", path, p, res.StatusCode)
				continue
			}
			if canonical == "" {
				continue
			}
			m := canonicalLink.FindStringSubmatch(b)
			if m == nil || m[1] != canonical {
				t.Errorf("%s?%s: canonical link %q, want %q", path, p, m, canonical)
			}
		}
	}

	for _, tc := range []struct{ path, want string }{
		{"/?day=%zz&msclkid=1", "malformed"},
		{"/?day=tomorrow&ttclid=1", "day must be a date"},
		{"/c/berlin?limit=0&igshid=1", "limit must be"},
		{"/?limit=1&limit=2&_gl=1", "given 2 times"},
	} {
		res := f.get(tc.path)
		if b := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, tc.want) {
			t.Errorf("%s: status %d, want 400 saying %q", tc.path, res.StatusCode, tc.want)
		}
	}
}
