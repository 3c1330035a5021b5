package sqlstore_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// telemetryWorld is an event with a device, and a second event with its
// own device.
type telemetryWorld struct {
	*world
	dev    *popkit.Device
	other  *popkit.Event
	devOth *popkit.Device
}

func mkTelemetryWorld(t testing.TB, db *sqlstore.DB) *telemetryWorld {
	t.Helper()
	w := &telemetryWorld{world: mkWorld(t, db)}
	w.other = mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}, session("2026-06-01", "10:00", "18:00"))
	w.dev = &popkit.Device{EventID: w.event.ID, Name: "door"}
	must(t, db.CreateDevice(context.Background(), w.dev))
	w.devOth = &popkit.Device{EventID: w.other.ID, Name: "door 2"}
	must(t, db.CreateDevice(context.Background(), w.devOth))
	return w
}

var t0 = time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // the day Europe/Berlin switches to summer time

// footfall returns a footfall rollup record.
func footfall(seq int64, eventID, sensor string, minute time.Time, in, out int64) popkit.UplinkRecord {
	return popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{
		EventID: eventID, Sensor: sensor, Kind: popkit.RollupFootfall, Minute: minute, In: in, Out: out}}
}

func batch(deviceID, stream string, sentAt time.Time, recs ...popkit.UplinkRecord) *popkit.IngestRequest {
	return popkit.NewIngestRequest(&popkit.IngestBatch{DeviceID: deviceID, Stream: stream, SentAt: sentAt,
		Report: popkit.AgentReport{Version: "test", BacklogCount: 7, Dropped: map[string]int64{"raw": 3}}, Records: recs})
}

// series returns the points of a metric as bucket start → value.
func series(t testing.TB, db *sqlstore.DB, f popkit.TelemetryFilter) map[time.Time]float64 {
	t.Helper()
	s, err := db.FindTelemetry(context.Background(), f)
	must(t, err)
	out := map[time.Time]float64{}
	for _, p := range s.Points {
		out[p.T.UTC()] = p.Value
	}
	return out
}

func footfallIn(t testing.TB, db *sqlstore.DB, eventID string) float64 {
	t.Helper()
	var sum float64
	for _, v := range series(t, db, popkit.TelemetryFilter{EventID: eventID, Metric: popkit.MetricFootfallIn,
		From: t0.Add(-24 * time.Hour), To: t0.Add(48 * time.Hour), Step: 24 * time.Hour}) {
		sum += v
	}
	return sum
}

