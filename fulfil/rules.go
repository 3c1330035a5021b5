package fulfil

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Fulfilment modes of a same-day order.
const (
	ModeDelivery = "delivery" // delivered to Lat/Lon
	ModePickup   = "pickup"   // collected at PickupNodeID
)

// Line is one order line as routing sees it.
type Line struct {
	SKUID       string `json:"sku_id"`
	Quantity    int    `json:"quantity"`
	Perishable  bool   `json:"perishable"`
	WeightGrams int64  `json:"weight_grams"` // of the whole line
}

// Request asks for same-day nodes for one order: delivery to a point or
// pick-up at a node, placed at an instant.
type Request struct {
	OrderID      string    `json:"order_id"`
	Mode         string    `json:"mode"` // delivery or pickup
	Lat          float64   `json:"lat"`
	Lon          float64   `json:"lon"`
	PickupNodeID string    `json:"pickup_node_id,omitempty"`
	PlacedAt     time.Time `json:"placed_at"`
	Lines        []Line    `json:"lines"`
}

// Validate checks r and returns an EINVALID *popkit.Error naming every
// invalid field.
func (r *Request) Validate() error {
	var v popkit.Validation
	v.Check(popkit.ValidID(r.OrderID), "order_id", "must be a lower-case UUID")
	switch r.Mode {
	case ModeDelivery:
		v.Check(r.Lat >= -90 && r.Lat <= 90, "lat", "must be between -90 and 90")
		v.Check(r.Lon >= -180 && r.Lon <= 180, "lon", "must be between -180 and 180")
	case ModePickup:
		v.Check(popkit.ValidID(r.PickupNodeID), "pickup_node_id", "must be a node id")
	default:
		v.Add("mode", "must be delivery or pickup")
	}
	v.Check(!r.PlacedAt.IsZero(), "placed_at", "is required")
	v.Check(len(r.Lines) > 0 && len(r.Lines) <= 200, "lines", "must have 1 to 200 lines")
	for i, l := range r.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		v.Check(popkit.ValidID(l.SKUID), f+".sku_id", "must be a SKU id")
		v.Check(l.Quantity > 0, f+".quantity", "must be positive")
		v.Check(l.WeightGrams >= 0, f+".weight_grams", "must not be negative")
	}
	return v.Err()
}

// perishable reports whether any line is perishable.
func (r *Request) perishable() bool {
	for _, l := range r.Lines {
		if l.Perishable {
			return true
		}
	}
	return false
}

// Candidate is one node considered for one request: the node, the order's
// placement instant in the node's time zone, and the distance from the node
// to the delivery point (0 for pick-up).
type Candidate struct {
	Node       *Node
	Request    *Request
	Local      time.Time // Request.PlacedAt in the node's time zone
	DistanceKm float64
}

// NewCandidate builds the candidate of node n for request r. It fails only
// when the node's time zone is unknown.
func NewCandidate(n *Node, r *Request) (Candidate, error) {
	loc, err := LoadLocation(n.TimeZone)
	if err != nil {
		return Candidate{}, fmt.Errorf("node %s time zone: %w", n.ID, err)
	}
	return newCandidate(n, loc, r), nil
}

func newCandidate(n *Node, loc *time.Location, r *Request) Candidate {
	c := Candidate{Node: n, Request: r, Local: r.PlacedAt.In(loc)}
	if r.Mode == ModeDelivery {
		c.DistanceKm = HaversineKm(n.Lat, n.Lon, r.Lat, r.Lon)
	}
	return c
}

// Rule is one routing rule. Check returns "" when the candidate passes, or
// a short reason, meant for people, why the rule refuses the node.
type Rule interface {
	Name() string
	Check(c *Candidate) (reason string)
}

// OpenBeforeCutoff refuses a node that cannot start the order today: the
// order must arrive, in the node's local wall-clock time on the order's
// local date there, before the node's same-day cutoff, and the node must
// have an opening span that day which has not yet ended and starts before
// the cutoff. Comparing wall-clock times in the node's zone keeps the rule
// right on the days clocks change (a fixed UTC offset would be an hour off).
type OpenBeforeCutoff struct{}

// Name implements Rule.
func (OpenBeforeCutoff) Name() string { return "open_before_cutoff" }

// Check implements Rule.
func (OpenBeforeCutoff) Check(c *Candidate) string {
	n := c.Node
	now := ClockOf(c.Local)
	day := weekdays[c.Local.Weekday()]
	open, left := false, false
	for _, o := range n.OpeningHours {
		if o.Day == day {
			open = true
			left = left || o.Close > now && o.Open < n.SameDayCutoff
		}
	}
	switch {
	case !open:
		return fmt.Sprintf("closed on %s (%s)", c.Local.Weekday(), c.Local.Format("2006-01-02"))
	case now >= n.SameDayCutoff:
		return fmt.Sprintf("placed at %s local time (%s), after the same-day cutoff %s", now, n.TimeZone, n.SameDayCutoff)
	case left:
		return ""
	}
	return fmt.Sprintf("no opening left before the cutoff %s on %s", n.SameDayCutoff, c.Local.Format("2006-01-02"))
}

// InRange refuses a node whose service radius does not reach the delivery
// point (great-circle distance by the haversine formula), or, for a
// pick-up order, any node but the pick-up point.
type InRange struct{}

// Name implements Rule.
func (InRange) Name() string { return "in_range" }

