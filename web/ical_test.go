package web_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/popkit/popkit"
)

// parsedCal is what testdata/icaljs/parse.mjs prints for one file.
type parsedCal struct {
	File   string   `json:"file"`
	Zones  []string `json:"zones"`
	Events []struct {
		UID         string `json:"uid"`
		Sequence    int    `json:"sequence"`
		Status      string `json:"status"`
		Summary     string `json:"summary"`
		Description string `json:"description"`
		TZID        string `json:"tzid"`
		Start       string `json:"start"`
		End         string `json:"end"`
	} `json:"events"`
}

var (
	icaljsOnce sync.Once
	icaljsDir  string
	icaljsErr  error
)

// icaljs installs ical.js (pinned by testdata/icaljs/package-lock.json)
// into a temporary directory once per test binary and returns it.
func icaljs(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; CI must install Node.js", tool)
			}
			t.Skipf("skipping the independent iCalendar parser check (ical.js on Node.js): %s is not installed (CI installs it)", tool)
		}
	}
	icaljsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "popkit-icaljs-")
		if err != nil {
			icaljsErr = err
			return
		}
		for _, name := range []string{"package.json", "package-lock.json", "parse.mjs"} {
			b, err := os.ReadFile(filepath.Join("testdata", "icaljs", name))
			if err != nil {
				icaljsErr = err
				return
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				icaljsErr = err
				return
			}
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			icaljsErr = &exec.Error{Name: "npm ci: " + string(out), Err: err}
			return
		}
		icaljsDir = dir
	})
	if icaljsErr != nil {
		t.Fatalf("install ical.js: %v", icaljsErr)
	}
	return icaljsDir
}

