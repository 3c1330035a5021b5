package edge

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/popkit/popkit"
)

// maxCache bounds the minutes kept in memory between commits.
const maxCache = 20000

// commitGroup stores the readings of every job of group in one
// transaction and answers each job after the commit.
func (o *Outbox) commitGroup(group []*job) {
	errs := make([]error, len(group))
	touched := map[minuteKey]*minuteAgg{}
	var rawDelta, droppedDelta int64
	err := func() error {
		tx, err := o.db.Begin()
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		ins, err := tx.Prepare("INSERT INTO raw (received_at, n, bytes, body) VALUES (?, ?, ?, ?)")
		if err != nil {
			return fmt.Errorf("prepare raw insert: %w", err)
		}
		defer ins.Close()
		for i, j := range group {
			if j.once != nil {
				res, err := tx.Exec("INSERT INTO seen (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING", j.once, j.readings[0].RX)
				if err != nil {
					return fmt.Errorf("record message: %w", err)
				}
				if n, err := res.RowsAffected(); err != nil || n == 0 {
					j.seen = true // stored before
					continue
				}
			}
			body, err := json.Marshal(j.readings)
			if err != nil {
				return fmt.Errorf("encode readings: %w", err)
			}
			need := int64(len(body))
			if o.opts.MaxBytes > 0 {
				total := o.rawBytes.Load() + rawDelta + o.outboxBytes.Load()
				if total+need > o.opts.MaxBytes {
					if o.outboxBytes.Load()+need > o.opts.MaxBytes {
						errs[i] = ErrOutboxFull
						continue
					}
					freed, dropped, err := dropOldestRaw(tx, total+need-o.opts.MaxBytes)
					if err != nil {
						return err
					}
					rawDelta -= freed
					droppedDelta += dropped
				}
			}
			if _, err := ins.Exec(j.readings[0].RX, len(j.readings), need, body); err != nil {
				return fmt.Errorf("insert raw: %w", err)
			}
			rawDelta += need
			for k := range j.readings {
				if err := o.apply(tx, touched, &j.readings[k]); err != nil {
					return err
				}
			}
		}
		up, err := tx.Prepare(`INSERT INTO minutes (sensor, kind, minute, agg, dirty) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (sensor, kind, minute) DO UPDATE SET agg = excluded.agg, dirty = 1`)
		if err != nil {
			return fmt.Errorf("prepare minute upsert: %w", err)
		}
		defer up.Close()
		for k, a := range touched {
			b, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode minute: %w", err)
			}
			if _, err := up.Exec(k.Sensor, k.Kind, k.Minute, b); err != nil {
				return fmt.Errorf("store minute: %w", err)
			}
		}
		if droppedDelta > 0 {
			if err := setMeta(tx, "dropped_raw", o.droppedRaw.Load()+droppedDelta); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}()
	if err != nil {
		o.cache = map[minuteKey]*minuteAgg{}
		for _, j := range group {
			j.err <- err
		}
		return
	}
	o.rawBytes.Add(rawDelta)
	o.droppedRaw.Add(droppedDelta)
	if len(o.cache)+len(touched) > maxCache {
		o.cache = map[minuteKey]*minuteAgg{}
	}
	for k, a := range touched {
		o.cache[k] = a
	}
	// The alarm is set before anyone is answered, so that a caller told
	// "full" already sees the alarm.
	full := false
	for i := range group {
		full = full || errs[i] != nil
	}
	o.full.Store(full)
	for i, j := range group {
		j.err <- errs[i]
	}
}

// dropOldestRaw deletes the oldest raw readings until at least need bytes
// are freed or none are left. It returns the bytes and readings dropped.
func dropOldestRaw(tx *sql.Tx, need int64) (freed, dropped int64, err error) {
	for freed < need {
		var id, n, b int64
		err := tx.QueryRow("SELECT id, n, bytes FROM raw ORDER BY id LIMIT 1").Scan(&id, &n, &b)
		if errors.Is(err, sql.ErrNoRows) {
			return freed, dropped, nil
		}
		if err != nil {
			return freed, dropped, fmt.Errorf("find oldest raw: %w", err)
		}
		if _, err := tx.Exec("DELETE FROM raw WHERE id = ?", id); err != nil {
			return freed, dropped, fmt.Errorf("drop raw: %w", err)
		}
		freed += b
		dropped += n
	}
	return freed, dropped, nil
}

