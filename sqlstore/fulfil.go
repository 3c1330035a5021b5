package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Fulfilment orders move by fulfil.Transition's rules; each move is a
// conditional UPDATE on the status read (two concurrent moves cannot both
// apply) and a fulfilment_transitions row with its time and actor. Node
// stock follows the state: lines taken from stock are reserved at creation,
// consumed (on_hand and reserved − quantity) at out_for_delivery or
// picked_up, and released (reserved − quantity) at cancelled; made lines
// hold no stock. A failure after dispatch therefore holds nothing. When
// every fulfilment order of an order (but those re-routed away) is
// delivered or picked up, the order moves confirmed → fulfilled with actor
// "system:fulfilment".

// systemActor is the actor of moves popkit makes on its own.
const systemActor = "system:fulfilment"

const foCols = `id, order_id, node_id, status, held_from, perishable, units, weight_grams, COALESCE(bundle_id, ''), cost_share_minor, failure_reason, created_at, updated_at`

func scanFO(s scanner) (*fulfil.FulfilmentOrder, error) {
	var fo fulfil.FulfilmentOrder
	var status, held string
	if err := s.Scan(&fo.ID, &fo.OrderID, &fo.NodeID, &status, &held, &fo.Perishable, &fo.Units, &fo.WeightGrams, &fo.BundleID,
		&fo.CostShareMinor, &fo.FailureReason, scanTime(&fo.CreatedAt), scanTime(&fo.UpdatedAt)); err != nil {
		return nil, err
	}
	fo.Status, fo.HeldFrom = fulfil.State(status), fulfil.State(held)
	return &fo, nil
}

// FindFulfilmentOrderByID returns a fulfilment order. See fulfil.Service.
func (db *DB) FindFulfilmentOrderByID(ctx context.Context, id string) (*fulfil.FulfilmentOrder, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("fulfilment order")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findFO(ctx, tx, id, true)
}

