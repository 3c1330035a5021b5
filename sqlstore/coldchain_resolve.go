package sqlstore

import (
	"context"
	"fmt"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// ResolveExcursion records what someone decided about the stock an
// excursion touched, in one transaction:
//
//   - release: every fulfilment order the excursion put on hold that is
//     still on hold goes back to the state it left (held_from).
//   - discard: every such order is cancelled (which gives back its
//     reservation of node stock and takes it out of its bundle), and a
//     reroute_order job is enqueued for its order. Then the node's perishable stock is written
//     off: for each perishable SKU, on_hand falls to reserved, the units
//     that orders outside the hold (already past the hold's reach, or not
//     perishable) still reserve; the difference is WrittenOff. Stock is
//     kept per node, not per cold box, so a cold box's excursion writes off
//     the node's perishable stock.
//
// Orders the excursion held that someone has since moved on (cancelled,
// or released by hand) are left alone. Returns ENOTFOUND, EINVALID,
// ECONFLICT when the excursion is already resolved, or for a release while
// the temperature is still above the limit (discard is allowed then).
func (db *DB) ResolveExcursion(ctx context.Context, id string, r popkit.Resolution) (*popkit.Excursion, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Actor == "" {
		return nil, popkit.InvalidField("actor", "is required")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	x, err := findExcursion(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	switch {
	case x.Status == popkit.ExcursionResolved:
		return nil, conflict("action", "the excursion is already resolved (%s)", x.Resolution.Action)
	case x.Status == popkit.ExcursionActive && r.Action == popkit.ActionRelease:
		return nil, conflict("action", "the temperature is still above the limit: release once the excursion has ended, or discard")
	}
	held, err := stillHeld(ctx, tx, x.ID)
	if err != nil {
		return nil, err
	}
	reason := fmt.Sprintf("cold-chain excursion %s %sd", x.ID, r.Action)
	if r.Note != "" {
		reason += ": " + r.Note
	}
	var written int64
	switch r.Action {
	case popkit.ActionRelease:
		for _, h := range held {
			if err := moveFulfilment(ctx, tx, heldOrder{id: h.id, orderID: h.orderID, from: fulfil.StateOnHold}, h.from, reason); err != nil {
				return nil, err
			}
		}
	case popkit.ActionDiscard:
		if written, err = discardHeld(ctx, tx, x.NodeID, held, reason); err != nil {
			return nil, err
		}
	}
	if _, err := tx.exec(ctx, `UPDATE excursions SET status = ?, resolution_action = ?, resolution_note = ?, resolution_actor = ?,
			resolved_at = ?, written_off_units = ?, updated_at = ? WHERE id = ?`,
		string(popkit.ExcursionResolved), string(r.Action), r.Note, r.Actor, tx.timeArg(tx.now), written, tx.timeArg(tx.now), x.ID); err != nil {
		return nil, wrap("resolve excursion", err)
	}
	if x, err = findExcursion(ctx, tx, id, false); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return &x.Excursion, nil
}

// stillHeld returns the orders excursion id held that are still on hold
// from the state it held them in; from is that state.
func stillHeld(ctx context.Context, tx *txn, id string) ([]heldOrder, error) {
	q := `SELECT f.id, f.order_id, h.held_from FROM excursion_holds h JOIN fulfilment_orders f ON f.id = h.fulfilment_order_id
		WHERE h.excursion_id = ? AND f.status = ? AND f.held_from = h.held_from ORDER BY f.id`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE OF f`
	}
	rows, err := tx.query(ctx, q, id, string(fulfil.StateOnHold))
	if err != nil {
		return nil, wrap("find held orders", err)
	}
	held, err := collect(rows, func(s scanner) (heldOrder, error) {
		var h heldOrder
		return h, s.Scan(&h.id, &h.orderID, &h.from)
	})
	if err != nil {
		return nil, wrap("find held orders", err)
	}
	return held, nil
}

// discardHeld cancels the held orders, enqueues a reroute of each of their orders, writes off the node's
// perishable stock and returns the units written off.
func discardHeld(ctx context.Context, tx *txn, nodeID string, held []heldOrder, reason string) (int64, error) {
	rerouted := map[string]bool{}
	for _, h := range held {
		if err := moveFulfilment(ctx, tx, heldOrder{id: h.id, orderID: h.orderID, from: fulfil.StateOnHold}, fulfil.StateCancelled, reason); err != nil {
			return 0, err
		}
		if !rerouted[h.orderID] {
			rerouted[h.orderID] = true
			if err := tx.enqueue(ctx, popkit.RerouteOrderArgs{OrderID: h.orderID, Reason: reason}, nil); err != nil {
				return 0, err
			}
		}
	}
	var written int64
	if err := tx.queryRow(ctx, `SELECT COALESCE(SUM(on_hand - reserved), 0) FROM node_stock
		WHERE node_id = ? AND sku_id IN (SELECT id FROM skus WHERE perishable = ?)`, nodeID, true).Scan(&written); err != nil {
		return 0, wrap("count perishable stock", err)
	}
	if _, err := tx.exec(ctx, `UPDATE node_stock SET on_hand = reserved, updated_at = ?
		WHERE node_id = ? AND on_hand > reserved AND sku_id IN (SELECT id FROM skus WHERE perishable = ?)`,
		tx.timeArg(tx.now), nodeID, true); err != nil {
		return 0, wrap("write off perishable stock", err)
	}
	return written, nil
}
