package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.ReconcileService = (*DB)(nil)

// Reconciliation (see popkit/reconcile.go for the rules) keeps a ledger of
// stock movements beside assortment_items.stock. Every sale, count and
// substitute writes one ledger row per SKU in the transaction that changes
// the stock, so the ledger and the stock cannot disagree. Rows of
// assortment_items are locked in SKU id order (FOR UPDATE on PostgreSQL;
// SQLite has one writer), the order CreateOrder reserves in, so that two
// devices' sales racing on the last units queue instead of deadlocking and
// never take more than is there.

// saleItem is an assortment item as a sale sees it.
type saleItem struct {
	brandID         string
	cost            int64
	stock, reserved int
}

// lockItems reads and, on PostgreSQL, locks the assortment items of skuIDs
// at an event, in SKU id order. SKUs not in the assortment are absent.
func lockItems(ctx context.Context, tx *txn, eventID string, skuIDs []string) (map[string]*saleItem, error) {
	in, args := tx.db.inList("a.sku_id", skuIDs)
	// The unit cost is the SKU's in the event's currency; a till sale of a
	// SKU without a price in it (which the till cannot show) costs 0.
	q := `SELECT a.sku_id, a.brand_id, COALESCE(sp.unit_cost_minor, 0), a.stock, a.reserved
		FROM ` + eventPriceFrom + ` WHERE a.event_id = ? AND ` + in + ` ORDER BY a.sku_id`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE OF a`
	}
	rows, err := tx.query(ctx, q, append([]any{eventID}, args...)...)
	if err != nil {
		return nil, wrap("lock assortment items", err)
	}
	defer rows.Close()
	items := make(map[string]*saleItem, len(skuIDs))
	for rows.Next() {
		var id string
		var it saleItem
		if err := rows.Scan(&id, &it.brandID, &it.cost, &it.stock, &it.reserved); err != nil {
			return nil, wrap("lock assortment items", err)
		}
		items[id] = &it
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("lock assortment items", err)
	}
	return items, nil
}

// ApplySale applies one sale in its own transaction. See
// popkit.ReconcileService.
func (db *DB) ApplySale(ctx context.Context, eventID string, s *popkit.Sale) (*popkit.SaleResult, error) {
	if err := s.Validate(eventID); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := applySale(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// applySale applies a validated sale in tx: the pos order, the stock taken
// line by line, the ledger rows and any exceptions.
func applySale(ctx context.Context, tx *txn, s *popkit.Sale) (*popkit.SaleResult, error) {
	o := s.Order()
	if res, done, err := existingSale(ctx, tx, o); done || err != nil {
		return res, err
	}
	skuIDs := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		skuIDs[i] = l.SKUID
	}
	items, err := lockItems(ctx, tx, o.EventID, skuIDs)
	if err != nil {
		return nil, err
	}
	res := &popkit.SaleResult{Status: popkit.RecordStored}
	var missing []string
	for i, l := range o.Lines {
		if items[l.SKUID] != nil {
			continue
		}
		missing = append(missing, fmt.Sprintf("lines[%d].sku_id", i))
		id, err := unknownSKU(ctx, tx, s, l)
		if err != nil {
			return nil, err
		}
		res.Exceptions = append(res.Exceptions, id)
	}
	if len(missing) > 0 {
		res.Status = popkit.RecordRejected
		res.Reason = "sale: " + strings.Join(missing, ", ") + ": not in the event's assortment (see the unknown_sku exceptions)"
		return res, nil
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		l.UnitCostMinor = items[l.SKUID].cost
		o.CostMinor += int64(l.Quantity) * l.UnitCostMinor
	}
	n, err := tx.execN(ctx, `INSERT INTO orders (id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref,
			total_minor, cost_minor, occurred_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		o.ID, o.EventID, string(o.Channel), string(o.Status), string(o.Payment.Method), o.Payment.AmountMinor, o.Payment.ExternalRef,
		o.TotalMinor, o.CostMinor, tx.timeArg(o.OccurredAt), tx.timeArg(tx.now), tx.timeArg(tx.now))
	if err != nil {
		return nil, wrap("insert sale order", err)
	}
	if n == 0 {
		// Another transaction stored the id after existingSale looked.
		res, _, err := existingSale(ctx, tx, o)
		return res, err
	}
	if err := insertLines(ctx, tx, o); err != nil {
		return nil, err
	}
	lines := slices.Clone(o.Lines)
	slices.SortFunc(lines, func(a, b popkit.OrderLine) int { return strings.Compare(a.SKUID, b.SKUID) })
	for _, l := range lines {
		id, err := takeStock(ctx, tx, o, l, items[l.SKUID])
		if err != nil {
			return nil, err
		}
		if id != "" {
			res.Exceptions = append(res.Exceptions, id)
		}
	}
	return res, nil
}

