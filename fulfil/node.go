// Package fulfil holds same-day micro-fulfilment: fulfilment nodes, the
// ordered routing rules that choose the nodes for an order, the fulfilment
// order state machine with its history, and shared bundles whose cost is
// split between brands. It is pure Go: no database and no HTTP; the store
// and the API use it.
package fulfil

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Kind is the kind of a fulfilment node.
type Kind string

// Node kinds.
const (
	KindKittingStation Kind = "kitting_station" // assembles orders from stock
	KindMicrofactory   Kind = "microfactory"    // also produces SKUs on demand
)

// Clock is a wall-clock time of day in minutes after local midnight,
// 0 (00:00) to 1440 (24:00, allowed only as a closing time). It is written
// "HH:MM" in JSON.
type Clock int

// ParseClock parses "HH:MM" (00:00 to 24:00).
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("clock %q: want HH:MM", s)
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("clock %q: out of range", s)
	}
	return Clock(h*60 + m), nil
}

// ClockOf returns the wall-clock time of day of t in t's location.
func ClockOf(t time.Time) Clock {
	return Clock(t.Hour()*60 + t.Minute())
}

// String formats c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MarshalText implements encoding.TextMarshaler.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// weekdays are the JSON names of the days, indexed by time.Weekday.
var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Opening is one span of opening hours on one weekday, in the node's local
// time. A day may have several spans (a lunch break); Close may be 24:00.
type Opening struct {
	Day   string `json:"day"` // sun, mon, tue, wed, thu, fri or sat
	Open  Clock  `json:"open"`
	Close Clock  `json:"close"`
}

// Weekday returns the day as a time.Weekday, and false for an unknown day.
func (o Opening) Weekday() (time.Weekday, bool) {
	for i, d := range weekdays {
		if d == o.Day {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// Node is a fulfilment node: a kitting station or a microfactory that
// assembles (and for a microfactory, produces) same-day orders. Stock and
// Makes say which SKUs it can supply; an external node belongs to a partner
// that popkit reaches by webhooks.
type Node struct {
	ID                 string         `json:"id"`
	Name               string         `json:"name"`
	Kind               Kind           `json:"kind"`
	Lat                float64        `json:"lat"`
	Lon                float64        `json:"lon"`
	ServiceRadiusKm    float64        `json:"service_radius_km"`
	TimeZone           string         `json:"time_zone"`
	OpeningHours       []Opening      `json:"opening_hours"`
	SameDayCutoff      Clock          `json:"same_day_cutoff"`
	CapacityPerHour    int            `json:"capacity_per_hour"`
	CapacityPerDay     int            `json:"capacity_per_day"`
	ColdChain          bool           `json:"cold_chain"`
	Makes              []string       `json:"makes,omitempty"` // SKU ids it can produce
	Stock              map[string]int `json:"stock,omitempty"` // SKU id → available units
	CostPerOrderMinor  int64          `json:"cost_per_order_minor"`
	CostPerBundleMinor int64          `json:"cost_per_bundle_minor"`
	External           bool           `json:"external"`
}

// Validate checks n and returns an EINVALID *popkit.Error naming every
// invalid field.
func (n *Node) Validate() error {
	var v popkit.Validation
	v.Check(popkit.ValidID(n.ID), "id", "must be a lower-case UUID")
	v.Check(strings.TrimSpace(n.Name) != "" && len(n.Name) <= 200, "name", "is required (at most 200 characters)")
	v.Check(n.Kind == KindKittingStation || n.Kind == KindMicrofactory, "kind", "must be kitting_station or microfactory")
	v.Check(n.Lat >= -90 && n.Lat <= 90, "lat", "must be between -90 and 90")
	v.Check(n.Lon >= -180 && n.Lon <= 180, "lon", "must be between -180 and 180")
	v.Check(n.ServiceRadiusKm >= 0 && n.ServiceRadiusKm <= 500 && !math.IsNaN(n.ServiceRadiusKm), "service_radius_km", "must be between 0 and 500")
	if n.TimeZone == "" || n.TimeZone == "Local" {
		v.Add("time_zone", "must be an IANA time zone such as Europe/Berlin")
	} else if _, err := LoadLocation(n.TimeZone); err != nil {
		v.Add("time_zone", "unknown time zone %q", n.TimeZone)
	}
	for i, o := range n.OpeningHours {
		f := fmt.Sprintf("opening_hours[%d]", i)
		_, ok := o.Weekday()
		v.Check(ok, f+".day", "must be one of sun, mon, tue, wed, thu, fri, sat")
		v.Check(o.Open >= 0 && o.Open < 1440, f+".open", "must be 00:00 to 23:59")
		v.Check(o.Close > o.Open && o.Close <= 1440, f+".close", "must be after open and at most 24:00")
	}
	v.Check(n.SameDayCutoff >= 0 && n.SameDayCutoff < 1440, "same_day_cutoff", "must be 00:00 to 23:59")
	v.Check(n.CapacityPerHour > 0, "capacity_per_hour", "must be positive")
	v.Check(n.CapacityPerDay >= n.CapacityPerHour && n.CapacityPerHour > 0, "capacity_per_day", "must be positive and at least capacity_per_hour")
	for i, s := range n.Makes {
		v.Check(popkit.ValidID(s), fmt.Sprintf("makes[%d]", i), "must be a SKU id")
	}
	v.Check(len(n.Makes) == 0 || n.Kind == KindMicrofactory, "makes", "only a microfactory makes SKUs")
	for s, q := range n.Stock {
		v.Check(popkit.ValidID(s) && q >= 0, "stock."+s, "must map a SKU id to a non-negative quantity")
	}
	v.Check(n.CostPerOrderMinor >= 0, "cost_per_order_minor", "must not be negative")
	v.Check(n.CostPerBundleMinor >= 0, "cost_per_bundle_minor", "must not be negative")
	return v.Err()
}

// makes reports whether n produces the SKU.
func (n *Node) makes(sku string) bool {
	for _, s := range n.Makes {
		if s == sku {
			return true
		}
	}
	return false
}

// Supplies reports whether n can supply the whole quantity of line on its
// own, from stock or by making it. A line is never split across nodes.
func (n *Node) Supplies(l Line) bool {
	return n.Stock[l.SKUID] >= l.Quantity || n.makes(l.SKUID)
}

// maxNodesJSON bounds how many nodes DecodeNodes accepts.
const maxNodesJSON = 10000

// DecodeNodes reads a JSON array of nodes, refusing unknown fields,
// trailing data and invalid nodes; the error names the node's index.
func DecodeNodes(r io.Reader) ([]Node, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var nodes []Node
	if err := dec.Decode(&nodes); err != nil {
		return nil, popkit.Errorf(popkit.EINVALID, "decode nodes: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, popkit.Errorf(popkit.EINVALID, "decode nodes: trailing data after the array")
	}
	if len(nodes) > maxNodesJSON {
		return nil, popkit.Errorf(popkit.EINVALID, "decode nodes: more than %d nodes", maxNodesJSON)
	}
	seen := make(map[string]bool, len(nodes))
	for i := range nodes {
		if err := nodes[i].Validate(); err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		if seen[nodes[i].ID] {
			return nil, popkit.InvalidField(fmt.Sprintf("[%d].id", i), "duplicate node id %s", nodes[i].ID)
		}
		seen[nodes[i].ID] = true
	}
	return nodes, nil
}