// TestIngestSequence covers the acknowledgement rules: replays store
// nothing, the ack stops at a gap and moves on when the gap is filled,
// corrections replace, unknown kinds and invalid records are kept and
// acked.
func TestIngestSequence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := newClock(db, t0.Add(10*time.Hour))
		w := mkTelemetryWorld(t, db)
		ev, stream := w.event.ID, popkit.NewID()
		m := t0.Add(9 * time.Hour)

		type step struct {
			name                  string
			recs                  []popkit.UplinkRecord
			ack                   int64
			stored, dups          int
			footfallIn            float64
			stored2, rej, unknown int64 // device status totals after the step
		}
		unknown := popkit.UplinkRecord{Seq: 7, Kind: "future_kind"}
		bad := footfall(8, w.other.ID, "door", m, 1000, 0) // another event's id
		steps := []step{
			{name: "first", recs: []popkit.UplinkRecord{footfall(1, ev, "door", m, 5, 1), footfall(2, ev, "door", m.Add(time.Minute), 3, 0)},
				ack: 2, stored: 2, footfallIn: 8, stored2: 2},
			{name: "replay", recs: []popkit.UplinkRecord{footfall(1, ev, "door", m, 5, 1), footfall(2, ev, "door", m.Add(time.Minute), 3, 0)},
				ack: 2, dups: 2, footfallIn: 8, stored2: 2},
			{name: "gap", recs: []popkit.UplinkRecord{footfall(4, ev, "door", m.Add(3*time.Minute), 10, 0)},
				ack: 2, stored: 1, footfallIn: 18, stored2: 3},
			{name: "older version does not win", recs: []popkit.UplinkRecord{footfall(3, ev, "door", m.Add(3*time.Minute), 1, 0), footfall(4, ev, "door", m.Add(3*time.Minute), 10, 0)},
				ack: 4, stored: 1, dups: 1, footfallIn: 18, stored2: 4},
			{name: "correction replaces", recs: []popkit.UplinkRecord{footfall(5, ev, "door", m, 6, 1)},
				ack: 5, stored: 1, footfallIn: 19, stored2: 5},
			{name: "correction to zero", recs: []popkit.UplinkRecord{footfall(6, ev, "door", m.Add(time.Minute), 0, 0)},
				ack: 6, stored: 1, footfallIn: 16, stored2: 6},
			{name: "unknown kind and invalid record acked", recs: []popkit.UplinkRecord{unknown, bad},
				ack: 8, stored: 2, footfallIn: 16, stored2: 6, rej: 1, unknown: 1},
		}
		for _, s := range steps {
			clk.Add(time.Second)
			res, err := db.Ingest(ctx, ev, batch(w.dev.ID, stream, clk.Now(), s.recs...))
			must(t, err)
			if res.AckSeq != s.ack || res.Stored != s.stored || res.Duplicates != s.dups {
				t.Fatalf("%s: result %+v, want ack %d stored %d duplicates %d", s.name, res, s.ack, s.stored, s.dups)
			}
			if got := footfallIn(t, db, ev); got != s.footfallIn {
				t.Fatalf("%s: footfall in = %v, want %v", s.name, got, s.footfallIn)
			}
			st, err := db.FindDeviceStatus(ctx, w.dev.ID)
			must(t, err)
			if st.RecordsStored != s.stored2 || st.RecordsRejected != s.rej || st.RecordsUnknown != s.unknown {
				t.Fatalf("%s: status counts %d/%d/%d, want %d/%d/%d", s.name, st.RecordsStored, st.RecordsRejected, st.RecordsUnknown, s.stored2, s.rej, s.unknown)
			}
		}
		if got := footfallIn(t, db, w.other.ID); got != 0 {
			t.Fatalf("a record naming another event reached it: %v", got)
		}

		// A new stream (a fresh outbox) starts its own sequence; its
		// corrections win over the old stream's versions.
		stream2 := popkit.NewID()
		res, err := db.Ingest(ctx, ev, batch(w.dev.ID, stream2, clk.Now(), footfall(1, ev, "door", m, 2, 0)))
		must(t, err)
		if res.AckSeq != 1 || res.Stored != 1 {
			t.Fatalf("new stream: %+v", res)
		}
		if got := footfallIn(t, db, ev); got != 12 {
			t.Fatalf("new stream correction: footfall in = %v, want 12", got)
		}
		dev, err := db.FindDeviceByID(ctx, w.dev.ID)
		must(t, err)
		if dev.LastSeenAt == nil || !dev.LastSeenAt.Equal(clk.Now()) {
			t.Fatalf("last_seen_at = %v, want %v", dev.LastSeenAt, clk.Now())
		}
	})
}

// TestIngestScope checks that a device cannot ingest for another event,
// and that an unkeyable batch is refused whole.
func TestIngestScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkTelemetryWorld(t, db)
		now := time.Now()
		cases := []struct {
			name, eventID string
			req           *popkit.IngestRequest
			code, field   string
		}{
			{"device of another event", w.event.ID, batch(w.devOth.ID, popkit.NewID(), now, footfall(1, w.event.ID, "d", t0, 1, 0)), popkit.EFORBIDDEN, "device_id"},
			{"unknown device", w.event.ID, batch(popkit.NewID(), popkit.NewID(), now), popkit.EFORBIDDEN, "device_id"},
			{"seq zero", w.event.ID, batch(w.dev.ID, popkit.NewID(), now, footfall(0, w.event.ID, "d", t0, 1, 0)), popkit.EINVALID, "records[0].seq"},
			{"seq not increasing", w.event.ID, batch(w.dev.ID, popkit.NewID(), now, footfall(2, w.event.ID, "d", t0, 1, 0), footfall(2, w.event.ID, "d", t0, 1, 0)), popkit.EINVALID, "records[1].seq"},
			{"bad stream", w.event.ID, batch(w.dev.ID, "outbox-1", now), popkit.EINVALID, "stream"},
			{"no sent_at", w.event.ID, batch(w.dev.ID, popkit.NewID(), time.Time{}), popkit.EINVALID, "sent_at"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.Ingest(ctx, c.eventID, c.req)
				wantCode(t, err, c.code, c.field)
			})
		}
		if n := count(t, db, "ingest_records"); n != 0 {
			t.Fatalf("refused batches stored %d records", n)
		}
	})
}

