package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Excursion detection runs inside the ingest transaction (Ingest calls
// detectExcursions with the batch's new rollups). A batch without
// temperature rollups costs one loop over its rollups and no query; one
// with them costs one lookup of the device's bindings, and per bound
// sensor one range read of its stored minutes around the batch's minutes
// and one of its excursions there.
//
// The window around the batch's minutes reaches MinMinutes back and
// forward: any run of at least MinMinutes over the limit that a new
// minute belongs to then shows at least MinMinutes of itself inside the
// window, and a run that reaches further back than the window has been
// seen (and opened) by the batch that completed it. See popkit's
// coldchain.go for the rules.

// minuteSpan is the first and last minute of a sensor's rollups in a batch.
type minuteSpan struct{ first, last time.Time }

// detectExcursions opens, extends and ends the excursions of the bound
// temperature sensors among recs, the new rollups of a batch of device dev.
func detectExcursions(ctx context.Context, tx *txn, dev *popkit.Device, recs []*popkit.IngestRecord) error {
	var spans map[string]minuteSpan
	for _, rec := range recs {
		r := rec.Rollup
		if r.Kind != popkit.RollupTemperature {
			continue
		}
		if spans == nil {
			spans = map[string]minuteSpan{}
		}
		s, ok := spans[r.Sensor]
		if !ok {
			s = minuteSpan{r.Minute, r.Minute}
		}
		if r.Minute.Before(s.first) {
			s.first = r.Minute
		}
		if r.Minute.After(s.last) {
			s.last = r.Minute
		}
		spans[r.Sensor] = s
	}
	if spans == nil {
		return nil
	}
	// On PostgreSQL the bindings stay locked until the transaction ends,
	// so that two batches of one sensor (on different streams) cannot both
	// open an excursion for one run; SQLite has one writer anyway.
	q := `SELECT ` + bindingCols + ` FROM sensor_bindings WHERE device_id = ? ORDER BY id`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	rows, err := tx.query(ctx, q, dev.ID)
	if err != nil {
		return wrap("find sensor bindings", err)
	}
	bindings, err := collect(rows, scanBinding)
	if err != nil {
		return wrap("find sensor bindings", err)
	}
	for _, b := range bindings {
		if s, ok := spans[b.Sensor]; ok {
			if err := detectBinding(ctx, tx, dev.EventID, b, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// tempRun is a run of consecutive stored minutes above a limit.
type tempRun struct {
	start, end time.Time  // first and last minute above the limit
	maxC       float64    // highest temp_max of the run
	endedAt    *time.Time // the stored minute right after end, back under the limit
}

// minutes returns the run's length in minutes.
func (r tempRun) minutes() int { return int(r.end.Sub(r.start)/time.Minute) + 1 }

// excursionMinutes is an excursion's duration: to its end, or while it
// lasts to the end of the last minute seen above the limit.
func excursionMinutes(start, last time.Time, ended *time.Time) int {
	if ended != nil {
		return int(ended.Sub(start) / time.Minute)
	}
	return int(last.Sub(start)/time.Minute) + 1
}

// detectBinding re-reads the stored minutes of one bound sensor in the
// window around span and applies its runs to the binding's excursions.
func detectBinding(ctx context.Context, tx *txn, eventID string, b *popkit.SensorBinding, span minuteSpan) error {
	reach := time.Duration(b.MinMinutes) * time.Minute
	from, to := span.first.Add(-reach), span.last.Add(reach)
	rows, err := tx.query(ctx, `SELECT minute, temp_max FROM telemetry_rollups
		WHERE event_id = ? AND kind = ? AND minute >= ? AND minute <= ? AND device_id = ? AND sensor = ? ORDER BY minute`,
		eventID, popkit.RollupTemperature, tx.timeArg(from), tx.timeArg(to), b.DeviceID, b.Sensor)
	if err != nil {
		return wrap("read temperature minutes", err)
	}
	var runs []tempRun
	var cur *tempRun
	var prev time.Time
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			var m time.Time
			var maxC float64
			if err := rows.Scan(scanTime(&m), &maxC); err != nil {
				return err
			}
			over := maxC > b.LimitC
			adjacent := cur != nil && m.Equal(prev.Add(time.Minute))
			switch {
			case over && adjacent:
				cur.end, cur.maxC = m, max(cur.maxC, maxC)
			case over:
				runs = append(runs, tempRun{start: m, end: m, maxC: maxC})
				cur = &runs[len(runs)-1]
			case adjacent:
				cur.endedAt = &m
				cur = nil
			default:
				cur = nil
			}
			prev = m
		}
		return rows.Err()
	}()
	if err != nil {
		return wrap("read temperature minutes", err)
	}
	if len(runs) == 0 {
		return nil
	}
	q := `SELECT ` + excursionCols + ` FROM excursions WHERE binding_id = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at`
	rows, err = tx.query(ctx, q, b.ID, tx.timeArg(to.Add(time.Minute)), tx.timeArg(from))
	if err != nil {
		return wrap("find excursions", err)
	}
	known, err := collect(rows, scanExcursion)
	if err != nil {
		return wrap("find excursions", err)
	}
	for _, run := range runs {
		x := runExcursion(known, run)
		switch {
		case x != nil:
			if err := extendExcursion(ctx, tx, x, run, to); err != nil {
				return err
			}
		case run.minutes() >= b.MinMinutes:
			x, err := openExcursion(ctx, tx, b, run, to)
			if err != nil {
				return err
			}
			known = append(known, x)
		}
	}
	return nil
}

// runExcursion returns the excursion a run belongs to: the one whose span
// (open-ended while it has not ended) it overlaps or directly follows.
func runExcursion(known []*excursionRow, run tempRun) *excursionRow {
	for _, x := range known {
		if run.end.Before(x.StartedAt.Add(-time.Minute)) {
			continue
		}
		if x.EndedAt != nil && run.start.After(*x.EndedAt) {
			continue
		}
		return x
	}
	return nil
}

// extendExcursion applies a run to the excursion it belongs to: it never
// shrinks, and its end follows the run that reaches its last minute. to is
// the window's last minute: a run that reaches it may go on beyond.
func extendExcursion(ctx context.Context, tx *txn, x *excursionRow, run tempRun, to time.Time) error {
	start, last := x.StartedAt, x.lastMinute
	if run.start.Before(start) {
		start = run.start
	}
	if run.end.After(last) {
		last = run.end
	}
	ended := x.EndedAt
	switch {
	case !run.end.Before(last) && run.end.Before(to):
		ended = run.endedAt // the minute after the run is in view
	case ended != nil && !run.end.Before(*ended):
		ended = nil // the run went past the old end and on out of view
	}
	status := x.Status
	if status != popkit.ExcursionResolved {
		status = popkit.ExcursionActive
		if ended != nil {
			status = popkit.ExcursionEnded
		}
	}
	maxC := max(x.MaxC, run.maxC)
	if start.Equal(x.StartedAt) && last.Equal(x.lastMinute) && sameTime(ended, x.EndedAt) && status == x.Status && maxC == x.MaxC {
		return nil // a duplicate or a correction that changes nothing
	}
	if _, err := tx.exec(ctx, `UPDATE excursions SET started_at = ?, last_minute = ?, ended_at = ?, max_c = ?, status = ?, updated_at = ?
		WHERE id = ?`, tx.timeArg(start), tx.timeArg(last), tx.nullTimeArg(ended), maxC, string(status), tx.timeArg(tx.now), x.ID); err != nil {
		return wrap("update excursion", err)
	}
	x.StartedAt, x.lastMinute, x.EndedAt, x.MaxC, x.Status = start, last, ended, maxC, status
	return nil
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// openExcursion stores a new excursion for a run and puts the node's
// perishable fulfilment orders that have not been dispatched on hold.
func openExcursion(ctx context.Context, tx *txn, b *popkit.SensorBinding, run tempRun, to time.Time) (*excursionRow, error) {
	x := &excursionRow{lastMinute: run.end}
	e := &x.Excursion
	e.ID, e.BindingID, e.NodeID, e.ColdBox, e.DeviceID, e.Sensor, e.LimitC = popkit.NewID(), b.ID, b.NodeID, b.ColdBox, b.DeviceID, b.Sensor, b.LimitC
	e.StartedAt, e.MaxC, e.Status = run.start, run.maxC, popkit.ExcursionActive
	if run.endedAt != nil && run.end.Before(to) {
		e.EndedAt, e.Status = run.endedAt, popkit.ExcursionEnded
	}
	e.CreatedAt, e.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO excursions (id, binding_id, node_id, cold_box, device_id, sensor, limit_c, started_at, last_minute,
			ended_at, max_c, status, held_orders, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		e.ID, e.BindingID, e.NodeID, e.ColdBox, e.DeviceID, e.Sensor, e.LimitC, tx.timeArg(e.StartedAt), tx.timeArg(run.end),
		tx.nullTimeArg(e.EndedAt), e.MaxC, string(e.Status), tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		return nil, wrap("insert excursion", err)
	}
	n, err := holdPerishable(ctx, tx, e)
	if err != nil {
		return nil, err
	}
	e.HeldOrders = n
	return x, nil
}

// heldOrder is a fulfilment order an excursion put on hold.
type heldOrder struct {
	id, orderID string
	from        fulfil.State
}

// holdPerishable puts the node's perishable fulfilment orders in a
// holdable state on hold, records each transition and the hold, and
// returns how many it held.
func holdPerishable(ctx context.Context, tx *txn, e *popkit.Excursion) (int, error) {
	q := `SELECT id, order_id, status FROM fulfilment_orders WHERE node_id = ? AND perishable = ? AND status IN (?, ?, ?, ?) ORDER BY id`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	rows, err := tx.query(ctx, q, e.NodeID, true,
		string(fulfil.StateOpen), string(fulfil.StateAccepted), string(fulfil.StateKitting), string(fulfil.StateReady))
	if err != nil {
		return 0, wrap("find perishable orders", err)
	}
	held, err := collect(rows, func(s scanner) (heldOrder, error) {
		var h heldOrder
		return h, s.Scan(&h.id, &h.orderID, &h.from)
	})
	if err != nil {
		return 0, wrap("find perishable orders", err)
	}
	reason := fmt.Sprintf("cold-chain excursion %s: %s above %.1f °C since %s", e.ID, e.Sensor, e.LimitC, e.StartedAt.Format(time.RFC3339))
	for _, h := range held {
		if err := moveFulfilment(ctx, tx, h, fulfil.StateOnHold, reason); err != nil {
			return 0, err
		}
		if _, err := tx.exec(ctx, `INSERT INTO excursion_holds (excursion_id, fulfilment_order_id, held_from) VALUES (?, ?, ?)`,
			e.ID, h.id, string(h.from)); err != nil {
			return 0, wrap("insert excursion hold", err)
		}
	}
	if _, err := tx.exec(ctx, `UPDATE excursions SET held_orders = ? WHERE id = ?`, len(held), e.ID); err != nil {
		return 0, wrap("update excursion", err)
	}
	return len(held), nil
}

// moveFulfilment moves a fulfilment order the cold chain holds, releases
// or cancels, through the fulfilment store's transitionFO (which checks
// fulfil.Legal, records the transition, gives back the stock of a
// cancelled order and tells an external node), and returns ECONFLICT when
// the order is no longer in h.from.
func moveFulfilment(ctx context.Context, tx *txn, h heldOrder, to fulfil.State, reason string) error {
	var status string
	if err := tx.queryRow(ctx, `SELECT status FROM fulfilment_orders WHERE id = ?`, h.id).Scan(&status); err != nil {
		return wrap("find fulfilment order", err)
	}
	if fulfil.State(status) != h.from {
		return popkit.Errorf(popkit.ECONFLICT, "fulfilment order %s changed concurrently", h.id)
	}
	return transitionFO(ctx, tx, h.id, to, popkit.ColdChainActor, reason, false)
}
