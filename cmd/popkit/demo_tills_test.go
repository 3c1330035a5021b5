package main

import (
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// TestPlanTills checks that every demo till gets its own fixed port from
// the base, a label naming its venue, and that pop-ups open now come
// first.
func TestPlanTills(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	site := func(venue string, open bool) *demoSite {
		s := popkit.Session{StartUTC: now.Add(-2 * time.Hour), EndUTC: now.Add(3 * time.Hour)}
		if !open {
			s = popkit.Session{StartUTC: now.Add(10 * time.Hour), EndUTC: now.Add(19 * time.Hour)}
		}
		return &demoSite{event: &popkit.Event{Sessions: []popkit.Session{s}}, venue: &popkit.Venue{Name: venue}}
	}
	sites := []*demoSite{site("Queen Victoria Market", false), site("Markthalle Neun", true), site("Coal Drops Yard", true), site("Chelsea Market", true)}
	tills := planTills(sites, now, "127.0.0.1", 8090, 3)
	want := []struct{ addr, label string }{
		{"127.0.0.1:8090", "markthalle-neun:till-1"},
		{"127.0.0.1:8091", "coal-drops-yard:till-1"},
		{"127.0.0.1:8092", "chelsea-market:till-1"},
	}
	if len(tills) != len(want) {
		t.Fatalf("%d tills, want %d", len(tills), len(want))
	}
	addrs, labels := map[string]bool{}, map[string]bool{}
	for i, w := range want {
		if tills[i].addr != w.addr || tills[i].label != w.label {
			t.Errorf("till %d = %s %s, want %s %s", i, tills[i].addr, tills[i].label, w.addr, w.label)
		}
		addrs[tills[i].addr], labels[tills[i].label] = true, true
	}
	if len(addrs) != len(tills) || len(labels) != len(tills) {
		t.Errorf("tills share ports or labels: %v %v", addrs, labels)
	}
	for _, till := range planTills(sites, now, "127.0.0.1", 0, 4) {
		if till.addr != "127.0.0.1:0" {
			t.Errorf("port base 0: till at %s, want a free port (127.0.0.1:0)", till.addr)
		}
	}
	all := planTills(sites, now, "127.0.0.1", 8090, 10)
	if len(all) != 4 || !strings.HasPrefix(all[3].label, "queen-victoria-market") || all[3].addr != "127.0.0.1:8093" {
		t.Errorf("the closed pop-up's till = %+v, want last on port 8093", all[len(all)-1])
	}
}

func TestDemoSummaryLine(t *testing.T) {
	t.Parallel()
	s := demoSummary{Readings: 1234, Entries: 80, Sales: 20, OpenExceptions: 1, TillsOnline: 3, Tills: 4}
	want := "readings stored 1234 · visitors 80 · till sales 20 (conversion 25%) · open exceptions 1 · tills online 3/4"
	if got := s.String(); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got := (demoSummary{OpenExceptions: 100}).String(); !strings.Contains(got, "conversion –") || !strings.Contains(got, "open exceptions 100+") {
		t.Errorf("empty summary = %q", got)
	}
}

func TestOpenDemoLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, where, err := openDemoLog("", dir+"/demo.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !strings.HasPrefix(where, dir+"/demo.log") {
		t.Errorf("default log = %q, want beside the database", where)
	}
	if _, where, _ := openDemoLog("-", dir+"/demo.db", nil); where != "stderr" {
		t.Errorf(`"-" logs to %q`, where)
	}
	if _, _, err := openDemoLog(dir+"/missing/dir/x.log", "", nil); err == nil || !strings.Contains(err.Error(), "--log-file") {
		t.Errorf("unwritable log file: %v, want an error naming --log-file", err)
	}
}
