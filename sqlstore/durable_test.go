//go:build linux && (amd64 || arm64)

package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestSQLiteAcknowledgedWritesSynced proves that on SQLite every write the
// store acknowledges — an order CreateOrder returned (the API's 201) and an
// ingest batch Ingest acked — is in a synced write-ahead log before the
// call returns: the probe VFS (syncprobe_test.go) sees no WAL write that
// no sync covered. With synchronous=NORMAL SQLite syncs the WAL only at
// checkpoints, and the control case shows the probe catches that.
func TestSQLiteAcknowledgedWritesSynced(t *testing.T) {
	p := registerSyncProbe(t)
	const orders, batches = 20, 10

	// run stores orders and ingest batches one at a time and returns how
	// many of them were acknowledged with WAL writes not yet synced.
	run := func(t *testing.T, extra string) (unsynced, syncs int) {
		path := filepath.Join(t.TempDir(), "popkit.db")
		db, err := sqlstore.Open(t.Context(), path+"?vfs="+syncProbeVFS+extra)
		must(t, err)
		t.Cleanup(func() { db.Close() })
		_, err = db.Migrate(t.Context())
		must(t, err)
		w := mkOrderWorld(t, db)
		must(t, db.SetAssortmentItem(t.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 1000}))
		dev := &popkit.Device{EventID: w.event.ID, Name: "door"}
		must(t, db.CreateDevice(t.Context(), dev))

		wal := path + "-wal"
		start := p.Syncs(wal)
		check := func() {
			if p.Unsynced(wal) > 0 {
				unsynced++
			}
		}
		for range orders {
			_, err := db.CreateOrder(t.Context(), w.order(1))
			must(t, err)
			check()
		}
		stream, m := popkit.NewID(), time.Now().UTC().Truncate(time.Minute)
		for i := range batches {
			res, err := db.Ingest(t.Context(), w.event.ID, batch(dev.ID, stream, time.Now(), footfall(int64(i+1), w.event.ID, "door", m, 1, 0)))
			must(t, err)
			if res.AckSeq != int64(i+1) {
				t.Fatalf("batch %d acked %d", i+1, res.AckSeq)
			}
			check()
		}
		return unsynced, p.Syncs(wal) - start
	}

	t.Run("store default", func(t *testing.T) {
		unsynced, syncs := run(t, "")
		if unsynced > 0 {
			t.Errorf("%d of %d acknowledged writes had WAL writes not yet synced", unsynced, orders+batches)
		}
		if syncs < orders+batches {
			t.Errorf("the WAL was synced %d times for %d writes made one after another", syncs, orders+batches)
		}
	})
	t.Run("control: synchronous=NORMAL is caught", func(t *testing.T) {
		// The background checkpoint syncs the WAL every 20 ms or so, so
		// an acknowledgement may now and then find it synced; not all of
		// them can.
		unsynced, _ := run(t, "&_pragma=synchronous(NORMAL)")
		if unsynced == 0 {
			t.Errorf("with synchronous=NORMAL the probe found all %d acknowledged writes synced", orders+batches)
		}
	})
}
