package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventJSONLDStatus(t *testing.T) {
	prev := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   Status
		previous time.Time
		want     string
		wantPrev string
	}{
		{"scheduled", StatusScheduled, time.Time{}, "https://schema.org/EventScheduled", ""},
		{"cancelled", StatusCancelled, time.Time{}, "https://schema.org/EventCancelled", ""},
		{"postponed", StatusPostponed, prev, "https://schema.org/EventPostponed", "2026-04-01T10:00:00+02:00"},
		{"rescheduled", StatusRescheduled, prev, "https://schema.org/EventRescheduled", "2026-04-01T10:00:00+02:00"},
		{"scheduled ignores previous", StatusScheduled, prev, "https://schema.org/EventScheduled", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := *fakeListing
			l.Status, l.PreviousStart = tc.status, tc.previous
			b, err := EventJSONLD(&l, "https://popups.example/e/kaffee", nil)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got["eventStatus"] != tc.want {
				t.Errorf("eventStatus %v, want %s", got["eventStatus"], tc.want)
			}
			if p, _ := got["previousStartDate"].(string); p != tc.wantPrev {
				t.Errorf("previousStartDate %q, want %q", p, tc.wantPrev)
			}
			if _, ok := got["offers"]; ok {
				t.Error("offers without a price")
			}
		})
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{250, "EUR", "2.50"}, {5, "GBP", "0.05"}, {1500, "JPY", "1500"}, {1234, "KWD", "1.234"}, {-250, "EUR", "-2.50"},
	}
	for _, tc := range tests {
		t.Run(tc.currency+" "+tc.want, func(t *testing.T) {
			if got := formatMinor(tc.minor, tc.currency); got != tc.want {
				t.Errorf("formatMinor(%d, %s) = %s, want %s", tc.minor, tc.currency, got, tc.want)
			}
		})
	}
}

func TestJSONLDEscapesScript(t *testing.T) {
	l := *fakeListing
	l.Title = "</script><script>alert(1)</script>\u2028"
	b, err := EventJSONLD(&l, "https://popups.example/e/kaffee", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "<") || strings.Contains(s, ">") || strings.Contains(s, "\u2028") {
		t.Errorf("JSON-LD holds raw markup: %s", s)
	}
}
