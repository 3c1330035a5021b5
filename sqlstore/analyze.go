package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// PostgreSQL plans queries from table statistics that autovacuum refreshes
// only a minute or more after a bulk change. Until then a freshly loaded
// events table looks empty to the planner, which then scans whole tables to
// load a page of events. So the store refreshes the statistics itself as
// the events table grows: after 1,000 events created by this process, then
// 2,000, 4,000 and so on.

// analyzeTables are the tables whose statistics Analyze refreshes.
const analyzeTables = "cities, venues, brands, events, event_sessions, event_brands, skus, assortment_items, devices, tokens, idempotency_keys, listings, listing_revisions, members, orders, order_lines, order_transitions, telemetry_rollups"

// firstAutoAnalyze is the number of created events that first triggers a
// background ANALYZE on PostgreSQL.
const firstAutoAnalyze = 1000

// Analyze refreshes the query planner's statistics of the popkit tables.
// Call it after loading much data at once (a seed, an import) so that the
// next queries use the right indexes. On PostgreSQL it runs ANALYZE; on
// SQLite it does nothing, because SQLite's planner picks the right indexes
// for these queries without statistics, and statistics averaged over all
// cities would lead it away from the per-city index for small cities.
func (db *DB) Analyze(ctx context.Context) error {
	if db.dialect != DialectPostgres {
		return nil
	}
	if _, err := db.wdb.ExecContext(ctx, "ANALYZE "+analyzeTables); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// eventsCreated counts n new events and, on PostgreSQL, starts a background
// ANALYZE when their number doubled since the last one. The ANALYZE is best
// effort: if it fails, autovacuum does the same work later.
func (db *DB) eventsCreated(n int64) {
	if db.dialect != DialectPostgres {
		return
	}
	total := db.created.Add(n)
	if total < db.nextAnalyze.Load() || !db.analyzing.CompareAndSwap(false, true) {
		return
	}
	db.nextAnalyze.Store(2 * total)
	db.background.Go(func() {
		defer db.analyzing.Store(false)
		ctx, cancel := context.WithTimeout(db.closing, time.Minute)
		defer cancel()
		db.Analyze(ctx)
	})
}