func setMeta(tx *sql.Tx, k string, v int64) error {
	if _, err := tx.Exec("UPDATE meta SET v = ? WHERE k = ?", strconv.FormatInt(v, 10), k); err != nil {
		return fmt.Errorf("update meta %s: %w", k, err)
	}
	return nil
}

// apply adds one reading to the minute it falls in.
func (o *Outbox) apply(tx *sql.Tx, touched map[minuteKey]*minuteAgg, r *storedReading) error {
	key := keyOf(r)
	agg := touched[key]
	if agg == nil {
		if c := o.cache[key]; c != nil {
			agg = c.clone()
		} else {
			agg = &minuteAgg{}
			var b []byte
			err := tx.QueryRow("SELECT agg FROM minutes WHERE sensor = ? AND kind = ? AND minute = ?", key.Sensor, key.Kind, key.Minute).Scan(&b)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("load minute: %w", err)
			default:
				if err := json.Unmarshal(b, agg); err != nil {
					return fmt.Errorf("decode minute: %w", err)
				}
			}
		}
		touched[key] = agg
	}
	switch r.Type {
	case TypePresence:
		return applyPresence(tx, agg, r)
	case TypeEnergy:
		return applyEnergy(tx, agg, r)
	}
	agg.applySimple(r)
	return nil
}

// minStay is the shortest stay that counts towards the dwell median.
const minStay = 30 * time.Second

func applyPresence(tx *sql.Tx, agg *minuteAgg, r *storedReading) error {
	if err := presenceStep(tx, agg, r); err != nil {
		return err
	}
	// Little's law: sample the pseudonyms inside at every presence reading.
	var inside int64
	if err := tx.QueryRow("SELECT count(*) FROM inside WHERE sensor = ?", r.Sensor).Scan(&inside); err != nil {
		return fmt.Errorf("count inside: %w", err)
	}
	agg.InsideSum += inside
	agg.InsideN++
	return nil
}

func presenceStep(tx *sql.Tx, agg *minuteAgg, r *storedReading) error {
	if r.Action == "enter" {
		agg.Arrivals++
		day := r.TS / int64(24*time.Hour)
		var first int64
		err := tx.QueryRow("SELECT first_day FROM visitors WHERE pseudonym = ?", r.Pseudonym).Scan(&first)
		repeat := false
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.Exec("INSERT INTO visitors (pseudonym, epoch, first_day) VALUES (?, ?, ?)", r.Pseudonym, r.Epoch, day); err != nil {
				return fmt.Errorf("store visitor: %w", err)
			}
		case err != nil:
			return fmt.Errorf("find visitor: %w", err)
		default:
			repeat = first < day
		}
		seen := false
		for _, v := range agg.Visitors {
			seen = seen || v == r.Pseudonym
		}
		if !seen {
			agg.Visitors = append(agg.Visitors, r.Pseudonym)
			if repeat {
				agg.Repeat++
			}
		}
		if _, err := tx.Exec(`INSERT INTO inside (pseudonym, sensor, epoch, entered_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (pseudonym, sensor) DO UPDATE SET entered_at = excluded.entered_at`, r.Pseudonym, r.Sensor, r.Epoch, r.TS); err != nil {
			return fmt.Errorf("store presence: %w", err)
		}
		return nil
	}
	var entered int64
	err := tx.QueryRow("SELECT entered_at FROM inside WHERE pseudonym = ? AND sensor = ?", r.Pseudonym, r.Sensor).Scan(&entered)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // an exit without an enter says nothing about dwell
	}
	if err != nil {
		return fmt.Errorf("find presence: %w", err)
	}
	if _, err := tx.Exec("DELETE FROM inside WHERE pseudonym = ? AND sensor = ?", r.Pseudonym, r.Sensor); err != nil {
		return fmt.Errorf("clear presence: %w", err)
	}
	if stay := time.Duration(r.TS - entered); stay >= minStay {
		agg.Stays = append(agg.Stays, stay.Seconds())
	}
	return nil
}

