package kpi

import (
	"math"
	"testing"
	"time"
)

func TestWilson(t *testing.T) {
	t.Parallel()
	// Hand-computed: 10 of 100 at z = 1.96 gives 0.0552 .. 0.1744.
	rate, low, high, ok := Wilson(10, 100, 1.959963984540054)
	if !ok || rate != 0.1 || math.Abs(low-0.05522854) > 1e-6 || math.Abs(high-0.17436566) > 1e-6 {
		t.Fatalf("Wilson(10, 100) = %v %v %v %v", rate, low, high, ok)
	}
	if _, _, _, ok := Wilson(0, 0, 1.96); ok {
		t.Fatal("Wilson with no trials must be undefined")
	}
	if _, low, high, _ := Wilson(0, 4, 1.96); low != 0 || high <= 0 {
		t.Fatalf("Wilson(0, 4) = %v .. %v, want 0 .. >0", low, high)
	}
}

func TestLocalHoursDST(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		zone string
		day  string
		want int
	}{
		{"Europe/Berlin", "2026-03-29", 23},
		{"Europe/Berlin", "2026-10-25", 25},
		{"America/New_York", "2026-03-08", 23},
		{"America/New_York", "2026-11-01", 25},
		{"Europe/Berlin", "2026-05-01", 24},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := time.ParseInLocation(time.DateOnly, c.day, loc)
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		hours := LocalHours(d, next, loc)
		if len(hours) != c.want {
			t.Errorf("%s %s: %d hours, want %d", c.zone, c.day, len(hours), c.want)
		}
		keys := map[string]bool{}
		for _, h := range hours {
			keys[HourKey(h, loc)] = true
			if DayKey(h, loc) != c.day {
				t.Errorf("%s: hour %s on day %s", c.zone, h, DayKey(h, loc))
			}
		}
		if len(keys) != c.want {
			t.Errorf("%s %s: %d distinct hour keys, want %d", c.zone, c.day, len(keys), c.want)
		}
	}
}

func TestHourOfWeekAndWeek(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("Europe/Berlin")
	// Monday 2026-03-30 10:15 Berlin (CEST, UTC+2) is 08:15 UTC.
	at := time.Date(2026, 3, 30, 8, 15, 0, 0, time.UTC)
	if got := HourOfWeek(at, loc); got != 10 {
		t.Fatalf("HourOfWeek = %d, want 10", got)
	}
	if got := WeekKey(at, loc); got != "2026-W14" {
		t.Fatalf("WeekKey = %s, want 2026-W14", got)
	}
}

func TestBootstrapUplift(t *testing.T) {
	t.Parallel()
	days := []DayPair{{120, 100}, {130, 100}, {110, 100}, {140, 100}}
	u, ok := BootstrapUplift(days, 1000, 0.9, 1)
	if !ok || math.Abs(u.Pct-25) > 1e-9 {
		t.Fatalf("uplift = %+v %v, want 25%%", u, ok)
	}
	if !(u.Low >= 10 && u.Low <= 25 && u.High >= 25 && u.High <= 40) {
		t.Fatalf("interval %v .. %v must hold 25 within the days' range 10..40", u.Low, u.High)
	}
	again, _ := BootstrapUplift(days, 1000, 0.9, 1)
	if again != u {
		t.Fatal("the bootstrap must be reproducible with its seed")
	}
	if _, ok := BootstrapUplift(nil, 10, 0.9, 1); ok {
		t.Fatal("no days must be undefined")
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	if m, _ := Median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median = %v", m)
	}
	if m, _ := Median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median = %v", m)
	}
}
