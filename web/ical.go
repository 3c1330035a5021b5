package web

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is an RFC 5545 iCalendar feed of listings. Each session of a
// listing is one VEVENT, written in the venue's zone with a VTIMEZONE built
// from Go's tz data for the years the feed covers.
type Calendar struct {
	Name     string // X-WR-CALNAME
	Host     string // right-hand side of UIDs, e.g. "popkit.example"
	BaseURL  string // absolute base for event URLs, no trailing slash
	Listings []*Listing
}

// icalStamp is the UTC date-time form of iCalendar.
const icalStamp = "20060102T150405Z"

// icalLocal is the local date-time form used with TZID.
const icalLocal = "20060102T150405"

// WriteTo writes the calendar with CRLF line ends and lines folded at 75
// octets.
func (c *Calendar) WriteTo(w io.Writer) (int64, error) {
	var b icalBuilder
	b.line("BEGIN:VCALENDAR")
	b.line("VERSION:2.0")
	b.line("PRODID:-//popkit//microsite//EN")
	b.line("CALSCALE:GREGORIAN")
	b.line("METHOD:PUBLISH")
	if c.Name != "" {
		b.prop("X-WR-CALNAME", escapeText(c.Name))
	}
	// One VTIMEZONE per zone, covering the years of its sessions.
	type span struct{ from, to time.Time }
	zones := map[string]*span{}
	for _, l := range c.Listings {
		if len(l.Sessions) == 0 {
			continue
		}
		s := zones[l.TimeZone]
		if s == nil {
			s = &span{l.Start(), l.End()}
			zones[l.TimeZone] = s
		}
		if l.Start().Before(s.from) {
			s.from = l.Start()
		}
		if l.End().After(s.to) {
			s.to = l.End()
		}
	}
	names := make([]string, 0, len(zones))
	for z := range zones {
		names = append(names, z)
	}
	sort.Strings(names)
	for _, z := range names {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return 0, fmt.Errorf("load zone %q: %w", z, err)
		}
		writeVTimezone(&b, z, loc, zones[z].from.Year(), zones[z].to.Year())
	}
	for _, l := range c.Listings {
		c.writeEvents(&b, l)
	}
	b.line("END:VCALENDAR")
	n, err := w.Write(b.buf.Bytes())
	return int64(n), err
}

// Bytes returns the calendar as bytes.
func (c *Calendar) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	_, err := c.WriteTo(&buf)
	return buf.Bytes(), err
}

func (c *Calendar) writeEvents(b *icalBuilder, l *Listing) {
	loc := l.Location()
	tzid := l.TimeZone
	if tzid == "" {
		tzid = "UTC"
	}
	location := l.Venue.Name
	if l.Venue.Street != "" {
		location += ", " + l.Venue.Street
	}
	if l.City.Name != "" {
		location += ", " + l.City.Name
	}
	for _, s := range l.Sessions {
		b.line("BEGIN:VEVENT")
		// The UID names the listing and the session's start instant, so it
		// is stable across feeds and revisions and unique across hosts.
		b.prop("UID", escapeText(fmt.Sprintf("%s-%s@%s", l.ID, s.Start.UTC().Format(icalStamp), c.Host)))
		b.prop("DTSTAMP", l.UpdatedAt.UTC().Format(icalStamp))
		b.prop("LAST-MODIFIED", l.UpdatedAt.UTC().Format(icalStamp))
		// SEQUENCE follows the live revision; cancelling a session is a
		// change of its own.
		seq := l.Revision
		if s.Cancelled {
			seq++
		}
		b.prop("SEQUENCE", fmt.Sprint(seq))
		if repeatedWallTime(s.Start.In(loc)) || repeatedWallTime(s.End.In(loc)) {
			// The wall time occurs twice (clocks went back). RFC 5545 reads
			// it as the first occurrence, but not every client does: name
			// the instant in UTC, which no reader can get wrong.
			b.prop("DTSTART", s.Start.UTC().Format(icalStamp))
			b.prop("DTEND", s.End.UTC().Format(icalStamp))
		} else {
			b.prop("DTSTART;TZID="+paramValue(tzid), s.Start.In(loc).Format(icalLocal))
			b.prop("DTEND;TZID="+paramValue(tzid), s.End.In(loc).Format(icalLocal))
		}
		b.prop("SUMMARY", escapeText(l.Title))
		desc := l.Summary
		if l.Description != "" {
			desc += "\n\n" + l.Description
		}
		b.prop("DESCRIPTION", escapeText(desc))
		b.prop("LOCATION", escapeText(location))
		if l.Venue.Lat != 0 || l.Venue.Lon != 0 {
			b.prop("GEO", fmt.Sprintf("%.6f;%.6f", l.Venue.Lat, l.Venue.Lon))
		}
		if len(l.Categories) > 0 {
			cats := make([]string, len(l.Categories))
			for i, x := range l.Categories {
				cats[i] = escapeText(x)
			}
			b.prop("CATEGORIES", strings.Join(cats, ","))
		}
		b.prop("URL", c.BaseURL+"/e/"+l.Slug)
		status := "CONFIRMED"
		switch {
		case s.Cancelled || l.Status == StatusCancelled:
			status = "CANCELLED"
		case l.Status == StatusPostponed:
			status = "TENTATIVE"
		}
		b.prop("STATUS", status)
		b.prop("TRANSP", "OPAQUE")
		b.line("END:VEVENT")
	}
}