// parseICS runs ical.js over the feeds.
func parseICS(t *testing.T, feeds ...[]byte) []parsedCal {
	t.Helper()
	dir := icaljs(t)
	args := []string{filepath.Join(dir, "parse.mjs")}
	for i, f := range feeds {
		p := filepath.Join(t.TempDir(), "feed"+string(rune('a'+i))+".ics")
		must(t, os.WriteFile(p, f, 0o644))
		args = append(args, p)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("node", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ical.js: %v\n%s", err, stderr.String())
	}
	var cals []parsedCal
	must(t, json.Unmarshal(out, &cals))
	return cals
}

// checkLines checks RFC 5545 framing: CRLF line ends, at most 75 octets a
// line, no UTF-8 sequence split by folding.
func checkLines(t *testing.T, feed []byte) {
	t.Helper()
	if !bytes.HasSuffix(feed, []byte("\r\n")) {
		t.Error("feed does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(feed, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 75 {
			t.Errorf("line %d has %d octets: %q", i+1, len(line), line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, line)
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF", i+1)
		}
	}
}

func (f *fixture) feed(path string) []byte {
	f.t.Helper()
	res := f.get(path)
	b := body(f.t, res)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		f.t.Fatalf("%s: status %d %s\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	return []byte(b)
}

func TestICalRoundTrip(t *testing.T) {
	f := newFixture(t)
	// Sessions on both sides of both 2026 daylight-saving changes, one
	// in the hour that is repeated in October.
	ev := f.event("dst", "2026-03-28T10:00", "2026-03-28T18:00", "2026-03-29T10:00", "2026-03-29T18:00",
		"2026-10-24T22:00", "2026-10-25T02:30", "2026-10-25T10:00", "2026-10-25T18:00")
	c := f.content("Zeitumstellung ☕ " + hostile)
	c.Description = strings.Repeat("Grüße aus Kreuzberg; Kaffee, Kuchen ☕ und Platten. ", 8) + "\n" + hostile + `\back`
	f.listing(ev, c, "published")
	// A second city in another zone.
	ny := &popkit.City{Name: "New York", Country: "US", TimeZone: "America/New_York"}
	must(t, f.db.CreateCity(f.ctx, ny))
	nyVenue := &popkit.Venue{CityID: ny.ID, Name: "Essex Market", Address: "88 Essex St", Lat: 40.7, Lon: -73.98}
	must(t, f.db.CreateVenue(f.ctx, nyVenue))
	nyEv := &popkit.Event{VenueID: nyVenue.ID, Name: "NY", Slug: "ny-market", BrandIDs: []string{f.brand.ID},
		Sessions: []popkit.Session{{Start: "2026-05-01T09:00", End: "2026-05-01T17:00"}, {Start: "2026-11-01T01:30", End: "2026-11-01T05:00"}}}
	must(t, f.db.CreateEvent(f.ctx, nyEv))
	f.listing(nyEv, f.content("New York Market"), "published")

	evFeed := f.feed("/e/dst/calendar.ics")
	cityFeed := f.feed("/c/new-york/calendar.ics")
	checkLines(t, evFeed)
	checkLines(t, cityFeed)
	cals := parseICS(t, evFeed, cityFeed)

	stored, err := f.db.FindEventByID(f.ctx, ev.ID)
	must(t, err)
	nyStored, err := f.db.FindEventByID(f.ctx, nyEv.ID)
	must(t, err)
	// Sessions that start or end in a repeated hour are written in UTC.
	for i, want := range []struct {
		ev   *popkit.Event
		tzid string
		utc  map[int]bool
	}{{stored, "Europe/Berlin", map[int]bool{2: true}}, {nyStored, "America/New_York", map[int]bool{1: true}}} {
		got := cals[i]
		if len(got.Events) != len(want.ev.Sessions) {
			t.Fatalf("feed %d: %d events, want %d", i, len(got.Events), len(want.ev.Sessions))
		}
		uids := map[string]bool{}
		for j, s := range want.ev.Sessions {
			e := got.Events[j]
			if e.Start != s.StartUTC.Format("2006-01-02T15:04:05.000Z") || e.End != s.EndUTC.Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("feed %d session %d: ical.js read %s–%s, stored %s–%s", i, j, e.Start, e.End, s.StartUTC, s.EndUTC)
			}
			if wantTZ := want.tzid; e.TZID != wantTZ && !(want.utc[j] && e.TZID == "") {
				t.Errorf("feed %d session %d: TZID %q, want %q", i, j, e.TZID, wantTZ)
			} else if want.utc[j] != (e.TZID == "") {
				t.Errorf("feed %d session %d: TZID %q, want UTC form %v", i, j, e.TZID, want.utc[j])
			}
			if uids[e.UID] || !strings.HasSuffix(e.UID, "@popkit") {
				t.Errorf("UID %q is repeated or not global", e.UID)
			}
			uids[e.UID] = true
			if e.Status != "CONFIRMED" {
				t.Errorf("status %q", e.Status)
			}
		}
	}
	if e := cals[0].Events[0]; e.Summary != c.Title || e.Description != c.Summary+"\n\n"+c.Description {
		t.Errorf("text did not round-trip:\nsummary %q\ndescription %q", e.Summary, e.Description)
	}

	// A new published revision bumps SEQUENCE and keeps the UIDs.
	l, err := f.db.FindListingBySlug(f.ctx, "dst")
	must(t, err)
	title := "Zeitumstellung, revised"
	_, err = f.db.UpdateListing(f.ctx, l.ID, popkit.ListingUpdate{Title: &title})
	must(t, err)
	f.curate(l.ID, popkit.ListingPublished)
	// Cancel the second session, then check.
	sessions := stored.Sessions
	sessions[1].Cancelled = true
	f.now = f.now.Add(time.Minute)
	_, err = f.db.UpdateEvent(f.ctx, ev.ID, popkit.EventUpdate{Sessions: &sessions})
	must(t, err)
	after := parseICS(t, f.feed("/e/dst/calendar.ics"))[0]
	for j, e := range after.Events {
		before := cals[0].Events[j]
		if e.UID != before.UID {
			t.Errorf("UID changed: %q -> %q", before.UID, e.UID)
		}
		wantSeq, wantStatus := before.Sequence+1, "CONFIRMED"
		if j == 1 {
			wantSeq, wantStatus = before.Sequence+2, "CANCELLED"
		}
		if e.Sequence != wantSeq || e.Status != wantStatus || e.Summary != title {
			t.Errorf("session %d: sequence %d status %s summary %q, want %d %s", j, e.Sequence, e.Status, e.Summary, wantSeq, wantStatus)
		}
	}
	// Cancelling the event cancels every session, with a higher SEQUENCE.
	st := popkit.EventCancelled
	_, err = f.db.UpdateEvent(f.ctx, ev.ID, popkit.EventUpdate{Status: &st})
	must(t, err)
	cancelled := parseICS(t, f.feed("/e/dst/calendar.ics"))[0]
	for j, e := range cancelled.Events {
		if e.Status != "CANCELLED" || e.Sequence <= after.Events[j].Sequence {
			t.Errorf("cancelled event, session %d: status %s sequence %d (was %d)", j, e.Status, e.Sequence, after.Events[j].Sequence)
		}
	}
}
