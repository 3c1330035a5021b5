package fulfil

import (
	"strings"
	"testing"
	"time"
)

// checkRule builds the candidate of n for r and runs rule on it.
func checkRule(t *testing.T, rule Rule, n Node, r Request) string {
	t.Helper()
	c, err := NewCandidate(&n, &r)
	if err != nil {
		t.Fatal(err)
	}
	return rule.Check(&c)
}

func TestOpenBeforeCutoff(t *testing.T) {
	t.Parallel()
	ny := func(cutoff string) Node {
		n := berlinNode(1)
		n.TimeZone, n.SameDayCutoff = "America/New_York", mustClock(cutoff)
		return n
	}
	berlin := func(cutoff string) Node {
		n := berlinNode(1)
		n.SameDayCutoff = mustClock(cutoff)
		return n
	}
	closedSaturday := ny("14:00")
	closedSaturday.OpeningHours = nil
	for _, o := range everyDay("08:00", "20:00") {
		if o.Day != "sat" {
			closedSaturday.OpeningHours = append(closedSaturday.OpeningHours, o)
		}
	}
	night := berlin("02:30")
	night.OpeningHours = everyDay("00:00", "24:00")
	morningOnly := berlin("14:00")
	morningOnly.OpeningHours = everyDay("08:00", "12:00")
	split := berlin("14:00")
	split.OpeningHours = append(everyDay("08:00", "11:00"), everyDay("13:00", "18:00")...)

	tests := []struct {
		name   string
		node   Node
		at     string // UTC
		refuse string // substring of the reason; "" to pass
	}{
		// Berlin springs forward at 02:00 on 2026-03-29: 12:30Z is
		// 14:30 CEST, past the cutoff, though UTC+1 would say 13:30.
		{"Berlin DST day after cutoff", berlin("14:00"), "2026-03-29T12:30:00Z", "after the same-day cutoff 14:00"},
		{"Berlin DST day before cutoff", berlin("14:00"), "2026-03-29T11:59:00Z", ""},
		{"Berlin day before DST at 13:30 CET", berlin("14:00"), "2026-03-28T12:30:00Z", ""},
		// A cutoff inside the skipped hour: 01:59 CET passes, the next
		// minute is 03:00 CEST and is past it.
		{"Berlin cutoff in the gap, before", night, "2026-03-29T00:59:00Z", ""},
		{"Berlin cutoff in the gap, after", night, "2026-03-29T01:00:00Z", "after the same-day cutoff 02:30"},
		// New York falls back at 02:00 on 2026-11-01: 18:30Z is 13:30
		// EST, before the cutoff, though UTC-4 would say 14:30.
		{"New York DST day before cutoff", ny("14:00"), "2026-11-01T18:30:00Z", ""},
		{"New York DST day at cutoff", ny("14:00"), "2026-11-01T19:00:00Z", "after the same-day cutoff 14:00"},
		{"New York day before DST at 14:30 EDT", ny("14:00"), "2026-10-31T18:30:00Z", "after the same-day cutoff"},
		// 03:30Z on Sunday is still Saturday evening in New York.
		{"local date, not UTC date", closedSaturday, "2026-11-01T03:30:00Z", "closed on Saturday (2026-10-31)"},
		{"local date open day", closedSaturday, "2026-11-01T13:30:00Z", ""},
		{"before opening counts", berlin("14:00"), "2026-06-01T04:00:00Z", ""},
		{"closed for the rest of the day", morningOnly, "2026-06-01T10:30:00Z", "no opening left"},
		{"lunch break, reopens before cutoff", split, "2026-06-01T09:30:00Z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRule(t, OpenBeforeCutoff{}, tc.node, request(mustTime(t, tc.at), line(1, 1)))
			if tc.refuse == "" && got != "" || tc.refuse != "" && !strings.Contains(got, tc.refuse) {
				t.Errorf("reason = %q, want %q", got, tc.refuse)
			}
		})
	}
}

func TestInRange(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-06-01T09:00:00Z")
	near := request(at, line(1, 1)) // about 1.2 km from the node
	far := near
	far.Lat, far.Lon = 52.39, 13.06 // Potsdam, about 28 km
	pickHere := near
	pickHere.Mode, pickHere.PickupNodeID = ModePickup, id(1)
	pickThere := pickHere
	pickThere.PickupNodeID = id(2)
	zero := berlinNode(1)
	zero.ServiceRadiusKm = 0
	tests := []struct {
		name   string
		node   Node
		req    Request
		refuse string
	}{
		{"inside the radius", berlinNode(1), near, ""},
		{"beyond the radius", berlinNode(1), far, "beyond the 10.0 km service radius"},
		{"pick-up here", berlinNode(1), pickHere, ""},
		{"pick-up elsewhere", berlinNode(1), pickThere, "not the pick-up point"},
		{"pick-up ignores radius", zero, pickHere, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRule(t, InRange{}, tc.node, tc.req)
			if tc.refuse == "" && got != "" || tc.refuse != "" && !strings.Contains(got, tc.refuse) {
				t.Errorf("reason = %q, want %q", got, tc.refuse)
			}
		})
	}
}

