package popkit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Reconciliation of offline sales (issue 4, item 6).
//
// Every change of an event's stock on hand that reconciliation makes is a
// row of the stock ledger (StockMovement): sales are applied as
// subtractions in occurred_at order, never as overwrites, and a physical
// stock count is a checkpoint. The rules, per event and SKU:
//
//   - A sale takes what is available (stock − reserved; stock never goes
//     below zero nor below what confirmed orders reserve). The rest is the
//     shortfall: the goods have left the shop, so the sale is stored anyway
//     (a pos order in status fulfilled, at the till's unit prices, with the
//     SKU's unit cost) and an oversell Exception records the shortfall.
//   - A stock count at T sets on hand to the counted quantity minus every
//     unit that left after T and is already known (sales and substitutes
//     with occurred_at > T in the ledger, and orders that moved to fulfilled
//     after T), plus what was booked in or out by hand after T (adjust
//     rows: a delivery recorded while the count was still on its way). A
//     count older than the SKU's latest count is stored but moves nothing.
//   - A sale synced late whose occurred_at is at or before the SKU's latest
//     count is recorded (ledger delta 0) but does not move stock: the count
//     already saw it.
//   - A sale is idempotent by Sale.ID: the same sale again changes nothing.
//     The same id with other content is not applied: its uplink record is
//     stored as rejected with the reason, and a sale_conflict Exception
//     makes it visible.
//   - A sale with a line whose SKU is not in the event's assortment (or does
//     not exist) is not applied either: the record is stored as rejected
//     with the reason, and an unknown_sku Exception per such line makes it
//     visible. Nothing is lost: the raw record stays with the ingest records
//     and the exception keeps the sale. Once the SKUs are in the assortment,
//     resolving one of its exceptions with "apply" applies the sale by the
//     rules above, at its own occurred_at, and resolves its other
//     unknown_sku exceptions with it.

// MovementKind is why the stock on hand of an item changed.
type MovementKind string

// Stock movement kinds.
const (
	MovementSale       MovementKind = "sale"       // an offline sale; Quantity units left
	MovementCount      MovementKind = "count"      // a physical count checkpoint
	MovementSubstitute MovementKind = "substitute" // units handed out to resolve an oversell
	MovementAdjust     MovementKind = "adjust"     // stock booked in or out by hand; Quantity = Delta, signed
)

// StockMovement is one row of the stock ledger of an event.
type StockMovement struct {
	ID         string       `json:"id"`
	EventID    string       `json:"event_id"`
	SKUID      string       `json:"sku_id"`
	Kind       MovementKind `json:"kind"`
	OccurredAt time.Time    `json:"occurred_at"` // sale time, count time, or resolution time
	// Quantity is the units that physically left (sale, substitute), were
	// counted (count), or were booked in (+) or out (−) by hand (adjust).
	Quantity int `json:"quantity"`
	// Delta is the change applied to the stock on hand: smaller than
	// −Quantity's magnitude when a sale ran short, 0 when a count already
	// covered the sale or the count was stale.
	Delta      int       `json:"delta"`
	Ref        string    `json:"ref"` // the sale (order) id, count id or exception id
	RecordedAt time.Time `json:"recorded_at"`
}

// MovementFilter selects stock movements of one event, in id order.
type MovementFilter struct {
	EventID string
	SKUID   string
	BrandID string // the SKUs of one brand
	Page
}

// StockCountLine is one counted SKU.
type StockCountLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int    `json:"quantity"` // counted units on the shelf at CountedAt
	// Set by the store: OnHand is the stock on hand after the count, and
	// Applied is false for a count older than the SKU's latest one.
	OnHand  int  `json:"on_hand"`
	Applied bool `json:"applied"`
}

// StockCount is a physical count of some SKUs of an event at one instant.
type StockCount struct {
	ID        string           `json:"id"`
	EventID   string           `json:"event_id"`
	CountedAt time.Time        `json:"counted_at"`
	Lines     []StockCountLine `json:"lines"`
	Actor     string           `json:"actor"`
	CreatedAt time.Time        `json:"created_at"`
}

// Stock count limits.
const (
	MaxCountLines    = 1000
	MaxCountQuantity = 1_000_000_000
)

