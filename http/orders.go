package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/popkit/popkit"
)

// Orders are read and written by admin tokens, and by device tokens (the
// POS of an event) for their own event only: a device token naming another
// event, or acting on another event's order, gets 403. Brand tokens do not
// see orders yet (an order may mix brands).

const deviceOrders = "Device tokens (the event's POS) may use only orders of their own event (403 otherwise)."

// orderInput is the body of POST /api/v1/orders.
type orderInput struct {
	ID         string           `json:"id"`
	EventID    string           `json:"event_id"`
	Channel    popkit.Channel   `json:"channel"`
	Lines      []orderLineInput `json:"lines"`
	Payment    paymentInput     `json:"payment"`
	OccurredAt *time.Time       `json:"occurred_at"`
	Delivery   *popkit.Delivery `json:"delivery"`
}

// orderLineInput is one line of an orderInput; the store sets the unit
// cost.
type orderLineInput struct {
	SKUID          string `json:"sku_id"`
	Quantity       int    `json:"quantity"`
	UnitPriceMinor int64  `json:"unit_price_minor"`
}

// paymentInput is the payment of an orderInput.
type paymentInput struct {
	Method      popkit.PaymentMethod `json:"method"`
	AmountMinor int64                `json:"amount_minor"`
	ExternalRef string               `json:"external_ref"`
}

// order returns the order the input asks for.
func (in *orderInput) order() *popkit.Order {
	o := &popkit.Order{ID: in.ID, EventID: in.EventID, Channel: in.Channel, Delivery: in.Delivery,
		Payment: popkit.Payment{Method: in.Payment.Method, AmountMinor: in.Payment.AmountMinor, ExternalRef: in.Payment.ExternalRef}}
	if in.OccurredAt != nil {
		o.OccurredAt = *in.OccurredAt
	}
	o.Lines = make([]popkit.OrderLine, len(in.Lines))
	for i, l := range in.Lines {
		o.Lines[i] = popkit.OrderLine{SKUID: l.SKUID, Quantity: l.Quantity, UnitPriceMinor: l.UnitPriceMinor}
	}
	return o
}

// transitionInput is the body of POST /api/v1/orders/{id}/transitions.
type transitionInput struct {
	To     popkit.OrderStatus `json:"to"`
	Reason string             `json:"reason"`
}

// decodeOrder decodes and checks the body of an order request.
func decodeOrder(body []byte) (*orderInput, error) {
	var in orderInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	if in.OccurredAt != nil && in.OccurredAt.IsZero() {
		// 0001-01-01T00:00:00Z is Go's zero time, which the domain reads
		// as "not given": refuse it here, as Validate refuses other years
		// out of range.
		return nil, popkit.InvalidField("occurred_at", popkit.OccurredAtRange)
	}
	return &in, nil
}

// decodeTransition decodes and checks the body of a transition request.
func decodeTransition(body []byte) (*transitionInput, error) {
	var in transitionInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	if in.To == "" {
		return nil, popkit.InvalidField("to", "is required")
	}
	return &in, popkit.ValidateTransition(in.To, in.Reason)
}

// createOrder stores an order: 201 for a new order, 200 when an order with
// the body's client-made id already exists (a retry of the same sale).
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := decodeOrder(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := useEvent(token(r), in.EventID); err != nil {
		s.writeError(w, r, err)
		return
	}
	o := in.order()
	// The answer is rendered once; with an Idempotency-Key the store keeps
	// it in the order's own transaction (idemRequiredInTx).
	respond := func(existed bool) (int, string, string, []byte, error) {
		body, err := json.Marshal(o)
		status := http.StatusCreated
		if existed {
			status = http.StatusOK
		}
		return status, "application/json", "/api/v1/orders/" + o.ID, append(body, '\n'), err
	}
	if iw := popkit.IdempotentWriteFrom(r.Context()); iw != nil {
		iw.Respond = respond
	}
	existed, err := s.Orders.CreateOrder(r.Context(), o)
	if errors.Is(err, popkit.ErrKeyClaimed) {
		return // answered by the idempotency middleware as a retry
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status, contentType, location, body, err := respond(existed)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// findOrder loads the order of the path, holding device tokens to their
// event.
func (s *Server) findOrder(r *http.Request) (*popkit.Order, error) {
	return load(r, "id", "order", s.Orders.FindOrderByID, func(t *popkit.Token, o *popkit.Order) error {
		return useEvent(t, o.EventID)
	})
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.findOrder(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, o)
}

func (s *Server) listOrders() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.OrderFilter, error) {
		status := q.str("status", func(v string) bool { return slices.Contains(popkit.OrderStatuses, popkit.OrderStatus(v)) }, "must be an order status")
		channel := q.str("channel", func(v string) bool { return slices.Contains(popkit.Channels, popkit.Channel(v)) }, "must be one of pos, same_day, next_day")
		event, err := scopeFilter(t, "event_id", q.id("event_id"))
		return popkit.OrderFilter{EventID: event, Status: popkit.OrderStatus(status), Channel: popkit.Channel(channel), Page: q.page()}, err
	}, func(ctx context.Context, f popkit.OrderFilter) ([]*popkit.Order, string, error) {
		return s.Orders.FindOrders(ctx, f)
	})
}

// transitionOrder moves an order to another status; the caller's token is
// stored as the actor.
func (s *Server) transitionOrder() http.HandlerFunc {
	return handleAction(s, s.findOrder, decodeTransition, func(r *http.Request, t *popkit.Token, in *transitionInput) (*popkit.Order, error) {
		return s.Orders.TransitionOrder(r.Context(), r.PathValue("id"), in.To, actorOf(t), in.Reason)
	})
}
