package popkit

import (
	"strings"
	"time"
	"unicode/utf8"
)

func setString(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

func checkName(v *Validation, field, s string) {
	v.Check(strings.TrimSpace(s) != "" && utf8.RuneCountInString(s) <= 200 && utf8.ValidString(s), field, "is required (at most 200 characters)")
}

// checkTimeZone accepts only IANA zone names; "Local" and "" are refused
// because they mean different things on different machines.
func checkTimeZone(v *Validation, field, tz string) {
	if tz == "" || tz == "Local" {
		v.Add(field, "must be an IANA time zone such as Europe/Berlin")
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		v.Add(field, "unknown time zone %q", tz)
	}
}

// ValidSlug reports whether s is a URL slug: 1-80 of a-z, 0-9 and inner
// hyphens.
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > 80 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>") && len(s) <= 254 && strings.Count(s, "@") == 1
}

// ValidLabel reports whether s is 1 to max characters of [A-Za-z0-9._:-]:
// the shape of sensor ids and request ids, safe to log and to echo.
func ValidLabel(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
