package sqlstore_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// aggKey is one row of kpi_telemetry_hourly.
type aggKey struct {
	event, device, sensor, kind string
	hour                        int64
}

// aggVals are the sums of a row, as floats for comparison.
type aggVals [15]float64

// TestKPIAggregatesMatchRaw writes random rollups (with corrections that
// replace earlier versions) through Ingest and random orders through
// CreateOrder and TransitionOrder, then checks that every hourly aggregate
// equals a recomputation from the raw rows.
func TestKPIAggregatesMatchRaw(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC))
		w := mkOrderWorld(t, db)
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[0].ID, Stock: 100000}))
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: w.event.ID, SKUID: w.skus[1].ID, Stock: 100000, PriceMinor: ptr(int64(999))}))
		rng := rand.New(rand.NewPCG(7, 11))
		devs := make([]*popkit.Device, 2)
		for i := range devs {
			devs[i] = &popkit.Device{EventID: w.event.ID, Name: fmt.Sprintf("agent %d", i)}
			must(t, db.CreateDevice(ctx, devs[i]))
		}
		day := time.Date(2026, 5, 1, 4, 0, 0, 0, time.UTC) // the session is 08:00-16:00 UTC
		kinds := []string{popkit.RollupFootfall, popkit.RollupQueue, popkit.RollupDwell, popkit.RollupEnergy}
		for _, dev := range devs {
			stream := popkit.NewID()
			var seq int64
			for range 6 {
				var recs []popkit.UplinkRecord
				for range 150 {
					seq++
					kind := kinds[rng.IntN(len(kinds))]
					minute := day.Add(time.Duration(rng.IntN(14*60)) * time.Minute)
					recs = append(recs, rollup(seq, w.event.ID, fmt.Sprintf("s%d", rng.IntN(3)), kind, minute, func(r *popkit.Rollup) {
						switch kind {
						case popkit.RollupFootfall:
							r.In, r.Out = rng.Int64N(20), rng.Int64N(20)
						case popkit.RollupQueue:
							r.QueueSamples = 1 + rng.IntN(30)
							r.QueueP50 = float64(rng.IntN(5))
							r.QueueP95 = r.QueueP50 + float64(rng.IntN(5))
							r.QueueMax = r.QueueP95 + 1
						case popkit.RollupDwell:
							r.Visitors = rng.Int64N(15)
							r.RepeatVisitors = r.Visitors / 2
							if rng.IntN(2) == 0 {
								r.DwellMedianSeconds, r.DwellStays = float64(30+rng.IntN(300)), rng.Int64N(10)
							}
							r.DwellLittleSeconds = float64(rng.IntN(200))
							r.Suppressed = rng.IntN(5) == 0
						case popkit.RollupEnergy:
							r.KWh = float64(rng.IntN(1000)) / 1000
						}
					}))
				}
				_, err := db.Ingest(ctx, w.event.ID, batch(dev.ID, stream, day, recs...))
				must(t, err)
			}
		}
		for range 60 {
			qty := 1 + rng.IntN(3)
			o := &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelPOS, OccurredAt: day.Add(time.Duration(rng.IntN(14*60)) * time.Minute),
				Lines:   []popkit.OrderLine{{SKUID: w.skus[0].ID, Quantity: qty, UnitPriceMinor: 1200}, {SKUID: w.skus[1].ID, Quantity: 1, UnitPriceMinor: 999}},
				Payment: popkit.Payment{Method: popkit.PaymentCash, AmountMinor: int64(qty)*1200 + 999}}
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			paths := [][]popkit.OrderStatus{nil, {popkit.OrderCancelled}, {popkit.OrderFulfilled, popkit.OrderCompleted},
				{popkit.OrderFulfilled, popkit.OrderRefunded}, {popkit.OrderFulfilled, popkit.OrderPartiallyRefunded}}
			for _, to := range paths[rng.IntN(len(paths))] {
				_, err := db.TransitionOrder(ctx, o.ID, to, "test", "")
				must(t, err)
			}
		}

		// Recompute the telemetry aggregates from telemetry_rollups.
		want := map[aggKey]aggVals{}
		rows, err := db.SQL().QueryContext(ctx, `SELECT event_id, device_id, sensor, kind, minute, in_count, out_count, queue_samples, queue_p95,
			visitors, repeat_visitors, suppressed, dwell_median_seconds, dwell_stays, dwell_little_seconds, kwh FROM telemetry_rollups`)
		must(t, err)
		sess := w.event.Sessions[0]
		for rows.Next() {
			var k aggKey
			var minute any
			var in, out, qs, vis, rep, stays int64
			var p95, med, little, kwh float64
			var suppressed bool
			must(t, rows.Scan(&k.event, &k.device, &k.sensor, &k.kind, &minute, &in, &out, &qs, &p95, &vis, &rep, &suppressed, &med, &stays, &little, &kwh))
			at := fixtureTime(t, minute)
			k.hour = at.Unix() / 3600
			v := want[k]
			open := !at.Before(sess.StartUTC) && at.Before(sess.EndUTC)
			v[0]++
			v[1] += float64(in)
			if open {
				v[2] += float64(in)
			}
			v[3] += float64(out)
			v[4] += float64(qs)
			v[5] += p95 * float64(qs)
			if p95 > popkit.KPIQueueThreshold {
				v[6]++
			}
			v[7] += float64(vis)
			v[8] += float64(rep)
			if suppressed {
				v[9]++
			}
			if med > 0 {
				st := math.Max(float64(stays), 1)
				v[10] += st
				v[11] += med * st
			}
			if little > 0 {
				v[12]++
			}
			v[13] += little
			v[14] += kwh
			want[k] = v
		}
		must(t, rows.Err())
		rows.Close()
		got := map[aggKey]aggVals{}
		rows, err = db.SQL().QueryContext(ctx, `SELECT event_id, device_id, sensor, kind, hour, minutes, in_count, in_open, out_count,
			queue_samples, queue_p95_wsum, queue_over_min, visitors, repeat_visitors, suppressed_min, dwell_stays, dwell_wsum,
			little_min, little_sum, kwh FROM kpi_telemetry_hourly`)
		must(t, err)
		for rows.Next() {
			var k aggKey
			var v aggVals
			dest := []any{&k.event, &k.device, &k.sensor, &k.kind, &k.hour}
			for i := range v {
				dest = append(dest, &v[i])
			}
			must(t, rows.Scan(dest...))
			got[k] = v
		}
		must(t, rows.Err())
		rows.Close()
		if len(want) < 50 {
			t.Fatalf("only %d aggregate keys: the random data is too thin", len(want))
		}
		compareAggs(t, "telemetry", want, got)

		// Recompute the order aggregates from orders and order_lines.
		type orderKey struct {
			event, channel, status, sku string
			hour                        int64
		}
		wantO, wantL := map[orderKey][3]float64{}, map[orderKey][4]float64{}
		rows, err = db.SQL().QueryContext(ctx, `SELECT o.event_id, o.channel, o.status, o.occurred_at, o.total_minor, o.cost_minor, o.id FROM orders o`)
		must(t, err)
		type orderRow struct {
			key orderKey
			id  string
		}
		var orders []orderRow
		for rows.Next() {
			var k orderKey
			var at any
			var total, cost int64
			var id string
			must(t, rows.Scan(&k.event, &k.channel, &k.status, &at, &total, &cost, &id))
			k.hour = fixtureTime(t, at).Unix() / 3600
			v := wantO[k]
			v[0]++
			v[1] += float64(total)
			v[2] += float64(cost)
			wantO[k] = v
			orders = append(orders, orderRow{k, id})
		}
		must(t, rows.Err())
		rows.Close()
		for _, o := range orders {
			var lines [][4]any
			lr, err := db.SQL().QueryContext(ctx, rebindFixture(db, `SELECT sku_id, quantity, unit_price_minor, unit_cost_minor FROM order_lines WHERE order_id = ?`), o.id)
			must(t, err)
			for lr.Next() {
				var sku string
				var q, p, c int64
				must(t, lr.Scan(&sku, &q, &p, &c))
				lines = append(lines, [4]any{sku, q, p, c})
			}
			lr.Close()
			for _, l := range lines {
				k := o.key
				k.sku = l[0].(string)
				q, p, c := l[1].(int64), l[2].(int64), l[3].(int64)
				v := wantL[k]
				v[0]++
				v[1] += float64(q)
				v[2] += float64(q * p)
				v[3] += float64(q * c)
				wantL[k] = v
			}
		}
		gotO, gotL := map[orderKey][3]float64{}, map[orderKey][4]float64{}
		rows, err = db.SQL().QueryContext(ctx, `SELECT event_id, channel, status, hour, orders, total_minor, cost_minor FROM kpi_orders_hourly`)
		must(t, err)
		for rows.Next() {
			var k orderKey
			var v [3]float64
			must(t, rows.Scan(&k.event, &k.channel, &k.status, &k.hour, &v[0], &v[1], &v[2]))
			if v != [3]float64{} {
				gotO[k] = v
			}
		}
		rows.Close()
		rows, err = db.SQL().QueryContext(ctx, `SELECT event_id, channel, status, hour, sku_id, lines, units, total_minor, cost_minor FROM kpi_sku_sales_hourly`)
		must(t, err)
		for rows.Next() {
			var k orderKey
			var v [4]float64
			must(t, rows.Scan(&k.event, &k.channel, &k.status, &k.hour, &k.sku, &v[0], &v[1], &v[2], &v[3]))
			if v != [4]float64{} {
				gotL[k] = v
			}
		}
		rows.Close()
		if len(wantO) < 10 {
			t.Fatalf("only %d order keys", len(wantO))
		}
		compareAggs(t, "orders", wantO, gotO)
		compareAggs(t, "order lines", wantL, gotL)
	})
}

// compareAggs fails for every key whose sums differ.
func compareAggs[K comparable, V [3]float64 | [4]float64 | aggVals](t *testing.T, what string, want, got map[K]V) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d aggregate rows, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no aggregate for %+v", what, k)
			continue
		}
		for i := range len(w) {
			if math.Abs(g[i]-w[i]) > 1e-6*math.Max(1, math.Abs(w[i])) {
				t.Errorf("%s %+v: column %d = %v, want %v", what, k, i, g[i], w[i])
			}
		}
	}
}

// fixtureTime reads a time column of either dialect.
func fixtureTime(t *testing.T, v any) time.Time {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return time.UnixMicro(x).UTC()
	case time.Time:
		return x.UTC()
	}
	t.Fatalf("time column of type %T", v)
	return time.Time{}
}

// rebindFixture turns ? placeholders into $n on PostgreSQL.
func rebindFixture(db *sqlstore.DB, q string) string {
	if db.Dialect() != sqlstore.DialectPostgres {
		return q
	}
	n := 0
	out := make([]byte, 0, len(q)+8)
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
