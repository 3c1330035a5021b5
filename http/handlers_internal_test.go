package http

import "testing"

// TestRFC3339Shape: the query parameters' times are spelled as the OpenAPI
// document's date-time format requires, stricter than time.Parse.
func TestRFC3339Shape(t *testing.T) {
	for s, want := range map[string]bool{
		"2026-05-01T10:00:00Z":      true,
		"2026-05-01T10:00:00.5Z":    true,
		"2026-05-01T10:00:00+01:00": true,
		"2026-05-01T10:00:00-23:59": true,
		"0000-01-01T0:00:00Z":       false, // one-digit hour: time.Parse takes it
		"2026-05-01T10:00:00,5Z":    false, // comma before the fraction: time.Parse takes it
		"2026-05-01T10:00:00+24:00": false, // offset over 23:59: time.Parse takes it
		"2026-05-01T10:00:00+01:60": false,
		"2026-05-01T10:00:00.Z":     false,
		"2026-05-01t10:00:00z":      false,
		"2026-05-01 10:00:00Z":      false,
		"2026-05-01T10:00:00":       false,
		"2026-05-01T10:00:00+0100":  false,
		"":                          false,
	} {
		if got := rfc3339Shape(s); got != want {
			t.Errorf("rfc3339Shape(%q) = %v, want %v", s, got, want)
		}
	}
}
