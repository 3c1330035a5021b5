package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

var _ fulfil.Service = (*DB)(nil)

// Nodes are stored one row each; opening hours and the SKUs a microfactory
// makes are JSON columns, read back with the node. A node's stock lives in
// node_stock (on_hand, reserved), never in the node row: Node.Stock is
// ignored on writes and left empty on reads (see NodeStock).

const nodeCols = `id, name, kind, lat, lon, service_radius_km, time_zone, opening_hours, same_day_cutoff, capacity_per_hour, capacity_per_day,
	cold_chain, makes, cost_per_order_minor, cost_per_bundle_minor, external, created_at, updated_at`

func scanNode(s scanner) (*fulfil.NodeRecord, error) {
	var n fulfil.NodeRecord
	var kind, hours, makes string
	if err := s.Scan(&n.ID, &n.Name, &kind, &n.Lat, &n.Lon, &n.ServiceRadiusKm, &n.TimeZone, &hours, &n.SameDayCutoff,
		&n.CapacityPerHour, &n.CapacityPerDay, &n.ColdChain, &makes, &n.CostPerOrderMinor, &n.CostPerBundleMinor, &n.External,
		scanTime(&n.CreatedAt), scanTime(&n.UpdatedAt)); err != nil {
		return nil, err
	}
	n.Kind = fulfil.Kind(kind)
	if err := json.Unmarshal([]byte(hours), &n.OpeningHours); err != nil {
		return nil, fmt.Errorf("node opening hours: %w", err)
	}
	if err := json.Unmarshal([]byte(makes), &n.Makes); err != nil {
		return nil, fmt.Errorf("node makes: %w", err)
	}
	if len(n.Makes) == 0 {
		n.Makes = nil
	}
	return &n, nil
}

// nodeArgs returns the stored columns of n after id, up to cost/external.
func nodeArgs(n *fulfil.NodeRecord) ([]any, error) {
	hours := n.OpeningHours
	if hours == nil {
		hours = []fulfil.Opening{}
	}
	h, err := json.Marshal(hours)
	if err != nil {
		return nil, fmt.Errorf("encode opening hours: %w", err)
	}
	makes := n.Makes
	if makes == nil {
		makes = []string{}
	}
	m, err := json.Marshal(makes)
	if err != nil {
		return nil, fmt.Errorf("encode makes: %w", err)
	}
	return []any{n.Name, string(n.Kind), n.Lat, n.Lon, n.ServiceRadiusKm, n.TimeZone, string(h), int(n.SameDayCutoff),
		n.CapacityPerHour, n.CapacityPerDay, n.ColdChain, string(m), n.CostPerOrderMinor, n.CostPerBundleMinor, n.External}, nil
}

// CreateNode stores a node. See fulfil.Service.
func (db *DB) CreateNode(ctx context.Context, n *fulfil.NodeRecord) error {
	if n.ID == "" {
		n.ID = popkit.NewID()
	}
	if n.OpeningHours == nil {
		n.OpeningHours = []fulfil.Opening{}
	}
	n.Stock = nil
	if err := n.Validate(); err != nil {
		return err
	}
	args, err := nodeArgs(n)
	if err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `INSERT INTO nodes (`+nodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(append([]any{n.ID}, args...), tx.timeArg(tx.now), tx.timeArg(tx.now))...); err != nil {
		if isUniqueViolation(err) {
			return taken("id")
		}
		return wrap("insert node", err)
	}
	if err := tx.commit(); err != nil {
		return err
	}
	n.CreatedAt, n.UpdatedAt = tx.now, tx.now
	return nil
}

// FindNodeByID returns a node. See fulfil.Service.
func (db *DB) FindNodeByID(ctx context.Context, id string) (*fulfil.NodeRecord, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("node")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findNode(ctx, tx, id)
}

