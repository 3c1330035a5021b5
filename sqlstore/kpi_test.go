package sqlstore_test

import (
	"math"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// rollup returns a rollup record of kind at minute, edited by set.
func rollup(seq int64, eventID, sensor, kind string, minute time.Time, set func(*popkit.Rollup)) popkit.UplinkRecord {
	r := &popkit.Rollup{EventID: eventID, Sensor: sensor, Kind: kind, Minute: minute}
	if set != nil {
		set(r)
	}
	return popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordRollup, Rollup: r}
}

// kpiValue returns a KPI of a row, failing when it is missing.
func kpiValue(t *testing.T, row popkit.KPIRow, name string) *popkit.KPIValue {
	t.Helper()
	v := row.Value(name)
	if v == nil {
		t.Fatalf("row %s has no %s", row.Key, name)
	}
	return v
}

// wantKPI checks a KPI's value against a hand-computed one.
func wantKPI(t *testing.T, row popkit.KPIRow, name string, want float64) {
	t.Helper()
	v := kpiValue(t, row, name)
	if v.Value == nil {
		t.Errorf("%s/%s is undefined (flags %v), want %v", row.Key, name, v.Flags, want)
		return
	}
	if math.Abs(*v.Value-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s/%s = %v, want %v (inputs %v)", row.Key, name, *v.Value, want, v.Inputs)
	}
}

// wantUndefined checks a KPI is absent and flagged.
func wantUndefined(t *testing.T, row popkit.KPIRow, name, flag string) {
	t.Helper()
	v := kpiValue(t, row, name)
	if v.Value != nil || !hasFlag(v, flag) {
		t.Errorf("%s/%s = %v flags %v, want undefined with %s", row.Key, name, v.Value, v.Flags, flag)
	}
}

