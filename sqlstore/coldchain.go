package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.ColdChainService = (*DB)(nil)

const bindingCols = `id, node_id, cold_box, device_id, sensor, limit_c, min_minutes, created_at`

func scanBinding(s scanner) (*popkit.SensorBinding, error) {
	var b popkit.SensorBinding
	if err := s.Scan(&b.ID, &b.NodeID, &b.ColdBox, &b.DeviceID, &b.Sensor, &b.LimitC, &b.MinMinutes, scanTime(&b.CreatedAt)); err != nil {
		return nil, err
	}
	return &b, nil
}

// coldNodeExists returns ENOTFOUND when the node does not exist.
func coldNodeExists(ctx context.Context, tx *txn, id string) error {
	if !popkit.ValidID(id) {
		return notFound("node")
	}
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM nodes WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("node")
	} else if err != nil {
		return wrap("find node", err)
	}
	return nil
}

// CreateSensorBinding binds a device's temperature sensor to a node.
// Returns EINVALID, EUNPROCESSABLE when the node or device does not exist,
// ECONFLICT when the device's sensor is already bound.
func (db *DB) CreateSensorBinding(ctx context.Context, b *popkit.SensorBinding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := coldNodeExists(ctx, tx, b.NodeID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("node_id", "node")
	} else if err != nil {
		return err
	}
	if _, err := findDeviceByID(ctx, tx, b.DeviceID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("device_id", "device")
	} else if err != nil {
		return err
	}
	b.ID, b.CreatedAt = popkit.NewID(), tx.now
	if _, err := tx.exec(ctx, `INSERT INTO sensor_bindings (`+bindingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.NodeID, b.ColdBox, b.DeviceID, b.Sensor, b.LimitC, b.MinMinutes, tx.timeArg(b.CreatedAt)); err != nil {
		if isUniqueViolation(err) {
			return conflict("sensor", "sensor %s of this device is already bound", b.Sensor)
		}
		return wrap("insert sensor binding", err)
	}
	return tx.commit()
}

// FindSensorBindings returns a node's bindings in id order. Returns
// ENOTFOUND for an unknown node.
func (db *DB) FindSensorBindings(ctx context.Context, nodeID string) ([]*popkit.SensorBinding, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := coldNodeExists(ctx, tx, nodeID); err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `SELECT `+bindingCols+` FROM sensor_bindings WHERE node_id = ? ORDER BY id`, nodeID)
	if err != nil {
		return nil, wrap("find sensor bindings", err)
	}
	items, err := collect(rows, scanBinding)
	if err != nil {
		return nil, wrap("find sensor bindings", err)
	}
	return items, nil
}

// DeleteSensorBinding removes a binding of a node; its excursions stay.
// Returns ENOTFOUND.
func (db *DB) DeleteSensorBinding(ctx context.Context, nodeID, id string) error {
	if !popkit.ValidID(nodeID) || !popkit.ValidID(id) {
		return notFound("sensor binding")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	n, err := tx.execN(ctx, `DELETE FROM sensor_bindings WHERE id = ? AND node_id = ?`, id, nodeID)
	if err != nil {
		return wrap("delete sensor binding", err)
	}
	if n == 0 {
		return notFound("sensor binding")
	}
	return tx.commit()
}

const excursionCols = `id, binding_id, node_id, cold_box, device_id, sensor, limit_c, started_at, last_minute, ended_at,
	max_c, status, held_orders, resolution_action, resolution_note, resolution_actor, resolved_at, written_off_units,
	created_at, updated_at`

// excursionRow is an excursion with the columns detection needs.
type excursionRow struct {
	popkit.Excursion
	lastMinute time.Time // the last minute seen above the limit
}

func scanExcursion(s scanner) (*excursionRow, error) {
	var x excursionRow
	var action, note, actor string
	var resolvedAt *time.Time
	var written int64
	e := &x.Excursion
	if err := s.Scan(&e.ID, &e.BindingID, &e.NodeID, &e.ColdBox, &e.DeviceID, &e.Sensor, &e.LimitC,
		scanTime(&e.StartedAt), scanTime(&x.lastMinute), scanNullTime(&e.EndedAt), &e.MaxC, &e.Status, &e.HeldOrders,
		&action, &note, &actor, scanNullTime(&resolvedAt), &written, scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt)); err != nil {
		return nil, err
	}
	if action != "" {
		r := &popkit.Resolution{Action: popkit.ExcursionAction(action), Note: note, Actor: actor, WrittenOff: written}
		if resolvedAt != nil {
			r.At = *resolvedAt
		}
		e.Resolution = r
	}
	e.DurationMinutes = excursionMinutes(e.StartedAt, x.lastMinute, e.EndedAt)
	return &x, nil
}

func findExcursion(ctx context.Context, tx *txn, id string, lock bool) (*excursionRow, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("excursion")
	}
	q := `SELECT ` + excursionCols + ` FROM excursions WHERE id = ?`
	if lock && tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	x, err := scanExcursion(tx.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("excursion")
	} else if err != nil {
		return nil, wrap("find excursion", err)
	}
	return x, nil
}

// FindExcursionByID returns one excursion. Returns ENOTFOUND.
func (db *DB) FindExcursionByID(ctx context.Context, id string) (*popkit.Excursion, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	x, err := findExcursion(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	return &x.Excursion, nil
}

// FindExcursions returns a page of excursions in id order and the next
// cursor. Returns EINVALID for a bad page or status.
func (db *DB) FindExcursions(ctx context.Context, f popkit.ExcursionFilter) ([]*popkit.Excursion, string, error) {
	var w where
	if f.NodeID != "" {
		w.and("node_id = ?", f.NodeID)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, "", popkit.InvalidField("status", "must be active, ended or resolved")
		}
		w.and("status = ?", string(f.Status))
	}
	return findPage(ctx, db, "find excursions", f.Page, &w, excursionCols, "excursions",
		func(s scanner) (*popkit.Excursion, error) {
			x, err := scanExcursion(s)
			if err != nil {
				return nil, err
			}
			return &x.Excursion, nil
		}, func(e *popkit.Excursion) string { return e.ID })
}

// ActiveExcursionNodes returns the ids of nodes with an excursion that is
// unresolved or still above the limit (discarded while warm), in id order.
func (db *DB) ActiveExcursionNodes(ctx context.Context) ([]string, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return activeExcursionNodes(ctx, tx)
}

// activeExcursionNodes is ActiveExcursionNodes in tx, for routing.
func activeExcursionNodes(ctx context.Context, tx *txn) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT node_id FROM excursions WHERE status <> ? OR ended_at IS NULL ORDER BY node_id`,
		string(popkit.ExcursionResolved))
	if err != nil {
		return nil, wrap("find excursion nodes", err)
	}
	ids, err := collect(rows, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
	if err != nil {
		return nil, wrap("find excursion nodes", err)
	}
	return ids, nil
}