// existingSale handles a sale whose id is already an order: the same sale
// again (a duplicate, nothing changes) or another order (a conflict,
// recorded as an exception and rejected). done is false when the id is
// free.
func existingSale(ctx context.Context, tx *txn, o *popkit.Order) (res *popkit.SaleResult, done bool, err error) {
	stored, err := findOrder(ctx, tx, o.ID, false)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if stored.Channel == popkit.ChannelPOS && o.SameRequest(stored) && stored.OccurredAt.Equal(o.OccurredAt) {
		return &popkit.SaleResult{Status: popkit.RecordStored, Duplicate: true}, true, nil
	}
	rejected := func(exceptionID string) *popkit.SaleResult {
		return &popkit.SaleResult{Status: popkit.RecordRejected, Exceptions: []string{exceptionID},
			Reason: "sale.id: already used by a different order (see the sale_conflict exception)"}
	}
	// The same conflicting sale sent again (another stream, another
	// device's replay) points at the exception already raised for its id.
	var raised string
	err = tx.queryRow(ctx, `SELECT id FROM reconcile_exceptions WHERE event_id = ? AND kind = ? AND sale_id = ? ORDER BY id LIMIT 1`,
		o.EventID, string(popkit.ExceptionSaleConflict), o.ID).Scan(&raised)
	if err == nil {
		return rejected(raised), true, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, wrap("find sale conflict", err)
	}
	e := &popkit.Exception{EventID: o.EventID, Kind: popkit.ExceptionSaleConflict, SaleID: o.ID, OccurredAt: o.OccurredAt,
		Detail: fmt.Sprintf("sale %s has the id of a different order (event, lines, payment or time differ); the sale was not applied", o.ID)}
	if stored.EventID == o.EventID {
		e.OrderID = stored.ID
	}
	if err := insertException(ctx, tx, e, 0, nil); err != nil {
		return nil, false, err
	}
	return rejected(e.ID), true, nil
}

// unknownSKU opens the unknown_sku exception of a sale's line, keeping the
// sale so that resolving the exception can apply it later, and returns its
// id. The same sale sent again (another stream, the API) points at the
// exception already raised for that line.
func unknownSKU(ctx context.Context, tx *txn, s *popkit.Sale, l popkit.OrderLine) (string, error) {
	var raised string
	err := tx.queryRow(ctx, `SELECT id FROM reconcile_exceptions WHERE event_id = ? AND kind = ? AND sale_id = ? AND sku_id = ? ORDER BY id LIMIT 1`,
		s.EventID, string(popkit.ExceptionUnknownSKU), s.ID, l.SKUID).Scan(&raised)
	if err == nil {
		return raised, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", wrap("find unknown_sku exception", err)
	}
	sale, err := json.Marshal(s)
	if err != nil {
		return "", wrap("keep sale", err)
	}
	e := &popkit.Exception{EventID: s.EventID, Kind: popkit.ExceptionUnknownSKU, SaleID: s.ID, SKUID: l.SKUID,
		Shortfall: l.Quantity, OccurredAt: s.OccurredAt,
		Detail: fmt.Sprintf("sale %s (till %s) sold %d of sku %s, which is not in the event's assortment; the sale was not applied", s.ID, s.Till, l.Quantity, l.SKUID)}
	if err := insertException(ctx, tx, e, l.UnitPriceMinor, sale); err != nil {
		return "", err
	}
	return e.ID, nil
}