// applyEnergy turns a cumulative meter reading into consumption: the
// increase since the meter's previous reading counts in this reading's
// minute. A reading older than the meter's latest is kept raw but changes
// no minute; a decrease (meter reset or swap) starts a new baseline.
func applyEnergy(tx *sql.Tx, agg *minuteAgg, r *storedReading) error {
	var ts int64
	var kwh float64
	err := tx.QueryRow("SELECT ts, kwh FROM meters WHERE sensor = ?", r.Sensor).Scan(&ts, &kwh)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("find meter: %w", err)
	case r.TS <= ts:
		return nil
	case r.KWh >= kwh:
		agg.KWh += r.KWh - kwh
	}
	if _, err := tx.Exec(`INSERT INTO meters (sensor, ts, kwh) VALUES (?, ?, ?)
		ON CONFLICT (sensor) DO UPDATE SET ts = excluded.ts, kwh = excluded.kwh`, r.Sensor, r.TS, r.KWh); err != nil {
		return fmt.Errorf("store meter: %w", err)
	}
	return nil
}

// maxFlush bounds the minutes one flush transaction turns into records.
const maxFlush = 5000

// Flush turns every changed minute that started before due into an uplink
// record with the next seq, in one transaction, and returns the rollups.
// A minute changed again later is flushed again: a correction.
func (o *Outbox) Flush(ctx context.Context, due time.Time) ([]popkit.Rollup, error) {
	var all []popkit.Rollup
	for {
		var rollups []popkit.Rollup
		var added, next int64
		err := o.write(ctx, func(tx *sql.Tx) error {
			rollups, added, next = nil, 0, o.nextSeq
			rows, err := tx.Query("SELECT sensor, kind, minute, agg FROM minutes WHERE dirty = 1 AND minute < ? ORDER BY minute LIMIT ?", due.Unix(), maxFlush)
			if err != nil {
				return fmt.Errorf("find changed minutes: %w", err)
			}
			type item struct {
				key minuteKey
				agg minuteAgg
			}
			var items []item
			for rows.Next() {
				var it item
				var b []byte
				if err := rows.Scan(&it.key.Sensor, &it.key.Kind, &it.key.Minute, &b); err != nil {
					rows.Close()
					return fmt.Errorf("read minute: %w", err)
				}
				if err := json.Unmarshal(b, &it.agg); err != nil {
					rows.Close()
					return fmt.Errorf("decode minute: %w", err)
				}
				items = append(items, it)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read minutes: %w", err)
			}
			for _, it := range items {
				r := it.agg.rollup(o.opts.EventID, it.key, o.opts.K)
				rec := popkit.UplinkRecord{Seq: next, Kind: popkit.RecordRollup, Rollup: &r}
				body, err := json.Marshal(rec)
				if err != nil {
					return fmt.Errorf("encode record: %w", err)
				}
				if _, err := tx.Exec("INSERT INTO outbox (seq, class, body) VALUES (?, ?, ?)", next, ClassRollup, body); err != nil {
					return fmt.Errorf("insert record: %w", err)
				}
				if _, err := tx.Exec("UPDATE minutes SET dirty = 0 WHERE sensor = ? AND kind = ? AND minute = ?", it.key.Sensor, it.key.Kind, it.key.Minute); err != nil {
					return fmt.Errorf("mark minute: %w", err)
				}
				next++
				added += int64(len(body))
				rollups = append(rollups, r)
			}
			if len(items) == 0 {
				return nil
			}
			return setMeta(tx, "next_seq", next)
		}, func() {
			o.nextSeq = next
			o.lastSeq.Store(next - 1)
			o.outboxBytes.Add(added)
		})
		if err != nil {
			return all, fmt.Errorf("flush rollups: %w", err)
		}
		all = append(all, rollups...)
		if len(rollups) > 0 {
			select {
			case o.notify <- struct{}{}:
			default:
			}
		}
		if len(rollups) < maxFlush {
			return all, nil
		}
	}
}

// AppendRecords stores pre-built uplink records of class (rollups or
// sales) with the next seqs; benchmarks and the POS use it. Records of a
// class that is never dropped are refused when the outbox is full.
func (o *Outbox) AppendRecords(ctx context.Context, class string, recs []popkit.UplinkRecord) error {
	var added, next int64
	err := o.write(ctx, func(tx *sql.Tx) error {
		added, next = 0, o.nextSeq
		ins, err := tx.Prepare("INSERT INTO outbox (seq, class, body) VALUES (?, ?, ?)")
		if err != nil {
			return fmt.Errorf("prepare record insert: %w", err)
		}
		defer ins.Close()
		for i := range recs {
			recs[i].Seq = next
			body, err := json.Marshal(recs[i])
			if err != nil {
				return fmt.Errorf("encode record: %w", err)
			}
			if _, err := ins.Exec(next, class, body); err != nil {
				return fmt.Errorf("insert record: %w", err)
			}
			next++
			added += int64(len(body))
		}
		if class == ClassSale && o.opts.MaxBytes > 0 && o.outboxBytes.Load()+added > o.opts.MaxBytes {
			return ErrOutboxFull
		}
		return setMeta(tx, "next_seq", next)
	}, func() {
		o.nextSeq = next
		o.lastSeq.Store(next - 1)
		o.outboxBytes.Add(added)
	})
	if errors.Is(err, ErrOutboxFull) {
		o.full.Store(true)
	}
	if err == nil {
		select {
		case o.notify <- struct{}{}:
		default:
		}
	}
	return err
}