// TestRollupValidation checks each rule of Rollup.Validate through ingest:
// an invalid rollup is rejected, kept and acked, and never counted.
func TestRollupValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkTelemetryWorld(t, db)
		ev := w.event.ID
		cases := []struct {
			name string
			mod  func(r *popkit.Rollup)
		}{
			{"other event", func(r *popkit.Rollup) { r.EventID = w.other.ID }},
			{"no sensor", func(r *popkit.Rollup) { r.Sensor = "" }},
			{"unknown rollup kind", func(r *popkit.Rollup) { r.Kind = "humidity" }},
			{"minute not whole", func(r *popkit.Rollup) { r.Minute = r.Minute.Add(30 * time.Second) }},
			{"negative count", func(r *popkit.Rollup) { r.In = -1 }},
			{"infinite kwh", func(r *popkit.Rollup) { r.Kind = popkit.RollupEnergy; r.KWh = math.Inf(1) }},
			{"year 1970", func(r *popkit.Rollup) { r.Minute = time.Unix(0, 0).UTC() }},
		}
		stream := popkit.NewID()
		for i, c := range cases {
			rec := footfall(int64(i+1), ev, "door", t0.Add(time.Hour), 50, 0)
			c.mod(rec.Rollup)
			req := batch(w.dev.ID, stream, time.Now(), rec)
			if math.IsInf(rec.Rollup.KWh, 0) {
				req.Records[0].Raw = []byte(`{"seq":1}`) // JSON cannot carry Inf
			}
			res, err := db.Ingest(ctx, ev, req)
			must(t, err)
			if res.AckSeq != int64(i+1) || res.Stored != 1 {
				t.Fatalf("%s: %+v, want the record kept and acked", c.name, res)
			}
		}
		st, err := db.FindDeviceStatus(ctx, w.dev.ID)
		must(t, err)
		if st.RecordsRejected != int64(len(cases)) || st.RecordsStored != 0 {
			t.Fatalf("status counts stored %d rejected %d, want 0 and %d", st.RecordsStored, st.RecordsRejected, len(cases))
		}
		if got := footfallIn(t, db, ev); got != 0 {
			t.Fatalf("rejected records counted: %v", got)
		}
	})
}

