package fulfil

import (
	"time"

	"github.com/popkit/popkit"
)

// State is the state of a fulfilment order: the part of an order that one
// node makes.
type State string

// Fulfilment order states. Delivered, picked_up, cancelled and failed are
// final.
const (
	StateOpen           State = "open"
	StateAccepted       State = "accepted"
	StateKitting        State = "kitting"
	StateReady          State = "ready"
	StateOutForDelivery State = "out_for_delivery"
	StateDelivered      State = "delivered"
	StatePickedUp       State = "picked_up"
	StateOnHold         State = "on_hold"
	StateCancelled      State = "cancelled"
	StateFailed         State = "failed"
)

// States lists every state, in lifecycle order.
var States = []State{StateOpen, StateAccepted, StateKitting, StateReady, StateOutForDelivery, StateDelivered, StatePickedUp, StateOnHold, StateCancelled, StateFailed}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, t := range States {
		if s == t {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s State) Final() bool {
	return s == StateDelivered || s == StatePickedUp || s == StateCancelled || s == StateFailed
}

// holdable reports whether an order in s may be put on hold (and cancelled):
// the states before dispatch.
func holdable(s State) bool {
	return s == StateOpen || s == StateAccepted || s == StateKitting || s == StateReady
}

// forward lists the transitions of the happy paths.
var forward = map[State][]State{
	StateOpen:           {StateAccepted},
	StateAccepted:       {StateKitting},
	StateKitting:        {StateReady},
	StateReady:          {StateOutForDelivery, StatePickedUp},
	StateOutForDelivery: {StateDelivered},
}

// Status is where a fulfilment order stands: its state and, while on hold,
// the state it left (which is the only state it may go back to).
type Status struct {
	State    State `json:"state"`
	HeldFrom State `json:"held_from,omitempty"`
}

// Step is one recorded transition.
type Step struct {
	From   State     `json:"from"`
	To     State     `json:"to"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Legal reports whether a fulfilment order in from may move to to. The
// rules: open → accepted → kitting → ready → out_for_delivery → delivered,
// or ready → picked_up; on_hold from open, accepted, kitting or ready and
// back to the state it left; cancelled from any state before dispatch
// (on hold included); failed only from out_for_delivery.
func Legal(from Status, to State) bool {
	switch {
	case from.State == StateOnHold:
		return to == from.HeldFrom && holdable(from.HeldFrom) || to == StateCancelled
	case to == StateOnHold || to == StateCancelled:
		return holdable(from.State)
	case to == StateFailed:
		return from.State == StateOutForDelivery
	}
	for _, t := range forward[from.State] {
		if t == to {
			return true
		}
	}
	return false
}

// Transition moves a fulfilment order from one status to state to on
// behalf of actor at the instant at. It returns the new status and the
// step to record, EINVALID for an unknown state, an inconsistent HeldFrom,
// a missing actor or time,
// or a failure without a reason, and ECONFLICT for an illegal transition.
func Transition(from Status, to State, actor, reason string, at time.Time) (Status, Step, error) {
	var v popkit.Validation
	v.Check(from.State.Valid(), "from", "unknown state %q", from.State)
	v.Check(from.State != StateOnHold && from.HeldFrom == "" || from.State == StateOnHold && holdable(from.HeldFrom), "from.held_from", "must name the state an on-hold order left, and only then")
	v.Check(to.Valid(), "to", "unknown state %q", to)
	v.Check(actor != "" && len(actor) <= 200, "actor", "is required (at most 200 characters)")
	v.Check(!at.IsZero(), "at", "is required")
	v.Check(len(reason) <= 1000, "reason", "must be at most 1000 characters")
	v.Check(to != StateFailed || reason != "", "reason", "is required when an order fails")
	if err := v.Err(); err != nil {
		return from, Step{}, err
	}
	if !Legal(from, to) {
		if from.State == StateOnHold {
			return from, Step{}, popkit.Errorf(popkit.ECONFLICT, "an order on hold can only go back to %s or be cancelled, not move to %s", from.HeldFrom, to)
		}
		return from, Step{}, popkit.Errorf(popkit.ECONFLICT, "illegal transition from %s to %s", from.State, to)
	}
	next := Status{State: to}
	if to == StateOnHold {
		next.HeldFrom = from.State
	}
	return next, Step{From: from.State, To: to, Actor: actor, Reason: reason, At: at.UTC()}, nil
}

// History is a fulfilment order's status with every transition it went
// through, oldest first. The zero value is a new open order.
type History struct {
	Status Status `json:"status"`
	Steps  []Step `json:"steps"`
}

// Current returns the order's state.
func (h *History) Current() State {
	if h.Status.State == "" {
		return StateOpen
	}
	return h.Status.State
}

// Apply makes the transition to to and records it. Besides Transition's
// errors it returns EINVALID when at is before the last recorded step.
func (h *History) Apply(to State, actor, reason string, at time.Time) error {
	from := h.Status
	if from.State == "" {
		from.State = StateOpen
	}
	if n := len(h.Steps); n > 0 && at.Before(h.Steps[n-1].At) {
		return popkit.InvalidField("at", "is before the last transition at %s", h.Steps[n-1].At.Format(time.RFC3339Nano))
	}
	next, step, err := Transition(from, to, actor, reason, at)
	if err != nil {
		return err
	}
	h.Status = next
	h.Steps = append(h.Steps, step)
	return nil
}