func hasFlag(v *popkit.KPIValue, flag string) bool {
	for _, f := range v.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// TestKPIBerlinDSTFixture checks every KPI of one event against values
// computed by hand. The event opens 01:00-05:00 Berlin time on
// 2026-03-29, the night clocks go forward: 00:00-03:00 UTC, three hours
// (local 01, 03 and 04; 02:00 does not exist). Two doors count as
// entrances, an inner line counter is marked otherwise.
func TestKPIBerlinDSTFixture(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC))
		w := &orderWorld{world: &world{city: mkCity(t, db, "Europe/Berlin")}}
		w.venue = mkVenue(t, db, w.city.ID, "")
		w.brands = []*popkit.Brand{mkBrand(t, db)}
		w.event = mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}, session("2026-03-29", "01:00", "05:00"))
		w.skus = []*popkit.SKU{mkSKU(t, db, w.brands[0].ID)} // price 1200, cost 400
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 100}))
		dev := &popkit.Device{EventID: w.event.ID, Name: "agent"}
		must(t, db.CreateDevice(ctx, dev))
		must(t, db.SetSensorRole(ctx, &popkit.SensorRole{DeviceID: dev.ID, Sensor: "inner", Entrance: false}))
		must(t, db.SetSensorRole(ctx, &popkit.SensorRole{DeviceID: dev.ID, Sensor: "door-b", Entrance: true}))

		u := func(h, m int) time.Time { return time.Date(2026, 3, 29, h, m, 0, 0, time.UTC) }
		ev := w.event.ID
		recs := []popkit.UplinkRecord{
			rollup(1, ev, "door-a", popkit.RollupFootfall, u(0, 10), func(r *popkit.Rollup) { r.In = 10 }),
			rollup(2, ev, "door-b", popkit.RollupFootfall, u(1, 20), func(r *popkit.Rollup) { r.In = 5 }),
			rollup(3, ev, "inner", popkit.RollupFootfall, u(1, 20), func(r *popkit.Rollup) { r.In = 7 }),
			rollup(4, ev, "door-a", popkit.RollupFootfall, u(3, 30), func(r *popkit.Rollup) { r.In = 4 }), // after closing
			rollup(5, ev, "meter", popkit.RollupEnergy, u(0, 10), func(r *popkit.Rollup) { r.KWh = 0.5 }),
			rollup(6, ev, "meter", popkit.RollupEnergy, u(2, 10), func(r *popkit.Rollup) { r.KWh = 1.5 }),
			rollup(7, ev, "till", popkit.RollupQueue, u(0, 30), func(r *popkit.Rollup) {
				r.QueueSamples, r.QueueP50, r.QueueP95, r.QueueMax = 10, 4, 6, 7
			}),
			rollup(8, ev, "till", popkit.RollupQueue, u(1, 30), func(r *popkit.Rollup) {
				r.QueueSamples, r.QueueP50, r.QueueP95, r.QueueMax = 30, 1, 2, 3
			}),
			// 12 stays of 90 s ended at 01:01 UTC; the minute they entered
			// carries no dwell value.
			rollup(9, ev, "presence", popkit.RollupDwell, u(1, 0), func(r *popkit.Rollup) { r.Visitors, r.RepeatVisitors = 12, 5 }),
			rollup(10, ev, "presence", popkit.RollupDwell, u(1, 1), func(r *popkit.Rollup) {
				r.DwellMedianSeconds, r.DwellStays, r.DwellLittleSeconds = 90, 12, 80
			}),
			rollup(11, ev, "presence", popkit.RollupDwell, u(1, 2), func(r *popkit.Rollup) { r.Suppressed = true }),
			// A correction of door-a's first minute replaces it: 10 → 8.
			rollup(12, ev, "door-a", popkit.RollupFootfall, u(0, 10), func(r *popkit.Rollup) { r.In = 8 }),
		}
		_, err := db.Ingest(ctx, ev, batch(dev.ID, popkit.NewID(), u(6, 0), recs...))
		must(t, err)

		// POS orders at 00:30 UTC: A confirmed, B completed, C refunded,
		// D cancelled.
		pos := func() *popkit.Order {
			o := &popkit.Order{EventID: ev, Channel: popkit.ChannelPOS, OccurredAt: u(0, 30),
				Lines:   []popkit.OrderLine{{SKUID: w.skus[0].ID, Quantity: 1, UnitPriceMinor: 1200}},
				Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: 1200}}
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			return o
		}
		pos()
		b, c, d := pos(), pos(), pos()
		for _, step := range []struct {
			o  *popkit.Order
			to []popkit.OrderStatus
		}{
			{b, []popkit.OrderStatus{popkit.OrderFulfilled, popkit.OrderCompleted}},
			{c, []popkit.OrderStatus{popkit.OrderFulfilled, popkit.OrderRefunded}},
			{d, []popkit.OrderStatus{popkit.OrderCancelled}},
		} {
			for _, to := range step.to {
				_, err := db.TransitionOrder(ctx, step.o.ID, to, "test", "")
				must(t, err)
			}
		}
		// Same-day: S1 placed 00:40 UTC, delivered 02:40 UTC (04:40 local,
		// the same day): 120 minutes, bundle share 250. S2 cancelled.
		node := mkNodeFixture(t, db)
		s1, s2, fo := popkit.NewID(), popkit.NewID(), popkit.NewID()
		execFixture(t, db, `INSERT INTO orders (id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref,
				total_minor, cost_minor, occurred_at, created_at, updated_at)
			VALUES (?, ?, 'same_day', 'fulfilled', 'card', 1200, '', 1200, 400, ?, ?, ?), (?, ?, 'same_day', 'cancelled', 'card', 1200, '', 1200, 400, ?, ?, ?)`,
			s1, ev, timeFixture(db, u(0, 40)), timeFixture(db, u(0, 40)), timeFixture(db, u(0, 40)),
			s2, ev, timeFixture(db, u(0, 45)), timeFixture(db, u(0, 45)), timeFixture(db, u(0, 45)))
		execFixture(t, db, `INSERT INTO fulfilment_orders (id, order_id, node_id, status, perishable, units, weight_grams, cost_share_minor, created_at, updated_at)
			VALUES (?, ?, ?, 'delivered', ?, 1, 250, 250, ?, ?)`, fo, s1, node, false, timeFixture(db, u(0, 40)), timeFixture(db, u(2, 40)))
		execFixture(t, db, `INSERT INTO fulfilment_transitions (fulfilment_order_id, seq, from_status, to_status, actor, reason, at)
			VALUES (?, 1, 'out_for_delivery', 'delivered', 'test', '', ?)`, fo, timeFixture(db, u(2, 40)))
		// A listing published with no earlier sessions at the venue.
		l := mkListing(t, db, w.event)
		execFixture(t, db, `UPDATE listings SET published_at = ? WHERE id = ?`, timeFixture(db, u(0, 0)), l.ID)

		f := popkit.KPIFilter{Scope: popkit.ScopeEvent, ID: ev, From: u(0, 0), To: u(6, 0), Group: popkit.GroupHour}
		rep, err := db.FindKPIs(ctx, f)
		must(t, err)
		var keys []string
		for _, r := range rep.Rows {
			keys = append(keys, r.Key)
		}
		wantKeys := []string{"2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00", "2026-03-29T04:00+02:00", "2026-03-29T05:00+02:00"}
		if len(keys) != len(wantKeys) {
			t.Fatalf("hour keys = %v, want %v", keys, wantKeys)
		}
		for i := range keys {
			if keys[i] != wantKeys[i] {
				t.Fatalf("hour keys = %v, want %v", keys, wantKeys)
			}
		}
		// Local 01:00 (00:00 UTC): door-a 8 (corrected) in a session.
		wantKPI(t, rep.Rows[0], "visitors", 8)
		wantKPI(t, rep.Rows[0], "open_hours", 1)
		wantKPI(t, rep.Rows[0], "transactions", 2)
		// Local 03:00 (01:00 UTC): door-b 5, the inner counter's 7 left out.
		wantKPI(t, rep.Rows[1], "footfall", 5)
		// Local 05:00 (03:00 UTC): after closing: footfall, not visitors.
		wantKPI(t, rep.Rows[3], "footfall", 4)
		wantKPI(t, rep.Rows[3], "visitors", 0)
		wantUndefined(t, rep.Rows[3], "conversion_rate", popkit.FlagInsufficientData)

		tot := rep.Total
		wantKPI(t, tot, "footfall", 17)
		wantKPI(t, tot, "visitors", 13)
		wantKPI(t, tot, "open_hours", 3)
		wantKPI(t, tot, "footfall_per_open_hour", 13.0/3)
		wantKPI(t, tot, "transactions", 2)
		wantKPI(t, tot, "conversion_rate", 2.0/13)
		// Wilson 95% for 2 of 13 by hand (z = 1.96, z² = 3.8415): centre
		// (2/13 + z²/26) / (1 + z²/13) = 0.30159 / 1.29550 = 0.23280;
		// half-width z·√(p(1−p)/13 + z²/676) / 1.29550 = 0.18954.
		conv := kpiValue(t, tot, "conversion_rate")
		if conv.Low == nil || conv.High == nil {
			t.Fatal("conversion has no interval")
		}
		if math.Abs(*conv.Low-0.04326) > 1e-4 || math.Abs(*conv.High-0.42235) > 1e-4 {
			t.Errorf("conversion interval = %v .. %v, want 0.04326 .. 0.42235", *conv.Low, *conv.High)
		}
		wantKPI(t, tot, "average_basket", 1200)
		wantKPI(t, tot, "same_day_rate", 1)
		wantKPI(t, tot, "same_day_cancelled", 1)
		wantKPI(t, tot, "same_day_rerouted_share", 0)
		wantKPI(t, tot, "same_day_median_minutes", 120)
		wantKPI(t, tot, "queue_p95", (6*10+2*30)/40.0)
		wantKPI(t, tot, "queue_minutes_over", 1)
		wantKPI(t, tot, "dwell_median_seconds", 90)
		wantKPI(t, tot, "dwell_little_seconds", 80)
		wantKPI(t, tot, "energy_kwh", 2)
		wantKPI(t, tot, "energy_kwh_per_open_hour", 2.0/3)
		wantKPI(t, tot, "energy_kwh_per_visitor", 2.0/13)
		wantKPI(t, tot, "repeat_visitors_edge", 5)
		if !hasFlag(kpiValue(t, tot, "repeat_visitors_edge"), popkit.FlagSuppressed) {
			t.Error("repeat_visitors_edge must be flagged suppressed")
		}
		// Revenue: A, B, C and S1 (D and S2 cancelled); refunds C; COGS A, B, S1.
		wantKPI(t, tot, "revenue", 4800)
		wantKPI(t, tot, "refunds", 1200)
		wantKPI(t, tot, "net_revenue", 3600)
		wantKPI(t, tot, "cogs", 1200)
		wantKPI(t, tot, "gross_margin", 2400)
		wantKPI(t, tot, "rent", 100000)
		wantKPI(t, tot, "staff", 50000)
		wantKPI(t, tot, "transport", 10000)
		wantKPI(t, tot, "energy_cost", 60) // 2 kWh × 30
		wantKPI(t, tot, "fulfilment_cost", 250)
		contribution := 2400.0 - 100000 - 50000 - 10000 - 60 - 250
		wantKPI(t, tot, "contribution", contribution)
		wantKPI(t, tot, "contribution_per_visitor", contribution/13)
		wantKPI(t, tot, "contribution_per_open_hour", contribution/3)
		// Costs 160310 ÷ (2/13 × (1200 − 400)) = 1302518.75 visitors.
		wantKPI(t, tot, "break_even_visitors", 160310/(2.0/13*800))
		wantUndefined(t, tot, "listing_uplift_pct", popkit.FlagInsufficientData)
		if up := kpiValue(t, tot, "listing_uplift_pct"); up.Baseline != popkit.KPIBaselineBefore {
			t.Errorf("uplift baseline = %q", up.Baseline)
		}
		if kpiValue(t, tot, "revenue").Currency != "EUR" {
			t.Errorf("revenue currency = %q, want the program's EUR", kpiValue(t, tot, "revenue").Currency)
		}
		// Fixed costs spread over the open hours: a third each.
		wantKPI(t, rep.Rows[0], "rent", 33333)

		// The day: one row holding all three open hours.
		f.Group = popkit.GroupDay
		day, err := db.FindKPIs(ctx, f)
		must(t, err)
		if len(day.Rows) != 1 || day.Rows[0].Key != "2026-03-29" {
			t.Fatalf("day rows = %+v", day.Rows)
		}
		wantKPI(t, day.Rows[0], "open_hours", 3)
		wantKPI(t, day.Rows[0], "visitors", 13)
	})
}