// Validate checks a stock count as a client sent it. now bounds CountedAt.
func (c *StockCount) Validate(now time.Time) error {
	var v Validation
	v.Check(ValidID(c.EventID), "event_id", "must be an event id")
	v.Check(!c.CountedAt.IsZero(), "counted_at", "is required")
	v.Check(c.CountedAt.IsZero() || !c.CountedAt.After(now.Add(maxOrderInFuture)), "counted_at", "must not be in the future")
	v.Check(c.CountedAt.IsZero() || c.CountedAt.After(minRollupMinute), "counted_at", "must be after 2000")
	v.Check(len(c.Lines) >= 1 && len(c.Lines) <= MaxCountLines, "lines", "must hold 1 to %d lines", MaxCountLines)
	seen := map[string]bool{}
	for i, l := range c.Lines {
		f := fmt.Sprintf("lines[%d].", i)
		switch {
		case !ValidID(l.SKUID):
			v.Add(f+"sku_id", "must be a SKU id")
		case seen[l.SKUID]:
			v.Add(f+"sku_id", "appears in more than one line")
		}
		seen[l.SKUID] = true
		v.Check(l.Quantity >= 0 && l.Quantity <= MaxCountQuantity, f+"quantity", "must be between 0 and %d", MaxCountQuantity)
	}
	v.Check(len(c.Actor) <= 200, "actor", "must be at most 200 characters")
	return v.Err()
}

// Validate checks a sale of a device bound to eventID as it arrives in the
// uplink. The unit prices are the till's and are kept as sent; the payment
// must equal their total. Field names are prefixed with "sale.".
func (s *Sale) Validate(eventID string) error {
	var v Validation
	v.Check(ValidID(s.ID), "sale.id", "must be a UUID (the till's UUIDv7)")
	v.Check(s.EventID == eventID, "sale.event_id", "must be the device's event")
	v.Check(ValidLabel(s.Till, 64), "sale.till", "must be 1 to 64 characters of [A-Za-z0-9._:-]")
	total := checkLines(&v, "sale.", s.Lines)
	for i, l := range s.Lines {
		v.Check(l.UnitCostMinor == 0, fmt.Sprintf("sale.lines[%d].unit_cost_minor", i), "is set by the server; leave it out")
	}
	p := s.Payment
	v.Check(slices.Contains(PaymentMethods, p.Method), "sale.payment.method", "must be one of cash, card, card_offline, external")
	v.Check(p.AmountMinor == total, "sale.payment.amount_minor", "must equal the sale total %d", total)
	v.Check(len(p.ExternalRef) <= maxExternalRef && utf8.ValidString(p.ExternalRef) && !strings.ContainsRune(p.ExternalRef, 0),
		"sale.payment.external_ref", "must be at most %d characters of UTF-8", maxExternalRef)
	v.Check(p.Method != PaymentExternal || strings.TrimSpace(p.ExternalRef) != "", "sale.payment.external_ref", "is required for an external payment")
	v.Check(s.OccurredAt.After(minRollupMinute) && s.OccurredAt.Before(maxRollupMinute), "sale.occurred_at", "must be between 2000 and 2100")
	return v.Err()
}

// SaleRecordStatus is RecordStatus for a record of kind sale: stored when
// its sale is valid for the device's event, else rejected with the reason.
func SaleRecordStatus(r *UplinkRecord, eventID string) (status, reason string) {
	if r.Sale == nil {
		return RecordRejected, "sale: is required for kind sale"
	}
	if err := r.Sale.Validate(eventID); err != nil {
		return RecordRejected, reasonOf(err)
	}
	return RecordStored, ""
}