// takeStock applies one line of a sale to the stock: nothing when a count
// at or after the sale already saw it, else what is available, opening an
// oversell exception for the rest. It writes the ledger row and returns
// the exception's id, if any.
func takeStock(ctx context.Context, tx *txn, o *popkit.Order, l popkit.OrderLine, it *saleItem) (string, error) {
	counted, err := latestCount(ctx, tx, o.EventID, l.SKUID)
	if err != nil {
		return "", err
	}
	take := 0
	if counted == nil || o.OccurredAt.After(*counted) {
		take = min(l.Quantity, max(it.stock-it.reserved, 0))
	}
	if take > 0 {
		if _, err := tx.exec(ctx, `UPDATE assortment_items SET stock = stock - ?, updated_at = ? WHERE event_id = ? AND sku_id = ?`,
			take, tx.timeArg(tx.now), o.EventID, l.SKUID); err != nil {
			return "", wrap("take sale stock", err)
		}
		it.stock -= take
	}
	if err := insertMovement(ctx, tx, &popkit.StockMovement{EventID: o.EventID, SKUID: l.SKUID, Kind: popkit.MovementSale,
		OccurredAt: o.OccurredAt, Quantity: l.Quantity, Delta: -take, Ref: o.ID}, it.brandID); err != nil {
		return "", err
	}
	short := l.Quantity - take
	if counted != nil && !o.OccurredAt.After(*counted) || short == 0 {
		return "", nil
	}
	e := &popkit.Exception{EventID: o.EventID, Kind: popkit.ExceptionOversell, SaleID: o.ID, OrderID: o.ID, SKUID: l.SKUID,
		BrandID: it.brandID, Shortfall: short, OccurredAt: o.OccurredAt,
		Detail: fmt.Sprintf("sold %d, %d available: %d short", l.Quantity, take, short)}
	if err := insertException(ctx, tx, e, l.UnitPriceMinor, nil); err != nil {
		return "", err
	}
	return e.ID, nil
}

// latestCount returns the time of the latest applied count of a SKU at an
// event, or nil.
func latestCount(ctx context.Context, tx *txn, eventID, skuID string) (*time.Time, error) {
	var t *time.Time
	err := tx.queryRow(ctx, `SELECT MAX(occurred_at) FROM stock_movements WHERE event_id = ? AND sku_id = ? AND kind = ?`,
		eventID, skuID, string(popkit.MovementCount)).Scan(scanNullTime(&t))
	if err != nil {
		return nil, wrap("find latest count", err)
	}
	return t, nil
}

// insertMovement writes one ledger row.
func insertMovement(ctx context.Context, tx *txn, m *popkit.StockMovement, brandID string) error {
	m.ID, m.RecordedAt = popkit.NewID(), tx.now
	if _, err := tx.exec(ctx, `INSERT INTO stock_movements (id, event_id, sku_id, brand_id, kind, occurred_at, quantity, delta, ref, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.EventID, m.SKUID, brandID, string(m.Kind), tx.timeArg(m.OccurredAt),
		m.Quantity, m.Delta, m.Ref, tx.timeArg(tx.now)); err != nil {
		return wrap("insert stock movement", err)
	}
	return nil
}

// RecordStockCount stores a count and applies it as a checkpoint. See
// popkit.ReconcileService.
func (db *DB) RecordStockCount(ctx context.Context, c *popkit.StockCount) error {
	if err := c.Validate(db.now()); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, c.EventID); err != nil {
		return err
	}
	skuIDs := make([]string, len(c.Lines))
	for i, l := range c.Lines {
		skuIDs[i] = l.SKUID
	}
	items, err := lockItems(ctx, tx, c.EventID, skuIDs)
	if err != nil {
		return err
	}
	var v popkit.Validation
	for i, l := range c.Lines {
		v.Check(items[l.SKUID] != nil, fmt.Sprintf("lines[%d].sku_id", i), "is not in the event's assortment")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c.ID, c.CreatedAt = popkit.NewID(), tx.now
	c.CountedAt = c.CountedAt.UTC().Truncate(time.Microsecond)
	if _, err := tx.exec(ctx, `INSERT INTO stock_counts (id, event_id, counted_at, actor, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.EventID, tx.timeArg(c.CountedAt), c.Actor, tx.timeArg(tx.now)); err != nil {
		return wrap("insert stock count", err)
	}
	order := make([]int, len(c.Lines))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(c.Lines[a].SKUID, c.Lines[b].SKUID) })
	for _, i := range order {
		l := &c.Lines[i]
		if err := applyCount(ctx, tx, c, l, items[l.SKUID]); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO stock_count_lines (count_id, line_no, sku_id, quantity, on_hand, applied) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, i, l.SKUID, l.Quantity, l.OnHand, l.Applied); err != nil {
			return wrap("insert stock count line", err)
		}
	}
	return tx.commit()
}

