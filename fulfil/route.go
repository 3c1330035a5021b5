package fulfil

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Routing outcomes.
const (
	OutcomeSameDay = "same_day" // Assignments say which node makes which lines
	OutcomeNextDay = "next_day" // no combination of nodes can; Refusals say why
)

// DefaultMaxNodes is how many nodes one order may be split across unless
// Router.MaxNodes says otherwise.
const DefaultMaxNodes = 3

// Assignment gives one node some lines of an order (indexes into
// Request.Lines, ascending).
type Assignment struct {
	NodeID     string    `json:"node_id"`
	Lines      []int     `json:"lines"`
	CostMinor  int64     `json:"cost_minor"`
	DistanceKm float64   `json:"distance_km"`
	Local      time.Time `json:"local"` // the placement instant in the node's zone
}

// Refusal says which rule refused which node, and why.
type Refusal struct {
	NodeID string `json:"node_id"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Result is the routing decision for one order. A same-day result lists
// its assignments (one fulfilment order per node), ranked best by fewest
// splits, then lowest total cost, then shortest total distance, then node
// ids. A next-day result lists a refusal for every node whose service area
// may reach the delivery point (for pick-up, only the pick-up node is
// considered), and counts the rest in OutOfRange. A same-day result also
// lists the refusals of the nodes it considered.
type Result struct {
	OrderID     string       `json:"order_id"`
	Outcome     string       `json:"outcome"`
	Assignments []Assignment `json:"assignments,omitempty"`
	Splits      int          `json:"splits"` // len(Assignments)-1 for same day
	CostMinor   int64        `json:"cost_minor"`
	DistanceKm  float64      `json:"distance_km"`
	Refusals    []Refusal    `json:"refusals,omitempty"`
	// OutOfRange counts the nodes the spatial index left out because
	// their service areas do not reach the delivery point; they have no
	// refusal of their own.
	OutOfRange int `json:"out_of_range"`
}

// Router routes orders to nodes through an ordered list of rules. Routing
// is deterministic: the same nodes, rules, usage and request give the same
// result. A Router is safe for concurrent use when its rules are (the
// Ledger is not).
type Router struct {
	nodes []Node // sorted by id
	locs  []*time.Location
	byID  map[string]int
	grid  *gridIndex
	rules []Rule
	// spatial is set when the rules include InRange: only then may the
	// index leave nodes out.
	spatial bool

	// MaxNodes caps how many nodes one order may be split across
	// (DefaultMaxNodes when 0).
	MaxNodes int
	// NoIndex turns the spatial pre-filter off (for benchmarks and tests
	// that compare against checking every node).
	NoIndex bool
}

// NewRouter validates the nodes, indexes them, and returns a router that
// applies rules in order. Duplicate node ids are refused.
func NewRouter(nodes []Node, rules []Rule) (*Router, error) {
	rt := &Router{nodes: append([]Node(nil), nodes...), rules: rules, byID: make(map[string]int, len(nodes))}
	sort.Slice(rt.nodes, func(i, j int) bool { return rt.nodes[i].ID < rt.nodes[j].ID })
	rt.locs = make([]*time.Location, len(rt.nodes))
	for i := range rt.nodes {
		n := &rt.nodes[i]
		if err := n.Validate(); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.ID, err)
		}
		if _, dup := rt.byID[n.ID]; dup {
			return nil, popkit.InvalidField("id", "duplicate node id %s", n.ID)
		}
		rt.byID[n.ID] = i
		loc, err := LoadLocation(n.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("node %s time zone: %w", n.ID, err)
		}
		rt.locs[i] = loc
	}
	rt.grid = newGridIndex(rt.nodes)
	for _, r := range rules {
		if _, ok := r.(InRange); ok {
			rt.spatial = true
		}
	}
	return rt, nil
}

// eligible is a node that passed every rule, with the lines it supplies.
type eligible struct {
	idx      int
	cand     Candidate
	supplies []bool
}

// Route decides where req is made. It returns EINVALID for an invalid
// request or an unknown pick-up node; otherwise a same-day or next-day
// result.
func (rt *Router) Route(req *Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var idxs []int
	switch {
	case req.Mode == ModePickup:
		i, ok := rt.byID[req.PickupNodeID]
		if !ok {
			return nil, popkit.InvalidField("pickup_node_id", "unknown node %s", req.PickupNodeID)
		}
		idxs = []int{i}
	case rt.NoIndex || !rt.spatial:
		idxs = make([]int, len(rt.nodes))
		for i := range idxs {
			idxs[i] = i
		}
	default:
		idxs = rt.grid.near(make([]int, 0, 16), req.Lat, req.Lon)
	}
	res := &Result{OrderID: req.OrderID}
	if req.Mode == ModeDelivery {
		res.OutOfRange = len(rt.nodes) - len(idxs)
	}
	elig := rt.evaluate(req, idxs, res)
	if best := rt.choose(req, elig); best != nil {
		res.Outcome = OutcomeSameDay
		res.Assignments = best
		res.Splits = len(best) - 1
		for _, a := range best {
			res.CostMinor += a.CostMinor
			res.DistanceKm += a.DistanceKm
		}
		return res, nil
	}
	res.Outcome = OutcomeNextDay
	uncovered := uncoveredLines(req, elig)
	for _, e := range elig {
		res.Refusals = append(res.Refusals, Refusal{NodeID: rt.nodes[e.idx].ID, Rule: "split", Reason: splitReason(e, uncovered, rt.maxNodes())})
	}
	sort.Slice(res.Refusals, func(i, j int) bool { return res.Refusals[i].NodeID < res.Refusals[j].NodeID })
	return res, nil
}

func (rt *Router) maxNodes() int {
	if rt.MaxNodes > 0 {
		return rt.MaxNodes
	}
	return DefaultMaxNodes
}

// evaluate runs the rules over the nodes idxs, appends a refusal to res
// for each refused node and returns the nodes that passed.
func (rt *Router) evaluate(req *Request, idxs []int, res *Result) []eligible {
	var elig []eligible
	for _, i := range idxs {
		n := &rt.nodes[i]
		c := newCandidate(n, rt.locs[i], req)
		refused := false
		for _, r := range rt.rules {
			if reason := r.Check(&c); reason != "" {
				res.Refusals = append(res.Refusals, Refusal{NodeID: n.ID, Rule: r.Name(), Reason: reason})
				refused = true
				break
			}
		}
		if refused {
			continue
		}
		e := eligible{idx: i, cand: c, supplies: make([]bool, len(req.Lines))}
		any := false
		for j, l := range req.Lines {
			e.supplies[j] = n.Supplies(l)
			any = any || e.supplies[j]
		}
		if any {
			elig = append(elig, e)
		} else {
			res.Refusals = append(res.Refusals, Refusal{NodeID: n.ID, Rule: CanFulfil{}.Name(), Reason: "cannot supply any line"})
		}
	}
	return elig
}

// choose returns the best assignment over the eligible nodes: the fewest
// nodes that together supply every line, then the lowest cost, then the
// shortest distance, then the smallest node ids; nil when no combination
// of at most maxNodes nodes covers every line.
func (rt *Router) choose(req *Request, elig []eligible) []Assignment {
	if len(elig) == 0 {
		return nil
	}
	if len(uncoveredLines(req, elig)) > 0 {
		return nil
	}
	pool := elig
	for k := 1; k <= rt.maxNodes(); k++ {
		if k == 2 {
			pool = distinctSupply(rt, elig)
		}
		if k > len(pool) {
			break
		}
		var best []int
		var bestCost int64
		var bestKm float64
		combo := make([]int, k)
		var walk func(start, depth int)
		walk = func(start, depth int) {
			if depth == k {
				if !covers(req, pool, combo) {
					return
				}
				var cost int64
				var km float64
				for _, c := range combo {
					cost += rt.nodes[pool[c].idx].CostPerOrderMinor
					km += clampKm(pool[c].cand.DistanceKm)
				}
				// combo is in node-id order and enumerated
				// lexicographically, so the first of equals wins.
				if best == nil || cost < bestCost || cost == bestCost && km < bestKm {
					best, bestCost, bestKm = append(best[:0], combo...), cost, km
				}
				return
			}
			for i := start; i <= len(pool)-(k-depth); i++ {
				combo[depth] = i
				walk(i+1, depth+1)
			}
		}
		walk(0, 0)
		if best != nil {
			return rt.assign(req, pool, best)
		}
	}
	return nil
}

// distinctSupply keeps, of the nodes that supply the same set of lines,
// only the cheapest (then nearest, then first by id), in id order. In a
// combination with the fewest nodes no two nodes supply the same set, and
// swapping a node for a cheaper or nearer one with the same set never
// makes the combination worse, so splits need only these nodes; this
// bounds the search by the number of distinct sets, not of nodes.
func distinctSupply(rt *Router, elig []eligible) []eligible {
	bestOf := make(map[string]int, len(elig))
	key := make([]byte, 0, 64)
	keys := make([]string, len(elig))
	for i, e := range elig {
		key = key[:0]
		for _, ok := range e.supplies {
			if ok {
				key = append(key, '1')
			} else {
				key = append(key, '0')
			}
		}
		keys[i] = string(key)
		j, seen := bestOf[keys[i]]
		if !seen {
			bestOf[keys[i]] = i
			continue
		}
		ci, cj := rt.nodes[e.idx].CostPerOrderMinor, rt.nodes[elig[j].idx].CostPerOrderMinor
		if ci < cj || ci == cj && clampKm(e.cand.DistanceKm) < clampKm(elig[j].cand.DistanceKm) {
			bestOf[keys[i]] = i
		}
	}
	out := make([]eligible, 0, len(bestOf))
	for i := range elig {
		if bestOf[keys[i]] == i {
			out = append(out, elig[i])
		}
	}
	return out
}

// covers reports whether the nodes of combo together supply every line.
func covers(req *Request, elig []eligible, combo []int) bool {
	for j := range req.Lines {
		ok := false
		for _, c := range combo {
			if elig[c].supplies[j] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// assign gives each line to the nearest node of combo that supplies it
// (the node id breaks ties).
func (rt *Router) assign(req *Request, elig []eligible, combo []int) []Assignment {
	out := make([]Assignment, len(combo))
	for i, c := range combo {
		e := &elig[c]
		out[i] = Assignment{NodeID: rt.nodes[e.idx].ID, CostMinor: rt.nodes[e.idx].CostPerOrderMinor, DistanceKm: e.cand.DistanceKm, Local: e.cand.Local}
	}
	for j := range req.Lines {
		bi := -1
		for i, c := range combo {
			if elig[c].supplies[j] && (bi < 0 || clampKm(elig[c].cand.DistanceKm) < clampKm(out[bi].DistanceKm)) {
				bi = i
			}
		}
		out[bi].Lines = append(out[bi].Lines, j)
	}
	// With the fewest nodes every node supplies a line no other one does,
	// so no assignment is left empty.
	return out
}

// uncoveredLines returns the indexes of lines no eligible node supplies.
func uncoveredLines(req *Request, elig []eligible) []int {
	var out []int
	for j := range req.Lines {
		ok := false
		for _, e := range elig {
			if e.supplies[j] {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, j)
		}
	}
	return out
}

// splitReason explains why a node that passed every rule is still not
// used for a next-day order.
func splitReason(e eligible, uncovered []int, maxNodes int) string {
	var have []string
	for j, ok := range e.supplies {
		if ok {
			have = append(have, fmt.Sprint(j))
		}
	}
	if len(uncovered) > 0 {
		un := make([]string, len(uncovered))
		for i, j := range uncovered {
			un[i] = fmt.Sprint(j)
		}
		return fmt.Sprintf("supplies lines %s, but no eligible node supplies lines %s", strings.Join(have, ","), strings.Join(un, ","))
	}
	return fmt.Sprintf("supplies lines %s, but no %d nodes together supply every line", strings.Join(have, ","), maxNodes)
}
