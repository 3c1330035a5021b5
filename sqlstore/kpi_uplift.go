package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/kpi"
)

// kpiUplift returns the listing-uplift inputs of the events in scope whose
// listing was published before the range ends. The baseline is the
// venue's visitors per open hour-of-week over the sessions of its events
// (this one included) before publication (popkit.KPIBaselineBefore).
func kpiUplift(ctx context.Context, tx *txn, events []*kpi.Event, f popkit.KPIFilter) (map[string]*kpi.UpliftInput, error) {
	out := map[string]*kpi.UpliftInput{}
	for _, e := range events {
		var published *time.Time
		err := tx.queryRow(ctx, `SELECT published_at FROM listings WHERE event_id = ?`, e.ID).Scan(scanNullTime(&published))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, wrap("find listing", err)
		}
		if published == nil || !published.Before(f.To) {
			continue
		}
		p := *published
		// The venue's events with sessions before publication.
		var w where
		w.and("e.venue_id = (SELECT venue_id FROM events WHERE id = ?)", e.ID)
		w.and("e.starts_at < ?", tx.timeArg(p))
		base, err := findEvents(ctx, tx, &w, 1000)
		if err != nil {
			return nil, err
		}
		if err := loadEventDetails(ctx, tx, base); err != nil {
			return nil, err
		}
		var spans []kpi.Span
		ids := make([]string, len(base))
		for i, b := range base {
			ids[i] = b.ID
			for _, s := range b.Sessions {
				if !s.Cancelled {
					spans = append(spans, kpi.Span{Start: s.StartUTC, End: s.EndUTC})
				}
			}
		}
		baseOpen := kpi.HourlyOpen(spans, time.Unix(0, 0), p)
		baseVis, err := hourlyVisitors(ctx, tx, ids, 0, p.Unix()/3600)
		if err != nil {
			return nil, err
		}
		prof := kpi.NewProfile(baseOpen, baseVis, e.Loc)
		after := f.From
		if p.After(after) {
			after = p
		}
		afterOpen := kpi.HourlyOpen(e.Sessions, after, f.To)
		from, to := hourRange(popkit.KPIFilter{From: after, To: f.To})
		afterVis, err := hourlyVisitors(ctx, tx, []string{e.ID}, from, to)
		if err != nil {
			return nil, err
		}
		out[e.ID] = &kpi.UpliftInput{Days: kpi.UpliftDays(prof, afterOpen, afterVis, e.Loc), BaselineHours: prof.Hours,
			Baseline: popkit.KPIBaselineBefore}
	}
	return out, nil
}

// hourlyVisitors returns the visitors (entrance entries in open minutes)
// of events by UTC hour in [fromH, toH).
func hourlyVisitors(ctx context.Context, tx *txn, ids []string, fromH, toH int64) (map[int64]float64, error) {
	out := map[int64]float64{}
	if len(ids) == 0 {
		return out, nil
	}
	entrance := "COALESCE(sr.entrance, 1) <> 0"
	if tx.db.dialect == DialectPostgres {
		entrance = "COALESCE(sr.entrance, true)"
	}
	in, args := tx.db.inList("h.event_id", ids)
	rows, err := tx.query(ctx, `SELECT h.hour, `+sumInt(`CASE WHEN `+entrance+` THEN h.in_open ELSE 0 END`)+`
		FROM kpi_telemetry_hourly h LEFT JOIN sensor_roles sr ON sr.device_id = h.device_id AND sr.sensor = h.sensor
		WHERE `+in+` AND h.kind = 'footfall' AND h.hour >= ? AND h.hour < ? GROUP BY h.hour`, append(args, fromH, toH)...)
	if err != nil {
		return nil, wrap("find hourly visitors", err)
	}
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			rows.Close()
			return nil, wrap("scan hourly visitors", err)
		}
		out[h] = float64(n)
	}
	return out, closeRows(rows)
}
