package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// metricExprs maps each metric to its aggregate over the rows of a
// bucket. Weighted means skip minutes of zero weight; a bucket where every
// weight is zero yields NULL and is left out of the series.
var metricExprs = map[string]string{
	popkit.MetricFootfallIn:      `SUM(in_count)`,
	popkit.MetricFootfallOut:     `SUM(out_count)`,
	popkit.MetricOccupancyMax:    `MAX(occupancy_max)`,
	popkit.MetricQueueP50:        weightedMean("queue_p50", "queue_samples"),
	popkit.MetricQueueP95:        weightedMean("queue_p95", "queue_samples"),
	popkit.MetricQueueMax:        `MAX(queue_max)`,
	popkit.MetricVisitors:        `SUM(visitors)`,
	popkit.MetricDwellMedian:     weightedMean("dwell_median_seconds", dwellWeight),
	popkit.MetricTemperatureMin:  `MIN(temp_min)`,
	popkit.MetricTemperatureMax:  `MAX(temp_max)`,
	popkit.MetricTemperatureMean: weightedMean("temp_mean", "temp_samples"),
	popkit.MetricEnergyKWh:       `SUM(kwh)`,
}

// dwellWeight weights a minute's dwell median by the stays that ended in
// it; a minute with no median (0: no stay ended) weighs nothing, so it is
// "no value", not 0 s. Older agents send no stay count: a minute with a
// median then counts as one stay.
const dwellWeight = `(CASE WHEN dwell_median_seconds > 0 THEN (CASE WHEN dwell_stays > 1 THEN dwell_stays ELSE 1 END) ELSE 0 END)`

func weightedMean(col, weight string) string {
	return fmt.Sprintf(`SUM(%s * %s) / NULLIF(SUM(%s), 0)`, col, weight, weight)
}

// FindTelemetry returns one series, bucketed in SQL: on SQLite the bucket
// is the minute (integer microseconds) rounded down to a multiple of the
// step, on PostgreSQL date_bin with the Unix epoch as origin, so both put
// every bucket on a UTC multiple of the step. The WHERE clause is a range
// of the (event_id, kind, minute, ...) primary key. Returns EINVALID for a
// bad filter, ENOTFOUND when the event does not exist.
func (db *DB) FindTelemetry(ctx context.Context, f popkit.TelemetryFilter) (*popkit.Series, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	def, _ := popkit.LookupMetric(f.Metric)
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := eventExists(ctx, tx, f.EventID); err != nil {
		return nil, err
	}
	q, args := db.telemetryQuery(def, f)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("find telemetry", err)
	}
	defer rows.Close()
	s := &popkit.Series{
		EventID: f.EventID, Metric: f.Metric, Sensor: f.Sensor, Aggregation: def.Aggregation,
		Step: formatStep(f.Step), From: f.From.UTC().Format(time.RFC3339), To: f.To.UTC().Format(time.RFC3339),
		Points: []popkit.Point{},
	}
	for rows.Next() {
		var p popkit.Point
		var v sql.NullFloat64
		if err := rows.Scan(scanTime(&p.T), &v, &p.Minutes); err != nil {
			return nil, wrap("find telemetry", err)
		}
		if !v.Valid {
			continue
		}
		p.Value = v.Float64
		s.Points = append(s.Points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find telemetry", err)
	}
	return s, nil
}