// ReadBatch calls fn for each uplink record after seq, in seq order, at
// most max of them, streaming from the file.
func (o *Outbox) ReadBatch(ctx context.Context, after int64, max int, fn func(seq int64, body []byte) error) error {
	rows, err := o.db.QueryContext(ctx, "SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", after, max)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var body sql.RawBytes
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq, &body); err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		if err := fn(seq, body); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Ack deletes every record up to seq: the server holds them.
func (o *Outbox) Ack(ctx context.Context, seq int64) error {
	if seq <= o.ackedSeq.Load() {
		return nil
	}
	var freed int64
	return o.write(ctx, func(tx *sql.Tx) error {
		var f sql.NullInt64
		if err := tx.QueryRow("SELECT sum(length(body)) FROM outbox WHERE seq <= ?", seq).Scan(&f); err != nil {
			return fmt.Errorf("size acked records: %w", err)
		}
		freed = f.Int64
		if _, err := tx.Exec("DELETE FROM outbox WHERE seq <= ?", seq); err != nil {
			return fmt.Errorf("delete acked records: %w", err)
		}
		return setMeta(tx, "acked_seq", seq)
	}, func() {
		o.ackedSeq.Store(seq)
		o.outboxBytes.Add(-freed)
		if o.opts.MaxBytes == 0 || o.outboxBytes.Load() < o.opts.MaxBytes {
			o.full.Store(false)
		}
	})
}

// Prune deletes raw readings and settled minutes older than retention,
// and presence state of key epochs before epoch (their key is destroyed).
func (o *Outbox) Prune(ctx context.Context, now time.Time, retention time.Duration, epoch int64) (int64, error) {
	cutoff := now.Add(-retention)
	var freed int64
	err := o.write(ctx, func(tx *sql.Tx) error {
		var f sql.NullInt64
		if err := tx.QueryRow("SELECT sum(bytes) FROM raw WHERE received_at < ?", cutoff.UnixNano()).Scan(&f); err != nil {
			return fmt.Errorf("size old raw: %w", err)
		}
		freed = f.Int64
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{"DELETE FROM raw WHERE received_at < ?", cutoff.UnixNano()},
			{"DELETE FROM minutes WHERE dirty = 0 AND minute < ?", cutoff.Unix()},
			{"DELETE FROM inside WHERE epoch < ? ", epoch},
			{"DELETE FROM visitors WHERE epoch < ?", epoch},
			{"DELETE FROM seen WHERE at < ?", now.Add(-24 * time.Hour).UnixNano()},
		} {
			if _, err := tx.Exec(q.sql, q.arg); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
		}
		return nil
	}, func() {
		o.rawBytes.Add(-freed)
		o.cache = map[minuteKey]*minuteAgg{}
	})
	return freed, err
}

// OutboxStats is a snapshot of the outbox.
type OutboxStats struct {
	Stream      string
	Backlog     int64 // uplink records not yet acknowledged
	AckedSeq    int64
	LastSeq     int64
	RecordBytes int64
	RawBytes    int64
	DroppedRaw  int64
	Quarantined int64
	Full        bool
}

// Stats returns a snapshot of the outbox.
func (o *Outbox) Stats() OutboxStats {
	acked, last := o.ackedSeq.Load(), o.lastSeq.Load()
	return OutboxStats{Stream: o.stream, Backlog: last - acked, AckedSeq: acked, LastSeq: last,
		RecordBytes: o.outboxBytes.Load(), RawBytes: o.rawBytes.Load(), DroppedRaw: o.droppedRaw.Load(),
		Quarantined: o.quarantined.Load(), Full: o.full.Load()}
}

// Notify is signalled when records are added.
func (o *Outbox) Notify() <-chan struct{} { return o.notify }
