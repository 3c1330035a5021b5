package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/web"
)

func body(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	return string(b)
}

var jsonLDRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

func TestPages(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00", "2026-05-02T10:00", "2026-05-02T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")

	tests := []struct {
		name   string
		path   string
		status int
		want   []string
	}{
		{"home", "/", 200, []string{"What's on", "Berlin", `href="/e/kaffee-days"`, "Open now"}},
		{"city", "/c/berlin", 200, []string{"Pop-ups in Berlin", "Kaffee Days", `href="/c/berlin/calendar.ics"`}},
		{"event", "/e/kaffee-days", 200, []string{"<h1>Kaffee Days</h1>", `width="1200" height="630"`, "Kiez Kaffee", "Open now", `rel="canonical" href="https://popups.example/e/kaffee-days"`, `property="og:title" content="Kaffee Days"`, "twitter:card", "application/ld+json", "Second paragraph."}},
		{"brand", "/b/kiez-kaffee", 200, []string{"Kiez Kaffee", "Kaffee Days"}},
		{"day query", "/?day=2026-05-02", 200, []string{"Kaffee Days"}},
		{"marketing params ignored", "/e/kaffee-days?utm_source=x&fbclid=1", 200, []string{"Kaffee Days"}},
		{"unknown event", "/e/nope", 404, []string{"Not found"}},
		{"unknown city", "/c/atlantis", 404, []string{"Not found"}},
		{"unknown brand", "/b/nobody", 404, []string{"Not found"}},
		{"unknown path", "/wp-admin.php", 404, []string{"Not found"}},
		{"bad day", "/?day=tomorrow", 400, []string{"day must be a date"}},
		{"bad limit", "/c/berlin?limit=0", 400, []string{"limit must be"}},
		{"bad escape", "/?day=%zz", 400, []string{"malformed"}},
		{"repeated param", "/?limit=1&limit=2", 400, []string{"given 2 times"}},
		{"unknown param", "/e/kaffee-days?x=1", 200, []string{"Kaffee Days"}},
		{"robots", "/robots.txt", 200, []string{"Disallow: /curator", "Sitemap: https://popups.example/sitemap.xml"}},
		{"sitemap", "/sitemap.xml", 200, []string{"<loc>https://popups.example/e/kaffee-days</loc>", "<loc>https://popups.example/c/berlin</loc>", "<loc>https://popups.example/b/kiez-kaffee</loc>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := f.get(tc.path)
			b := body(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tc.status, b)
			}
			if ct := res.Header.Get("Content-Type"); tc.status != 200 && !strings.HasPrefix(ct, "text/html") {
				t.Errorf("error page Content-Type %q", ct)
			}
			for _, w := range tc.want {
				if !strings.Contains(b, w) {
					t.Errorf("missing %q in\n%s", w, b)
				}
			}
		})
	}
}

func TestEventJSONLD(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00", "2026-05-02T10:00", "2026-05-02T18:00")
	f.listing(ev, f.content("Kaffee Days"), "published")
	b := body(t, f.get("/e/kaffee-days"))
	m := jsonLDRE.FindStringSubmatch(b)
	if m == nil {
		t.Fatal("no JSON-LD")
	}
	var ld map[string]any
	must(t, json.Unmarshal([]byte(m[1]), &ld))
	want := map[string]any{
		"@context":            "https://schema.org",
		"@type":               "Event",
		"name":                "Kaffee Days",
		"startDate":           "2026-05-01T10:00:00+02:00",
		"endDate":             "2026-05-02T18:00:00+02:00",
		"eventStatus":         "https://schema.org/EventScheduled",
		"eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
		"url":                 "https://popups.example/e/kaffee-days",
	}
	for k, v := range want {
		if ld[k] != v {
			t.Errorf("%s = %v, want %v", k, ld[k], v)
		}
	}
	loc := ld["location"].(map[string]any)
	addr := loc["address"].(map[string]any)
	if loc["@type"] != "Place" || loc["name"] != "Markthalle Neun" || addr["@type"] != "PostalAddress" || addr["addressLocality"] != "Berlin" || addr["addressCountry"] != "DE" {
		t.Errorf("location = %v", loc)
	}
	offers := ld["offers"].(map[string]any)
	if offers["lowPrice"] != "2.50" || offers["highPrice"] != "18.00" || offers["priceCurrency"] == "" {
		t.Errorf("offers = %v", offers)
	}
	if img := ld["image"].([]any); len(img) != 1 || img[0] != "https://img.example/hero.jpg" {
		t.Errorf("image = %v", img)
	}
	if org := ld["organizer"].([]any); len(org) != 1 || org[0].(map[string]any)["name"] != "Kiez Kaffee" {
		t.Errorf("organizer = %v", org)
	}
}

