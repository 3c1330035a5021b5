package kpi

import (
	"slices"
	"time"
)

// HourlyOpen returns, by whole UTC hour (Unix seconds ÷ 3600), the open
// hours of sessions inside [from, to).
func HourlyOpen(sessions []Span, from, to time.Time) map[int64]float64 {
	out := map[int64]float64{}
	for _, s := range sessions {
		start, end := s.Start, s.End
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		for h := start.Unix() / 3600; h*3600 < end.Unix(); h++ {
			hs := time.Unix(h*3600, 0)
			if d := (Span{start, end}).Overlap(hs, hs.Add(time.Hour)); d > 0 {
				out[h] += d.Hours()
			}
		}
	}
	return out
}

// Profile is a venue's visitors per open hour by venue-local hour of week
// (Monday 00:00 is 0), and the open hours it was learnt from.
type Profile struct {
	Rate  [168]float64
	Have  [168]bool
	Hours float64
}

// NewProfile learns a profile from open hours and visitors by UTC hour.
func NewProfile(open, visitors map[int64]float64, loc *time.Location) Profile {
	var p Profile
	var vis, hrs [168]float64
	for h, o := range open {
		how := HourOfWeek(time.Unix(h*3600, 0), loc)
		vis[how] += visitors[h]
		hrs[how] += o
		p.Hours += o
	}
	for i := range p.Rate {
		if hrs[i] > 0 {
			p.Rate[i], p.Have[i] = vis[i]/hrs[i], true
		}
	}
	return p
}

// UpliftDays pairs, per venue-local day, the visitors observed in the open
// hours after publication with the visitors the profile expects for the
// same open hours. Hours whose hour of week the baseline never saw open
// are left out of both sides.
func UpliftDays(p Profile, open, visitors map[int64]float64, loc *time.Location) []DayPair {
	byDay := map[string]*DayPair{}
	var order []string
	for h, o := range open {
		at := time.Unix(h*3600, 0)
		how := HourOfWeek(at, loc)
		if !p.Have[how] || o <= 0 {
			continue
		}
		day := DayKey(at, loc)
		d := byDay[day]
		if d == nil {
			d = &DayPair{}
			byDay[day] = d
			order = append(order, day)
		}
		d.Observed += visitors[h]
		d.Expected += p.Rate[how] * o
	}
	// Days in date order, so the bootstrap's draws do not depend on map order.
	slices.Sort(order)
	out := make([]DayPair, len(order))
	for i, day := range order {
		out[i] = *byDay[day]
	}
	return out
}
