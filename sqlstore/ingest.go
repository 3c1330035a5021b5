package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/popkit/popkit"
)

var _ popkit.TelemetryService = (*DB)(nil)

// Multi-row statement sizes: ingestRecordCols × recordChunk and
// rollupCols × rollupChunk stay under SQLite's 32,766 and PostgreSQL's
// 65,535 bind parameters.
const (
	recordChunk = 1000
	rollupChunk = 1000
)

const ingestRecordCols = `device_id, stream, seq, status, kind, reason, raw, received_at`

const rollupCols = `event_id, kind, minute, device_id, sensor, src_stream, src_seq,
	in_count, out_count, occupancy_max, queue_samples, queue_p50, queue_p95, queue_max, open_tills,
	visitors, repeat_visitors, dwell_median_seconds, suppressed,
	temp_samples, temp_min, temp_max, temp_mean, kwh, dwell_stays, dwell_little_seconds`

// rollupCount is the number of rollupCols.
const rollupCount = 26

// rollupValueCols are the columns a newer version of a rollup replaces.
var rollupValueCols = strings.Fields(`src_stream src_seq in_count out_count occupancy_max
	queue_samples queue_p50 queue_p95 queue_max open_tills visitors repeat_visitors
	dwell_median_seconds suppressed temp_samples temp_min temp_max temp_mean kwh dwell_stays dwell_little_seconds`)

// ingestRow is one new record of a batch.
type ingestRow struct {
	rec    *popkit.IngestRecord
	status string
	reason string
}

