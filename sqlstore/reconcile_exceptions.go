package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/popkit/popkit"
)

// insertException stores a new open exception and sets its ID, Status and
// CreatedAt. unitPrice is the sale line's unit price, which prices a
// refund of the shortfall; sale is the JSON of a sale that was not applied
// (unknown_sku), or nil.
func insertException(ctx context.Context, tx *txn, e *popkit.Exception, unitPrice int64, sale []byte) error {
	e.ID, e.Status, e.CreatedAt = popkit.NewID(), popkit.ExceptionOpen, tx.now
	var saleArg any
	if sale != nil {
		saleArg = string(sale)
	}
	if _, err := tx.exec(ctx, `INSERT INTO reconcile_exceptions (id, event_id, kind, sale_id, order_id, sku_id, brand_id, shortfall,
			unit_price_minor, detail, occurred_at, status, created_at, sale)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.EventID, string(e.Kind), e.SaleID, nullString(e.OrderID), e.SKUID, nullString(e.BrandID), e.Shortfall,
		unitPrice, cleanText(e.Detail, 1000), tx.timeArg(e.OccurredAt), string(e.Status), tx.timeArg(tx.now), saleArg); err != nil {
		return wrap("insert exception", err)
	}
	return nil
}

const exceptionCols = `id, event_id, kind, sale_id, order_id, sku_id, brand_id, shortfall, unit_price_minor, detail, occurred_at, status,
	resolution_kind, resolution_node_id, resolution_sku_id, resolution_quantity, refund_amount_minor, resolution_note, resolved_by, resolved_at,
	created_at, resolution_fulfilment_order_id`

// exceptionRow is a stored exception with the unit price of its line.
type exceptionRow struct {
	*popkit.Exception
	unitPrice int64
}

func scanExceptionRow(s scanner) (exceptionRow, error) {
	e := &popkit.Exception{}
	var kind, status string
	var orderID, brandID, rKind, rNode, rSKU, rNote, rBy, rFO sql.NullString
	var rQty, rAmount sql.NullInt64
	var rAt *time.Time
	var unitPrice int64
	if err := s.Scan(&e.ID, &e.EventID, &kind, &e.SaleID, &orderID, &e.SKUID, &brandID, &e.Shortfall, &unitPrice, &e.Detail,
		scanTime(&e.OccurredAt), &status, &rKind, &rNode, &rSKU, &rQty, &rAmount, &rNote, &rBy, scanNullTime(&rAt),
		scanTime(&e.CreatedAt), &rFO); err != nil {
		return exceptionRow{}, err
	}
	e.Kind, e.Status, e.OrderID, e.BrandID = popkit.ExceptionKind(kind), popkit.ExceptionStatus(status), orderID.String, brandID.String
	if rKind.Valid {
		r := &popkit.ExceptionResolution{Kind: popkit.ResolutionKind(rKind.String), NodeID: rNode.String, SKUID: rSKU.String,
			Quantity: int(rQty.Int64), AmountMinor: rAmount.Int64, Note: rNote.String, Actor: rBy.String, FulfilmentOrderID: rFO.String}
		if rAt != nil {
			r.At = *rAt
		}
		e.Resolution = r
	}
	return exceptionRow{Exception: e, unitPrice: unitPrice}, nil
}

func scanException(s scanner) (*popkit.Exception, error) {
	r, err := scanExceptionRow(s)
	return r.Exception, err
}

// FindExceptions returns a page of exceptions. See popkit.ReconcileService.
func (db *DB) FindExceptions(ctx context.Context, f popkit.ExceptionFilter) ([]*popkit.Exception, string, error) {
	var w where
	if f.EventID != "" {
		w.and("event_id = ?", f.EventID)
	}
	if f.BrandID != "" {
		w.and("brand_id = ?", f.BrandID)
	}
	if f.Status != "" {
		w.and("status = ?", string(f.Status))
	}
	if f.Kind != "" {
		w.and("kind = ?", string(f.Kind))
	}
	return findPage(ctx, db, "find exceptions", f.Page, &w, exceptionCols, "reconcile_exceptions", scanException,
		func(e *popkit.Exception) string { return e.ID })
}

// FindException returns one exception. Returns ENOTFOUND.
func (db *DB) FindException(ctx context.Context, id string) (*popkit.Exception, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := findException(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	return r.Exception, nil
}

func findException(ctx context.Context, tx *txn, id string, lock bool) (exceptionRow, error) {
	if !popkit.ValidID(id) {
		return exceptionRow{}, notFound("exception")
	}
	q := `SELECT ` + exceptionCols + ` FROM reconcile_exceptions WHERE id = ?`
	if lock && tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	r, err := scanExceptionRow(tx.queryRow(ctx, q, id))
	if errNoRows(err) {
		return exceptionRow{}, notFound("exception")
	} else if err != nil {
		return exceptionRow{}, wrap("find exception", err)
	}
	return r, nil
}

// ResolveException closes an open exception and applies the resolution's
// effect in one transaction. See popkit.ReconcileService.
func (db *DB) ResolveException(ctx context.Context, id string, r *popkit.ExceptionResolution) (*popkit.Exception, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	row, err := findException(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	e := row.Exception
	if e.Status != popkit.ExceptionOpen {
		return nil, conflict("kind", "the exception is already resolved")
	}
	if !r.Kind.Resolves(e.Kind) {
		switch e.Kind {
		case popkit.ExceptionOversell:
			return nil, popkit.InvalidField("kind", "an oversell is resolved by backorder, substitute or refund")
		case popkit.ExceptionUnknownSKU:
			return nil, popkit.InvalidField("kind", "an unknown_sku exception is resolved by apply or dismiss")
		}
		return nil, popkit.InvalidField("kind", "a %s exception can only be dismissed", e.Kind)
	}
	r.Actor, r.At, r.AmountMinor = cleanText(r.Actor, 200), tx.now, 0
	switch r.Kind {
	case popkit.ResolveApply:
		if err := applyKeptSale(ctx, tx, e, r); err != nil {
			return nil, err
		}
	case popkit.ResolveBackorder:
		if err := backorder(ctx, tx, e, r); err != nil {
			return nil, err
		}
	case popkit.ResolveSubstitute:
		if err := substitute(ctx, tx, e, r); err != nil {
			return nil, err
		}
	case popkit.ResolveRefund:
		r.AmountMinor = int64(e.Shortfall) * row.unitPrice
		if err := refund(ctx, tx, e, r); err != nil {
			return nil, err
		}
	}
	n, err := tx.execN(ctx, `UPDATE reconcile_exceptions SET status = ?, resolution_kind = ?, resolution_node_id = ?, resolution_sku_id = ?,
			resolution_quantity = ?, refund_amount_minor = ?, resolution_note = ?, resolved_by = ?, resolved_at = ?, resolution_fulfilment_order_id = ?
		WHERE id = ? AND status = ?`,
		string(popkit.ExceptionResolved), string(r.Kind), nullString(r.NodeID), nullString(r.SKUID), r.Quantity, r.AmountMinor,
		r.Note, r.Actor, tx.timeArg(tx.now), nullString(r.FulfilmentOrderID), id, string(popkit.ExceptionOpen))
	if err != nil {
		return nil, wrap("resolve exception", err)
	}
	if n == 0 {
		return nil, conflict("kind", "the exception is already resolved")
	}
	row, err = findException(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return row.Exception, nil
}

// applyKeptSale applies the sale an unknown_sku exception kept, now that
// its SKUs are in the assortment, and resolves the sale's other open
// unknown_sku exceptions as r. The sale is applied as if it had just been
// synced, at its own occurred_at; an oversell it causes opens its own
// exception. A sale that still cannot be applied changes nothing (409).
func applyKeptSale(ctx context.Context, tx *txn, e *popkit.Exception, r *popkit.ExceptionResolution) error {
	var kept sql.NullString
	if err := tx.queryRow(ctx, `SELECT sale FROM reconcile_exceptions WHERE id = ?`, e.ID).Scan(&kept); err != nil {
		return wrap("read kept sale", err)
	}
	if !kept.Valid {
		return conflict("kind", "this exception was raised before sales were kept with their exceptions: enter the sale by hand and dismiss it")
	}
	var s popkit.Sale
	if err := json.Unmarshal([]byte(kept.String), &s); err != nil {
		return wrap("read kept sale", err)
	}
	res, err := applySale(ctx, tx, &s)
	if err != nil {
		return err
	}
	if res.Status != popkit.RecordStored {
		// Whatever applySale wrote for the refusal is rolled back with
		// the transaction.
		return conflict("kind", "the sale cannot be applied yet: %s", res.Reason)
	}
	if _, err := tx.exec(ctx, `UPDATE reconcile_exceptions SET status = ?, resolution_kind = ?, resolution_note = ?, resolved_by = ?, resolved_at = ?
		WHERE event_id = ? AND sale_id = ? AND kind = ? AND status = ? AND id <> ?`,
		string(popkit.ExceptionResolved), string(r.Kind), r.Note, r.Actor, tx.timeArg(tx.now),
		e.EventID, e.SaleID, string(popkit.ExceptionUnknownSKU), string(popkit.ExceptionOpen), e.ID); err != nil {
		return wrap("resolve the sale's other exceptions", err)
	}
	if _, err := tx.exec(ctx, `UPDATE reconcile_exceptions SET order_id = ? WHERE event_id = ? AND sale_id = ? AND kind = ?`,
		s.ID, e.EventID, e.SaleID, string(popkit.ExceptionUnknownSKU)); err != nil {
		return wrap("link the sale's exceptions to its order", err)
	}
	return nil
}

// substitute hands out r.Quantity units of another SKU of the event: they
// leave its stock (only what is available: the goods must be there) and
// the ledger records them.
func substitute(ctx context.Context, tx *txn, e *popkit.Exception, r *popkit.ExceptionResolution) error {
	if r.SKUID == e.SKUID {
		return popkit.InvalidField("sku_id", "must be another SKU than the oversold one")
	}
	items, err := lockItems(ctx, tx, e.EventID, []string{r.SKUID})
	if err != nil {
		return err
	}
	it := items[r.SKUID]
	if it == nil {
		return missingRef("sku_id", "SKU in the event's assortment")
	}
	if it.stock-it.reserved < r.Quantity {
		return conflict("quantity", "insufficient stock of the substitute: %d available", max(it.stock-it.reserved, 0))
	}
	if _, err := tx.exec(ctx, `UPDATE assortment_items SET stock = stock - ?, updated_at = ? WHERE event_id = ? AND sku_id = ?`,
		r.Quantity, tx.timeArg(tx.now), e.EventID, r.SKUID); err != nil {
		return wrap("take substitute stock", err)
	}
	return insertMovement(ctx, tx, &popkit.StockMovement{EventID: e.EventID, SKUID: r.SKUID, Kind: popkit.MovementSubstitute,
		OccurredAt: tx.now, Quantity: r.Quantity, Delta: -r.Quantity, Ref: e.ID}, it.brandID)
}

// refund moves the exception's order to refunded when every refund of its
// exceptions, this one included, adds up to the order total, else to
// partially_refunded, storing the transition like TransitionOrder does.
func refund(ctx context.Context, tx *txn, e *popkit.Exception, r *popkit.ExceptionResolution) error {
	o, err := findOrder(ctx, tx, e.OrderID, false)
	if err != nil {
		return err
	}
	var before int64
	if err := tx.queryRow(ctx, `SELECT COALESCE(SUM(refund_amount_minor), 0) FROM reconcile_exceptions WHERE order_id = ? AND status = ?`,
		o.ID, string(popkit.ExceptionResolved)).Scan(&before); err != nil {
		return wrap("sum refunds", err)
	}
	to := popkit.OrderPartiallyRefunded
	if before+r.AmountMinor >= o.TotalMinor {
		to = popkit.OrderRefunded
	}
	if to == o.Status {
		return nil
	}
	reason := fmt.Sprintf("refund of %d short units of sku %s (exception %s)", e.Shortfall, e.SKUID, e.ID)
	return transitionOrder(ctx, tx, o.ID, to, r.Actor, reason)
}