// Check implements Rule.
func (InRange) Check(c *Candidate) string {
	if c.Request.Mode == ModePickup {
		if c.Node.ID == c.Request.PickupNodeID {
			return ""
		}
		return "not the pick-up point"
	}
	if c.DistanceKm <= c.Node.ServiceRadiusKm {
		return ""
	}
	return fmt.Sprintf("%.1f km away, beyond the %.1f km service radius", c.DistanceKm, c.Node.ServiceRadiusKm)
}

// ColdChain refuses a node without cold-chain capability when any line of
// the order is perishable.
type ColdChain struct{}

// Name implements Rule.
func (ColdChain) Name() string { return "cold_chain" }

// Check implements Rule.
func (ColdChain) Check(c *Candidate) string {
	if c.Node.ColdChain || !c.Request.perishable() {
		return ""
	}
	return "no cold chain for perishable lines"
}

// ColdChainIntact refuses, for an order with perishable lines, a node
// whose cold chain has an excursion that is not yet resolved: its
// perishable stock may be spoilt and its perishable orders are on hold.
// Broken lists those nodes by id; the store fills it in the order's
// transaction.
type ColdChainIntact struct {
	Broken map[string]bool
}

// Name implements Rule.
func (ColdChainIntact) Name() string { return "cold_chain_intact" }

// Check implements Rule.
func (r ColdChainIntact) Check(c *Candidate) string {
	if !r.Broken[c.Node.ID] || !c.Request.perishable() {
		return ""
	}
	return "a cold-chain excursion at the node is not resolved"
}

// CanFulfil refuses a node that can supply none of the order's lines
// (neither enough stock nor the ability to make the SKU). A node that
// supplies only some lines passes: the router combines nodes (splits) so
// that every line is covered.
type CanFulfil struct{}

// Name implements Rule.
func (CanFulfil) Name() string { return "can_fulfil" }

// Check implements Rule.
func (CanFulfil) Check(c *Candidate) string {
	for _, l := range c.Request.Lines {
		if c.Node.Supplies(l) {
			return ""
		}
	}
	var b strings.Builder
	b.WriteString("cannot supply any line:")
	for i, l := range c.Request.Lines {
		if i == 3 {
			fmt.Fprintf(&b, " and %d more", len(c.Request.Lines)-3)
			break
		}
		fmt.Fprintf(&b, " %s (%d in stock, %d wanted)", l.SKUID, c.Node.Stock[l.SKUID], l.Quantity)
	}
	return b.String()
}

// Usage reports how many orders a node has already accepted in one local
// hour and on one local date. Ledger implements it.
type Usage interface {
	Used(nodeID string, local time.Time) (thisHour, today int)
}

// CapacityLeft refuses a node that has no capacity left in the order's
// local hour or on its local date. A nil Usage counts nothing as used.
type CapacityLeft struct {
	Usage Usage
}

// Name implements Rule.
func (CapacityLeft) Name() string { return "capacity_left" }

// Check implements Rule.
func (r CapacityLeft) Check(c *Candidate) string {
	if r.Usage == nil {
		return ""
	}
	hour, day := r.Usage.Used(c.Node.ID, c.Local)
	if day >= c.Node.CapacityPerDay {
		return fmt.Sprintf("day full: %d of %d orders on %s", day, c.Node.CapacityPerDay, c.Local.Format("2006-01-02"))
	}
	if hour >= c.Node.CapacityPerHour {
		return fmt.Sprintf("hour full: %d of %d orders at %02d:00", hour, c.Node.CapacityPerHour, c.Local.Hour())
	}
	return ""
}

// DefaultRules returns the routing rules in their order; a refusal names
// the first rule that failed. InRange comes first because the router's
// spatial index already applies it in bulk: nodes the index leaves out are
// exactly those InRange would refuse first.
func DefaultRules(u Usage) []Rule {
	return []Rule{InRange{}, OpenBeforeCutoff{}, ColdChain{}, CanFulfil{}, CapacityLeft{Usage: u}}
}

// ledgerKey identifies one node's local hour (hour 0-23) or whole local
// date (hour -1).
type ledgerKey struct {
	node string
	date int32 // yyyymmdd
	hour int8
}

// Ledger counts accepted orders per node, local hour and local date. It
// implements Usage. Hours are wall-clock hours, so on the night clocks go
// back the repeated hour counts as one. It is not safe for concurrent use.
type Ledger struct {
	m map[ledgerKey]int
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{m: make(map[ledgerKey]int)} }

func keysOf(nodeID string, local time.Time) (hour, day ledgerKey) {
	y, m, d := local.Date()
	date := int32(y*10000 + int(m)*100 + d)
	return ledgerKey{nodeID, date, int8(local.Hour())}, ledgerKey{nodeID, date, -1}
}

// Used implements Usage.
func (l *Ledger) Used(nodeID string, local time.Time) (thisHour, today int) {
	h, d := keysOf(nodeID, local)
	return l.m[h], l.m[d]
}

// Book counts one more order for every node of a same-day result, at the
// result's placement instant in each node's zone.
func (l *Ledger) Book(res *Result) {
	for _, a := range res.Assignments {
		h, d := keysOf(a.NodeID, a.Local)
		l.m[h]++
		l.m[d]++
	}
}

// clampKm guards the ranking against NaN distances.
func clampKm(km float64) float64 {
	if math.IsNaN(km) {
		return math.Inf(1)
	}
	return km
}
