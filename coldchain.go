package popkit

import (
	"context"
	"math"
	"time"
	"unicode/utf8"
)

// Cold chain. A temperature sensor of an edge device (its per-minute
// "temperature" rollups) is bound to a fulfilment node, optionally to one
// cold box there. When the stored minutes of a bound sensor show temp_max
// above the binding's limit for at least its minimum number of minutes in a
// row, an excursion opens and the node's perishable fulfilment orders that
// have not been dispatched go on hold until someone releases or discards
// the stock.
//
// Detection rules, decided here once:
//   - A run is consecutive stored minutes with temp_max > LimitC; a missing
//     minute breaks a run that has not yet become an excursion, but does
//     not end an open excursion: only a stored minute back at or under the
//     limit does (EndedAt is the start of that minute).
//   - One run is one excursion: duplicates, out-of-order minutes and
//     corrections (a newer version of a minute replaces the old one)
//     extend or end the excursion of the run they touch, never open a
//     second one for it. A correction never shrinks an excursion.
//   - Orders are held once, when the excursion opens; orders that reach the
//     node later are not held (routing keeps perishable orders away from a
//     node with an active excursion; see ColdChainService).

// Cold-chain defaults.
const (
	DefaultColdLimitC       = 8.0 // °C
	DefaultExcursionMinutes = 10  // minutes above the limit in a row
	MaxExcursionMinutes     = 24 * 60
)

// ColdChainActor is the actor of the transitions the cold chain makes.
const ColdChainActor = "system:cold-chain"

// SensorBinding binds one temperature sensor of an edge device to a
// fulfilment node (and optionally a cold box there).
type SensorBinding struct {
	ID       string `json:"id"`
	NodeID   string `json:"node_id"`
	ColdBox  string `json:"cold_box,omitempty"` // label of the cold box; "" for the node as a whole
	DeviceID string `json:"device_id"`
	Sensor   string `json:"sensor"` // the rollups' sensor label
	// LimitC is the highest temperature (°C) perishable stock may see.
	LimitC float64 `json:"limit_c"`
	// MinMinutes is how many minutes in a row above the limit open an
	// excursion.
	MinMinutes int       `json:"min_minutes"`
	CreatedAt  time.Time `json:"created_at"`
}

// Validate checks a binding before it is stored and returns EINVALID
// naming every bad field.
func (b *SensorBinding) Validate() error {
	var v Validation
	v.Check(ValidID(b.NodeID), "node_id", "must be a node id")
	v.Check(ValidID(b.DeviceID), "device_id", "must be a device id")
	v.Check(ValidLabel(b.Sensor, 200), "sensor", "must be 1-200 characters of A-Z a-z 0-9 . _ : -")
	v.Check(b.ColdBox == "" || ValidLabel(b.ColdBox, 100), "cold_box", "must be at most 100 characters of A-Z a-z 0-9 . _ : -")
	v.Check(!math.IsNaN(b.LimitC) && b.LimitC > -100 && b.LimitC < 200, "limit_c", "must be a temperature in °C between -100 and 200")
	v.Check(b.MinMinutes >= 1 && b.MinMinutes <= MaxExcursionMinutes, "min_minutes", "must be between 1 and %d", MaxExcursionMinutes)
	return v.Err()
}

// ExcursionStatus is where an excursion stands.
type ExcursionStatus string

// Excursion statuses.
const (
	ExcursionActive   ExcursionStatus = "active"   // the temperature is still above the limit
	ExcursionEnded    ExcursionStatus = "ended"    // back under the limit; the stock awaits a decision
	ExcursionResolved ExcursionStatus = "resolved" // released or discarded
)

// Valid reports whether s is a known status.
func (s ExcursionStatus) Valid() bool {
	return s == ExcursionActive || s == ExcursionEnded || s == ExcursionResolved
}

// ExcursionAction is the decision about the stock an excursion touched.
type ExcursionAction string