// Ingest stores a batch of a device bound to eventID in one transaction.
// Records at or below the stream's acknowledgement are duplicates and are
// not looked at again; the others are inserted with ON CONFLICT DO
// NOTHING, which reports through RETURNING which of them are new, so a
// replay changes nothing. New rollups are upserted only where their
// (stream, seq) is higher than the stored version's. The answer's AckSeq
// is the highest seq up to which the stream has no gap.
//
// Returns EINVALID for a batch that fails Validate, EFORBIDDEN when the
// device does not exist or belongs to another event.
func (db *DB) Ingest(ctx context.Context, eventID string, req *popkit.IngestRequest) (*popkit.IngestResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	dev, err := findDeviceByID(ctx, tx, req.DeviceID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND || err == nil && dev.EventID != eventID {
		return nil, &popkit.Error{Code: popkit.EFORBIDDEN, Message: "device_id is not a device of this token's event",
			Fields: []popkit.FieldError{{Field: "device_id", Message: "is not a device of this token's event"}}}
	} else if err != nil {
		return nil, err
	}
	ack, maxSeq, err := lockStream(ctx, tx, dev.ID, req.Stream)
	if err != nil {
		return nil, err
	}

	res := &popkit.IngestResult{Stream: req.Stream}
	rows := make([]ingestRow, 0, len(req.Records))
	for i := range req.Records {
		r := &req.Records[i]
		if r.Seq <= ack {
			res.Duplicates++
			continue
		}
		status, reason := r.Status(dev.EventID)
		if r.Kind == popkit.RecordSale && r.DecodeError == "" {
			status, reason = popkit.SaleRecordStatus(&r.UplinkRecord, dev.EventID)
		}
		rows = append(rows, ingestRow{rec: r, status: status, reason: reason})
		maxSeq = max(maxSeq, r.Seq)
	}
	fresh, err := insertRecords(ctx, tx, dev.ID, req.Stream, rows)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	var rollups []*popkit.IngestRecord
	for _, row := range fresh {
		counts[row.status]++
		if row.status == popkit.RecordStored && row.rec.Kind == popkit.RecordRollup {
			rollups = append(rollups, row.rec)
		}
	}
	// Sales are applied in this transaction, so that storing the record
	// and applying its sale commit together (reconcile_ingest.go).
	if err := applySaleRecords(ctx, tx, dev.ID, req.Stream, fresh, counts); err != nil {
		return nil, err
	}
	res.Stored = len(fresh)
	res.Duplicates += len(rows) - len(fresh)
	if err := upsertRollups(ctx, tx, dev.ID, req.Stream, rollups); err != nil {
		return nil, err
	}
	if err := detectExcursions(ctx, tx, dev, rollups); err != nil {
		return nil, err
	}
	if ack, err = advanceAck(ctx, tx, dev.ID, req.Stream, ack); err != nil {
		return nil, err
	}
	res.AckSeq = ack
	skew := popkit.ClockSkew(req.SentAt, tx.now)
	res.ClockSkew = skew.Seconds()

	if _, err := tx.exec(ctx, `UPDATE ingest_streams SET ack_seq = ?, max_seq = ?, records = records + ?, last_batch_at = ?
		WHERE device_id = ? AND stream = ?`, ack, maxSeq, len(fresh), tx.timeArg(tx.now), dev.ID, req.Stream); err != nil {
		return nil, wrap("update stream", err)
	}
	report, err := json.Marshal(req.Report)
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO device_telemetry (device_id, last_seen_at, last_sent_at, clock_skew_us, report,
			records_stored, records_rejected, records_unknown)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_sent_at = excluded.last_sent_at,
			clock_skew_us = excluded.clock_skew_us, report = excluded.report,
			records_stored = device_telemetry.records_stored + excluded.records_stored,
			records_rejected = device_telemetry.records_rejected + excluded.records_rejected,
			records_unknown = device_telemetry.records_unknown + excluded.records_unknown`,
		dev.ID, tx.timeArg(tx.now), tx.timeArg(req.SentAt), skew.Microseconds(), string(report),
		counts[popkit.RecordStored], counts[popkit.RecordRejected], counts[popkit.RecordUnknown]); err != nil {
		return nil, wrap("update device telemetry", err)
	}
	if _, err := tx.exec(ctx, `UPDATE devices SET last_seen_at = ? WHERE id = ?`, tx.timeArg(tx.now), dev.ID); err != nil {
		return nil, wrap("update device last seen", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// lockStream returns the stream's acknowledgement and highest seq,
// creating the stream at 0 when it is new. On PostgreSQL the row stays
// locked until the transaction ends, so concurrent batches of one stream
// take turns; SQLite has one writer anyway.
func lockStream(ctx context.Context, tx *txn, deviceID, stream string) (ack, maxSeq int64, err error) {
	if _, err := tx.exec(ctx, `INSERT INTO ingest_streams (device_id, stream, ack_seq, max_seq, records, first_seen_at, last_batch_at)
		VALUES (?, ?, 0, 0, 0, ?, ?) ON CONFLICT (device_id, stream) DO NOTHING`,
		deviceID, stream, tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		return 0, 0, wrap("create stream", err)
	}
	q := `SELECT ack_seq, max_seq FROM ingest_streams WHERE device_id = ? AND stream = ?`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	if err := tx.queryRow(ctx, q, deviceID, stream).Scan(&ack, &maxSeq); err != nil {
		return 0, 0, wrap("lock stream", err)
	}
	return ack, maxSeq, nil
}

// insertRecords inserts the record keys with multi-row statements and
// returns the rows that were new.
func insertRecords(ctx context.Context, tx *txn, deviceID, stream string, rows []ingestRow) ([]ingestRow, error) {
	bySeq := make(map[int64]ingestRow, len(rows))
	fresh := make([]ingestRow, 0, len(rows))
	for start := 0; start < len(rows); start += recordChunk {
		chunk := rows[start:min(start+recordChunk, len(rows))]
		args := make([]any, 0, len(chunk)*8)
		for _, row := range chunk {
			bySeq[row.rec.Seq] = row
			var reason, raw any
			if row.status != popkit.RecordStored {
				reason, raw = cleanText(row.reason, 1000), cleanText(string(row.rec.Raw), maxRawBytes)
			}
			args = append(args, deviceID, stream, row.rec.Seq, row.status, cleanText(row.rec.Kind, 64), reason, raw, tx.timeArg(tx.now))
		}
		q := `INSERT INTO ingest_records (` + ingestRecordCols + `) VALUES ` + placeholders(len(chunk), 8) +
			` ON CONFLICT (device_id, stream, seq) DO NOTHING RETURNING seq`
		rs, err := tx.query(ctx, q, args...)
		if err != nil {
			return nil, wrap("insert records", err)
		}
		for rs.Next() {
			var seq int64
			if err := rs.Scan(&seq); err != nil {
				rs.Close()
				return nil, wrap("insert records", err)
			}
			fresh = append(fresh, bySeq[seq])
		}
		if err := rs.Close(); err != nil {
			return nil, wrap("insert records", err)
		}
		if err := rs.Err(); err != nil {
			return nil, wrap("insert records", err)
		}
	}
	return fresh, nil
}

// upsertRollups stores new rollups, each replacing the stored version of
// its (device, sensor, kind, minute) only when its (stream, seq) is
// higher. Within the batch only the last version of a key is sent, since
// one statement may not touch a row twice.
func upsertRollups(ctx context.Context, tx *txn, deviceID, stream string, recs []*popkit.IngestRecord) error {
	type key struct {
		sensor, kind string
		minute       int64
	}
	last := make(map[key]int, len(recs))
	for i, r := range recs {
		last[key{r.Rollup.Sensor, r.Rollup.Kind, r.Rollup.Minute.UnixMicro()}] = i // records are in seq order
	}
	keep := recs[:0:0]
	for i, r := range recs {
		if last[key{r.Rollup.Sensor, r.Rollup.Kind, r.Rollup.Minute.UnixMicro()}] == i {
			keep = append(keep, r)
		}
	}
	set := make([]string, len(rollupValueCols))
	for i, c := range rollupValueCols {
		set[i] = c + " = excluded." + c
	}
	suffix := ` ON CONFLICT (event_id, kind, minute, device_id, sensor) DO UPDATE SET ` + strings.Join(set, ", ") +
		` WHERE (excluded.src_stream, excluded.src_seq) > (telemetry_rollups.src_stream, telemetry_rollups.src_seq)`
	for start := 0; start < len(keep); start += rollupChunk {
		chunk := keep[start:min(start+rollupChunk, len(keep))]
		args := make([]any, 0, len(chunk)*rollupCount)
		for _, rec := range chunk {
			r := rec.Rollup
			args = append(args, r.EventID, r.Kind, tx.timeArg(r.Minute), deviceID, r.Sensor, stream, rec.Seq,
				r.In, r.Out, r.OccupancyMax, r.QueueSamples, r.QueueP50, r.QueueP95, r.QueueMax, r.OpenTills,
				r.Visitors, r.RepeatVisitors, r.DwellMedianSeconds, r.Suppressed,
				r.TempSamples, r.TempMin, r.TempMax, r.TempMean, r.KWh, r.DwellStays, r.DwellLittleSeconds)
		}
		q := `INSERT INTO telemetry_rollups (` + rollupCols + `) VALUES ` + placeholders(len(chunk), rollupCount) + suffix
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return wrap("upsert rollups", err)
		}
	}
	return nil
}

// advanceAck returns the highest seq after ack up to which the stream's
// records are contiguous. It reads seqs in order and stops at the first
// gap.
func advanceAck(ctx context.Context, tx *txn, deviceID, stream string, ack int64) (int64, error) {
	rs, err := tx.query(ctx, `SELECT seq FROM ingest_records WHERE device_id = ? AND stream = ? AND seq > ? ORDER BY seq`,
		deviceID, stream, ack)
	if err != nil {
		return 0, wrap("advance ack", err)
	}
	defer rs.Close()
	for rs.Next() {
		var seq int64
		if err := rs.Scan(&seq); err != nil {
			return 0, wrap("advance ack", err)
		}
		if seq != ack+1 {
			break
		}
		ack = seq
	}
	if err := rs.Err(); err != nil {
		return 0, wrap("advance ack", err)
	}
	return ack, nil
}

// placeholders returns "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// maxRawBytes bounds the raw JSON kept of one rejected or unknown record.
const maxRawBytes = 64 << 10

// cleanText makes s storable as TEXT in either database, whatever a device
// sent: invalid UTF-8 becomes U+FFFD, NUL is dropped, and the result is cut
// to at most n bytes on a character boundary. Kept only for diagnosis, so
// nothing a device sends can fail the batch here.
func cleanText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
