package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/riverqueue/river"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// RerouteOrder routes part of a same-day order again, in one transaction.
// The fulfilment orders it takes are those of a confirmed order that no
// node is making: ones cancelled (a node refused, or its stock was
// discarded) and ones on hold before any node accepted them (on_hold from
// open), that were not re-routed before. Live open ones are left alone, so
// that a second run of the job finds nothing to do. Each is cancelled
// (releasing its node stock and leaving its bundle) and marked re-routed;
// their lines are routed with the same rules over every node that has no
// fulfilment order of this order yet (so the node that gave up is never
// chosen again). A same-day result makes new fulfilment orders; when no
// node can, the order moves to requires_action with the refusals as its
// routing_reasons. An order with nothing to re-route is left alone, so the
// job may run twice. See fulfil.Service.
func (db *DB) RerouteOrder(ctx context.Context, orderID, reason string) error {
	if !popkit.ValidID(orderID) {
		return notFound("order")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	o, err := findOrder(ctx, tx, orderID, false)
	if err != nil {
		return err
	}
	if o.Channel != popkit.ChannelSameDay || o.Status != popkit.OrderConfirmed || o.Delivery == nil {
		return nil
	}
	rows, err := tx.query(ctx, `SELECT id, node_id, status, held_from, rerouted FROM fulfilment_orders WHERE order_id = ? ORDER BY node_id, id`, orderID)
	if err != nil {
		return wrap("find fulfilment orders", err)
	}
	type foState struct {
		id, node, status, held string
		rerouted               bool
	}
	all, err := collect(rows, func(s scanner) (foState, error) {
		var x foState
		return x, s.Scan(&x.id, &x.node, &x.status, &x.held, &x.rerouted)
	})
	if err != nil {
		return wrap("find fulfilment orders", err)
	}
	exclude := map[string]bool{}
	var take []foState
	for _, x := range all {
		exclude[x.node] = true
		s := fulfil.State(x.status)
		if !x.rerouted && (s == fulfil.StateOnHold && fulfil.State(x.held) == fulfil.StateOpen || s == fulfil.StateCancelled) {
			take = append(take, x)
		}
	}
	if len(take) == 0 {
		return nil
	}
	why := strings.TrimSpace("re-routed: " + reason)
	var skus []string
	for _, x := range take {
		if fulfil.State(x.status) != fulfil.StateCancelled {
			if err := transitionFO(ctx, tx, x.id, fulfil.StateCancelled, systemActor, why, false); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE fulfilment_orders SET rerouted = ? WHERE id = ?`, true, x.id); err != nil {
			return wrap("mark re-routed", err)
		}
		fo, err := findFO(ctx, tx, x.id, false)
		if err != nil {
			return err
		}
		for _, l := range fo.Lines {
			skus = append(skus, l.SKUID)
		}
	}
	var idx []int
	for i, l := range o.Lines {
		if slices.Contains(skus, l.SKUID) {
			idx = append(idx, i)
		}
	}
	rt, err := route(ctx, tx, o, idx, exclude)
	if err != nil {
		return err
	}
	if rt.res.Outcome == fulfil.OutcomeSameDay {
		for _, a := range rt.res.Assignments {
			if _, err := insertFulfilmentOrder(ctx, tx, o.ID, rt, a); err != nil {
				return err
			}
		}
		return tx.commit()
	}
	reasons, err := json.Marshal(reasonsOf(rt.res))
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE orders SET routing_reasons = ? WHERE id = ?`, string(reasons), orderID); err != nil {
		return wrap("store routing reasons", err)
	}
	if err := transitionOrder(ctx, tx, orderID, popkit.OrderRequiresAction, systemActor, "no node can make it same-day after "+why); err != nil {
		return err
	}
	return tx.commit()
}

// enqueueReroute asks for an order to be routed again after a node gave up
// one of its fulfilment orders.
func enqueueReroute(ctx context.Context, tx *txn, orderID, reason string) error {
	return tx.enqueue(ctx, popkit.RerouteOrderArgs{OrderID: orderID, Reason: reason}, &river.InsertOpts{})
}
