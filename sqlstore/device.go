package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/popkit/popkit"
)

var _ popkit.DeviceService = (*DB)(nil)

// FindDeviceByID returns one device. Returns ENOTFOUND.
func (db *DB) FindDeviceByID(ctx context.Context, id string) (*popkit.Device, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findDeviceByID(ctx, tx, id)
}

// FindDevices returns a page of devices, ordered by id, and the next
// cursor. Returns EINVALID for a bad page.
func (db *DB) FindDevices(ctx context.Context, f popkit.DeviceFilter) ([]*popkit.Device, string, error) {
	var w where
	if f.EventID != "" {
		w.and("event_id = ?", f.EventID)
	}
	return findPage(ctx, db, "find devices", f.Page, &w, deviceCols, "devices", scanDevice, func(x *popkit.Device) string { return x.ID })
}

// CreateDevice stores a new device. Returns EINVALID, EUNPROCESSABLE when
// the event does not exist.
func (db *DB) CreateDevice(ctx context.Context, d *popkit.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, d.EventID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("event_id", "event")
	} else if err != nil {
		return err
	}
	d.ID = popkit.NewID()
	d.CreatedAt, d.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, d.EventID, d.Name, tx.nullTimeArg(d.LastSeenAt), tx.timeArg(d.CreatedAt), tx.timeArg(d.UpdatedAt)); err != nil {
		return wrap("insert device", err)
	}
	return tx.commit()
}

// UpdateDevice changes a device. Returns ENOTFOUND, EINVALID.
func (db *DB) UpdateDevice(ctx context.Context, id string, u popkit.DeviceUpdate) (*popkit.Device, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, err := findDeviceByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		d.Name = *u.Name
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	d.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE devices SET name = ?, updated_at = ? WHERE id = ?`, d.Name, tx.timeArg(d.UpdatedAt), d.ID); err != nil {
		return nil, wrap("update device", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return d, nil
}

const deviceCols = `id, event_id, name, last_seen_at, created_at, updated_at`

func scanDevice(s scanner) (*popkit.Device, error) {
	var d popkit.Device
	if err := s.Scan(&d.ID, &d.EventID, &d.Name, scanNullTime(&d.LastSeenAt), scanTime(&d.CreatedAt), scanTime(&d.UpdatedAt)); err != nil {
		return nil, err
	}
	return &d, nil
}

func findDeviceByID(ctx context.Context, tx *txn, id string) (*popkit.Device, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("device")
	}
	d, err := scanDevice(tx.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("device")
	} else if err != nil {
		return nil, wrap("find device", err)
	}
	return d, nil
}