// TestTelemetrySeries checks every aggregation against hand-computed
// values, in UTC buckets across the night Europe/Berlin moves its clocks
// (the series ignore venue time: a 1d bucket is a UTC day of 24 hours).
func TestTelemetrySeries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkTelemetryWorld(t, db)
		ev := w.event.ID
		at := func(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		r := func(kind, sensor string, minute time.Time, set func(*popkit.Rollup)) *popkit.Rollup {
			x := &popkit.Rollup{EventID: ev, Sensor: sensor, Kind: kind, Minute: minute}
			set(x)
			return x
		}
		rollups := []*popkit.Rollup{
			// 00:59 and 01:00 UTC straddle the DST switch (01:00 UTC = 03:00 CEST).
			r(popkit.RollupFootfall, "door", at(0, 59), func(x *popkit.Rollup) { x.In, x.Out = 4, 1 }),
			r(popkit.RollupFootfall, "door", at(1, 0), func(x *popkit.Rollup) { x.In, x.Out = 6, 2 }),
			r(popkit.RollupFootfall, "side", at(1, 30), func(x *popkit.Rollup) { x.In = 10 }),
			r(popkit.RollupFootfall, "door", at(23, 59), func(x *popkit.Rollup) { x.In = 1 }),
			r(popkit.RollupFootfall, "door", at(24, 0), func(x *popkit.Rollup) { x.In = 100 }), // next day
			r(popkit.RollupOccupancy, "floor", at(1, 1), func(x *popkit.Rollup) { x.OccupancyMax = 12 }),
			r(popkit.RollupOccupancy, "floor", at(1, 2), func(x *popkit.Rollup) { x.OccupancyMax = 9 }),
			r(popkit.RollupQueue, "till", at(1, 0), func(x *popkit.Rollup) {
				x.QueueSamples, x.QueueP50, x.QueueP95, x.QueueMax = 1, 2, 4, 5
			}),
			r(popkit.RollupQueue, "till", at(1, 1), func(x *popkit.Rollup) {
				x.QueueSamples, x.QueueP50, x.QueueP95, x.QueueMax = 3, 6, 8, 9
			}),
			r(popkit.RollupDwell, "floor", at(1, 0), func(x *popkit.Rollup) { x.Visitors, x.DwellMedianSeconds, x.DwellStays = 10, 60, 10 }),
			r(popkit.RollupDwell, "floor", at(1, 1), func(x *popkit.Rollup) { x.Visitors, x.DwellMedianSeconds, x.DwellStays = 30, 100, 30 }),
			// Visitors entered but no stay ended: no dwell value, not 0 s.
			r(popkit.RollupDwell, "floor", at(1, 3), func(x *popkit.Rollup) { x.Visitors = 20 }),
			r(popkit.RollupDwell, "floor", at(1, 2), func(x *popkit.Rollup) { x.Suppressed = true }),
			r(popkit.RollupTemperature, "fridge", at(1, 0), func(x *popkit.Rollup) {
				x.TempSamples, x.TempMin, x.TempMax, x.TempMean = 2, 3, 5, 4
			}),
			r(popkit.RollupTemperature, "fridge", at(1, 1), func(x *popkit.Rollup) {
				x.TempSamples, x.TempMin, x.TempMax, x.TempMean = 6, 1, 9, 8
			}),
			r(popkit.RollupEnergy, "meter", at(1, 0), func(x *popkit.Rollup) { x.KWh = 0.25 }),
			r(popkit.RollupEnergy, "meter", at(1, 59), func(x *popkit.Rollup) { x.KWh = 0.5 }),
		}
		recs := make([]popkit.UplinkRecord, len(rollups))
		for i, x := range rollups {
			recs[i] = popkit.UplinkRecord{Seq: int64(i + 1), Kind: popkit.RecordRollup, Rollup: x}
		}
		res, err := db.Ingest(ctx, ev, batch(w.dev.ID, popkit.NewID(), time.Now(), recs...))
		must(t, err)
		if res.AckSeq != int64(len(recs)) {
			t.Fatalf("ack %d, want %d", res.AckSeq, len(recs))
		}
		day, hour := 24*time.Hour, time.Hour
		from, to := t0, t0.Add(48*time.Hour)
		cases := []struct {
			metric, sensor string
			step           time.Duration
			want           map[time.Time]float64
		}{
			{popkit.MetricFootfallIn, "", hour, map[time.Time]float64{at(0, 0): 4, at(1, 0): 16, at(23, 0): 1, at(24, 0): 100}},
			{popkit.MetricFootfallIn, "", day, map[time.Time]float64{at(0, 0): 21, at(24, 0): 100}},
			{popkit.MetricFootfallIn, "door", day, map[time.Time]float64{at(0, 0): 11, at(24, 0): 100}},
			{popkit.MetricFootfallIn, "", 30 * time.Minute, map[time.Time]float64{at(0, 30): 4, at(1, 0): 6, at(1, 30): 10, at(23, 30): 1, at(24, 0): 100}},
			{popkit.MetricFootfallOut, "", hour, map[time.Time]float64{at(0, 0): 1, at(1, 0): 2, at(23, 0): 0, at(24, 0): 0}},
			{popkit.MetricOccupancyMax, "", hour, map[time.Time]float64{at(1, 0): 12}},
			{popkit.MetricQueueP50, "", hour, map[time.Time]float64{at(1, 0): (2*1 + 6*3) / 4.0}},
			{popkit.MetricQueueP95, "", hour, map[time.Time]float64{at(1, 0): (4*1 + 8*3) / 4.0}},
			{popkit.MetricQueueMax, "", hour, map[time.Time]float64{at(1, 0): 9}},
			{popkit.MetricVisitors, "", hour, map[time.Time]float64{at(1, 0): 60}},
			{popkit.MetricDwellMedian, "", hour, map[time.Time]float64{at(1, 0): (60*10 + 100*30) / 40.0}},
			{popkit.MetricTemperatureMin, "", hour, map[time.Time]float64{at(1, 0): 1}},
			{popkit.MetricTemperatureMax, "", hour, map[time.Time]float64{at(1, 0): 9}},
			{popkit.MetricTemperatureMean, "", hour, map[time.Time]float64{at(1, 0): (4*2 + 8*6) / 8.0}},
			{popkit.MetricEnergyKWh, "", 1 * time.Minute, map[time.Time]float64{at(1, 0): 0.25, at(1, 59): 0.5}},
			{popkit.MetricEnergyKWh, "", day, map[time.Time]float64{at(0, 0): 0.75}},
		}
		for _, c := range cases {
			t.Run(c.metric+"/"+c.sensor+"/"+c.step.String(), func(t *testing.T) {
				got := series(t, db, popkit.TelemetryFilter{EventID: ev, Metric: c.metric, Sensor: c.sensor, From: from, To: to, Step: c.step})
				if len(got) != len(c.want) {
					t.Fatalf("points %v, want %v", got, c.want)
				}
				for k, v := range c.want {
					if math.Abs(got[k]-v) > 1e-9 {
						t.Fatalf("points %v, want %v", got, c.want)
					}
				}
			})
		}
		// [from, to) is half-open: the minute at to is out.
		got := series(t, db, popkit.TelemetryFilter{EventID: ev, Metric: popkit.MetricFootfallIn, From: at(1, 0), To: at(24, 0), Step: day})
		if len(got) != 1 || got[at(0, 0)] != 17 {
			t.Fatalf("half-open range: %v, want {%v: 17}", got, at(0, 0))
		}
	})
}

