package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"time"
)

// Every page carries a Content-Security-Policy: scripts only by the hash
// of the one inline island script (no other inline script, no script
// from elsewhere), the inline style sheet, images from anywhere (listing
// images live on brands' hosts), forms and fetches to this site only, and
// frame-ancestors 'none' so that no other site can frame a page. The
// kitting page sets its own, stricter policy.

// siteCSP is the Content-Security-Policy of the microsite's pages.
var siteCSP = "default-src 'none'; script-src '" + scriptHash(inlineScript) + "'; style-src 'unsafe-inline'; " +
	"img-src https: http: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// scriptHash is the CSP source expression of an inline script's body.
func scriptHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

//go:embed templates/favicon.svg
var favicon []byte

// faviconMaxAge is how long browsers keep the icon.
const faviconMaxAge = "public, max-age=604800"

// serveFavicon serves the site's icon at /favicon.svg and /favicon.ico, so
// that the request every browser makes is a cached hit, not a 404.
func serveFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", faviconMaxAge)
	writeCached(w, r, "image/svg+xml", favicon, time.Time{})
}