// TestEventJSONLDEventStatus checks that the event's status and moves
// reach the page: schema.org eventStatus, previousStartDate and a notice.
func TestEventJSONLDEventStatus(t *testing.T) {
	status := func(s popkit.EventStatus) *popkit.EventStatus { return &s }
	moved := &[]popkit.Session{{Start: "2026-06-05T12:00", End: "2026-06-05T20:00"}}
	tests := []struct {
		name       string
		update     popkit.EventUpdate
		status     string
		start      string
		previous   string // "" when previousStartDate must be absent
		notice     string
		notNotices []string
	}{
		{
			name:   "cancelled",
			update: popkit.EventUpdate{Status: status(popkit.EventCancelled)},
			status: "EventCancelled", start: "2026-05-01T10:00:00+02:00",
			notice: "This event is cancelled.", notNotices: []string{"Postponed", "Rescheduled"},
		},
		{
			name:   "postponed",
			update: popkit.EventUpdate{Status: status(popkit.EventPostponed)},
			status: "EventPostponed", start: "2026-05-01T10:00:00+02:00",
			notice: `<p class="note">Postponed — new dates to follow</p>`, notNotices: []string{"cancelled.", "Rescheduled"},
		},
		{
			name:   "rescheduled",
			update: popkit.EventUpdate{Sessions: moved},
			status: "EventRescheduled", start: "2026-06-05T12:00:00+02:00", previous: "2026-05-01T10:00:00+02:00",
			notice: `<p class="note">Rescheduled from Fri 1 May 2026, 10:00</p>`, notNotices: []string{"cancelled.", "Postponed"},
		},
		{
			name:   "cancelled after a move",
			update: popkit.EventUpdate{Status: status(popkit.EventCancelled), Sessions: moved},
			status: "EventCancelled", start: "2026-06-05T12:00:00+02:00",
			notice: "This event is cancelled.", notNotices: []string{"Postponed", "Rescheduled"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
			f.listing(ev, f.content("Kaffee Days"), "published")
			f.now = f.now.Add(time.Minute)
			_, err := f.db.UpdateEvent(f.ctx, ev.ID, tc.update)
			must(t, err)
			b := body(t, f.get("/e/kaffee-days"))
			m := jsonLDRE.FindStringSubmatch(b)
			if m == nil {
				t.Fatal("no JSON-LD")
			}
			var ld map[string]any
			must(t, json.Unmarshal([]byte(m[1]), &ld))
			if want := "https://schema.org/" + tc.status; ld["eventStatus"] != want {
				t.Errorf("eventStatus = %v, want %s", ld["eventStatus"], want)
			}
			if ld["startDate"] != tc.start {
				t.Errorf("startDate = %v, want %s", ld["startDate"], tc.start)
			}
			if p, ok := ld["previousStartDate"]; tc.previous == "" && ok {
				t.Errorf("previousStartDate = %v, want none", p)
			} else if tc.previous != "" && p != tc.previous {
				t.Errorf("previousStartDate = %v, want %s", p, tc.previous)
			}
			if !strings.Contains(b, tc.notice) {
				t.Errorf("page lacks %q", tc.notice)
			}
			for _, n := range tc.notNotices {
				if strings.Contains(b, n) {
					t.Errorf("page shows %q", n)
				}
			}
		})
	}
}

// fixedQueue reports the same queue for every event.
type fixedQueue struct {
	wait time.Duration
	ok   bool
}

func (q fixedQueue) QueueWait(ctx context.Context, eventID string, now time.Time) (time.Duration, bool, error) {
	return q.wait, q.ok, nil
}

func TestLiveBadge(t *testing.T) {
	f := newFixture(t)
	f.listing(f.event("open", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Open"), "published")
	f.listing(f.event("later", "2026-05-02T10:00", "2026-05-02T18:00"), f.content("Later"), "published")
	tests := []struct {
		name, slug string
		queue      web.QueueReporter
		want       string
		open       bool
	}{
		{"open with queue", "open", fixedQueue{7 * time.Minute, true}, "Open now until 18:00 · queue about 7 min", true},
		{"open, no queue", "open", fixedQueue{10 * time.Second, true}, "Open now until 18:00 · no queue", true},
		{"open, no reading", "open", fixedQueue{}, "Open now until 18:00", true},
		{"open, no telemetry", "open", nil, "Open now until 18:00", true},
		{"closed", "later", fixedQueue{7 * time.Minute, true}, "Closed now · next open Sat 2 May 2026, 10:00–18:00", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.h.Queue = tc.queue
			res := f.get("/e/" + tc.slug + "/live")
			var got struct {
				Open bool   `json:"open"`
				Text string `json:"text"`
			}
			must(t, json.NewDecoder(res.Body).Decode(&got))
			res.Body.Close()
			if got.Text != tc.want || got.Open != tc.open {
				t.Errorf("live = %+v, want %q open=%v", got, tc.want, tc.open)
			}
		})
	}
}
