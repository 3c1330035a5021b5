package web

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestICalFolding(t *testing.T) {
	tests := []struct {
		name, line string
	}{
		{"short", "SUMMARY:Kaffee"},
		{"exactly 75", "SUMMARY:" + strings.Repeat("x", 67)},
		{"76", "SUMMARY:" + strings.Repeat("x", 68)},
		{"multi-byte at the fold", "SUMMARY:" + strings.Repeat("x", 66) + strings.Repeat("☕", 40)},
		{"long umlauts", "DESCRIPTION:" + strings.Repeat("Grüße ", 60)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b icalBuilder
			b.line(tc.line)
			out := b.buf.String()
			if !strings.HasSuffix(out, "\r\n") {
				t.Fatal("no CRLF at the end")
			}
			lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			var joined strings.Builder
			for i, l := range lines {
				if len(l) > 75 {
					t.Errorf("line %d: %d octets", i, len(l))
				}
				if !utf8.ValidString(l) {
					t.Errorf("line %d splits a character: %q", i, l)
				}
				if i > 0 {
					if !strings.HasPrefix(l, " ") {
						t.Errorf("continuation %d does not start with a space", i)
					}
					l = l[1:]
				}
				joined.WriteString(l)
			}
			if joined.String() != tc.line {
				t.Errorf("unfolded %q, want %q", joined.String(), tc.line)
			}
		})
	}
}

func TestEscapeText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Kaffee", "Kaffee"},
		{"specials", `a,b;c\d`, `a\,b\;c\\d`},
		{"newlines", "a\nb\r\nc\rd", `a\nb\nc\nd`},
		{"controls dropped", "a\x00b\x07c\x7f", "abc"},
		{"markup kept as text", `</script>"x"`, `</script>"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeText(tc.in); got != tc.want {
				t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestVTimezone(t *testing.T) {
	tests := []struct {
		name, zone string
		want       []string // substrings, in order
	}{
		{"no daylight saving", "Asia/Tokyo", []string{"TZID:Asia/Tokyo", "BEGIN:STANDARD", "TZOFFSETTO:+0900", "TZNAME:JST", "END:STANDARD\r\nEND:VTIMEZONE"}},
		{"southern hemisphere", "Australia/Sydney", []string{"BEGIN:DAYLIGHT", "TZOFFSETTO:+1100", "BEGIN:STANDARD", "DTSTART:20260405T030000", "TZOFFSETFROM:+1100", "TZOFFSETTO:+1000", "BEGIN:DAYLIGHT", "DTSTART:20261004T020000"}},
		{"half hour", "Asia/Kolkata", []string{"TZOFFSETTO:+0530"}},
		{"west of UTC", "America/New_York", []string{"DTSTART:20260308T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "DTSTART:20261101T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Skipf("zone %s: %v", tc.zone, err)
			}
			var b icalBuilder
			writeVTimezone(&b, tc.zone, loc, 2026, 2026)
			out := b.buf.String()
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("missing %q (in order) in\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestRepeatedWallTime(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"normal day", time.Date(2026, 5, 1, 10, 0, 0, 0, berlin), false},
		{"first 02:30 in October", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC).In(berlin), true},
		{"second 02:30 in October", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC).In(berlin), true},
		{"03:00 after the change", time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC).In(berlin), false},
		{"spring gap", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC).In(berlin), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := repeatedWallTime(tc.t); got != tc.want {
				t.Errorf("repeatedWallTime(%s) = %v, want %v", tc.t, got, tc.want)
			}
		})
	}
}
