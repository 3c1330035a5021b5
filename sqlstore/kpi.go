package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/kpi"
)

var _ popkit.KPIService = (*DB)(nil)

// FindKPIs returns the KPI report of a filter, computed in one read
// transaction from the hourly aggregates of migration 0012 (kept by
// triggers as rollups and orders are written), the events' sessions and
// costs, same-day orders with their fulfilment orders, and check-ins.
// Returns EINVALID for a bad filter, ENOTFOUND for an unknown city or event
// (or an event the filter's brand takes no part in).
func (db *DB) FindKPIs(ctx context.Context, f popkit.KPIFilter) (*popkit.KPIReport, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	prog, err := findProgram(ctx, tx)
	if err != nil {
		return nil, err
	}
	events, err := kpiEvents(ctx, tx, &f)
	if err != nil {
		return nil, err
	}
	in := &kpi.Input{Filter: f, Currency: prog.Currency, Events: events}
	if in.Rates, err = kpiRates(ctx, tx, f.To); err != nil {
		return nil, err
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	// Always per hour: amounts are converted at the rate of their venue-local day.
	byEvent := false
	if in.Hours, err = kpiTelemetryHours(ctx, tx, ids, f, byEvent); err != nil {
		return nil, err
	}
	orders, err := kpiOrderHours(ctx, tx, ids, f, byEvent)
	if err != nil {
		return nil, err
	}
	in.Hours = append(in.Hours, orders...)
	sameDay, costs, err := kpiSameDay(ctx, tx, ids, f, byEvent)
	if err != nil {
		return nil, err
	}
	in.SameDay = sameDay
	in.Hours = append(in.Hours, costs...)
	if in.Members, err = kpiMemberRepeats(ctx, tx, ids, f); err != nil {
		return nil, err
	}
	if in.Uplift, err = kpiUplift(ctx, tx, events, f); err != nil {
		return nil, err
	}
	rows, total := kpi.Build(in)
	return &popkit.KPIReport{Scope: f.Scope, ID: f.ID, Group: f.Group, From: f.From, To: f.To, Currency: prog.Currency,
		Events: len(events), Rows: rows, Total: total}, nil
}

// kpiEvents returns the events of the filter's scope whose span overlaps
// its range, with their sessions, zones and city names.
func kpiEvents(ctx context.Context, tx *txn, f *popkit.KPIFilter) ([]*kpi.Event, error) {
	var w where
	switch f.Scope {
	case popkit.ScopeEvent:
		w.and("e.id = ?", f.ID)
	case popkit.ScopeCity:
		if _, err := findCityByID(ctx, tx, f.ID); err != nil {
			return nil, err
		}
		w.and("e.city_id = ?", f.ID)
	}
	if f.Scope != popkit.ScopeEvent {
		w.and("e.starts_at < ? AND e.ends_at > ?", tx.timeArg(f.To), tx.timeArg(f.From))
	}
	if f.BrandID != "" {
		w.and("e.id IN (SELECT event_id FROM event_brands WHERE brand_id = ?)", f.BrandID)
	}
	events, err := findEvents(ctx, tx, &w, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	if f.Scope == popkit.ScopeEvent && len(events) == 0 {
		return nil, notFound("event")
	}
	if err := loadEventDetails(ctx, tx, events); err != nil {
		return nil, err
	}
	cities := map[string]string{}
	rows, err := tx.query(ctx, `SELECT id, name FROM cities`)
	if err != nil {
		return nil, wrap("find cities", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, wrap("find cities", err)
		}
		cities[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find cities", err)
	}
	out := make([]*kpi.Event, 0, len(events))
	zones := map[string]*time.Location{}
	for _, e := range events {
		loc := zones[e.TimeZone]
		if loc == nil {
			if loc, err = time.LoadLocation(e.TimeZone); err != nil {
				return nil, fmt.Errorf("event %s: time zone %q: %w", e.ID, e.TimeZone, err)
			}
			zones[e.TimeZone] = loc
		}
		ke := &kpi.Event{ID: e.ID, Name: e.Name, CityID: e.CityID, CityName: cities[e.CityID],
			Currency: e.Currency, Loc: loc, Costs: e.Costs, HideCosts: f.BrandID != ""}
		for _, s := range e.Sessions {
			if !s.Cancelled {
				ke.Sessions = append(ke.Sessions, kpi.Span{Start: s.StartUTC, End: s.EndUTC})
			}
		}
		out = append(out, ke)
	}
	return out, nil
}

// hourRange returns the whole UTC hours (Unix seconds ÷ 3600) that
// [from, to) touches.
func hourRange(f popkit.KPIFilter) (from, to int64) {
	from = f.From.Unix() / 3600
	to = (f.To.Unix() + 3599) / 3600
	return from, to
}

// idChunks splits ids into lists short enough for one IN list.
func idChunks(ids []string) [][]string {
	const n = 5000
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// sumInt is SUM(expr) as a BIGINT, 0 over no rows.
func sumInt(expr string) string { return `CAST(COALESCE(SUM(` + expr + `), 0) AS BIGINT)` }

// sumReal is SUM(expr) as a double, 0 over no rows.
func sumReal(expr string) string { return `COALESCE(SUM(` + expr + `), 0)` }

// groupCols returns the hour column and GROUP BY of an hourly query: per
// event and hour, or per event over the whole range (hour -1).
func groupCols(byEvent bool, alias string) (hourCol, groupBy string) {
	if byEvent {
		return "-1", " GROUP BY " + alias + "event_id"
	}
	return alias + "hour", " GROUP BY " + alias + "event_id, " + alias + "hour"
}

// kpiTelemetryHours reads the telemetry aggregates of events, per hour or
// per event, counting footfall only at entrance sensors.
func kpiTelemetryHours(ctx context.Context, tx *txn, ids []string, f popkit.KPIFilter, byEvent bool) ([]kpi.Hour, error) {
	fromH, toH := hourRange(f)
	hourCol, groupBy := groupCols(byEvent, "h.")
	entrance := "COALESCE(sr.entrance, 1) <> 0"
	if tx.db.dialect == DialectPostgres {
		entrance = "COALESCE(sr.entrance, true)"
	}
	foot := func(col string) string {
		return sumInt(`CASE WHEN h.kind = 'footfall' AND ` + entrance + ` THEN h.` + col + ` ELSE 0 END`)
	}
	cols := strings.Join([]string{"h.event_id", hourCol, foot("in_count"), foot("in_open"),
		sumInt("h.queue_samples"), sumInt("h.queue_over_min"), sumReal("h.queue_p95_wsum"),
		sumInt("h.repeat_visitors"), sumInt("h.suppressed_min"), sumInt("h.dwell_stays"), sumInt("h.little_min"),
		sumReal("h.dwell_wsum"), sumReal("h.little_sum"), sumReal("h.kwh")}, ", ")
	var out []kpi.Hour
	for _, chunk := range idChunks(ids) {
		in, args := tx.db.inList("h.event_id", chunk)
		q := `SELECT ` + cols + ` FROM kpi_telemetry_hourly h
			LEFT JOIN sensor_roles sr ON sr.device_id = h.device_id AND sr.sensor = h.sensor
			WHERE ` + in + ` AND h.hour >= ? AND h.hour < ?` + groupBy
		rows, err := tx.query(ctx, q, append(args, fromH, toH)...)
		if err != nil {
			return nil, wrap("find telemetry aggregates", err)
		}
		for rows.Next() {
			var h kpi.Hour
			if err := rows.Scan(&h.EventID, &h.Hour, &h.Footfall, &h.Visitors, &h.QueueSamples, &h.QueueOverMin, &h.QueueP95WSum,
				&h.Repeat, &h.SuppressedMin, &h.DwellStays, &h.LittleMin, &h.DwellWSum, &h.LittleSum, &h.KWh); err != nil {
				rows.Close()
				return nil, wrap("scan telemetry aggregates", err)
			}
			out = append(out, h)
		}
		if err := closeRows(rows); err != nil {
			return nil, wrap("find telemetry aggregates", err)
		}
	}
	return out, nil
}

// kpiOrderHours reads the order aggregates of events, per hour or per
// event: every order, or for a brand its own SKUs' lines.
func kpiOrderHours(ctx context.Context, tx *txn, ids []string, f popkit.KPIFilter, byEvent bool) ([]kpi.Hour, error) {
	fromH, toH := hourRange(f)
	hourCol, groupBy := groupCols(byEvent, "s.")
	counted := `s.channel = 'pos' AND s.status NOT IN ('cancelled', 'refunded', 'partially_refunded')`
	table, count := `kpi_orders_hourly s`, "s.orders"
	var extra []any
	if f.BrandID != "" {
		table, count = `kpi_sku_sales_hourly s JOIN skus k ON k.id = s.sku_id AND k.brand_id = ?`, "s.lines"
		extra = []any{f.BrandID}
	}
	cols := strings.Join([]string{"s.event_id", hourCol,
		sumInt(`CASE WHEN ` + counted + ` THEN ` + count + ` ELSE 0 END`),
		sumInt(`CASE WHEN ` + counted + ` THEN s.total_minor ELSE 0 END`),
		sumInt(`CASE WHEN ` + counted + ` THEN s.cost_minor ELSE 0 END`),
		sumInt(`CASE WHEN s.status <> 'cancelled' THEN s.total_minor ELSE 0 END`),
		sumInt(`CASE WHEN s.status = 'refunded' THEN s.total_minor ELSE 0 END`),
		sumInt(`CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.cost_minor ELSE 0 END`)}, ", ")
	var out []kpi.Hour
	for _, chunk := range idChunks(ids) {
		in, args := tx.db.inList("s.event_id", chunk)
		q := `SELECT ` + cols + ` FROM ` + table + ` WHERE ` + in + ` AND s.hour >= ? AND s.hour < ?` + groupBy
		rows, err := tx.query(ctx, q, append(append(extra, args...), fromH, toH)...)
		if err != nil {
			return nil, wrap("find order aggregates", err)
		}
		for rows.Next() {
			var h kpi.Hour
			if err := rows.Scan(&h.EventID, &h.Hour, &h.Transactions, &h.POSRevenue, &h.POSCOGS, &h.Revenue, &h.Refunds, &h.COGS); err != nil {
				rows.Close()
				return nil, wrap("scan order aggregates", err)
			}
			out = append(out, h)
		}
		if err := closeRows(rows); err != nil {
			return nil, wrap("find order aggregates", err)
		}
	}
	return out, nil
}

// kpiSameDay reads the orders asked for same day placed in the range, with
// how far their fulfilment orders got, and the fulfilment cost (bundle
// shares) of every delivery order not cancelled, as hourly facts.
func kpiSameDay(ctx context.Context, tx *txn, ids []string, f popkit.KPIFilter, byEvent bool) ([]kpi.SameDayOrder, []kpi.Hour, error) {
	var orders []kpi.SameDayOrder
	var costs []kpi.Hour
	for _, chunk := range idChunks(ids) {
		in, args := tx.db.inList("o.event_id", chunk)
		q := `SELECT o.event_id, o.occurred_at, o.status, o.channel, o.routing_reasons,
				(SELECT COUNT(*) FROM fulfilment_orders fo WHERE fo.order_id = o.id AND fo.status <> 'cancelled'),
				(SELECT COUNT(*) FROM fulfilment_orders fo WHERE fo.order_id = o.id AND fo.status IN ('delivered', 'picked_up')),
				(SELECT MAX(t.at) FROM fulfilment_transitions t JOIN fulfilment_orders fo ON fo.id = t.fulfilment_order_id
					WHERE fo.order_id = o.id AND t.to_status IN ('delivered', 'picked_up')),
				(SELECT ` + sumInt("fo.cost_share_minor") + ` FROM fulfilment_orders fo WHERE fo.order_id = o.id)
			FROM orders o
			WHERE ` + in + ` AND o.channel IN ('same_day', 'next_day') AND o.occurred_at >= ? AND o.occurred_at < ?`
		rows, err := tx.query(ctx, q, append(args, tx.timeArg(f.From), tx.timeArg(f.To))...)
		if err != nil {
			return nil, nil, wrap("find same-day orders", err)
		}
		for rows.Next() {
			var o kpi.SameDayOrder
			var status, channel, reasons string
			var live, done, cost int64
			var doneAt *time.Time
			if err := rows.Scan(&o.EventID, scanTime(&o.PlacedAt), &status, &channel, &reasons, &live, &done, scanNullTime(&doneAt), &cost); err != nil {
				rows.Close()
				return nil, nil, wrap("scan same-day orders", err)
			}
			if status != string(popkit.OrderCancelled) {
				h := kpi.Hour{EventID: o.EventID, Hour: -1, FulfilmentCost: cost}
				if !byEvent {
					h.Hour = o.PlacedAt.Unix() / 3600
				}
				costs = append(costs, h)
			}
			rerouted := channel == string(popkit.ChannelNextDay) && reasons != "" && reasons != "[]" && reasons != "null"
			if channel == string(popkit.ChannelNextDay) && !rerouted {
				continue
			}
			o.Rerouted = rerouted
			o.Cancelled = status == string(popkit.OrderCancelled)
			o.DoneAt = doneAt
			o.Incomplete = live == 0 || done < live
			orders = append(orders, o)
		}
		if err := closeRows(rows); err != nil {
			return nil, nil, wrap("find same-day orders", err)
		}
	}
	return orders, costs, nil
}

// kpiMemberRepeats returns the check-ins at events in scope inside the
// range that repeat an earlier check-in of the same member within 30 days
// at another event or on another venue-local day.
func kpiMemberRepeats(ctx context.Context, tx *txn, ids []string, f popkit.KPIFilter) ([]kpi.MemberVisit, error) {
	inScope := map[string]bool{}
	for _, id := range ids {
		inScope[id] = true
	}
	var out []kpi.MemberVisit
	for _, chunk := range idChunks(ids) {
		in, args := tx.db.inList("event_id", chunk)
		q := `SELECT c.member_id, c.event_id, c.at, e.time_zone FROM checkins c JOIN events e ON e.id = c.event_id
			WHERE c.member_id IN (SELECT member_id FROM checkins WHERE ` + in + ` AND at >= ? AND at < ?)
				AND c.at >= ? AND c.at < ?
			ORDER BY c.member_id, c.at`
		args = append(args, tx.timeArg(f.From), tx.timeArg(f.To), tx.timeArg(f.From.Add(-popkit.KPIRepeatWindow)), tx.timeArg(f.To))
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return nil, wrap("find check-ins", err)
		}
		type visit struct {
			event, day string
			at         time.Time
		}
		var member string
		var seen []visit
		zones := map[string]*time.Location{}
		for rows.Next() {
			var m, ev, zone string
			var at time.Time
			if err := rows.Scan(&m, &ev, scanTime(&at), &zone); err != nil {
				rows.Close()
				return nil, wrap("scan check-ins", err)
			}
			if m != member {
				member, seen = m, seen[:0]
			}
			loc := zones[zone]
			if loc == nil {
				if loc, err = time.LoadLocation(zone); err != nil {
					loc = time.UTC
				}
				zones[zone] = loc
			}
			v := visit{event: ev, day: kpi.DayKey(at, loc), at: at}
			if inScope[ev] && !at.Before(f.From) {
				for _, p := range seen {
					if at.Sub(p.at) <= popkit.KPIRepeatWindow && (p.event != v.event || p.day != v.day) {
						out = append(out, kpi.MemberVisit{EventID: ev, MemberID: m, At: at})
						break
					}
				}
			}
			seen = append(seen, v)
		}
		if err := closeRows(rows); err != nil {
			return nil, wrap("find check-ins", err)
		}
	}
	return out, nil
}

// closeRows closes rows and returns the iteration's error.
func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// SetSensorRole marks a sensor of a device as an entrance or not. Returns
// EINVALID, ENOTFOUND when the device does not exist.
func (db *DB) SetSensorRole(ctx context.Context, r *popkit.SensorRole) error {
	var v popkit.Validation
	v.Check(r.Sensor != "" && len(r.Sensor) <= 200 && utf8.ValidString(r.Sensor) && !strings.ContainsRune(r.Sensor, 0),
		"sensor", "is required (at most 200 bytes of UTF-8, no NUL)")
	if err := v.Err(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	dev, err := findDeviceByID(ctx, tx, r.DeviceID)
	if err != nil {
		return err
	}
	r.EventID, r.Updated = dev.EventID, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO sensor_roles (device_id, sensor, entrance, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (device_id, sensor) DO UPDATE SET entrance = excluded.entrance, updated_at = excluded.updated_at`,
		dev.ID, r.Sensor, r.Entrance, tx.timeArg(tx.now)); err != nil {
		return wrap("set sensor role", err)
	}
	return tx.commit()
}

// FindSensorRoles lists the sensor roles of an event's devices, by device
// and sensor. Returns ENOTFOUND when the event does not exist.
func (db *DB) FindSensorRoles(ctx context.Context, eventID string) ([]*popkit.SensorRole, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, eventID); err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `SELECT r.device_id, r.sensor, r.entrance, r.updated_at, d.event_id FROM sensor_roles r
		JOIN devices d ON d.id = r.device_id WHERE d.event_id = ? ORDER BY r.device_id, r.sensor`, eventID)
	if err != nil {
		return nil, wrap("find sensor roles", err)
	}
	return collectWrap(rows, "find sensor roles", func(s scanner) (*popkit.SensorRole, error) {
		var r popkit.SensorRole
		err := s.Scan(&r.DeviceID, &r.Sensor, &r.Entrance, scanTime(&r.Updated), &r.EventID)
		return &r, err
	})
}

// collectWrap is collect with the error wrapped.
func collectWrap[T any](rows *sql.Rows, what string, scan func(scanner) (T, error)) ([]T, error) {
	items, err := collect(rows, scan)
	if err != nil {
		return nil, wrap(what, err)
	}
	return items, nil
}

// kpiRates loads every stored exchange rate up to the day after to (a
// venue-local day may run past the UTC one) into a rate book.
func kpiRates(ctx context.Context, tx *txn, to time.Time) (*kpi.RateBook, error) {
	rows, err := tx.query(ctx, `SELECT day, base, quote, rate FROM fx_rates WHERE day <= ?`, to.AddDate(0, 0, 1).UTC().Format(time.DateOnly))
	if err != nil {
		return nil, wrap("find fx rates", err)
	}
	rates, err := collectWrap(rows, "find fx rates", func(s scanner) (*popkit.FXRate, error) {
		var r popkit.FXRate
		err := s.Scan(&r.Day, &r.Base, &r.Quote, &r.Rate)
		return &r, err
	})
	if err != nil {
		return nil, err
	}
	return kpi.NewRateBook(rates), nil
}