// applyCount sets the stock of one counted SKU: the counted quantity less
// every unit known to have left after the count (never below what orders
// reserve), unless a later count already exists.
func applyCount(ctx context.Context, tx *txn, c *popkit.StockCount, l *popkit.StockCountLine, it *saleItem) error {
	latest, err := latestCount(ctx, tx, c.EventID, l.SKUID)
	if err != nil {
		return err
	}
	l.OnHand, l.Applied = it.stock, false
	delta := 0
	if latest == nil || c.CountedAt.After(*latest) {
		var out, booked int
		if err := tx.queryRow(ctx, `SELECT
				COALESCE((SELECT SUM(quantity) FROM stock_movements WHERE event_id = ? AND sku_id = ? AND kind IN (?, ?) AND occurred_at > ?), 0) +
				COALESCE((SELECT SUM(ol.quantity) FROM order_lines ol JOIN orders o ON o.id = ol.order_id
					JOIN order_transitions t ON t.order_id = o.id
					WHERE o.event_id = ? AND ol.sku_id = ? AND t.to_status = ? AND t.at > ?), 0),
				COALESCE((SELECT SUM(delta) FROM stock_movements WHERE event_id = ? AND sku_id = ? AND kind = ? AND occurred_at > ?), 0)`,
			c.EventID, l.SKUID, string(popkit.MovementSale), string(popkit.MovementSubstitute), tx.timeArg(c.CountedAt),
			c.EventID, l.SKUID, string(popkit.OrderFulfilled), tx.timeArg(c.CountedAt),
			c.EventID, l.SKUID, string(popkit.MovementAdjust), tx.timeArg(c.CountedAt)).Scan(&out, &booked); err != nil {
			return wrap("sum stock moves since count", err)
		}
		onHand := max(l.Quantity-out+booked, it.reserved)
		delta = onHand - it.stock
		if _, err := tx.exec(ctx, `UPDATE assortment_items SET stock = ?, updated_at = ? WHERE event_id = ? AND sku_id = ?`,
			onHand, tx.timeArg(tx.now), c.EventID, l.SKUID); err != nil {
			return wrap("apply stock count", err)
		}
		it.stock, l.OnHand, l.Applied = onHand, onHand, true
	}
	return insertMovement(ctx, tx, &popkit.StockMovement{EventID: c.EventID, SKUID: l.SKUID, Kind: popkit.MovementCount,
		OccurredAt: c.CountedAt, Quantity: l.Quantity, Delta: delta, Ref: c.ID}, it.brandID)
}

// FindStockMovements returns a page of an event's stock ledger. See
// popkit.ReconcileService.
func (db *DB) FindStockMovements(ctx context.Context, f popkit.MovementFilter) ([]*popkit.StockMovement, string, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	err = eventExists(ctx, tx, f.EventID)
	tx.Rollback()
	if err != nil {
		return nil, "", err
	}
	var w where
	w.and("event_id = ?", f.EventID)
	if f.SKUID != "" {
		w.and("sku_id = ?", f.SKUID)
	}
	if f.BrandID != "" {
		w.and("brand_id = ?", f.BrandID)
	}
	return findPage(ctx, db, "find stock movements", f.Page, &w, movementCols, "stock_movements", scanMovement,
		func(m *popkit.StockMovement) string { return m.ID })
}

const movementCols = `id, event_id, sku_id, kind, occurred_at, quantity, delta, ref, recorded_at`

func scanMovement(s scanner) (*popkit.StockMovement, error) {
	var m popkit.StockMovement
	var kind string
	err := s.Scan(&m.ID, &m.EventID, &m.SKUID, &kind, scanTime(&m.OccurredAt), &m.Quantity, &m.Delta, &m.Ref, scanTime(&m.RecordedAt))
	m.Kind = popkit.MovementKind(kind)
	return &m, err
}

// errNoRows reports whether err is sql.ErrNoRows.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
