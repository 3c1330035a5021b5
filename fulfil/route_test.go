package fulfil

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// placed is a Monday 09:00 in Berlin, well before every cutoff.
var placed = time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC)

// stocked returns node n about km kilometres north of Berlin Mitte, at
// the given cost per order, stocking 10 of each SKU listed.
func stocked(n int, km float64, cost int64, skus ...int) Node {
	node := berlinNode(n)
	node.Lat += km / kmPerDegLat
	node.CostPerOrderMinor = cost
	node.Stock = map[string]int{}
	for _, s := range skus {
		node.Stock[sku(s)] = 10
	}
	return node
}

func TestRouteRanking(t *testing.T) {
	t.Parallel()
	pick := func(nodes ...int) []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = id(n)
		}
		return out
	}
	two := []Line{line(1, 1), line(2, 1)}
	tests := []struct {
		name      string
		nodes     []Node
		lines     []Line
		want      []string // chosen node ids, in id order
		wantLines [][]int
	}{
		{"cheapest single node", []Node{stocked(1, 0, 500, 1, 2), stocked(2, 3, 400, 1, 2)}, two, pick(2), [][]int{{0, 1}}},
		{"distance breaks a cost tie", []Node{stocked(1, 3, 500, 1, 2), stocked(2, 0, 500, 1, 2)}, two, pick(2), [][]int{{0, 1}}},
		{"node id breaks a full tie", []Node{stocked(4, 1, 500, 1, 2), stocked(3, 1, 500, 1, 2)}, two, pick(3), [][]int{{0, 1}}},
		{"fewest splits beats cost", []Node{stocked(1, 0, 900, 1, 2), stocked(2, 0, 100, 1), stocked(3, 0, 100, 2)}, two, pick(1), [][]int{{0, 1}}},
		{"split when no node has everything", []Node{stocked(1, 0, 100, 1), stocked(2, 0, 100, 2)}, two, pick(1, 2), [][]int{{0}, {1}}},
		{"cheapest split", []Node{stocked(1, 0, 100, 1), stocked(2, 0, 100, 2), stocked(3, 2, 50, 2)}, two, pick(1, 3), [][]int{{0}, {1}}},
		{"split lines go to the nearer node", []Node{stocked(1, 5, 100, 1, 2, 3), stocked(2, 0, 100, 2, 4)},
			[]Line{line(1, 1), line(2, 1), line(3, 1), line(4, 1)}, pick(1, 2), [][]int{{0, 2}, {1, 3}}},
		{"three-way split", []Node{stocked(1, 0, 100, 1), stocked(2, 0, 100, 2), stocked(3, 0, 100, 3)},
			[]Line{line(1, 1), line(2, 1), line(3, 1)}, pick(1, 2, 3), [][]int{{0}, {1}, {2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := NewRouter(tc.nodes, DefaultRules(nil))
			if err != nil {
				t.Fatal(err)
			}
			req := request(placed, tc.lines...)
			res, err := rt.Route(&req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != OutcomeSameDay {
				t.Fatalf("outcome %s, refusals %+v", res.Outcome, res.Refusals)
			}
			var got []string
			var gotLines [][]int
			var cost int64
			for _, a := range res.Assignments {
				got = append(got, a.NodeID)
				gotLines = append(gotLines, a.Lines)
				cost += a.CostMinor
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(gotLines, tc.wantLines) {
				t.Errorf("assignments %v lines %v, want %v lines %v", got, gotLines, tc.want, tc.wantLines)
			}
			if res.Splits != len(tc.want)-1 || res.CostMinor != cost {
				t.Errorf("splits %d cost %d, want %d and %d", res.Splits, res.CostMinor, len(tc.want)-1, cost)
			}
		})
	}
}

func TestRouteNextDayReasons(t *testing.T) {
	t.Parallel()
	late := stocked(1, 0, 100, 1, 2)
	late.SameDayCutoff = mustClock("08:30") // the order comes at 09:00
	far := stocked(2, 15, 100, 1, 2)
	munich := stocked(6, 0, 100, 1, 2)
	munich.Lat, munich.Lon = 48.137, 11.575
	warm := stocked(3, 0, 100, 1, 2)
	empty := stocked(4, 0, 100)
	onlyOne := stocked(5, 0, 100, 1)
	onlyOne.ColdChain = true
	fresh := line(2, 1)
	fresh.Perishable = true
	rt, err := NewRouter([]Node{onlyOne, empty, warm, far, late, munich}, DefaultRules(nil))
	if err != nil {
		t.Fatal(err)
	}
	req := request(placed, line(1, 1), fresh)
	res, err := rt.Route(&req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeNextDay || len(res.Assignments) != 0 || res.OutOfRange != 1 {
		t.Fatalf("outcome %s with %v, %d out of range; want next_day, Munich out of range", res.Outcome, res.Assignments, res.OutOfRange)
	}
	want := []struct{ node, rule, reason string }{
		{id(1), "open_before_cutoff", "after the same-day cutoff 08:30"},
		{id(2), "in_range", "beyond the 10.0 km service radius"},
		{id(3), "cold_chain", "no cold chain"},
		{id(4), "cold_chain", "no cold chain"},
		{id(5), "split", "no eligible node supplies lines 1"},
	}
	if len(res.Refusals) != len(want) {
		t.Fatalf("refusals %+v, want %d", res.Refusals, len(want))
	}
	for i, w := range want {
		r := res.Refusals[i]
		if r.NodeID != w.node || r.Rule != w.rule || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("refusal %d = %+v, want %s %s %q", i, r, w.node, w.rule, w.reason)
		}
	}
}

func TestRouteNextDayWhenSplitTooWide(t *testing.T) {
	t.Parallel()
	rt, err := NewRouter([]Node{stocked(1, 0, 100, 1), stocked(2, 0, 100, 2), stocked(3, 0, 100, 3)}, DefaultRules(nil))
	if err != nil {
		t.Fatal(err)
	}
	rt.MaxNodes = 2
	req := request(placed, line(1, 1), line(2, 1), line(3, 1))
	res, err := rt.Route(&req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeNextDay || len(res.Refusals) != 3 {
		t.Fatalf("result %+v, want next_day with 3 refusals", res)
	}
	for _, r := range res.Refusals {
		if r.Rule != "split" || !strings.Contains(r.Reason, "no 2 nodes together supply every line") {
			t.Errorf("refusal %+v", r)
		}
	}
}

func TestRoutePickupAndErrors(t *testing.T) {
	t.Parallel()
	rt, err := NewRouter([]Node{stocked(1, 0, 100, 1), stocked(2, 0, 50, 1)}, DefaultRules(nil))
	if err != nil {
		t.Fatal(err)
	}
	pickup := request(placed, line(1, 1))
	pickup.Mode, pickup.PickupNodeID = ModePickup, id(1)
	res, err := rt.Route(&pickup)
	if err != nil || res.Outcome != OutcomeSameDay || res.Assignments[0].NodeID != id(1) {
		t.Fatalf("pick-up at node 1: %+v, %v", res, err)
	}
	tests := []struct {
		name   string
		mutate func(r *Request)
		field  string
	}{
		{"unknown pick-up node", func(r *Request) { r.Mode, r.PickupNodeID = ModePickup, id(77) }, "pickup_node_id"},
		{"bad mode", func(r *Request) { r.Mode = "drone" }, "mode"},
		{"no lines", func(r *Request) { r.Lines = nil }, "lines"},
		{"zero quantity", func(r *Request) { r.Lines = []Line{line(1, 0)} }, "lines[0].quantity"},
		{"bad sku", func(r *Request) { r.Lines = []Line{{SKUID: "x", Quantity: 1}} }, "lines[0].sku_id"},
		{"no time", func(r *Request) { r.PlacedAt = time.Time{} }, "placed_at"},
		{"bad latitude", func(r *Request) { r.Lat = 100 }, "lat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request(placed, line(1, 1))
			tc.mutate(&req)
			_, err := rt.Route(&req)
			if popkit.ErrorCode(err) != popkit.EINVALID || popkit.ErrorFields(err)[0].Field != tc.field {
				t.Fatalf("Route = %v, want EINVALID on %s", err, tc.field)
			}
		})
	}
	if _, err := NewRouter([]Node{stocked(1, 0, 1, 1), stocked(1, 0, 1, 1)}, nil); popkit.ErrorCode(err) != popkit.EINVALID {
		t.Errorf("duplicate node ids: %v, want EINVALID", err)
	}
}

// TestRouteRulesInOrder checks that a refusal names the first rule in the
// list that refused, so the order of the rules is the order of the report.
func TestRouteRulesInOrder(t *testing.T) {
	t.Parallel()
	n := stocked(1, 30, 100) // far away and empty
	for _, rules := range [][]Rule{{InRange{}, CanFulfil{}}, {CanFulfil{}, InRange{}}} {
		rt, err := NewRouter([]Node{n}, rules)
		if err != nil {
			t.Fatal(err)
		}
		req := request(placed, line(1, 1))
		res, err := rt.Route(&req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Refusals) != 1 || res.Refusals[0].Rule != rules[0].Name() {
			t.Errorf("rules %v: refusals %+v", rules, res.Refusals)
		}
	}
}

// randomWorld returns count nodes spread over a few cities, with random
// stock, hours, cold chain and costs, and a matching request generator.
func randomWorld(rng *rand.Rand, count int) ([]Node, func(i int) Request) {
	cities := []struct {
		lat, lon float64
		tz       string
	}{
		{52.52, 13.405, "Europe/Berlin"}, {48.137, 11.575, "Europe/Berlin"}, {51.507, -0.128, "Europe/London"},
		{40.713, -74.006, "America/New_York"}, {34.052, -118.244, "America/Los_Angeles"}, {35.676, 139.65, "Asia/Tokyo"},
		{-33.869, 151.209, "Australia/Sydney"}, {48.857, 2.352, "Europe/Paris"},
	}
	const skus = 60
	nodes := make([]Node, count)
	for i := range nodes {
		c := cities[i%len(cities)]
		n := Node{
			ID: id(i + 1), Name: fmt.Sprintf("node %d", i+1), Kind: KindKittingStation,
			Lat: c.lat + (rng.Float64()-0.5)*0.3, Lon: c.lon + (rng.Float64()-0.5)*0.4,
			ServiceRadiusKm: 3 + rng.Float64()*12, TimeZone: c.tz,
			OpeningHours:  everyDay(fmt.Sprintf("%02d:00", 6+rng.Intn(4)), fmt.Sprintf("%02d:00", 18+rng.Intn(6))),
			SameDayCutoff: mustClock(fmt.Sprintf("%02d:00", 12+rng.Intn(5))), CapacityPerHour: 30 + rng.Intn(30), CapacityPerDay: 400,
			ColdChain: rng.Intn(3) == 0, Stock: map[string]int{},
			CostPerOrderMinor: int64(200 + rng.Intn(400)), CostPerBundleMinor: 800,
		}
		for s := 0; s < skus; s++ {
			if rng.Intn(3) == 0 {
				n.Stock[sku(s)] = rng.Intn(20)
			}
		}
		if rng.Intn(5) == 0 {
			n.Kind = KindMicrofactory
			n.Makes = []string{sku(rng.Intn(skus)), sku(rng.Intn(skus))}
		}
		nodes[i] = n
	}
	gen := func(i int) Request {
		c := cities[rng.Intn(len(cities))]
		lines := make([]Line, 1+rng.Intn(4))
		for j := range lines {
			lines[j] = Line{SKUID: sku(rng.Intn(skus)), Quantity: 1 + rng.Intn(3), Perishable: rng.Intn(6) == 0, WeightGrams: 250}
		}
		return Request{
			OrderID: id(100000 + i), Mode: ModeDelivery,
			Lat: c.lat + (rng.Float64()-0.5)*0.3, Lon: c.lon + (rng.Float64()-0.5)*0.4,
			PlacedAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Intn(24*60)) * time.Minute),
			Lines:    lines,
		}
	}
	return nodes, gen
}