// Resolution actions.
const (
	// ActionRelease judges the stock fit: held orders go back to the state
	// they left.
	ActionRelease ExcursionAction = "release"
	// ActionDiscard writes off the node's perishable stock that no order
	// outside the hold still reserves, cancels the held orders and asks
	// for each of their orders to be routed again.
	ActionDiscard ExcursionAction = "discard"
)

// Resolution is what someone decided about an excursion.
type Resolution struct {
	Action ExcursionAction `json:"action"`
	Note   string          `json:"note,omitempty"`
	Actor  string          `json:"actor"`
	At     time.Time       `json:"at"`
	// WrittenOff is the number of units a discard took off the node's
	// stock.
	WrittenOff int64 `json:"written_off_units"`
}

// Validate checks a resolution as a client gives it (action and note) and
// returns EINVALID naming the bad field.
func (r *Resolution) Validate() error {
	var v Validation
	v.Check(r.Action == ActionRelease || r.Action == ActionDiscard, "action", "must be release or discard")
	v.Check(utf8.ValidString(r.Note) && utf8.RuneCountInString(r.Note) <= 1000, "note", "must be at most 1000 characters")
	v.Check(r.Action != ActionDiscard || r.Note != "", "note", "is required when stock is discarded")
	return v.Err()
}

// Excursion is one run of minutes above a bound sensor's limit.
type Excursion struct {
	ID        string     `json:"id"`
	BindingID string     `json:"binding_id"`
	NodeID    string     `json:"node_id"`
	ColdBox   string     `json:"cold_box,omitempty"`
	DeviceID  string     `json:"device_id"`
	Sensor    string     `json:"sensor"`
	LimitC    float64    `json:"limit_c"`
	StartedAt time.Time  `json:"started_at"` // the first minute above the limit
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	MaxC      float64    `json:"max_c"`
	// DurationMinutes runs from StartedAt to EndedAt, or while active to
	// the end of the last minute seen above the limit.
	DurationMinutes int             `json:"duration_minutes"`
	Status          ExcursionStatus `json:"status"`
	Resolution      *Resolution     `json:"resolution,omitempty"`
	// HeldOrders is the number of fulfilment orders put on hold.
	HeldOrders int       `json:"held_orders"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ExcursionFilter selects excursions.
type ExcursionFilter struct {
	NodeID string
	Status ExcursionStatus
	Page
}

// ColdChainService manages sensor bindings and excursions. Detection
// itself runs inside TelemetryService.Ingest.
type ColdChainService interface {
	// CreateSensorBinding binds a sensor. Returns EINVALID,
	// EUNPROCESSABLE when the node or device does not exist, ECONFLICT when
	// the device's sensor is already bound.
	CreateSensorBinding(ctx context.Context, b *SensorBinding) error
	// FindSensorBindings returns a node's bindings. Returns ENOTFOUND for
	// an unknown node.
	FindSensorBindings(ctx context.Context, nodeID string) ([]*SensorBinding, error)
	// DeleteSensorBinding removes a binding of a node; its excursions stay.
	// Returns ENOTFOUND.
	DeleteSensorBinding(ctx context.Context, nodeID, id string) error
	// FindExcursionByID returns one excursion. Returns ENOTFOUND.
	FindExcursionByID(ctx context.Context, id string) (*Excursion, error)
	// FindExcursions returns a page of excursions in id (creation) order
	// and the next cursor. Returns EINVALID for a bad page.
	FindExcursions(ctx context.Context, f ExcursionFilter) ([]*Excursion, string, error)
	// ResolveExcursion records a release or discard by actor. Returns
	// ENOTFOUND, EINVALID, ECONFLICT when the excursion is already
	// resolved or, for a release, still active.
	ResolveExcursion(ctx context.Context, id string, r Resolution) (*Excursion, error)
	// ActiveExcursionNodes returns the ids of nodes with an excursion that
	// is unresolved, or resolved while the temperature is still above the
	// limit: the nodes routing should not send perishable orders to.
	ActiveExcursionNodes(ctx context.Context) ([]string, error)
}
