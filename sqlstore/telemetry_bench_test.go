package sqlstore_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// BenchmarkIngest stores batches of popkit.MaxIngestRecords new rollups
// (footfall, queue and temperature minutes of 20 sensors) from one device,
// each batch in one transaction, and reports records per second. It runs
// on SQLite, and on PostgreSQL too when POPKIT_TEST_POSTGRES_URL is set.
func BenchmarkIngest(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			w := mkTelemetryWorld(b, db)
			ev, stream := w.event.ID, popkit.NewID()
			kinds := []string{popkit.RollupFootfall, popkit.RollupQueue, popkit.RollupTemperature}
			next := int64(1)
			mkBatch := func() *popkit.IngestRequest {
				recs := make([]popkit.UplinkRecord, popkit.MaxIngestRecords)
				for i := range recs {
					seq := next + int64(i)
					r := &popkit.Rollup{EventID: ev, Sensor: "s" + string(rune('a'+seq%20)), Kind: kinds[seq%3],
						Minute: t0.Add(time.Duration(seq/20) * time.Minute)}
					switch r.Kind {
					case popkit.RollupFootfall:
						r.In, r.Out = seq%7, seq%5
					case popkit.RollupQueue:
						r.QueueSamples, r.QueueP50, r.QueueP95, r.QueueMax = 6, 2, 4, 5
					case popkit.RollupTemperature:
						r.TempSamples, r.TempMin, r.TempMax, r.TempMean = 6, 3, 5, 4
					}
					recs[i] = popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordRollup, Rollup: r}
				}
				next += int64(len(recs))
				return batch(w.dev.ID, stream, time.Now(), recs...)
			}
			var busy time.Duration
			for b.Loop() {
				b.StopTimer()
				req := mkBatch()
				b.StartTimer()
				start := time.Now()
				res, err := db.Ingest(b.Context(), ev, req)
				busy += time.Since(start)
				if err != nil || res.Stored != popkit.MaxIngestRecords {
					b.Fatalf("ingest: %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(b.N*popkit.MaxIngestRecords)/busy.Seconds(), "records/s")
		})
	}
}