// telemetryQuery returns the series query of f.
func (db *DB) telemetryQuery(def popkit.MetricDef, f popkit.TelemetryFilter) (string, []any) {
	bucket := `(minute / ?) * ?`
	args := []any{f.Step.Microseconds(), f.Step.Microseconds()}
	if db.dialect == DialectPostgres {
		bucket = `date_bin(CAST(? AS INTERVAL), minute, TIMESTAMPTZ '1970-01-01 00:00:00+00')`
		args = []any{strconv.FormatInt(int64(f.Step/time.Second), 10) + " seconds"}
	}
	var w where
	w.and("event_id = ?", f.EventID)
	w.and("kind = ?", def.Kind)
	w.and("minute >= ?", db.timeArg(f.From))
	w.and("minute < ?", db.timeArg(f.To))
	if f.Sensor != "" {
		w.and("sensor = ?", f.Sensor)
	}
	q := `SELECT ` + bucket + ` AS bucket, CAST(` + metricExprs[def.Name] + ` AS DOUBLE PRECISION), COUNT(*) FROM telemetry_rollups` +
		w.String() + ` GROUP BY bucket ORDER BY bucket`
	return q, append(args, w.args...)
}

// formatStep writes a step as the API spells it: 1d, 1h, 15m, 90m.
func formatStep(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "1d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	default:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
}

// FindDeviceStatus returns a device's status; a device that never sent a
// batch has an empty one. Returns ENOTFOUND.
func (db *DB) FindDeviceStatus(ctx context.Context, deviceID string) (*popkit.DeviceStatus, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	dev, err := findDeviceByID(ctx, tx, deviceID)
	if err != nil {
		return nil, err
	}
	st := &popkit.DeviceStatus{DeviceID: dev.ID, EventID: dev.EventID, Streams: []popkit.StreamStatus{}}
	var seen, sent time.Time
	var skewUS int64
	var report string
	err = tx.queryRow(ctx, `SELECT last_seen_at, last_sent_at, clock_skew_us, report, records_stored, records_rejected, records_unknown
		FROM device_telemetry WHERE device_id = ?`, dev.ID).Scan(scanTime(&seen), scanTime(&sent), &skewUS, &report,
		&st.RecordsStored, &st.RecordsRejected, &st.RecordsUnknown)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	} else if err != nil {
		return nil, wrap("find device status", err)
	}
	st.LastSeenAt, st.LastSentAt = &seen, &sent
	skew := time.Duration(skewUS) * time.Microsecond
	st.ClockSkewSeconds, st.ClockSkewFlagged = skew.Seconds(), popkit.SkewFlagged(skew)
	st.Report = &popkit.AgentReport{}
	if err := json.Unmarshal([]byte(report), st.Report); err != nil {
		return nil, fmt.Errorf("decode stored report: %w", err)
	}
	rows, err := tx.query(ctx, `SELECT stream, ack_seq, max_seq, records, last_batch_at FROM ingest_streams
		WHERE device_id = ? ORDER BY stream`, dev.ID)
	if err != nil {
		return nil, wrap("find device streams", err)
	}
	st.Streams, err = collect(rows, func(s scanner) (popkit.StreamStatus, error) {
		var ss popkit.StreamStatus
		err := s.Scan(&ss.Stream, &ss.AckSeq, &ss.MaxSeq, &ss.Records, scanTime(&ss.LastBatchAt))
		return ss, err
	})
	if err != nil {
		return nil, wrap("find device streams", err)
	}
	return st, nil
}

// ExplainTelemetry returns the database's plan for the query FindTelemetry
// runs for f (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on
// SQLite), for benchmarks and for operators checking that the index is
// used.
func (db *DB) ExplainTelemetry(ctx context.Context, f popkit.TelemetryFilter) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	def, _ := popkit.LookupMetric(f.Metric)
	q, args := db.telemetryQuery(def, f)
	if db.dialect == DialectPostgres {
		q = "EXPLAIN (ANALYZE, BUFFERS) " + q
	} else {
		q = "EXPLAIN QUERY PLAN " + q
	}
	rows, err := db.rdb.QueryContext(ctx, db.rebind(q), args...)
	if err != nil {
		return "", wrap("explain telemetry", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", wrap("explain telemetry", err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", wrap("explain telemetry", err)
		}
		fmt.Fprintln(&b, vals[len(vals)-1])
	}
	if err := rows.Err(); err != nil {
		return "", wrap("explain telemetry", err)
	}
	return b.String(), nil
}
