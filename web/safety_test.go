package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// hostile is put in every listing field that takes text.
const hostile = "</script><script>alert(1)</script>\"quoted\"\nsecond line"

// TestEscapingEverySurface puts markup, quotes and newlines in every text
// field of a listing (and of its venue and brand) and checks that no
// surface lets the script element or the quote through raw.
func TestEscapingEverySurface(t *testing.T) {
	f := newFixtureNamed(t, fixtureNames{city: "Berlin", venue: "Venue " + hostile, address: "Street " + hostile, brand: "Brand " + hostile})
	ev := f.event("hostile", "2026-05-01T10:00", "2026-05-01T18:00")
	c := f.content("Title " + hostile)
	c.Summary = "Sum </script><script>alert(1)</script>\"q\"\nx"
	c.Description = "Desc " + hostile
	c.Images[0].Alt = "Alt " + hostile
	f.listing(ev, c, "published")

	surfaces := []struct {
		name, path string
		// raw lists what must never appear in the output.
		raw []string
	}{
		{"event page", "/e/hostile", []string{"<script>alert(1)", "\"quoted\""}},
		{"home", "/", []string{"<script>alert(1)", "\"quoted\""}},
		{"city", "/c/berlin", []string{"<script>alert(1)", "\"quoted\""}},
		{"brand", "/b/kiez-kaffee", []string{"<script>alert(1)", "\"quoted\""}},
		{"event feed", "/e/hostile/calendar.ics", []string{"<script>alert(1)</script>\"quoted\"\n", "line\n", "\"quoted\"\nsecond"}},
		{"city feed", "/c/berlin/calendar.ics", []string{"\"quoted\"\nsecond"}},
		{"sitemap", "/sitemap.xml", []string{"<script>"}},
	}
	for _, s := range surfaces {
		t.Run(s.name, func(t *testing.T) {
			res := f.get(s.path)
			b := body(t, res)
			if res.StatusCode != 200 {
				t.Fatalf("status %d\n%s", res.StatusCode, b)
			}
			for _, r := range s.raw {
				if strings.Contains(b, r) {
					t.Errorf("output contains %q raw:\n%s", r, b)
				}
			}
			if strings.HasSuffix(s.path, ".ics") {
				if !strings.Contains(b, `alert(1)</script>"quoted"\nsecond line`) {
					t.Errorf("feed lost the escaped text:\n%s", b)
				}
				return
			}
			if strings.HasPrefix(s.path, "/e/") {
				// The only script elements are the JSON-LD and the island
				// loader: the hostile closing tag did not end either early.
				if n := strings.Count(b, "<script"); n != 2 {
					t.Errorf("%d script elements, want 2", n)
				}
				for _, want := range []string{
					`content="Title &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;quoted&#34;`,     // OpenGraph
					`\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\"quoted\"\nsecond line`, // JSON-LD
				} {
					if !strings.Contains(b, want) {
						t.Errorf("missing escaped form %q", want)
					}
				}
			}
		})
	}
}

