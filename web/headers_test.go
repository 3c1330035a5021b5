package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// TestContentSecurityPolicy checks that every HTML page carries a CSP
// that forbids framing and inline script, except each inline script the
// page holds, allowed by its hash.
func TestContentSecurityPolicy(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")

	scripts := 0
	for _, path := range []string{"/", "/c/berlin", "/e/kaffee-days", "/b/kiez-kaffee", "/curator/login", "/e/nope", "/?day=nonsense", "/kitting"} {
		res := f.get(path)
		b := body(t, res)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q does not forbid framing", path, csp)
		}
		var scriptSrc string
		for d := range strings.SplitSeq(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src ") {
				scriptSrc = d
			}
		}
		if scriptSrc == "" || strings.Contains(scriptSrc, "unsafe-inline") || strings.Contains(scriptSrc, "*") {
			t.Errorf("%s: script-src %q must name its scripts", path, scriptSrc)
		}
		for _, m := range inlineScript.FindAllStringSubmatch(b, -1) {
			scripts++
			sum := sha256.Sum256([]byte(m[1]))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(scriptSrc, h) {
				t.Errorf("%s: inline script not allowed by its hash %s in %q", path, h, scriptSrc)
			}
		}
		if strings.Contains(b, " onclick=") || strings.Contains(b, " onload=") || strings.Contains(b, "javascript:") {
			t.Errorf("%s: inline event handler or javascript: URL", path)
		}
	}
	if scripts == 0 {
		t.Fatal("no page held an inline script: the hash check checked nothing")
	}
}

// TestFavicon checks that /favicon.ico answers an icon browsers may keep,
// not a 404 on every page view, and that pages link it.
func TestFavicon(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/favicon.ico", "/favicon.svg"} {
		res := f.get(path)
		b := body(t, res)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(b, "<svg") {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=604800") {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
	}
	if b := body(t, f.get("/")); !strings.Contains(b, `<link rel="icon" href="/favicon.svg"`) {
		t.Error("home page does not link the icon")
	}
}