func findFO(ctx context.Context, tx *txn, id string, history bool) (*fulfil.FulfilmentOrder, error) {
	fo, err := scanFO(tx.queryRow(ctx, `SELECT `+foCols+` FROM fulfilment_orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("fulfilment order")
	} else if err != nil {
		return nil, wrap("find fulfilment order", err)
	}
	if err := loadFOLines(ctx, tx, []*fulfil.FulfilmentOrder{fo}); err != nil {
		return nil, err
	}
	if !history {
		return fo, nil
	}
	fo.Transitions, err = readHistory(ctx, tx, "fulfilment_transitions", "fulfilment_order_id", id, func(from, to, actor, reason string, at time.Time) fulfil.Step {
		return fulfil.Step{From: fulfil.State(from), To: fulfil.State(to), Actor: actor, Reason: reason, At: at}
	})
	if err != nil {
		return nil, err
	}
	return fo, nil
}

func loadFOLines(ctx context.Context, tx *txn, fos []*fulfil.FulfilmentOrder) error {
	if len(fos) == 0 {
		return nil
	}
	byID := make(map[string]*fulfil.FulfilmentOrder, len(fos))
	ids := make([]string, len(fos))
	for i, fo := range fos {
		byID[fo.ID], ids[i] = fo, fo.ID
		fo.Lines = []fulfil.OrderLine{}
	}
	in, args := tx.db.inList("fulfilment_order_id", ids)
	rows, err := tx.query(ctx, `SELECT fulfilment_order_id, sku_id, quantity, made FROM fulfilment_order_lines WHERE `+in+` ORDER BY fulfilment_order_id, sku_id`, args...)
	if err != nil {
		return wrap("find fulfilment order lines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l fulfil.OrderLine
		if err := rows.Scan(&id, &l.SKUID, &l.Quantity, &l.Made); err != nil {
			return wrap("find fulfilment order lines", err)
		}
		byID[id].Lines = append(byID[id].Lines, l)
	}
	return wrap2("find fulfilment order lines", rows.Err())
}

// FindFulfilmentOrders returns a page of fulfilment orders. See
// fulfil.Service.
func (db *DB) FindFulfilmentOrders(ctx context.Context, f fulfil.OrderFilter) ([]*fulfil.FulfilmentOrder, string, error) {
	var w where
	if f.NodeID != "" {
		w.and("node_id = ?", f.NodeID)
	}
	if f.Status != "" {
		w.and("status = ?", string(f.Status))
	}
	if f.OrderID != "" {
		w.and("order_id = ?", f.OrderID)
	}
	return findPageThen(ctx, db, "find fulfilment orders", f.Page, &w, foCols, "fulfilment_orders", "id", scanFO,
		func(fo *fulfil.FulfilmentOrder) string { return fo.ID }, loadFOLines)
}

// fulfilmentSummaries returns the fulfilment orders of an order, in short.
func fulfilmentSummaries(ctx context.Context, tx *txn, orderID string) ([]popkit.FulfilmentSummary, error) {
	rows, err := tx.query(ctx, `SELECT id, node_id, status, COALESCE(bundle_id, '') FROM fulfilment_orders WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, wrap("find fulfilment orders", err)
	}
	out, err := collect(rows, func(s scanner) (popkit.FulfilmentSummary, error) {
		var f popkit.FulfilmentSummary
		return f, s.Scan(&f.ID, &f.NodeID, &f.Status, &f.BundleID)
	})
	if err != nil {
		return nil, wrap("find fulfilment orders", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// TransitionFulfilmentOrder moves a fulfilment order. See fulfil.Service.
func (db *DB) TransitionFulfilmentOrder(ctx context.Context, id string, to fulfil.State, actor, reason string) (*fulfil.FulfilmentOrder, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("fulfilment order")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := transitionFO(ctx, tx, id, to, actor, reason, true); err != nil {
		return nil, err
	}
	fo, err := findFO(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if to == fulfil.StateCancelled {
		// A node gave the order up: route it elsewhere (RerouteOrder).
		if err := enqueueReroute(ctx, tx, fo.OrderID, "fulfilment order "+id+" cancelled: "+reason); err != nil {
			return nil, err
		}
	}
	return fo, tx.commit()
}

// transitionFO moves a fulfilment order in tx with its stock, bundle and
// order effects. complete says whether a delivery may complete the order.
func transitionFO(ctx context.Context, tx *txn, id string, to fulfil.State, actor, reason string, complete bool) error {
	fo, err := findFO(ctx, tx, id, false)
	if err != nil {
		return err
	}
	from := fulfil.Status{State: fo.Status, HeldFrom: fo.HeldFrom}
	next, step, err := fulfil.Transition(from, to, actor, reason, tx.now)
	if err != nil {
		return err
	}
	failure := fo.FailureReason
	if to == fulfil.StateFailed {
		failure = reason
	}
	k, err := tx.execN(ctx, `UPDATE fulfilment_orders SET status = ?, held_from = ?, failure_reason = ?, updated_at = ? WHERE id = ? AND status = ?`,
		string(next.State), string(next.HeldFrom), failure, tx.timeArg(tx.now), id, string(fo.Status))
	if err != nil {
		return wrap("update fulfilment order", err)
	}
	if k == 0 {
		return conflict("to", "the fulfilment order changed concurrently; read it and retry")
	}
	if _, err := tx.exec(ctx, `INSERT INTO fulfilment_transitions (fulfilment_order_id, seq, from_status, to_status, actor, reason, at)
		VALUES (?, (SELECT COUNT(*) FROM fulfilment_transitions WHERE fulfilment_order_id = ?), ?, ?, ?, ?, ?)`,
		id, id, string(step.From), string(step.To), actor, reason, tx.timeArg(tx.now)); err != nil {
		return wrap("insert fulfilment transition", err)
	}
	switch to {
	case fulfil.StateOutForDelivery, fulfil.StatePickedUp:
		if err := moveNodeStock(ctx, tx, fo, true); err != nil {
			return err
		}
	case fulfil.StateCancelled:
		if err := moveNodeStock(ctx, tx, fo, false); err != nil {
			return err
		}
		if err := leaveBundle(ctx, tx, fo); err != nil {
			return err
		}
	}
	if complete && (to == fulfil.StateDelivered || to == fulfil.StatePickedUp) {
		if err := completeOrder(ctx, tx, fo.OrderID); err != nil {
			return err
		}
	}
	if to == fulfil.StateFailed {
		// The goods have left the node: staff decide what happens to the
		// order (cancel it, or confirm it again).
		if err := moveConfirmedOrder(ctx, tx, fo.OrderID, popkit.OrderRequiresAction, "fulfilment order "+id+" failed: "+reason); err != nil {
			return err
		}
	}
	fo.Status, fo.HeldFrom, fo.FailureReason, fo.UpdatedAt = next.State, next.HeldFrom, failure, tx.now
	if !strings.HasPrefix(actor, string(popkit.RoleFulfiller)+":") {
		// The node did not make this move itself: tell it.
		if err := notifyIfExternal(ctx, tx, fo.NodeID, popkit.WebhookFulfilmentOrderUpdated, fo); err != nil {
			return err
		}
	}
	return nil
}

// notifyIfExternal calls notifyNode when the node is external.
func notifyIfExternal(ctx context.Context, tx *txn, nodeID, event string, payload any) error {
	var external bool
	if err := tx.queryRow(ctx, `SELECT external FROM nodes WHERE id = ?`, nodeID).Scan(&external); err != nil {
		return wrap("find node", err)
	}
	if !external {
		return nil
	}
	return tx.notifyNode(ctx, nodeID, event, payload)
}

// moveNodeStock consumes (dispatch) or releases (cancel) the node stock a
// fulfilment order's stock lines reserve.
func moveNodeStock(ctx context.Context, tx *txn, fo *fulfil.FulfilmentOrder, consume bool) error {
	set := "on_hand"
	if consume {
		set = "on_hand - ?"
	}
	for _, l := range fo.Lines { // in SKU id order
		if l.Made {
			continue
		}
		var args []any
		if consume {
			args = append(args, l.Quantity)
		}
		args = append(args, l.Quantity, tx.timeArg(tx.now), fo.NodeID, l.SKUID, l.Quantity)
		k, err := tx.execN(ctx, `UPDATE node_stock SET on_hand = `+set+`, reserved = reserved - ?, updated_at = ? WHERE node_id = ? AND sku_id = ? AND reserved >= ?`, args...)
		if err != nil {
			return wrap("move node stock", err)
		}
		if k == 0 {
			return conflict("to", "the node's reservation of sku %s is gone", l.SKUID)
		}
	}
	return nil
}

// completeOrder moves a confirmed order to fulfilled when every fulfilment
// order that still counts is delivered or picked up.
func completeOrder(ctx context.Context, tx *txn, orderID string) error {
	var open int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM fulfilment_orders WHERE order_id = ? AND NOT rerouted AND status NOT IN ('delivered', 'picked_up')`,
		orderID).Scan(&open); err != nil {
		return wrap("count open fulfilment orders", err)
	}
	if open > 0 {
		return nil
	}
	return moveConfirmedOrder(ctx, tx, orderID, popkit.OrderFulfilled, "every fulfilment order delivered or picked up")
}

// moveConfirmedOrder moves an order to status to when it is confirmed,
// and leaves it alone otherwise.
func moveConfirmedOrder(ctx context.Context, tx *txn, orderID string, to popkit.OrderStatus, why string) error {
	var status string
	if err := tx.queryRow(ctx, `SELECT status FROM orders WHERE id = ?`, orderID).Scan(&status); err != nil {
		return wrap("find order", err)
	}
	if popkit.OrderStatus(status) != popkit.OrderConfirmed {
		return nil
	}
	return transitionOrder(ctx, tx, orderID, to, systemActor, why)
}

// cancelFulfilment cancels the open fulfilment orders of an order that is
// being cancelled. It refuses (ECONFLICT) when one is on its way or
// delivered; failed ones are left as they are.
func cancelFulfilment(ctx context.Context, tx *txn, orderID, actor, reason string) error {
	// In node order, the order CreateOrder locks node stock in (no deadlock).
	rows, err := tx.query(ctx, `SELECT id, status, held_from FROM fulfilment_orders WHERE order_id = ? ORDER BY node_id, id`, orderID)
	if err != nil {
		return wrap("find fulfilment orders", err)
	}
	type st struct{ id, status, held string }
	list, err := collect(rows, func(s scanner) (st, error) {
		var x st
		return x, s.Scan(&x.id, &x.status, &x.held)
	})
	if err != nil {
		return wrap("find fulfilment orders", err)
	}
	for _, x := range list {
		s := fulfil.State(x.status)
		if s == fulfil.StateCancelled || s == fulfil.StateFailed {
			continue // ended: a failed delivery leaves nothing to cancel
		}
		if !fulfil.Legal(fulfil.Status{State: s, HeldFrom: fulfil.State(x.held)}, fulfil.StateCancelled) {
			return conflict("to", "fulfilment order %s is %s: an order can be cancelled only before dispatch", x.id, s)
		}
		if err := transitionFO(ctx, tx, x.id, fulfil.StateCancelled, actor, reason, false); err != nil {
			return err
		}
	}
	return nil
}