// TestRouteIndexMatchesScan checks that the spatial pre-filter changes
// nothing but speed, and that routing is deterministic.
func TestRouteIndexMatchesScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(8))
	nodes, gen := randomWorld(rng, 200)
	indexed, err := NewRouter(nodes, DefaultRules(nil))
	if err != nil {
		t.Fatal(err)
	}
	scan, _ := NewRouter(nodes, DefaultRules(nil))
	scan.NoIndex = true
	counts := map[string]int{}
	splits := 0
	for i := 0; i < 1500; i++ {
		req := gen(i)
		a, err := indexed.Route(&req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := scan.Route(&req)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := indexed.Route(&req)
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("request %d: routing is not deterministic", i)
		}
		if a.Outcome != b.Outcome || !reflect.DeepEqual(a.Assignments, b.Assignments) {
			t.Fatalf("request %d: indexed %+v, scan %+v", i, a, b)
		}
		if a.Outcome == OutcomeNextDay {
			// The scan refuses the nodes the index left out by
			// in_range; every other refusal is the same.
			var kept []Refusal
			for _, r := range b.Refusals {
				if !containsNode(a.Refusals, r.NodeID) {
					if r.Rule != "in_range" {
						t.Fatalf("request %d: scan refused %+v, which the index left out", i, r)
					}
					continue
				}
				kept = append(kept, r)
			}
			if !reflect.DeepEqual(kept, a.Refusals) || len(a.Refusals)+a.OutOfRange != len(nodes) {
				t.Fatalf("request %d: indexed refusals %+v (+%d out of range), scan %+v", i, a.Refusals, a.OutOfRange, b.Refusals)
			}
		}
		counts[a.Outcome]++
		if a.Splits > 0 {
			splits++
		}
	}
	// The world must exercise both outcomes and splits, or the test
	// proves little.
	t.Logf("outcomes %v, splits %d", counts, splits)
	if counts[OutcomeSameDay] < 200 || counts[OutcomeNextDay] < 200 || splits < 25 {
		t.Fatalf("outcomes %v, splits %d: the random world is too one-sided", counts, splits)
	}
}

