package fulfil

import (
	"fmt"
	"testing"
	"time"
)

// id returns a canonical UUIDv7-shaped id numbered n.
func id(n int) string { return fmt.Sprintf("00000000-0000-7000-8000-%012d", n) }

// sku returns the id of SKU number n.
func sku(n int) string { return fmt.Sprintf("00000000-0000-7000-9000-%012d", n) }

// everyDay returns opening hours from open to close on all seven days.
func everyDay(open, close string) []Opening {
	o, c := mustClock(open), mustClock(close)
	out := make([]Opening, 7)
	for i, d := range weekdays {
		out[i] = Opening{Day: d, Open: o, Close: c}
	}
	return out
}

func mustClock(s string) Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

// berlinNode returns a valid kitting station in Berlin Mitte stocking 10 of
// SKU 1, open 08:00-20:00 daily with a 14:00 cutoff.
func berlinNode(n int) Node {
	return Node{
		ID: id(n), Name: fmt.Sprintf("node %d", n), Kind: KindKittingStation,
		Lat: 52.52, Lon: 13.405, ServiceRadiusKm: 10, TimeZone: "Europe/Berlin",
		OpeningHours: everyDay("08:00", "20:00"), SameDayCutoff: mustClock("14:00"),
		CapacityPerHour: 10, CapacityPerDay: 100,
		Stock:             map[string]int{sku(1): 10},
		CostPerOrderMinor: 500, CostPerBundleMinor: 900,
	}
}

// request returns a delivery request near Berlin Mitte at the given UTC
// instant for the given lines.
func request(at time.Time, lines ...Line) Request {
	return Request{OrderID: id(9000), Mode: ModeDelivery, Lat: 52.53, Lon: 13.41, PlacedAt: at, Lines: lines}
}

func line(n, qty int) Line { return Line{SKUID: sku(n), Quantity: qty, WeightGrams: 100} }

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