// repeatedWallTime reports whether the wall-clock time of t occurs twice
// in t's zone, because clocks were set back around it.
func repeatedWallTime(t time.Time) bool {
	_, off := t.Zone()
	wall := t.Add(time.Duration(off) * time.Second)
	zs, ze := t.ZoneBounds()
	for _, b := range []time.Time{zs, ze} {
		if b.IsZero() {
			continue
		}
		_, before := b.Add(-time.Second).Zone()
		_, after := b.Zone()
		if before > after {
			lo := b.Add(time.Duration(after) * time.Second)
			hi := b.Add(time.Duration(before) * time.Second)
			if !wall.Before(lo) && wall.Before(hi) {
				return true
			}
		}
	}
	return false
}

// writeVTimezone writes a VTIMEZONE for loc with one observance per offset
// change from the start of year from to the end of year to, plus the
// observance in force at the start.
func writeVTimezone(b *icalBuilder, tzid string, loc *time.Location, from, to int) {
	b.line("BEGIN:VTIMEZONE")
	b.prop("TZID", paramValue(tzid))
	start := time.Date(from, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(to+1, 1, 1, 0, 0, 0, 0, loc)
	// The observance in force at start.
	zs, _ := start.ZoneBounds()
	if zs.IsZero() {
		_, off := start.Zone()
		name, _ := start.Zone()
		observance(b, start.IsDST(), "19700101T000000", off, off, name)
	} else {
		writeTransition(b, zs)
	}
	t := start
	for {
		_, ze := t.ZoneBounds()
		if ze.IsZero() || !ze.Before(end) {
			break
		}
		writeTransition(b, ze)
		t = ze
	}
	b.line("END:VTIMEZONE")
}

// writeTransition writes the observance that starts at instant at.
func writeTransition(b *icalBuilder, at time.Time) {
	_, fromOff := at.Add(-time.Second).Zone()
	name, toOff := at.Zone()
	local := at.UTC().Add(time.Duration(fromOff) * time.Second)
	observance(b, at.IsDST(), local.Format(icalLocal), fromOff, toOff, name)
}

func observance(b *icalBuilder, dst bool, dtstart string, from, to int, name string) {
	kind := "STANDARD"
	if dst {
		kind = "DAYLIGHT"
	}
	b.line("BEGIN:" + kind)
	b.prop("DTSTART", dtstart)
	b.prop("TZOFFSETFROM", utcOffset(from))
	b.prop("TZOFFSETTO", utcOffset(to))
	if name != "" {
		b.prop("TZNAME", escapeText(name))
	}
	b.line("END:" + kind)
}

// utcOffset formats seconds east of UTC as RFC 5545 UTC-OFFSET (+hhmm or
// +hhmmss).
func utcOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}

// escapeText escapes an RFC 5545 TEXT value: backslash, semicolon, comma
// and newlines; other control characters are dropped.
func escapeText(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			// Control characters are not allowed in TEXT.
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// paramValue makes s safe as a parameter value (TZID): quoted when it holds
// ":", ";" or ",", and with quotes and control characters removed.
func paramValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, s)
	if strings.ContainsAny(s, ":;,") {
		return `"` + s + `"`
	}
	return s
}

// icalBuilder writes content lines folded at 75 octets with CRLF ends.
type icalBuilder struct{ buf bytes.Buffer }

func (b *icalBuilder) prop(name, value string) { b.line(name + ":" + value) }

// line writes one content line, folding it so that no physical line is
// longer than 75 octets and no UTF-8 sequence is split.
func (b *icalBuilder) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.buf.WriteString(s[:cut])
		b.buf.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.buf.WriteString(s)
	b.buf.WriteString("\r\n")
}
