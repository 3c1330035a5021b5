package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Bundles: one per node and dispatch wave (the node's same-day cutoff of a
// local date). Fulfilment orders join the forming bundle when they are
// made and leave it when cancelled before the lock; each joins with one
// member row per brand of its lines. The bundle's cost is
//
//	node.cost_per_bundle_minor + node.cost_per_order_minor × fulfilment orders
//
// split between brands pro rata to units, then within a brand between its
// members, by largest remainder (fulfil.Bundle.Split), so the shares sum
// to the cost exactly. While a bundle forms, reads compute the cost and
// shares from the current members (so a leave re-splits them) and nothing
// is written per join; LockBundle writes them, with each fulfilment order's
// cost_share_minor (the sum of its member rows). After the lock members
// neither join nor leave: a fulfilment order cancelled then stays in the
// bundle with its share (the wave's cost is already incurred).

const bundleCols = `b.id, b.node_id, b.wave_cutoff, b.status, b.basis, b.cost_minor, b.locked_at, b.created_at, b.updated_at,
	n.cost_per_bundle_minor, n.cost_per_order_minor`

// bundleRow is a bundle with its node's costs.
type bundleRow struct {
	fulfil.BundleRecord
	perBundle, perOrder int64
}

func scanBundle(s scanner) (*bundleRow, error) {
	var b bundleRow
	var status, basis string
	if err := s.Scan(&b.ID, &b.NodeID, scanTime(&b.WaveCutoff), &status, &basis, &b.CostMinor, scanNullTime(&b.LockedAt),
		scanTime(&b.CreatedAt), scanTime(&b.UpdatedAt), &b.perBundle, &b.perOrder); err != nil {
		return nil, err
	}
	b.Status, b.Basis = fulfil.BundleState(status), fulfil.SplitBasis(basis)
	return &b, nil
}

const bundleFrom = `bundles b JOIN nodes n ON n.id = b.node_id`

func findBundle(ctx context.Context, tx *txn, id string) (*bundleRow, error) {
	b, err := scanBundle(tx.queryRow(ctx, `SELECT `+bundleCols+` FROM `+bundleFrom+` WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("bundle")
	} else if err != nil {
		return nil, wrap("find bundle", err)
	}
	if err := loadMembers(ctx, tx, []*bundleRow{b}); err != nil {
		return nil, err
	}
	return b, nil
}

// loadMembers fills the members of bundles and, for forming ones, their
// current cost and shares.
func loadMembers(ctx context.Context, tx *txn, bs []*bundleRow) error {
	if len(bs) == 0 {
		return nil
	}
	byID := make(map[string]*bundleRow, len(bs))
	ids := make([]string, len(bs))
	for i, b := range bs {
		byID[b.ID], ids[i] = b, b.ID
		b.Members = []fulfil.BundleMember{}
	}
	in, args := tx.db.inList("m.bundle_id", ids)
	rows, err := tx.query(ctx, `SELECT m.bundle_id, f.order_id, m.fulfilment_order_id, m.brand_id, m.units, m.weight_grams, m.share_minor
		FROM bundle_members m JOIN fulfilment_orders f ON f.id = m.fulfilment_order_id WHERE `+in+` ORDER BY m.bundle_id, m.fulfilment_order_id, m.brand_id`, args...)
	if err != nil {
		return wrap("find bundle members", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var m fulfil.BundleMember
		if err := rows.Scan(&id, &m.OrderID, &m.FulfilmentOrderID, &m.BrandID, &m.Units, &m.WeightGrams, &m.ShareMinor); err != nil {
			return wrap("find bundle members", err)
		}
		byID[id].Members = append(byID[id].Members, m)
	}
	if err := rows.Err(); err != nil {
		return wrap("find bundle members", err)
	}
	for _, b := range bs {
		if b.Status == fulfil.BundleForming {
			if err := b.split(); err != nil {
				return err
			}
		}
	}
	return nil
}

// split sets the bundle's cost from its node's costs and members, and the
// members' shares.
func (b *bundleRow) split() error {
	orders := map[string]bool{}
	fb := fulfil.Bundle{Basis: b.Basis, Members: make([]fulfil.Member, len(b.Members))}
	for i, m := range b.Members {
		orders[m.FulfilmentOrderID] = true
		fb.Members[i] = fulfil.Member{OrderID: m.FulfilmentOrderID, BrandID: m.BrandID, Units: m.Units, WeightGrams: m.WeightGrams}
	}
	b.CostMinor = 0
	if len(orders) > 0 {
		b.CostMinor = b.perBundle + b.perOrder*int64(len(orders))
	}
	fb.CostMinor = b.CostMinor
	if err := fb.Split(); err != nil {
		return err
	}
	for i := range b.Members {
		b.Members[i].ShareMinor = fb.Members[i].ShareMinor
	}
	return nil
}

// FindBundleByID returns a bundle. See fulfil.Service.
func (db *DB) FindBundleByID(ctx context.Context, id string) (*fulfil.BundleRecord, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("bundle")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	b, err := findBundle(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return &b.BundleRecord, nil
}

// FindBundles returns a page of bundles. See fulfil.Service.
func (db *DB) FindBundles(ctx context.Context, f fulfil.BundleFilter) ([]*fulfil.BundleRecord, string, error) {
	var w where
	if f.NodeID != "" {
		w.and("b.node_id = ?", f.NodeID)
	}
	if f.Status != "" {
		w.and("b.status = ?", string(f.Status))
	}
	bs, next, err := findPageThen(ctx, db, "find bundles", f.Page, &w, bundleCols, bundleFrom, "b.id", scanBundle,
		func(b *bundleRow) string { return b.ID }, loadMembers)
	if err != nil {
		return nil, "", err
	}
	out := make([]*fulfil.BundleRecord, len(bs))
	for i, b := range bs {
		out[i] = &b.BundleRecord
	}
	return out, next, nil
}

// LockBundle locks a forming bundle at its wave's cutoff. See
// fulfil.Service. A bundle whose members all left stays forming (there is
// nothing to lock); locking before the cutoff is ECONFLICT.
func (db *DB) LockBundle(ctx context.Context, bundleID string) error {
	if !popkit.ValidID(bundleID) {
		return notFound("bundle")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := lockBundle(ctx, tx, bundleID, false); err != nil {
		return err
	}
	return tx.commit()
}

// lockBundle locks a bundle; when strict, a bundle that is not forming or
// is empty is ECONFLICT, otherwise nothing happens.
func lockBundle(ctx context.Context, tx *txn, id string, strict bool) (*bundleRow, error) {
	if tx.db.dialect == DialectPostgres {
		// Wait for joins and leaves in flight (they hold the row FOR SHARE).
		if _, err := tx.exec(ctx, `SELECT 1 FROM bundles WHERE id = ? FOR UPDATE`, id); err != nil {
			return nil, wrap("lock bundle", err)
		}
	}
	b, err := findBundle(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if b.Status != fulfil.BundleForming || len(b.Members) == 0 {
		if strict {
			fb := fulfil.Bundle{State: b.Status, WaveCutoff: b.WaveCutoff}
			return nil, fb.Advance(fulfil.BundleLocked, "x", tx.now)
		}
		return b, nil
	}
	if tx.now.Before(b.WaveCutoff) {
		return nil, conflict("to", "the bundle locks at its wave's cutoff %s", b.WaveCutoff.Format("2006-01-02T15:04:05Z07:00"))
	}
	k, err := tx.execN(ctx, `UPDATE bundles SET status = ?, cost_minor = ?, locked_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
		string(fulfil.BundleLocked), b.CostMinor, tx.timeArg(tx.now), tx.timeArg(tx.now), id, string(fulfil.BundleForming))
	if err != nil {
		return nil, wrap("lock bundle", err)
	}
	if k == 0 {
		return b, nil // locked concurrently
	}
	shares := map[string]int64{}
	for _, m := range b.Members {
		if _, err := tx.exec(ctx, `UPDATE bundle_members SET share_minor = ? WHERE bundle_id = ? AND fulfilment_order_id = ? AND brand_id = ?`,
			m.ShareMinor, id, m.FulfilmentOrderID, m.BrandID); err != nil {
			return nil, wrap("write bundle share", err)
		}
		shares[m.FulfilmentOrderID] += m.ShareMinor
	}
	for fo, share := range shares {
		if _, err := tx.exec(ctx, `UPDATE fulfilment_orders SET cost_share_minor = ? WHERE id = ?`, share, fo); err != nil {
			return nil, wrap("write cost share", err)
		}
	}
	at := tx.now
	b.Status, b.LockedAt, b.UpdatedAt = fulfil.BundleLocked, &at, tx.now
	if err := notifyIfExternal(ctx, tx, b.NodeID, popkit.WebhookBundleLocked, &b.BundleRecord); err != nil {
		return nil, err
	}
	return b, nil
}

// TransitionBundle advances a bundle. See fulfil.Service.
func (db *DB) TransitionBundle(ctx context.Context, id string, to fulfil.BundleState, actor string) (*fulfil.BundleRecord, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("bundle")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if to == fulfil.BundleLocked {
		if _, err := lockBundle(ctx, tx, id, true); err != nil {
			return nil, err
		}
	} else {
		b, err := findBundle(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		fb := fulfil.Bundle{State: b.Status, WaveCutoff: b.WaveCutoff}
		if err := fb.Advance(to, actor, tx.now); err != nil {
			return nil, err
		}
		k, err := tx.execN(ctx, `UPDATE bundles SET status = ?, updated_at = ? WHERE id = ? AND status = ?`, string(to), tx.timeArg(tx.now), id, string(b.Status))
		if err != nil {
			return nil, wrap("update bundle", err)
		}
		if k == 0 {
			return nil, conflict("to", "the bundle changed concurrently; read it and retry")
		}
		if err := moveMembers(ctx, tx, id, to, actor); err != nil {
			return nil, err
		}
	}
	b, err := findBundle(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return &b.BundleRecord, tx.commit()
}

// moveMembers carries a bundle's move to its members' fulfilment orders,
// since a bundle is kitted and sent as one:
//   - kitting: members still open or accepted start kitting (open ones are
//     accepted first);
//   - dispatched: every member must be ready, or done with (cancelled,
//     failed, delivered, picked up), else the dispatch is refused (409)
//     naming it; ready members going to an address leave
//     (out_for_delivery), pick-ups stay ready for collection;
//   - delivered: the members out for delivery are delivered, which
//     completes their orders.
//
// Each move goes through transitionFO, with its stock, order and webhook
// effects, as the bundle's actor. Members on hold are left alone by
// kitting and stop a dispatch.
func moveMembers(ctx context.Context, tx *txn, bundleID string, to fulfil.BundleState, actor string) error {
	rows, err := tx.query(ctx, `SELECT f.id, f.status, o.delivery_mode FROM fulfilment_orders f JOIN orders o ON o.id = f.order_id
		WHERE f.bundle_id = ? ORDER BY f.id`, bundleID)
	if err != nil {
		return wrap("find bundle members", err)
	}
	type member struct{ id, status, mode string }
	members, err := collect(rows, func(s scanner) (member, error) {
		var m member
		return m, s.Scan(&m.id, &m.status, &m.mode)
	})
	if err != nil {
		return wrap("find bundle members", err)
	}
	reason := "bundle " + bundleID + " " + string(to)
	for _, m := range members {
		var path []fulfil.State
		switch st := fulfil.State(m.status); to {
		case fulfil.BundleKitting:
			switch st {
			case fulfil.StateOpen:
				path = []fulfil.State{fulfil.StateAccepted, fulfil.StateKitting}
			case fulfil.StateAccepted:
				path = []fulfil.State{fulfil.StateKitting}
			}
		case fulfil.BundleDispatched:
			switch st {
			case fulfil.StateOpen, fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateOnHold:
				return conflict("to", "fulfilment order %s of the bundle is %s: mark it ready, or cancel it, before the bundle is dispatched", m.id, st)
			case fulfil.StateReady:
				if m.mode != popkit.DeliveryPickup {
					path = []fulfil.State{fulfil.StateOutForDelivery}
				}
			}
		case fulfil.BundleDelivered:
			if st == fulfil.StateOutForDelivery {
				path = []fulfil.State{fulfil.StateDelivered}
			}
		}
		for _, next := range path {
			if err := transitionFO(ctx, tx, m.id, next, actor, reason, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// forShare returns the row lock clause joins and leaves take on a bundle:
// FOR SHARE on PostgreSQL, nothing on SQLite (one writer at a time).
func (db *DB) forShare() string {
	if db.dialect == DialectPostgres {
		return ` FOR SHARE`
	}
	return ""
}

// leaveBundle takes a cancelled fulfilment order out of its bundle while
// the bundle forms and its cutoff has not passed; later it stays.
func leaveBundle(ctx context.Context, tx *txn, fo *fulfil.FulfilmentOrder) error {
	if fo.BundleID == "" {
		return nil
	}
	forming := func(lock string) (bool, error) {
		var status string
		var cutoff = fo.CreatedAt
		if err := tx.queryRow(ctx, `SELECT status, wave_cutoff FROM bundles WHERE id = ?`+lock, fo.BundleID).Scan(&status, scanTime(&cutoff)); err != nil {
			return false, wrap("find bundle", err)
		}
		return fulfil.BundleState(status) == fulfil.BundleForming && tx.now.Before(cutoff), nil
	}
	// A bundle past forming never forms again: it is read without a lock
	// first, so that leaving a locked bundle (a no-op) does not wait on,
	// or deadlock with, a bundle transition moving this very order. Only a
	// forming one is read again under the lock joins and leaves take.
	ok, err := forming("")
	if err == nil && ok && tx.db.dialect == DialectPostgres {
		ok, err = forming(tx.db.forShare())
	}
	if err != nil || !ok {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM bundle_members WHERE bundle_id = ? AND fulfilment_order_id = ?`, fo.BundleID, fo.ID); err != nil {
		return wrap("leave bundle", err)
	}
	if _, err := tx.exec(ctx, `UPDATE fulfilment_orders SET bundle_id = NULL, cost_share_minor = 0 WHERE id = ?`, fo.ID); err != nil {
		return wrap("leave bundle", err)
	}
	fo.BundleID = ""
	return nil
}