// TestKPINewYorkFallBack checks the 25 hours of 2026-11-01 in New York: a
// session 00:00-04:00 local lasts five hours, and the repeated 01:00 hour
// shows twice.
func TestKPINewYorkFallBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		city := mkCity(t, db, "America/New_York")
		venue := mkVenue(t, db, city.ID, "")
		brand := mkBrand(t, db)
		ev := mkEvent(t, db, venue.ID, []string{brand.ID}, session("2026-11-01", "00:00", "04:00"))
		dev := &popkit.Device{EventID: ev.ID, Name: "agent"}
		must(t, db.CreateDevice(ctx, dev))
		var recs []popkit.UplinkRecord
		start := time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)
		for i := range 5 {
			recs = append(recs, rollup(int64(i+1), ev.ID, "door", popkit.RollupFootfall, start.Add(time.Duration(i)*time.Hour+5*time.Minute),
				func(r *popkit.Rollup) { r.In = int64(i + 1) }))
		}
		_, err := db.Ingest(ctx, ev.ID, batch(dev.ID, popkit.NewID(), start, recs...))
		must(t, err)
		rep, err := db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeCity, ID: city.ID, From: start, To: start.Add(5 * time.Hour), Group: popkit.GroupHour})
		must(t, err)
		want := []string{"2026-11-01T00:00-04:00", "2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00", "2026-11-01T02:00-05:00", "2026-11-01T03:00-05:00"}
		if len(rep.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(rep.Rows), len(want))
		}
		for i, r := range rep.Rows {
			if r.Key != want[i] {
				t.Errorf("row %d key %s, want %s", i, r.Key, want[i])
			}
			wantKPI(t, r, "visitors", float64(i+1))
			wantKPI(t, r, "open_hours", 1)
		}
		wantKPI(t, rep.Total, "visitors", 15)
		wantKPI(t, rep.Total, "open_hours", 5)
	})
}