// TestNothingUnpublishedIsPublic checks every public surface for listings
// in draft, review, approved-but-unpublished and not-yet-public states.
func TestNothingUnpublishedIsPublic(t *testing.T) {
	f := newFixture(t)
	states := []popkit.CurationState{popkit.ListingDraft, popkit.ListingSubmitted, popkit.ListingApproved}
	var slugs []string
	for _, st := range states {
		slug := "secret-" + string(st)
		f.listing(f.event(slug, "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Secret "+string(st)), st)
		slugs = append(slugs, slug)
	}
	// Published, but the public window opens tomorrow.
	later := f.content("Secret later")
	tomorrow := testNow.Add(24 * time.Hour)
	later.PublicFrom = &tomorrow
	f.listing(f.event("secret-later", "2026-05-03T10:00", "2026-05-03T18:00"), later, "published")
	slugs = append(slugs, "secret-later")
	// Rejected after a submission.
	rej := f.listing(f.event("secret-rejected", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Secret rejected"), popkit.ListingSubmitted)
	_, err := f.db.CurateListing(f.ctx, rej.ID, popkit.CurationStep{Action: popkit.ActionReject, Reason: popkit.RejectOffBrief})
	must(t, err)
	slugs = append(slugs, "secret-rejected")
	// A published listing whose new revision is in review keeps its live
	// title; the reviewed one must not leak.
	pub := f.listing(f.event("shown", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Shown title"), "published")
	title := "Secret revision"
	_, err = f.db.UpdateListing(f.ctx, pub.ID, popkit.ListingUpdate{Title: &title})
	must(t, err)
	f.curate(pub.ID, popkit.ListingSubmitted)

	for _, path := range []string{"/", "/c/berlin", "/b/kiez-kaffee", "/sitemap.xml", "/c/berlin/calendar.ics", "/e/shown", "/e/shown/calendar.ics", "/?day=2026-05-03"} {
		b := body(t, f.get(path))
		if strings.Contains(b, "Secret") || strings.Contains(b, "secret-") {
			t.Errorf("%s shows unpublished content:\n%s", path, b)
		}
	}
	for _, slug := range slugs {
		for _, path := range []string{"/e/" + slug, "/e/" + slug + "/calendar.ics", "/e/" + slug + "/live"} {
			if res := f.get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, res.StatusCode)
			}
		}
	}
	if b := body(t, f.get("/e/shown")); !strings.Contains(b, "Shown title") {
		t.Errorf("the live revision is not shown while a new one is in review")
	}
}

func TestConditionalAndGzip(t *testing.T) {
	f := newFixture(t)
	f.listing(f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Kaffee Days"), "published")
	for _, path := range []string{"/e/kaffee-days", "/", "/e/kaffee-days/calendar.ics"} {
		t.Run(path, func(t *testing.T) {
			res := f.get(path, "Accept-Encoding", "gzip")
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(res.Body)
			must(t, err)
			plain, err := io.ReadAll(zr)
			must(t, err)
			res.Body.Close()
			if len(plain) == 0 {
				t.Fatal("empty body")
			}
			etag := res.Header.Get("ETag")
			if etag == "" || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("ETag %q Vary %q", etag, res.Header.Get("Vary"))
			}
			// Without gzip: the same content under its own ETag.
			res2 := f.get(path)
			if b := body(t, res2); b != string(plain) || res2.Header.Get("ETag") == etag {
				t.Errorf("identity body or ETag wrong: etag %q vs %q", res2.Header.Get("ETag"), etag)
			}
			for _, tc := range []struct {
				name   string
				header []string
				status int
			}{
				{"matching etag", []string{"If-None-Match", etag}, 304},
				{"matching etag in list", []string{"If-None-Match", `"x", ` + etag}, 304},
				{"other etag", []string{"If-None-Match", `"other"`}, 200},
			} {
				res := f.get(path, tc.header...)
				res.Body.Close()
				if res.StatusCode != tc.status {
					t.Errorf("%s: status %d, want %d", tc.name, res.StatusCode, tc.status)
				}
			}
		})
	}
	// The event page has Last-Modified and honours If-Modified-Since.
	res := f.get("/e/kaffee-days")
	res.Body.Close()
	lm := res.Header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("no Last-Modified on the event page")
	}
	if res := f.get("/e/kaffee-days", "If-Modified-Since", lm); res.StatusCode != 304 {
		t.Errorf("If-Modified-Since: status %d, want 304", res.StatusCode)
	}
	// Opening flips the page; a copy from before the opening is stale.
	before := testNow.Add(-3 * time.Hour).UTC().Format(http.TimeFormat)
	if res := f.get("/e/kaffee-days", "If-Modified-Since", before); res.StatusCode != 200 {
		t.Errorf("stale If-Modified-Since: status %d, want 200", res.StatusCode)
	}
}
