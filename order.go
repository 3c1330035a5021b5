package popkit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Channel is where an order was placed.
type Channel string

// Order channels.
const (
	ChannelPOS     Channel = "pos"      // rung up at a till in the store
	ChannelSameDay Channel = "same_day" // same-day delivery or pick-up
	ChannelNextDay Channel = "next_day" // next-day delivery
)

// Channels lists every channel.
var Channels = []Channel{ChannelPOS, ChannelSameDay, ChannelNextDay}

// OrderStatus is the state of an order.
type OrderStatus string

// Order statuses. An order starts confirmed; see OrderTransitions for the
// moves between them.
const (
	OrderConfirmed         OrderStatus = "confirmed"
	OrderFulfilled         OrderStatus = "fulfilled"
	OrderCompleted         OrderStatus = "completed"
	OrderCancelled         OrderStatus = "cancelled"
	OrderRefunded          OrderStatus = "refunded"
	OrderPartiallyRefunded OrderStatus = "partially_refunded"
	OrderRequiresAction    OrderStatus = "requires_action"
)

// OrderStatuses lists every order status.
var OrderStatuses = []OrderStatus{OrderConfirmed, OrderFulfilled, OrderCompleted, OrderCancelled, OrderRefunded, OrderPartiallyRefunded, OrderRequiresAction}

// OrderTransitions lists, for each status, the statuses an order may move
// to. Any other move is ECONFLICT.
//
// Stock follows the status: confirmed and requires_action orders hold a
// reservation of their lines (reserved += quantity); moving to fulfilled
// consumes it (on hand −= quantity, reserved −= quantity: the goods left);
// moving to cancelled releases it (reserved −= quantity). Refunds do not
// restock: returned goods are counted back with a stock adjustment.
var OrderTransitions = map[OrderStatus][]OrderStatus{
	OrderConfirmed:         {OrderFulfilled, OrderCancelled, OrderRequiresAction},
	OrderRequiresAction:    {OrderConfirmed, OrderCancelled},
	OrderFulfilled:         {OrderCompleted, OrderRefunded, OrderPartiallyRefunded},
	OrderCompleted:         {OrderRefunded, OrderPartiallyRefunded},
	OrderPartiallyRefunded: {OrderRefunded},
}

// HoldsReservation reports whether an order in status s holds a stock
// reservation of its lines.
func (s OrderStatus) HoldsReservation() bool {
	return s == OrderConfirmed || s == OrderRequiresAction
}

// CanMoveTo reports whether an order may move from s to to.
func (s OrderStatus) CanMoveTo(to OrderStatus) bool {
	return slices.Contains(OrderTransitions[s], to)
}

// PaymentMethod is how an order was paid. popkit records payments; it does
// not process cards.
type PaymentMethod string

// Payment methods.
const (
	PaymentCash        PaymentMethod = "cash"
	PaymentCard        PaymentMethod = "card"
	PaymentCardOffline PaymentMethod = "card_offline" // taken by the till while offline
	PaymentExternal    PaymentMethod = "external"     // an external terminal; ExternalRef names the payment
)

// PaymentMethods lists every payment method.
var PaymentMethods = []PaymentMethod{PaymentCash, PaymentCard, PaymentCardOffline, PaymentExternal}

// Payment records how an order was paid.
type Payment struct {
	Method      PaymentMethod `json:"method"`
	AmountMinor int64         `json:"amount_minor"`
	ExternalRef string        `json:"external_ref,omitempty"`
}

// OrderLine is one SKU of an order.
type OrderLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int    `json:"quantity"`
	// UnitPriceMinor is the price at sale; it must equal the event's price
	// for the SKU (the item's override, else the SKU's list price).
	UnitPriceMinor int64 `json:"unit_price_minor"`
	// UnitCostMinor is the SKU's unit cost at sale, set by the store.
	UnitCostMinor int64 `json:"unit_cost_minor"`
}