// reasonOf words a validation error as one line naming its fields.
func reasonOf(err error) string {
	fields := ErrorFields(err)
	if len(fields) == 0 {
		return ErrorMessage(err)
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

// Order returns the pos order a sale becomes: fulfilled at once (the goods
// left with the customer), at the till's prices.
func (s *Sale) Order() *Order {
	o := &Order{ID: s.ID, EventID: s.EventID, Channel: ChannelPOS, Status: OrderFulfilled,
		Lines: slices.Clone(s.Lines), Payment: s.Payment, OccurredAt: s.OccurredAt.UTC().Truncate(time.Microsecond)}
	for _, l := range o.Lines {
		o.TotalMinor += int64(l.Quantity) * l.UnitPriceMinor
	}
	return o
}

// ExceptionKind is what a reconciliation exception is about.
type ExceptionKind string

// Exception kinds.
const (
	// ExceptionOversell: a sale took more units than were available;
	// Shortfall units of SKUID are owed to the customer of OrderID.
	ExceptionOversell ExceptionKind = "oversell"
	// ExceptionUnknownSKU: a sale named a SKU that is not in the event's
	// assortment; the sale was not applied (its record is rejected) until
	// the exception is resolved with ResolveApply.
	ExceptionUnknownSKU ExceptionKind = "unknown_sku"
	// ExceptionSaleConflict: a sale reused the id of a different order; it
	// was not applied (its record is rejected).
	ExceptionSaleConflict ExceptionKind = "sale_conflict"
)

// ExceptionKinds lists every exception kind.
var ExceptionKinds = []ExceptionKind{ExceptionOversell, ExceptionUnknownSKU, ExceptionSaleConflict}

// ExceptionStatus is open until someone resolves the exception.
type ExceptionStatus string

// Exception statuses.
const (
	ExceptionOpen     ExceptionStatus = "open"
	ExceptionResolved ExceptionStatus = "resolved"
)

// ResolutionKind is how an exception was resolved.
type ResolutionKind string

// Resolution kinds. Backorder, substitute and refund resolve oversells;
// apply resolves an unknown SKU; dismiss closes unknown_sku and
// sale_conflict exceptions after someone has dealt with the sale by hand
// (the note says how).
const (
	ResolveBackorder  ResolutionKind = "backorder"  // the short units ship from fulfilment node NodeID (a fulfilment order there)
	ResolveSubstitute ResolutionKind = "substitute" // Quantity units of another SKU of the event, taken from its stock
	ResolveRefund     ResolutionKind = "refund"     // the short units are refunded; the order moves to (partially_)refunded
	ResolveDismiss    ResolutionKind = "dismiss"    // unknown_sku and sale_conflict only
	ResolveApply      ResolutionKind = "apply"      // unknown_sku only: the sale is applied, its SKUs now in the assortment
)

// ResolutionKinds lists every resolution kind.
var ResolutionKinds = []ResolutionKind{ResolveBackorder, ResolveSubstitute, ResolveRefund, ResolveDismiss, ResolveApply}

// Resolves reports whether a resolution of kind r can close an exception
// of kind k.
func (r ResolutionKind) Resolves(k ExceptionKind) bool {
	switch k {
	case ExceptionOversell:
		return r == ResolveBackorder || r == ResolveSubstitute || r == ResolveRefund
	case ExceptionUnknownSKU:
		return r == ResolveDismiss || r == ResolveApply
	default:
		return r == ResolveDismiss
	}
}

// ExceptionResolution is how an exception was closed.
type ExceptionResolution struct {
	Kind ResolutionKind `json:"kind"`
	// NodeID is the fulfilment node of a backorder; FulfilmentOrderID, set
	// by the store, is the fulfilment order there that ships the units.
	NodeID            string `json:"node_id,omitempty"`
	FulfilmentOrderID string `json:"fulfilment_order_id,omitempty"`
	// SKUID and Quantity are the substitute handed out.
	SKUID    string `json:"sku_id,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
	// AmountMinor is the refund, set by the store: shortfall × the line's
	// unit price.
	AmountMinor int64     `json:"amount_minor,omitempty"`
	Note        string    `json:"note,omitempty"`
	Actor       string    `json:"actor"`
	At          time.Time `json:"at"`
}

// Validate checks a resolution as a client sent it (the store sets the
// amount, actor and time), naming every bad field.
func (r *ExceptionResolution) Validate() error {
	var v Validation
	v.Check(slices.Contains(ResolutionKinds, r.Kind), "kind", "must be one of backorder, substitute, refund, dismiss, apply")
	switch r.Kind {
	case ResolveBackorder:
		v.Check(ValidID(r.NodeID), "node_id", "must be a fulfilment node id")
	default:
		v.Check(r.NodeID == "", "node_id", "is only for a backorder")
	}
	switch r.Kind {
	case ResolveSubstitute:
		v.Check(ValidID(r.SKUID), "sku_id", "must be a SKU id")
		v.Check(r.Quantity >= 1 && r.Quantity <= MaxLineQuantity, "quantity", "must be between 1 and %d", MaxLineQuantity)
	default:
		v.Check(r.SKUID == "", "sku_id", "is only for a substitute")
		v.Check(r.Quantity == 0, "quantity", "is only for a substitute")
	}
	v.Check(r.AmountMinor == 0, "amount_minor", "is set by the server")
	v.Check(r.FulfilmentOrderID == "", "fulfilment_order_id", "is set by the server")
	v.Check(utf8.RuneCountInString(r.Note) <= maxReasonLength && utf8.ValidString(r.Note), "note", "must be at most %d characters", maxReasonLength)
	v.Check(r.Kind != ResolveDismiss || strings.TrimSpace(r.Note) != "", "note", "is required to dismiss an exception")
	return v.Err()
}

// Exception is something reconciliation could not settle alone.
type Exception struct {
	ID      string        `json:"id"`
	EventID string        `json:"event_id"`
	Kind    ExceptionKind `json:"kind"`
	// SaleID is the sale (and, when the sale was applied, the order) it
	// comes from; OrderID is set when the order exists.
	SaleID  string `json:"sale_id"`
	OrderID string `json:"order_id,omitempty"`
	SKUID   string `json:"sku_id,omitempty"`
	BrandID string `json:"brand_id,omitempty"` // the SKU's brand, when known
	// Shortfall is the units sold but not available (oversell), or the
	// units of the unknown SKU.
	Shortfall  int                  `json:"shortfall"`
	Detail     string               `json:"detail"`
	OccurredAt time.Time            `json:"occurred_at"` // the sale's time
	Status     ExceptionStatus      `json:"status"`
	Resolution *ExceptionResolution `json:"resolution,omitempty"`
	CreatedAt  time.Time            `json:"created_at"`
}

// ExceptionFilter selects exceptions, in id order; empty fields match any.
type ExceptionFilter struct {
	EventID string
	BrandID string
	Status  ExceptionStatus
	Kind    ExceptionKind
	Page
}

// SaleResult says what applying one sale did.
type SaleResult struct {
	// Status is RecordStored when the sale was applied or already had been
	// (Duplicate), RecordRejected (with Reason) when it was not.
	Status     string   `json:"status"`
	Reason     string   `json:"reason,omitempty"`
	Duplicate  bool     `json:"duplicate"`
	Exceptions []string `json:"exceptions,omitempty"` // ids of exceptions opened
}

// ReconcileService applies offline sales and stock counts to the stock of
// events and keeps the exceptions that need a person.
type ReconcileService interface {
	// ApplySale applies one sale of a device bound to eventID in its own
	// transaction (ingest applies sale records the same way inside the
	// ingest transaction). It never fails for want of stock. Returns
	// EINVALID when the sale fails Validate.
	ApplySale(ctx context.Context, eventID string, s *Sale) (*SaleResult, error)
	// RecordStockCount stores a count and applies it as a checkpoint; it
	// sets the count's ID, CreatedAt and each line's OnHand and Applied.
	// Returns EINVALID (lines[i].sku_id for a SKU not in the assortment),
	// ENOTFOUND when the event does not exist.
	RecordStockCount(ctx context.Context, c *StockCount) error
	// FindExceptions returns a page of exceptions and the next cursor.
	FindExceptions(ctx context.Context, f ExceptionFilter) ([]*Exception, string, error)
	// FindException returns one exception. Returns ENOTFOUND.
	FindException(ctx context.Context, id string) (*Exception, error)
	// ResolveException closes an open exception with r, applying its
	// effect in the same transaction: a substitute takes its units from
	// stock, a refund moves the order to partially_refunded or refunded.
	// It sets r's amount, actor and time. Returns ENOTFOUND, EINVALID
	// (also for a resolution that does not fit the exception's kind),
	// EUNPROCESSABLE for an unknown node (node_id) or a substitute SKU not
	// in the event's assortment (sku_id), ECONFLICT when the exception is
	// already resolved, the substitute's stock is insufficient, or the
	// order cannot move to the refund status.
	ResolveException(ctx context.Context, id string, r *ExceptionResolution) (*Exception, error)
	// FindStockMovements returns a page of an event's stock ledger.
	// Returns ENOTFOUND when the event does not exist.
	FindStockMovements(ctx context.Context, f MovementFilter) ([]*StockMovement, string, error)
}