// TestTelemetryFilterErrors checks that bad filters name the parameter.
func TestTelemetryFilterErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		w := mkTelemetryWorld(t, db)
		ok := popkit.TelemetryFilter{EventID: w.event.ID, Metric: popkit.MetricFootfallIn, From: t0, To: t0.Add(time.Hour), Step: time.Minute}
		cases := []struct {
			name, code, field string
			mod               func(*popkit.TelemetryFilter)
		}{
			{"metric", popkit.EINVALID, "metric", func(f *popkit.TelemetryFilter) { f.Metric = "footfall" }},
			{"from", popkit.EINVALID, "from", func(f *popkit.TelemetryFilter) { f.From = time.Time{} }},
			{"to before from", popkit.EINVALID, "to", func(f *popkit.TelemetryFilter) { f.To = f.From }},
			{"step not dividing a day", popkit.EINVALID, "step", func(f *popkit.TelemetryFilter) { f.Step = 7 * time.Minute }},
			{"too many points", popkit.EINVALID, "step", func(f *popkit.TelemetryFilter) { f.To = f.From.Add(10001 * time.Minute) }},
			{"unknown event", popkit.ENOTFOUND, "", func(f *popkit.TelemetryFilter) { f.EventID = popkit.NewID() }},
		}
		for _, c := range cases {
			f := ok
			c.mod(&f)
			_, err := db.FindTelemetry(context.Background(), f)
			wantCode(t, err, c.code, c.field)
		}
		f := ok
		f.To = f.From.Add(10000 * time.Minute)
		_, err := db.FindTelemetry(context.Background(), f)
		must(t, err)
	})
}

// TestDeviceStatus checks the clock skew flag and the reported figures.
func TestDeviceStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := newClock(db, t0.Add(12*time.Hour))
		w := mkTelemetryWorld(t, db)
		st, err := db.FindDeviceStatus(ctx, w.dev.ID)
		must(t, err)
		if st.LastSeenAt != nil || st.ClockSkewFlagged || len(st.Streams) != 0 {
			t.Fatalf("status before any batch: %+v", st)
		}
		stream := popkit.NewID()
		cases := []struct {
			name    string
			skew    time.Duration
			flagged bool
		}{
			{"in sync", 3 * time.Second, false},
			{"just within", -popkit.MaxClockSkew, false},
			{"ahead", popkit.MaxClockSkew + time.Second, true},
			{"behind", -10 * time.Minute, true},
		}
		for i, c := range cases {
			clk.Add(time.Minute)
			_, err := db.Ingest(ctx, w.event.ID, batch(w.dev.ID, stream, clk.Now().Add(c.skew), footfall(int64(i+1), w.event.ID, "door", t0, int64(i), 0)))
			must(t, err)
			st, err := db.FindDeviceStatus(ctx, w.dev.ID)
			must(t, err)
			if st.ClockSkewFlagged != c.flagged || st.ClockSkewSeconds != c.skew.Seconds() {
				t.Fatalf("%s: skew %v flagged %v, want %v %v", c.name, st.ClockSkewSeconds, st.ClockSkewFlagged, c.skew.Seconds(), c.flagged)
			}
			if !st.LastSeenAt.Equal(clk.Now()) || !st.LastSentAt.Equal(clk.Now().Add(c.skew)) {
				t.Fatalf("%s: seen %v sent %v", c.name, st.LastSeenAt, st.LastSentAt)
			}
			if st.Report == nil || st.Report.BacklogCount != 7 || st.Report.Dropped["raw"] != 3 {
				t.Fatalf("%s: report %+v", c.name, st.Report)
			}
			if len(st.Streams) != 1 || st.Streams[0].AckSeq != int64(i+1) || st.Streams[0].Stream != stream {
				t.Fatalf("%s: streams %+v", c.name, st.Streams)
			}
		}
		_, err = db.FindDeviceStatus(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
		b, _ := json.Marshal(st)
		if len(b) == 0 {
			t.Fatal("status does not marshal")
		}
	})
}