// Order is a sale at (or for) one event.
type Order struct {
	// ID may be made by the client (a UUIDv7; every POS order carries one),
	// which makes the order idempotent by id; empty means the store makes one.
	ID         string      `json:"id"`
	EventID    string      `json:"event_id"`
	Channel    Channel     `json:"channel"`
	Status     OrderStatus `json:"status"`
	Lines      []OrderLine `json:"lines"`
	Payment    Payment     `json:"payment"`
	TotalMinor int64       `json:"total_minor"` // Σ quantity × unit price
	CostMinor  int64       `json:"cost_minor"`  // Σ quantity × unit cost
	// OccurredAt is the sale time on the till; zero means now.
	OccurredAt time.Time `json:"occurred_at"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Transitions is the order's history, oldest first; FindOrderByID fills
	// it, lists leave it empty.
	Transitions []OrderTransition `json:"transitions,omitempty"`
	// Delivery says where a same_day or next_day order goes; nil for pos.
	Delivery *Delivery `json:"delivery,omitempty"`
	// FulfilmentOrders summarises the nodes that make a same-day order.
	FulfilmentOrders []FulfilmentSummary `json:"fulfilment_orders,omitempty"`
	// RoutingReasons says why an order asked for same_day became next_day.
	RoutingReasons []RoutingReason `json:"routing_reasons,omitempty"`
}

// Delivery modes.
const (
	DeliveryToAddress = "delivery" // delivered to Lat/Lon
	DeliveryPickup    = "pickup"   // collected at PickupNodeID
)

// Delivery is where a same_day or next_day order goes: delivered to a
// point, or picked up at a fulfilment node.
type Delivery struct {
	Mode         string  `json:"mode"`
	Lat          float64 `json:"lat,omitempty"`
	Lon          float64 `json:"lon,omitempty"`
	PickupNodeID string  `json:"pickup_node_id,omitempty"`
}

// FulfilmentSummary is one fulfilment order of an order, in short.
type FulfilmentSummary struct {
	ID       string `json:"id"`
	NodeID   string `json:"node_id"`
	Status   string `json:"status"`
	BundleID string `json:"bundle_id,omitempty"`
}

// RoutingReason says why one node could not make an order same-day.
type RoutingReason struct {
	NodeID string `json:"node_id,omitempty"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// OrderTransition is one stored status change of an order.
type OrderTransition struct {
	From   OrderStatus `json:"from"`
	To     OrderStatus `json:"to"`
	Actor  string      `json:"actor"`
	Reason string      `json:"reason,omitempty"`
	At     time.Time   `json:"at"`
}

// Order limits.
const (
	MaxOrderLines    = 100
	MaxLineQuantity  = 100_000
	MaxUnitPrice     = 1_000_000_000 // minor units
	maxExternalRef   = 200
	maxReasonLength  = 500
	maxOrderInFuture = 5 * time.Minute
)

// MinOccurredAt is the earliest sale time an order may carry: an
// occurred_at before it (year 1, 1969, a till whose clock was never set)
// is refused rather than stored. The accepted range of occurred_at is
// MinOccurredAt up to five minutes after the server's clock; an order that
// gives none occurred when the server stores it.
var MinOccurredAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// OccurredAtRange is the validation message of an occurred_at out of range.
const OccurredAtRange = "must be from 2000-01-01T00:00:00Z up to 5 minutes from now"

// Validate checks an order as a client sent it, before the store compares
// it with the assortment. now bounds OccurredAt (a sale cannot be in the
// future beyond a small clock skew).
func (o *Order) Validate(now time.Time) error {
	var v Validation
	v.Check(o.ID == "" || ValidID(o.ID), "id", "must be a UUID (UUIDv7 recommended) or absent")
	v.Check(ValidID(o.EventID), "event_id", "must be an event id")
	v.Check(slices.Contains(Channels, o.Channel), "channel", "must be one of pos, same_day, next_day")
	total := checkLines(&v, "", o.Lines)
	p := o.Payment
	v.Check(slices.Contains(PaymentMethods, p.Method), "payment.method", "must be one of cash, card, card_offline, external")
	v.Check(p.AmountMinor == total, "payment.amount_minor", "must equal the order total %d", total)
	v.Check(len(p.ExternalRef) <= maxExternalRef, "payment.external_ref", "must be at most %d characters", maxExternalRef)
	v.Check(p.Method != PaymentExternal || strings.TrimSpace(p.ExternalRef) != "", "payment.external_ref", "is required for an external payment")
	if !o.OccurredAt.IsZero() {
		v.Check(!o.OccurredAt.Before(MinOccurredAt), "occurred_at", OccurredAtRange)
		v.Check(!o.OccurredAt.After(now.Add(maxOrderInFuture)), "occurred_at", "must not be in the future")
	}
	switch d := o.Delivery; {
	case o.Channel == ChannelPOS:
		v.Check(d == nil, "delivery", "is not used by pos orders")
	case d == nil:
		v.Check(!slices.Contains(Channels, o.Channel), "delivery", "is required for same_day and next_day orders")
	case d.Mode == DeliveryToAddress:
		v.Check(d.Lat >= -90 && d.Lat <= 90, "delivery.lat", "must be between -90 and 90")
		v.Check(d.Lon >= -180 && d.Lon <= 180, "delivery.lon", "must be between -180 and 180")
		v.Check(d.PickupNodeID == "", "delivery.pickup_node_id", "is used only for pickup")
	case d.Mode == DeliveryPickup:
		v.Check(ValidID(d.PickupNodeID), "delivery.pickup_node_id", "must be a node id")
		v.Check(d.Lat == 0 && d.Lon == 0, "delivery.lat", "is used only for delivery")
	default:
		v.Add("delivery.mode", "must be delivery or pickup")
	}
	return v.Err()
}

// checkLines checks the lines of an order or a sale, naming fields with
// prefix ("" or "sale."): 1 to MaxOrderLines lines of distinct SKUs, each
// with a quantity and a unit price in range. It returns the total of the
// lines that are in range.
func checkLines(v *Validation, prefix string, lines []OrderLine) (total int64) {
	v.Check(len(lines) >= 1 && len(lines) <= MaxOrderLines, prefix+"lines", "must hold 1 to %d lines", MaxOrderLines)
	seen := map[string]bool{}
	for i, l := range lines {
		f := fmt.Sprintf("%slines[%d].", prefix, i)
		switch {
		case !ValidID(l.SKUID):
			v.Add(f+"sku_id", "must be a SKU id")
		case seen[l.SKUID]:
			v.Add(f+"sku_id", "appears in more than one line")
		}
		seen[l.SKUID] = true
		okQty := l.Quantity >= 1 && l.Quantity <= MaxLineQuantity
		okPrice := l.UnitPriceMinor >= 0 && l.UnitPriceMinor <= MaxUnitPrice
		v.Check(okQty, f+"quantity", "must be between 1 and %d", MaxLineQuantity)
		v.Check(okPrice, f+"unit_price_minor", "must be between 0 and %d", MaxUnitPrice)
		if okQty && okPrice {
			total += int64(l.Quantity) * l.UnitPriceMinor
		}
	}
	return total
}

// SameRequest reports whether o, as a client sent it, asks for the same
// order as stored: same event, channel, lines and payment. A client id that
// is reused for another order is a conflict, not a retry.
func (o *Order) SameRequest(stored *Order) bool {
	if o.EventID != stored.EventID || o.Payment != stored.Payment || len(o.Lines) != len(stored.Lines) {
		return false
	}
	// A same-day order may have been stored as next_day by routing.
	if o.Channel != stored.Channel && (o.Channel != ChannelSameDay || stored.Channel != ChannelNextDay) {
		return false
	}
	if (o.Delivery == nil) != (stored.Delivery == nil) || o.Delivery != nil && *o.Delivery != *stored.Delivery {
		return false
	}
	for i, l := range o.Lines {
		s := stored.Lines[i]
		if l.SKUID != s.SKUID || l.Quantity != s.Quantity || l.UnitPriceMinor != s.UnitPriceMinor {
			return false
		}
	}
	return true
}

// ValidateTransition checks a requested transition's fields.
func ValidateTransition(to OrderStatus, reason string) error {
	var v Validation
	v.Check(slices.Contains(OrderStatuses, to), "to", "must be an order status")
	v.Check(len(reason) <= maxReasonLength, "reason", "must be at most %d characters", maxReasonLength)
	return v.Err()
}

// OrderFilter selects orders; empty fields match any.
type OrderFilter struct {
	EventID string
	Status  OrderStatus
	Channel Channel
	Page
}

// OrderService stores orders and the stock they reserve.
type OrderService interface {
	// CreateOrder validates o against the event's assortment and stores it
	// as confirmed, reserving the stock of every line in the same
	// transaction. It sets the ID (when empty), status, unit costs, totals
	// and times. When an order with o's client-made ID already exists and
	// asks for the same thing, CreateOrder copies the stored order into o
	// and reports existed, changing nothing. Returns EINVALID (fields named
	// lines[i].sku_id for a SKU not in the assortment, lines[i].unit_price_minor
	// for a price that disagrees with it), EUNPROCESSABLE when the event
	// (or the delivery's pick-up node) does not exist, ECONFLICT
	// "insufficient stock" naming the line, or when the ID is taken by a
	// different order. A same_day order is routed to fulfilment nodes in
	// the same transaction and reserves their stock; when no node can make
	// it, it is stored as next_day with RoutingReasons.
	CreateOrder(ctx context.Context, o *Order) (existed bool, err error)
	// FindOrderByID returns an order with its transitions. Returns ENOTFOUND.
	FindOrderByID(ctx context.Context, id string) (*Order, error)
	// FindOrders returns a page of orders, oldest id first, and the next
	// cursor. Returns EINVALID for a bad page.
	FindOrders(ctx context.Context, f OrderFilter) ([]*Order, string, error)
	// TransitionOrder moves an order to status to, storing the transition
	// with its time, actor and reason, and moves stock as OrderTransitions
	// documents. Returns ENOTFOUND, EINVALID, ECONFLICT for an illegal move.
	TransitionOrder(ctx context.Context, id string, to OrderStatus, actor, reason string) (*Order, error)
}
