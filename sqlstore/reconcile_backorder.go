package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// backorder ships an oversell's short units from the fulfilment node
// r.NodeID: the node gets a fulfilment order for them (the sale's order,
// the exception's SKU and shortfall), which its staff or its partner move
// through the usual states to delivery or pick-up. The units come from the
// node's stock, reserved now, or are made there when the node produces the
// SKU and has too few. A perishable SKU needs a cold-chain node. When the
// order already has a fulfilment order at the node that is still open, the
// line joins it. An external node is told by webhook. It sets
// r.FulfilmentOrderID.
func backorder(ctx context.Context, tx *txn, e *popkit.Exception, r *popkit.ExceptionResolution) error {
	n, err := findNode(ctx, tx, r.NodeID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("node_id", "fulfilment node")
	} else if err != nil {
		return err
	}
	var perishable bool
	var weight int64
	if err := tx.queryRow(ctx, `SELECT perishable, weight_grams FROM skus WHERE id = ?`, e.SKUID).Scan(&perishable, &weight); err != nil {
		return wrap("find sku", err)
	}
	if perishable && !n.ColdChain {
		return &popkit.Error{Code: popkit.EUNPROCESSABLE,
			Message: fmt.Sprintf("node_id: node %s has no cold chain and sku %s is perishable", n.ID, e.SKUID),
			Fields:  []popkit.FieldError{{Field: "node_id", Message: "has no cold chain, and the SKU is perishable"}}}
	}
	qty := e.Shortfall
	// From stock when the node has the units, else made when it makes
	// the SKU: the rule routing follows (fulfil.Node.Supplies).
	k, err := tx.execN(ctx, `UPDATE node_stock SET reserved = reserved + ?, updated_at = ? WHERE node_id = ? AND sku_id = ? AND on_hand - reserved >= ?`,
		qty, tx.timeArg(tx.now), n.ID, e.SKUID, qty)
	if err != nil {
		return wrap("reserve node stock", err)
	}
	made := k == 0
	if made && !slices.Contains(n.Makes, e.SKUID) {
		return conflict("node_id", "node %s has fewer than %d of sku %s available and does not make it", n.ID, qty, e.SKUID)
	}

	line := fulfil.OrderLine{SKUID: e.SKUID, Quantity: qty, Made: made}
	foID, event, err := backorderFO(ctx, tx, e.OrderID, n.ID, line, perishable, weight*int64(qty))
	if err != nil {
		return err
	}
	r.FulfilmentOrderID = foID
	if !n.External {
		return nil
	}
	fo, err := findFO(ctx, tx, foID, false)
	if err != nil {
		return err
	}
	return tx.notifyNode(ctx, n.ID, event, fo)
}

// backorderFO adds line to the order's fulfilment order at the node: a new
// one, or the open one it already has there. It returns its id and the
// webhook event for it.
func backorderFO(ctx context.Context, tx *txn, orderID, nodeID string, line fulfil.OrderLine, perishable bool, weight int64) (string, string, error) {
	q := `SELECT id, status FROM fulfilment_orders WHERE order_id = ? AND node_id = ?`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	find := func() (id, status string, err error) {
		err = tx.queryRow(ctx, q, orderID, nodeID).Scan(&id, &status)
		return id, status, err
	}
	event := popkit.WebhookFulfilmentOrderUpdated
	foID, status, err := find()
	if errors.Is(err, sql.ErrNoRows) {
		id := popkit.NewID()
		k, ierr := tx.execN(ctx, `INSERT INTO fulfilment_orders (id, order_id, node_id, status, held_from, perishable, units, weight_grams, created_at, updated_at)
			VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?) ON CONFLICT (order_id, node_id) DO NOTHING`, id, orderID, nodeID, string(fulfil.StateOpen), perishable,
			line.Quantity, weight, tx.timeArg(tx.now), tx.timeArg(tx.now))
		switch {
		case ierr != nil:
			return "", "", wrap("insert fulfilment order", ierr)
		case k == 1:
			foID, event, err = id, popkit.WebhookFulfilmentOrderCreated, nil
		default:
			// A concurrent backorder of the same order at the node stored
			// it first: it is read again, locked.
			foID, status, err = find()
		}
	}
	if err != nil {
		return "", "", wrap("find fulfilment order", err)
	}
	if event == popkit.WebhookFulfilmentOrderUpdated {
		if fulfil.State(status) != fulfil.StateOpen {
			return "", "", conflict("node_id", "the order's fulfilment order %s at node %s is already %s: back the units order through another node", foID, nodeID, status)
		}
		var has int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM fulfilment_order_lines WHERE fulfilment_order_id = ? AND sku_id = ?`, foID, line.SKUID).Scan(&has); err != nil {
			return "", "", wrap("find fulfilment order line", err)
		}
		if has > 0 {
			return "", "", conflict("node_id", "the order's fulfilment order %s at node %s already ships sku %s: back the units order through another node", foID, nodeID, line.SKUID)
		}
		if _, err := tx.exec(ctx, `UPDATE fulfilment_orders SET units = units + ?, weight_grams = weight_grams + ?, perishable = perishable OR ?, updated_at = ? WHERE id = ?`,
			line.Quantity, weight, perishable, tx.timeArg(tx.now), foID); err != nil {
			return "", "", wrap("update fulfilment order", err)
		}
	}
	if _, err := tx.exec(ctx, `INSERT INTO fulfilment_order_lines (fulfilment_order_id, sku_id, quantity, made) VALUES (?, ?, ?, ?)`,
		foID, line.SKUID, line.Quantity, line.Made); err != nil {
		return "", "", wrap("insert fulfilment order line", err)
	}
	return foID, event, nil
}
