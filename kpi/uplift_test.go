package kpi

import (
	"math"
	"testing"
	"time"
)

// TestUpliftHandComputed: the baseline is two Mondays open 10:00-12:00
// Berlin with 10 visitors in each hour (10 per open hour at Monday 10 and
// 11); after publication a Monday 10:00-12:00 has 15 and 12 visitors and a
// Tuesday (never open in the baseline) is left out: 27 observed against 20
// expected, +35%.
func TestUpliftHandComputed(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("Europe/Berlin")
	at := func(day string, h int) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, day, loc)
		return d.Add(time.Duration(h) * time.Hour)
	}
	hour := func(t time.Time) int64 { return t.Unix() / 3600 }
	base := []Span{{at("2026-05-04", 10), at("2026-05-04", 12)}, {at("2026-05-11", 10), at("2026-05-11", 12)}}
	open := HourlyOpen(base, at("2026-01-01", 0), at("2026-05-12", 0))
	vis := map[int64]float64{}
	for _, s := range base {
		vis[hour(s.Start)], vis[hour(s.Start)+1] = 10, 10
	}
	p := NewProfile(open, vis, loc)
	if p.Hours != 4 || !p.Have[10] || p.Rate[10] != 10 || p.Rate[11] != 10 || p.Have[24+10] {
		t.Fatalf("profile hours %v, Monday 10h %v %v", p.Hours, p.Have[10], p.Rate[10])
	}
	after := []Span{{at("2026-05-18", 10), at("2026-05-18", 12)}, {at("2026-05-19", 10), at("2026-05-19", 12)}}
	aOpen := HourlyOpen(after, at("2026-05-18", 0), at("2026-05-20", 0))
	aVis := map[int64]float64{hour(at("2026-05-18", 10)): 15, hour(at("2026-05-18", 11)): 12, hour(at("2026-05-19", 10)): 99}
	days := UpliftDays(p, aOpen, aVis, loc)
	if len(days) != 1 || days[0].Observed != 27 || days[0].Expected != 20 {
		t.Fatalf("days = %+v, want one day of 27 observed and 20 expected", days)
	}
	u, ok := BootstrapUplift(days, 100, 0.9, 1)
	if !ok || math.Abs(u.Pct-35) > 1e-9 || u.Low != u.Pct || u.High != u.Pct {
		t.Fatalf("uplift = %+v, want 35%% with a one-day interval of 35..35", u)
	}
}