func TestColdChain(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-06-01T09:00:00Z")
	cold := berlinNode(1)
	cold.ColdChain = true
	fresh := line(1, 1)
	fresh.Perishable = true
	tests := []struct {
		name   string
		node   Node
		lines  []Line
		refuse bool
	}{
		{"ambient order, ambient node", berlinNode(1), []Line{line(1, 1)}, false},
		{"one perishable line, ambient node", berlinNode(1), []Line{line(2, 1), fresh}, true},
		{"perishable order, cold node", cold, []Line{fresh}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRule(t, ColdChain{}, tc.node, request(at, tc.lines...))
			if (got != "") != tc.refuse {
				t.Errorf("reason = %q, want refusal %v", got, tc.refuse)
			}
		})
	}
}

func TestColdChainIntact(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-06-01T09:00:00Z")
	broken, fine := berlinNode(1), berlinNode(2)
	broken.ColdChain, fine.ColdChain = true, true
	rule := ColdChainIntact{Broken: map[string]bool{broken.ID: true}}
	fresh := line(1, 1)
	fresh.Perishable = true
	tests := []struct {
		name   string
		node   Node
		lines  []Line
		refuse bool
	}{
		{"perishable order, node with an excursion", broken, []Line{line(2, 1), fresh}, true},
		{"ambient order, node with an excursion", broken, []Line{line(2, 1)}, false},
		{"perishable order, intact node", fine, []Line{fresh}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRule(t, rule, tc.node, request(at, tc.lines...))
			if (got != "") != tc.refuse {
				t.Errorf("reason = %q, want refusal %v", got, tc.refuse)
			}
		})
	}
}

func TestCanFulfil(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-06-01T09:00:00Z")
	factory := berlinNode(1)
	factory.Kind, factory.Makes, factory.Stock = KindMicrofactory, []string{sku(7)}, nil
	tests := []struct {
		name   string
		node   Node
		lines  []Line
		refuse string
	}{
		{"enough stock", berlinNode(1), []Line{line(1, 10)}, ""},
		{"short of stock", berlinNode(1), []Line{line(1, 11)}, "cannot supply any line: " + sku(1) + " (10 in stock, 11 wanted)"},
		{"unknown sku", berlinNode(1), []Line{line(2, 1)}, "0 in stock"},
		{"makes it", factory, []Line{line(7, 500)}, ""},
		{"supplies one of two lines", berlinNode(1), []Line{line(1, 1), line(2, 1)}, ""},
		{"many lines, reason capped", berlinNode(1), []Line{line(2, 1), line(3, 1), line(4, 1), line(5, 1), line(6, 1)}, "and 2 more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRule(t, CanFulfil{}, tc.node, request(at, tc.lines...))
			if tc.refuse == "" && got != "" || tc.refuse != "" && !strings.Contains(got, tc.refuse) {
				t.Errorf("reason = %q, want %q", got, tc.refuse)
			}
		})
	}
}

func TestCapacityLeft(t *testing.T) {
	t.Parallel()
	n := berlinNode(1)
	n.CapacityPerHour, n.CapacityPerDay = 2, 3
	book := func(l *Ledger, at time.Time, times int) {
		loc, _ := time.LoadLocation(n.TimeZone)
		for i := 0; i < times; i++ {
			l.Book(&Result{Assignments: []Assignment{{NodeID: n.ID, Local: at.In(loc)}}})
		}
	}
	nine := mustTime(t, "2026-06-01T07:10:00Z") // 09:10 in Berlin
	ten := mustTime(t, "2026-06-01T08:10:00Z")
	tests := []struct {
		name   string
		setup  func(l *Ledger)
		usage  bool
		at     time.Time
		refuse string
	}{
		{"no usage source", nil, false, nine, ""},
		{"empty ledger", func(l *Ledger) {}, true, nine, ""},
		{"hour full", func(l *Ledger) { book(l, nine, 2) }, true, nine, "hour full: 2 of 2 orders at 09:00"},
		{"next hour free", func(l *Ledger) { book(l, nine, 2) }, true, ten, ""},
		{"day full", func(l *Ledger) { book(l, nine, 2); book(l, ten, 1) }, true, ten, "day full: 3 of 3"},
		{"other node's bookings", func(l *Ledger) {
			l.Book(&Result{Assignments: []Assignment{{NodeID: id(2), Local: nine}, {NodeID: id(2), Local: nine}}})
			l.Book(&Result{Assignments: []Assignment{{NodeID: id(2), Local: nine}}})
		}, true, nine, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rule := CapacityLeft{}
			if tc.usage {
				l := NewLedger()
				tc.setup(l)
				rule.Usage = l
			}
			got := checkRule(t, rule, n, request(tc.at, line(1, 1)))
			if tc.refuse == "" && got != "" || tc.refuse != "" && !strings.Contains(got, tc.refuse) {
				t.Errorf("reason = %q, want %q", got, tc.refuse)
			}
		})
	}
}