func containsNode(rs []Refusal, nodeID string) bool {
	for _, r := range rs {
		if r.NodeID == nodeID {
			return true
		}
	}
	return false
}

// TestRouteManyInterchangeableNodes checks that a three-way split over 180
// nodes picks the cheapest node for each part and stays fast: nodes that
// supply the same lines are interchangeable, so the search does not grow
// with their number.
func TestRouteManyInterchangeableNodes(t *testing.T) {
	t.Parallel()
	var nodes []Node
	for i := 0; i < 180; i++ {
		nodes = append(nodes, stocked(i+1, float64(i%7), int64(1000-i), 1+i%3))
	}
	rt, err := NewRouter(nodes, DefaultRules(nil))
	if err != nil {
		t.Fatal(err)
	}
	req := request(placed, line(1, 1), line(2, 1), line(3, 1))
	start := time.Now()
	res, err := rt.Route(&req)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("routing took %v", d)
	}
	// The cheapest node for SKU n+1 is the last with i%3 == n.
	want := []string{id(178), id(179), id(180)}
	var got []string
	for _, a := range res.Assignments {
		got = append(got, a.NodeID)
	}
	if !reflect.DeepEqual(got, want) || res.CostMinor != (1000-177)+(1000-178)+(1000-179) {
		t.Errorf("assignments %v cost %d, want %v", got, res.CostMinor, want)
	}
}
