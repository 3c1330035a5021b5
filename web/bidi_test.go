package web_test

import (
	"strings"
	"testing"
)

// TestBidiOverridesNeutralised checks that right-to-left override and
// isolate controls in listing text reach no public surface, while the
// text around them and right-to-left script do.
func TestBidiOverridesNeutralised(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	c := f.content("Kaffee \u202egnp.exe\u202c Days")
	c.Summary = "Menu \u2067קפה\u2069 and \u202dcake"
	f.listing(ev, c, "published")

	for _, path := range []string{"/e/kaffee-days", "/c/berlin", "/", "/e/kaffee-days/calendar.ics"} {
		b := body(t, f.get(path))
		if strings.ContainsAny(b, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Errorf("%s holds a bidirectional override control", path)
		}
		if !strings.Contains(b, "Kaffee gnp.exe Days") {
			t.Errorf("%s lost the title text", path)
		}
	}
	if b := body(t, f.get("/e/kaffee-days")); !strings.Contains(b, "Menu קפה and cake") {
		t.Error("event page lost the summary's text")
	}
}
