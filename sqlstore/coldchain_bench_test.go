package sqlstore_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// BenchmarkIngestColdChain is BenchmarkIngest's workload (batches of
// popkit.MaxIngestRecords rollups of 20 sensors, a third temperature) with
// every sensor bound to a node, so that each batch runs excursion
// detection for 20 bindings; every 50th minute is above the limit, so no
// excursion opens. Compare its records/s with BenchmarkIngest's.
func BenchmarkIngestColdChain(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			w := mkTelemetryWorld(b, db)
			node := mkNodeFixture(b, db)
			for i := range 20 {
				must(b, db.CreateSensorBinding(b.Context(), &popkit.SensorBinding{NodeID: node, DeviceID: w.dev.ID,
					Sensor: "s" + string(rune('a'+i)), LimitC: 8, MinMinutes: 10}))
			}
			ev, stream := w.event.ID, popkit.NewID()
			kinds := []string{popkit.RollupFootfall, popkit.RollupQueue, popkit.RollupTemperature}
			next := int64(1)
			var busy time.Duration
			for b.Loop() {
				b.StopTimer()
				recs := make([]popkit.UplinkRecord, popkit.MaxIngestRecords)
				for i := range recs {
					seq := next + int64(i)
					minute := seq / 20
					r := &popkit.Rollup{EventID: ev, Sensor: "s" + string(rune('a'+seq%20)), Kind: kinds[seq%3],
						Minute: t0.Add(time.Duration(minute) * time.Minute)}
					switch r.Kind {
					case popkit.RollupFootfall:
						r.In, r.Out = seq%7, seq%5
					case popkit.RollupQueue:
						r.QueueSamples, r.QueueP50, r.QueueP95, r.QueueMax = 6, 2, 4, 5
					case popkit.RollupTemperature:
						r.TempSamples, r.TempMin, r.TempMax, r.TempMean = 6, 3, 5, 4
						if minute%50 == 0 {
							r.TempMax = 9
						}
					}
					recs[i] = popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordRollup, Rollup: r}
				}
				next += int64(len(recs))
				req := batch(w.dev.ID, stream, time.Now(), recs...)
				b.StartTimer()
				start := time.Now()
				res, err := db.Ingest(b.Context(), ev, req)
				busy += time.Since(start)
				if err != nil || res.Stored != popkit.MaxIngestRecords {
					b.Fatalf("ingest: %+v, %v", res, err)
				}
			}
			if n := len(excursions(b, db, popkit.ExcursionFilter{})); n != 0 {
				b.Fatalf("%d excursions opened", n)
			}
			b.ReportMetric(float64(b.N*popkit.MaxIngestRecords)/busy.Seconds(), "records/s")
		})
	}
}