// TestKPIFilterErrors checks bad filters name their field.
func TestKPIFilterErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name  string
			f     popkit.KPIFilter
			code  string
			field string
		}{
			{"scope", popkit.KPIFilter{Scope: "galaxy", From: at, To: at.Add(time.Hour), Group: "day"}, popkit.EINVALID, "scope"},
			{"group", popkit.KPIFilter{Scope: "program", From: at, To: at.Add(time.Hour), Group: "minute"}, popkit.EINVALID, "group"},
			{"order", popkit.KPIFilter{Scope: "program", From: at, To: at.Add(-time.Hour), Group: "day"}, popkit.EINVALID, "from"},
			{"range", popkit.KPIFilter{Scope: "program", From: at, To: at.AddDate(0, 0, 401), Group: "day"}, popkit.EINVALID, "to"},
			{"event", popkit.KPIFilter{Scope: "event", ID: popkit.NewID(), From: at, To: at.Add(time.Hour), Group: "day"}, popkit.ENOTFOUND, ""},
			{"city", popkit.KPIFilter{Scope: "city", ID: popkit.NewID(), From: at, To: at.Add(time.Hour), Group: "day"}, popkit.ENOTFOUND, ""},
		} {
			_, err := db.FindKPIs(t.Context(), c.f)
			wantCode(t, err, c.code, c.field)
		}
	})
}
