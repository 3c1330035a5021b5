package fulfil

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// legalMoves lists every legal transition; every other pair must be
// ECONFLICT. The on_hold rows are keyed by the state the order left.
var legalMoves = map[Status][]State{
	{State: StateOpen}:                            {StateAccepted, StateOnHold, StateCancelled},
	{State: StateAccepted}:                        {StateKitting, StateOnHold, StateCancelled},
	{State: StateKitting}:                         {StateReady, StateOnHold, StateCancelled},
	{State: StateReady}:                           {StateOutForDelivery, StatePickedUp, StateOnHold, StateCancelled},
	{State: StateOutForDelivery}:                  {StateDelivered, StateFailed},
	{State: StateDelivered}:                       nil,
	{State: StatePickedUp}:                        nil,
	{State: StateCancelled}:                       nil,
	{State: StateFailed}:                          nil,
	{State: StateOnHold, HeldFrom: StateOpen}:     {StateOpen, StateCancelled},
	{State: StateOnHold, HeldFrom: StateAccepted}: {StateAccepted, StateCancelled},
	{State: StateOnHold, HeldFrom: StateKitting}:  {StateKitting, StateCancelled},
	{State: StateOnHold, HeldFrom: StateReady}:    {StateReady, StateCancelled},
}

// TestTransitionEveryPair tries every (status, state) pair: the legal ones
// succeed and record a step, all others return ECONFLICT and change
// nothing.
func TestTransitionEveryPair(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("CEST", 7200))
	seen := map[State]bool{}
	for from, legal := range legalMoves {
		seen[from.State] = true
		for _, to := range States {
			name := string(from.State) + "(" + string(from.HeldFrom) + ")→" + string(to)
			t.Run(name, func(t *testing.T) {
				ok := false
				for _, l := range legal {
					ok = ok || l == to
				}
				next, step, err := Transition(from, to, "staff:ana", "because", at)
				if !ok {
					if popkit.ErrorCode(err) != popkit.ECONFLICT || next != from {
						t.Fatalf("Transition = %v, %v; want ECONFLICT and no change", next, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Transition: %v", err)
				}
				if next.State != to || step.From != from.State || step.To != to || step.Actor != "staff:ana" || !step.At.Equal(at) || step.At.Location() != time.UTC {
					t.Fatalf("next %+v step %+v", next, step)
				}
				if to == StateOnHold && next.HeldFrom != from.State || to != StateOnHold && next.HeldFrom != "" {
					t.Errorf("held from %q", next.HeldFrom)
				}
			})
		}
	}
	for _, s := range States {
		if !seen[s] {
			t.Errorf("state %s has no row in the table", s)
		}
	}
}

func TestTransitionInvalid(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	out := Status{State: StateOutForDelivery}
	tests := []struct {
		name   string
		from   Status
		to     State
		actor  string
		reason string
		at     time.Time
		field  string
	}{
		{"unknown target", out, "lost", "a", "", at, "to"},
		{"unknown source", Status{State: "limbo"}, StateAccepted, "a", "", at, "from"},
		{"on hold from nowhere", Status{State: StateOnHold}, StateCancelled, "a", "", at, "from.held_from"},
		{"on hold from a final state", Status{State: StateOnHold, HeldFrom: StateDelivered}, StateCancelled, "a", "", at, "from.held_from"},
		{"held-from outside on_hold", Status{State: StateReady, HeldFrom: StateOpen}, StatePickedUp, "a", "", at, "from.held_from"},
		{"no actor", out, StateDelivered, "", "", at, "actor"},
		{"no time", out, StateDelivered, "a", "", time.Time{}, "at"},
		{"failure without reason", out, StateFailed, "a", "", at, "reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Transition(tc.from, tc.to, tc.actor, tc.reason, tc.at)
			if popkit.ErrorCode(err) != popkit.EINVALID || popkit.ErrorFields(err)[0].Field != tc.field {
				t.Fatalf("Transition = %v, want EINVALID on %s", err, tc.field)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		moves []State
		final State
	}{
		{"delivered", []State{StateAccepted, StateKitting, StateReady, StateOutForDelivery, StateDelivered}, StateDelivered},
		{"picked up", []State{StateAccepted, StateKitting, StateReady, StatePickedUp}, StatePickedUp},
		{"hold and resume", []State{StateAccepted, StateKitting, StateOnHold, StateKitting, StateReady}, StateReady},
		{"held then cancelled", []State{StateAccepted, StateOnHold, StateCancelled}, StateCancelled},
		{"failed on the road", []State{StateAccepted, StateKitting, StateReady, StateOutForDelivery, StateFailed}, StateFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h History
			if h.Current() != StateOpen {
				t.Fatalf("new history is %s", h.Current())
			}
			for i, to := range tc.moves {
				if err := h.Apply(to, "node:1", "reason", t0.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Fatalf("move %d to %s: %v", i, to, err)
				}
			}
			if h.Current() != tc.final || len(h.Steps) != len(tc.moves) {
				t.Fatalf("current %s with %d steps", h.Current(), len(h.Steps))
			}
			prev := StateOpen
			for i, s := range h.Steps {
				if s.From != prev || s.To != tc.moves[i] || !s.At.Equal(t0.Add(time.Duration(i)*time.Minute)) || s.Actor != "node:1" {
					t.Errorf("step %d = %+v", i, s)
				}
				prev = s.To
			}
		})
	}
	var h History
	if err := h.Apply(StateAccepted, "a", "", t0); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(StateKitting, "a", "", t0.Add(-time.Second)); popkit.ErrorCode(err) != popkit.EINVALID || len(h.Steps) != 1 {
		t.Errorf("step back in time: %v, %d steps", err, len(h.Steps))
	}
	if err := h.Apply(StateDelivered, "a", "", t0); popkit.ErrorCode(err) != popkit.ECONFLICT || h.Current() != StateAccepted {
		t.Errorf("skip to delivered: %v, now %s", err, h.Current())
	}
}

// FuzzTransition feeds arbitrary states, actors and reasons to Transition:
// it must never panic, must succeed exactly when the inputs are valid and
// the move is legal, and must leave the status alone on error.
func FuzzTransition(f *testing.F) {
	f.Add("open", "", "accepted", "staff", "")
	f.Add("on_hold", "kitting", "kitting", "node:1", "")
	f.Add("out_for_delivery", "", "failed", "courier", "")
	f.Add("on_hold", "delivered", "delivered", "x", "y")
	f.Fuzz(func(t *testing.T, from, held, to, actor, reason string) {
		st := Status{State: State(from), HeldFrom: State(held)}
		at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		next, step, err := Transition(st, State(to), actor, reason, at)
		heldOK := st.State != StateOnHold && st.HeldFrom == "" || st.State == StateOnHold && holdable(st.HeldFrom)
		valid := st.State.Valid() && heldOK && State(to).Valid() && actor != "" && len(actor) <= 200 && len(reason) <= 1000 && (State(to) != StateFailed || reason != "")
		switch {
		case !valid:
			if popkit.ErrorCode(err) != popkit.EINVALID || next != st {
				t.Fatalf("invalid input: %v, %+v", err, next)
			}
		case !Legal(st, State(to)):
			if popkit.ErrorCode(err) != popkit.ECONFLICT || next != st {
				t.Fatalf("illegal move: %v, %+v", err, next)
			}
		default:
			if err != nil || next.State != State(to) || step.To != State(to) || step.From != st.State {
				t.Fatalf("legal move: %v, %+v, %+v", err, next, step)
			}
			if next.State.Final() {
				for _, s := range States {
					if Legal(next, s) {
						t.Fatalf("final state %s may move to %s", next.State, s)
					}
				}
			}
		}
	})
}