func findNode(ctx context.Context, tx *txn, id string) (*fulfil.NodeRecord, error) {
	n, err := scanNode(tx.queryRow(ctx, `SELECT `+nodeCols+` FROM nodes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("node")
	} else if err != nil {
		return nil, wrap("find node", err)
	}
	return n, nil
}

// FindNodes returns a page of nodes. See fulfil.Service.
func (db *DB) FindNodes(ctx context.Context, f fulfil.NodeFilter) ([]*fulfil.NodeRecord, string, error) {
	var w where
	return findPage(ctx, db, "find nodes", f.Page, &w, nodeCols, "nodes", scanNode, func(n *fulfil.NodeRecord) string { return n.ID })
}

// UpdateNode replaces a node's fields. See fulfil.Service.
func (db *DB) UpdateNode(ctx context.Context, n *fulfil.NodeRecord) error {
	n.Stock = nil
	if err := n.Validate(); err != nil {
		return err
	}
	args, err := nodeArgs(n)
	if err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	k, err := tx.execN(ctx, `UPDATE nodes SET name = ?, kind = ?, lat = ?, lon = ?, service_radius_km = ?, time_zone = ?, opening_hours = ?,
		same_day_cutoff = ?, capacity_per_hour = ?, capacity_per_day = ?, cold_chain = ?, makes = ?, cost_per_order_minor = ?,
		cost_per_bundle_minor = ?, external = ?, updated_at = ? WHERE id = ?`, append(args, tx.timeArg(tx.now), n.ID)...)
	if err != nil {
		return wrap("update node", err)
	}
	if k == 0 {
		return notFound("node")
	}
	stored, err := findNode(ctx, tx, n.ID)
	if err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		return err
	}
	*n = *stored
	return nil
}

// maxStockLines bounds one SetNodeStock call.
const maxStockLines = 1000

// SetNodeStock sets on-hand quantities at a node. See fulfil.Service.
func (db *DB) SetNodeStock(ctx context.Context, nodeID string, lines []fulfil.StockLine) ([]fulfil.StockLine, error) {
	var v popkit.Validation
	v.Check(len(lines) >= 1 && len(lines) <= maxStockLines, "lines", "must hold 1 to %d lines", maxStockLines)
	seen := map[string]bool{}
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d].", i)
		v.Check(popkit.ValidID(l.SKUID) && !seen[l.SKUID], f+"sku_id", "must be a SKU id, once")
		v.Check(l.OnHand >= 0 && l.OnHand <= popkit.MaxLineQuantity*1000, f+"on_hand", "must be between 0 and %d", popkit.MaxLineQuantity*1000)
		seen[l.SKUID] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !popkit.ValidID(nodeID) {
		return nil, notFound("node")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := findNode(ctx, tx, nodeID); err != nil {
		return nil, err
	}
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b fulfil.StockLine) int { return compareStr(a.SKUID, b.SKUID) })
	for _, l := range sorted {
		i := slices.IndexFunc(lines, func(x fulfil.StockLine) bool { return x.SKUID == l.SKUID })
		// Insert, or update unless it would fall below what is reserved.
		k, err := tx.execN(ctx, `INSERT INTO node_stock (node_id, sku_id, on_hand, reserved, updated_at) VALUES (?, ?, ?, 0, ?)
			ON CONFLICT (node_id, sku_id) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at
			WHERE node_stock.reserved <= excluded.on_hand`, nodeID, l.SKUID, l.OnHand, tx.timeArg(tx.now))
		if isForeignKeyViolation(err) {
			return nil, missingRef(fmt.Sprintf("lines[%d].sku_id", i), "sku")
		} else if err != nil {
			return nil, wrap("set node stock", err)
		}
		if k == 0 {
			return nil, conflict(fmt.Sprintf("lines[%d].on_hand", i), "on hand for sku %s would fall below the units open fulfilment orders reserve", l.SKUID)
		}
	}
	out, err := nodeStock(ctx, tx, nodeID)
	if err != nil {
		return nil, err
	}
	return out, tx.commit()
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// NodeStock returns a node's stock. See fulfil.Service.
func (db *DB) NodeStock(ctx context.Context, nodeID string) ([]fulfil.StockLine, error) {
	if !popkit.ValidID(nodeID) {
		return nil, notFound("node")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := findNode(ctx, tx, nodeID); err != nil {
		return nil, err
	}
	return nodeStock(ctx, tx, nodeID)
}

func nodeStock(ctx context.Context, tx *txn, nodeID string) ([]fulfil.StockLine, error) {
	rows, err := tx.query(ctx, `SELECT sku_id, on_hand, reserved FROM node_stock WHERE node_id = ? ORDER BY sku_id`, nodeID)
	if err != nil {
		return nil, wrap("find node stock", err)
	}
	out, err := collect(rows, func(s scanner) (fulfil.StockLine, error) {
		var l fulfil.StockLine
		err := s.Scan(&l.SKUID, &l.OnHand, &l.Reserved)
		l.Available = l.OnHand - l.Reserved
		return l, err
	})
	if err != nil {
		return nil, wrap("find node stock", err)
	}
	return out, nil
}
