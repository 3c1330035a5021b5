package sqlstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// Fulfilment orders are inserted as SQL fixtures over the 0007 schema, so
// that these tests depend only on the tables, not on the routing code.

// execFixture runs a statement written with ? placeholders on the write
// pool.
func execFixture(t testing.TB, db *sqlstore.DB, q string, args ...any) {
	t.Helper()
	if db.Dialect() == sqlstore.DialectPostgres {
		var b strings.Builder
		n := 0
		for _, c := range q {
			if c == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteRune(c)
			}
		}
		q = b.String()
	}
	if _, err := db.WritePool().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("fixture %q: %v", q, err)
	}
}

// queryFixture is execFixture for a query of one row.
func queryFixture(t testing.TB, db *sqlstore.DB, q string, args []any, dest ...any) {
	t.Helper()
	if db.Dialect() == sqlstore.DialectPostgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if err := db.WritePool().QueryRowContext(context.Background(), q, args...).Scan(dest...); err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
}

// timeFixture is a time argument for db's dialect.
func timeFixture(db *sqlstore.DB, t time.Time) any {
	if db.Dialect() == sqlstore.DialectSQLite {
		return t.UTC().UnixMicro()
	}
	return t.UTC()
}

// coldWorld is a telemetry world with two nodes, a perishable and a dry
// SKU, and a sensor of w.dev bound to node a.
type coldWorld struct {
	*telemetryWorld
	a, b            string // node ids
	fresh, dry      *popkit.SKU
	binding         *popkit.SensorBinding
	stream, stream2 string
}

func mkNodeFixture(t testing.TB, db *sqlstore.DB) string {
	t.Helper()
	id := popkit.NewID()
	now := timeFixture(db, t0)
	execFixture(t, db, `INSERT INTO nodes (id, name, kind, lat, lon, service_radius_km, time_zone, opening_hours, same_day_cutoff,
			capacity_per_hour, capacity_per_day, cold_chain, makes, cost_per_order_minor, cost_per_bundle_minor, external, created_at, updated_at)
		VALUES (?, ?, 'kitting_station', 52.5, 13.4, 10, 'Europe/Berlin', '[]', 900, 10, 100, ?, '[]', 300, 500, ?, ?, ?)`,
		id, uniq("node"), true, false, now, now)
	return id
}

func mkColdWorld(t testing.TB, db *sqlstore.DB) *coldWorld {
	t.Helper()
	w := &coldWorld{telemetryWorld: mkTelemetryWorld(t, db), stream: popkit.NewID()}
	w.stream2 = popkit.NewID() // later than stream: its versions win
	w.a, w.b = mkNodeFixture(t, db), mkNodeFixture(t, db)
	w.fresh = &popkit.SKU{BrandID: w.brands[0].ID, Code: uniq("milk"), Name: "Milk", PriceMinor: 300, UnitCostMinor: 100, Perishable: true, WeightGrams: 1000}
	must(t, db.CreateSKU(context.Background(), w.fresh))
	w.dry = mkSKU(t, db, w.brands[0].ID)
	w.binding = &popkit.SensorBinding{NodeID: w.a, DeviceID: w.dev.ID, Sensor: "fridge-1", ColdBox: "box-1",
		LimitC: popkit.DefaultColdLimitC, MinMinutes: popkit.DefaultExcursionMinutes}
	must(t, db.CreateSensorBinding(context.Background(), w.binding))
	return w
}

// stock sets a node's stock of a SKU.
func (w *coldWorld) stock(t testing.TB, db *sqlstore.DB, node, sku string, onHand, reserved int) {
	t.Helper()
	execFixture(t, db, `INSERT INTO node_stock (node_id, sku_id, on_hand, reserved, updated_at) VALUES (?, ?, ?, ?, ?)`,
		node, sku, onHand, reserved, timeFixture(db, t0))
}

// fulfilment inserts an order and its fulfilment order at node in status,
// with one line of sku (taken from stock), and returns the fulfilment
// order's id.
func (w *coldWorld) fulfilment(t testing.TB, db *sqlstore.DB, node string, status fulfil.State, sku *popkit.SKU, qty int) string {
	t.Helper()
	now := timeFixture(db, t0)
	order, id := popkit.NewID(), popkit.NewID()
	execFixture(t, db, `INSERT INTO orders (id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref,
			total_minor, cost_minor, occurred_at, created_at, updated_at)
		VALUES (?, ?, 'same_day', 'confirmed', 'card', 0, '', 0, 0, ?, ?, ?)`, order, w.event.ID, now, now, now)
	execFixture(t, db, `INSERT INTO fulfilment_orders (id, order_id, node_id, status, perishable, units, weight_grams, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, order, node, string(status), sku.Perishable, qty, qty*sku.WeightGrams, now, now)
	execFixture(t, db, `INSERT INTO fulfilment_order_lines (fulfilment_order_id, sku_id, quantity, made) VALUES (?, ?, ?, ?)`,
		id, sku.ID, qty, false)
	return id
}

// status returns a fulfilment order's status and held_from.
func fulfilmentStatus(t testing.TB, db *sqlstore.DB, id string) (fulfil.State, fulfil.State) {
	t.Helper()
	var s, h string
	queryFixture(t, db, `SELECT status, held_from FROM fulfilment_orders WHERE id = ?`, []any{id}, &s, &h)
	return fulfil.State(s), fulfil.State(h)
}

func nodeStock(t testing.TB, db *sqlstore.DB, node, sku string) (onHand, reserved int) {
	t.Helper()
	queryFixture(t, db, `SELECT on_hand, reserved FROM node_stock WHERE node_id = ? AND sku_id = ?`, []any{node, sku}, &onHand, &reserved)
	return onHand, reserved
}

// temp returns a temperature rollup record whose temp_max is maxC.
func temp(seq int64, eventID, sensor string, minute time.Time, maxC float64) popkit.UplinkRecord {
	return popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{
		EventID: eventID, Sensor: sensor, Kind: popkit.RollupTemperature, Minute: minute,
		TempSamples: 6, TempMin: maxC - 1, TempMean: maxC - 0.5, TempMax: maxC}}
}

// temps returns records seq, seq+1, ... for minutes from, from+1, ... of t0.
func temps(seq int64, eventID, sensor string, from int, values ...float64) []popkit.UplinkRecord {
	recs := make([]popkit.UplinkRecord, len(values))
	for i, v := range values {
		recs[i] = temp(seq+int64(i), eventID, sensor, t0.Add(time.Duration(from+i)*time.Minute), v)
	}
	return recs
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func excursions(t testing.TB, db *sqlstore.DB, f popkit.ExcursionFilter) []*popkit.Excursion {
	t.Helper()
	items, _, err := db.FindExcursions(context.Background(), f)
	must(t, err)
	return items
}

func ingest(t testing.TB, db *sqlstore.DB, w *coldWorld, stream string, recs ...popkit.UplinkRecord) {
	t.Helper()
	_, err := db.Ingest(context.Background(), w.event.ID, batch(w.dev.ID, stream, t0, recs...))
	must(t, err)
}

// TestColdChainExcursion walks one node through two excursions: nine
// minutes above the limit do nothing, the tenth opens an excursion that
// holds only that node's perishable orders in holdable states; replays,
// corrections and out-of-order minutes extend it without a second one; a
// minute back under ends it; release returns the orders; a second
// excursion is discarded, writing off stock, cancelling and rerouting.
func TestColdChainExcursion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkColdWorld(t, db)
		w.stock(t, db, w.a, w.fresh.ID, 20, 5)
		w.stock(t, db, w.a, w.dry.ID, 10, 1)
		open := w.fulfilment(t, db, w.a, fulfil.StateOpen, w.fresh, 2)
		kitting := w.fulfilment(t, db, w.a, fulfil.StateKitting, w.fresh, 3)
		gone := w.fulfilment(t, db, w.a, fulfil.StateOutForDelivery, w.fresh, 1)
		dry := w.fulfilment(t, db, w.a, fulfil.StateAccepted, w.dry, 1)
		elsewhere := w.fulfilment(t, db, w.b, fulfil.StateOpen, w.fresh, 1)
		unchanged := func(t *testing.T) {
			t.Helper()
			for id, want := range map[string]fulfil.State{gone: fulfil.StateOutForDelivery, dry: fulfil.StateAccepted, elsewhere: fulfil.StateOpen} {
				if got, _ := fulfilmentStatus(t, db, id); got != want {
					t.Fatalf("fulfilment order %s is %s, want %s untouched", id, got, want)
				}
			}
		}

		// Nine minutes over the limit, and an unbound sensor far over it.
		ingest(t, db, w, w.stream, append(temps(1, w.event.ID, "fridge-1", 0, repeat(9.5, 9)...), temp(10, w.event.ID, "fridge-9", t0, 30))...)
		if got := excursions(t, db, popkit.ExcursionFilter{}); len(got) != 0 {
			t.Fatalf("after 9 minutes: %d excursions, want none", len(got))
		}
		if s, _ := fulfilmentStatus(t, db, open); s != fulfil.StateOpen {
			t.Fatalf("after 9 minutes the open order is %s", s)
		}

		// The tenth minute opens the excursion.
		ingest(t, db, w, w.stream, temp(11, w.event.ID, "fridge-1", t0.Add(9*time.Minute), 10.2))
		got := excursions(t, db, popkit.ExcursionFilter{NodeID: w.a})
		if len(got) != 1 {
			t.Fatalf("after 10 minutes: %d excursions, want 1", len(got))
		}
		x := got[0]
		if x.Status != popkit.ExcursionActive || !x.StartedAt.Equal(t0) || x.EndedAt != nil || x.MaxC != 10.2 ||
			x.DurationMinutes != 10 || x.HeldOrders != 2 || x.BindingID != w.binding.ID || x.ColdBox != "box-1" || x.Sensor != "fridge-1" {
			t.Fatalf("excursion = %+v", x)
		}
		for id, from := range map[string]fulfil.State{open: fulfil.StateOpen, kitting: fulfil.StateKitting} {
			if s, h := fulfilmentStatus(t, db, id); s != fulfil.StateOnHold || h != from {
				t.Fatalf("order held from %s is %s (held_from %q)", from, s, h)
			}
			var actor, reason, to string
			queryFixture(t, db, `SELECT actor, reason, to_status FROM fulfilment_transitions WHERE fulfilment_order_id = ? ORDER BY seq DESC LIMIT 1`,
				[]any{id}, &actor, &reason, &to)
			if actor != popkit.ColdChainActor || !strings.Contains(reason, x.ID) || to != string(fulfil.StateOnHold) {
				t.Fatalf("transition = %s %q %s", actor, reason, to)
			}
		}
		unchanged(t)
		_, err := db.ResolveExcursion(ctx, x.ID, popkit.Resolution{Action: popkit.ActionRelease, Actor: "admin:x"})
		wantCode(t, err, popkit.ECONFLICT, "action")

		// A replay, a correction from a newer stream, and minutes out of
		// order (12 before 10 and 11) extend the one excursion.
		ingest(t, db, w, w.stream, temps(1, w.event.ID, "fridge-1", 0, repeat(9.5, 9)...)...)
		ingest(t, db, w, w.stream2, temp(1, w.event.ID, "fridge-1", t0.Add(5*time.Minute), 11.5))
		ingest(t, db, w, w.stream, temp(14, w.event.ID, "fridge-1", t0.Add(12*time.Minute), 9))
		ingest(t, db, w, w.stream, temps(12, w.event.ID, "fridge-1", 10, 9, 9)...)
		got = excursions(t, db, popkit.ExcursionFilter{})
		if len(got) != 1 || got[0].MaxC != 11.5 || got[0].DurationMinutes != 13 || got[0].Status != popkit.ExcursionActive || got[0].HeldOrders != 2 {
			t.Fatalf("after replays and corrections: %d excursions, first %+v", len(got), got[0])
		}
		var holds int
		queryFixture(t, db, `SELECT COUNT(*) FROM fulfilment_transitions WHERE to_status = ?`, []any{string(fulfil.StateOnHold)}, &holds)
		if holds != 2 {
			t.Fatalf("%d on_hold transitions, want 2", holds)
		}

		// Back under the limit at minute 13.
		ingest(t, db, w, w.stream, temp(15, w.event.ID, "fridge-1", t0.Add(13*time.Minute), 6))
		x, err = db.FindExcursionByID(ctx, x.ID)
		must(t, err)
		if x.Status != popkit.ExcursionEnded || x.EndedAt == nil || !x.EndedAt.Equal(t0.Add(13*time.Minute)) || x.DurationMinutes != 13 {
			t.Fatalf("after recovery: %+v", x)
		}
		if got := excursions(t, db, popkit.ExcursionFilter{Status: popkit.ExcursionEnded}); len(got) != 1 {
			t.Fatalf("ended filter: %d", len(got))
		}

		// Release: the held orders go back where they were.
		x, err = db.ResolveExcursion(ctx, x.ID, popkit.Resolution{Action: popkit.ActionRelease, Note: "probe read 4 °C", Actor: "admin:x"})
		must(t, err)
		if x.Status != popkit.ExcursionResolved || x.Resolution == nil || x.Resolution.Action != popkit.ActionRelease || x.Resolution.Actor != "admin:x" || x.Resolution.At.IsZero() {
			t.Fatalf("released: %+v", x)
		}
		for id, want := range map[string]fulfil.State{open: fulfil.StateOpen, kitting: fulfil.StateKitting} {
			if s, h := fulfilmentStatus(t, db, id); s != want || h != "" {
				t.Fatalf("released order is %s (held_from %q), want %s", s, h, want)
			}
		}
		unchanged(t)
		_, err = db.ResolveExcursion(ctx, x.ID, popkit.Resolution{Action: popkit.ActionDiscard, Note: "again", Actor: "admin:x"})
		wantCode(t, err, popkit.ECONFLICT, "action")
		// A late correction inside the resolved run opens nothing.
		ingest(t, db, w, w.stream2, temp(2, w.event.ID, "fridge-1", t0.Add(7*time.Minute), 12))
		if got := excursions(t, db, popkit.ExcursionFilter{}); len(got) != 1 || got[0].Status != popkit.ExcursionResolved || got[0].MaxC != 12 {
			t.Fatalf("after a late correction: %d excursions, first %+v", len(got), got[0])
		}

		// A second run opens a second excursion; discard it.
		ingest(t, db, w, w.stream, temps(16, w.event.ID, "fridge-1", 30, repeat(15, 10)...)...)
		second := excursions(t, db, popkit.ExcursionFilter{Status: popkit.ExcursionActive})
		if len(second) != 1 || second[0].ID == x.ID || second[0].HeldOrders != 2 {
			t.Fatalf("second run: %+v", second)
		}
		d, err := db.ResolveExcursion(ctx, second[0].ID, popkit.Resolution{Action: popkit.ActionDiscard, Note: "milk too warm", Actor: "fulfiller:y"})
		must(t, err)
		for _, id := range []string{open, kitting} {
			if s, _ := fulfilmentStatus(t, db, id); s != fulfil.StateCancelled {
				t.Fatalf("discarded order is %s, want cancelled", s)
			}
		}
		unchanged(t)
		// 5 units were reserved by the two held orders and are given back;
		// nothing else reserves the perishable SKU, so all 20 go.
		if on, res := nodeStock(t, db, w.a, w.fresh.ID); on != 0 || res != 0 {
			t.Fatalf("perishable stock after discard: on_hand %d reserved %d, want 0 0", on, res)
		}
		if on, res := nodeStock(t, db, w.a, w.dry.ID); on != 10 || res != 1 {
			t.Fatalf("dry stock after discard: on_hand %d reserved %d, want 10 1", on, res)
		}
		if d.Resolution.WrittenOff != 20 {
			t.Fatalf("written off %d, want 20", d.Resolution.WrittenOff)
		}
		var jobs int
		queryFixture(t, db, `SELECT COUNT(*) FROM river_job WHERE kind = ?`, []any{popkit.RerouteOrderArgs{}.Kind()}, &jobs)
		if jobs != 2 {
			t.Fatalf("%d reroute jobs, want 2", jobs)
		}
		// Discarded while still warm: routing keeps away until it cools.
		nodes, err := db.ActiveExcursionNodes(ctx)
		must(t, err)
		if len(nodes) != 1 || nodes[0] != w.a {
			t.Fatalf("nodes to avoid: %v, want [%s]", nodes, w.a)
		}
		ingest(t, db, w, w.stream, temp(26, w.event.ID, "fridge-1", t0.Add(40*time.Minute), 5))
		if nodes, err = db.ActiveExcursionNodes(ctx); err != nil || len(nodes) != 0 {
			t.Fatalf("nodes to avoid after cooling: %v, %v", nodes, err)
		}
		if x, err := db.FindExcursionByID(ctx, d.ID); err != nil || x.Status != popkit.ExcursionResolved || x.EndedAt == nil || x.DurationMinutes != 10 {
			t.Fatalf("discarded excursion after cooling: %+v, %v", x, err)
		}
	})
}

// TestColdChainGapsAndSplits: a missing minute breaks a run that is not yet
// an excursion; two sensors of one device are independent; a batch with
// both runs at once opens both in one go.
func TestColdChainGapsAndSplits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkColdWorld(t, db)
		box := &popkit.SensorBinding{NodeID: w.b, DeviceID: w.dev.ID, Sensor: "freezer", LimitC: -15, MinMinutes: 3}
		must(t, db.CreateSensorBinding(ctx, box))
		held := w.fulfilment(t, db, w.b, fulfil.StateReady, w.fresh, 1)
		// fridge-1: 5 over, minute 5 missing, 5 over: no excursion.
		recs := append(temps(1, w.event.ID, "fridge-1", 0, repeat(9, 5)...), temps(6, w.event.ID, "fridge-1", 6, repeat(9, 5)...)...)
		// freezer: -10 for 3 minutes: an excursion at node b.
		recs = append(recs, temps(11, w.event.ID, "freezer", 0, -10, -10, -10, -20)...)
		ingest(t, db, w, w.stream, recs...)
		got := excursions(t, db, popkit.ExcursionFilter{})
		if len(got) != 1 || got[0].NodeID != w.b || got[0].Status != popkit.ExcursionEnded || got[0].DurationMinutes != 3 || got[0].HeldOrders != 1 {
			t.Fatalf("excursions = %d, first %+v", len(got), got[0])
		}
		if s, h := fulfilmentStatus(t, db, held); s != fulfil.StateOnHold || h != fulfil.StateReady {
			t.Fatalf("held order: %s from %s", s, h)
		}
		nodes, err := db.ActiveExcursionNodes(ctx)
		must(t, err)
		if len(nodes) != 1 || nodes[0] != w.b {
			t.Fatalf("nodes with unresolved excursions: %v, want [%s]", nodes, w.b)
		}
		// Filling the gap joins the fridge's runs into 11 minutes.
		ingest(t, db, w, w.stream2, temp(1, w.event.ID, "fridge-1", t0.Add(5*time.Minute), 9))
		if got := excursions(t, db, popkit.ExcursionFilter{NodeID: w.a}); len(got) != 1 || got[0].DurationMinutes != 11 || !got[0].StartedAt.Equal(t0) {
			t.Fatalf("after filling the gap: %+v", got)
		}
	})
}

// TestSensorBindings covers binding, listing and unbinding, and bad input.
func TestSensorBindings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := mkColdWorld(t, db)
		wantCode(t, db.CreateSensorBinding(ctx, &popkit.SensorBinding{NodeID: w.a, DeviceID: w.dev.ID, Sensor: "bad sensor", LimitC: 8, MinMinutes: 0}), popkit.EINVALID, "sensor")
		wantCode(t, db.CreateSensorBinding(ctx, &popkit.SensorBinding{NodeID: w.a, DeviceID: w.dev.ID, Sensor: "s", LimitC: 8, MinMinutes: 0}), popkit.EINVALID, "min_minutes")
		wantCode(t, db.CreateSensorBinding(ctx, &popkit.SensorBinding{NodeID: popkit.NewID(), DeviceID: w.dev.ID, Sensor: "s", LimitC: 8, MinMinutes: 5}), popkit.EUNPROCESSABLE, "node_id")
		wantCode(t, db.CreateSensorBinding(ctx, &popkit.SensorBinding{NodeID: w.a, DeviceID: popkit.NewID(), Sensor: "s", LimitC: 8, MinMinutes: 5}), popkit.EUNPROCESSABLE, "device_id")
		wantCode(t, db.CreateSensorBinding(ctx, &popkit.SensorBinding{NodeID: w.b, DeviceID: w.dev.ID, Sensor: "fridge-1", LimitC: 8, MinMinutes: 5}), popkit.ECONFLICT, "sensor")
		second := &popkit.SensorBinding{NodeID: w.a, DeviceID: w.devOth.ID, Sensor: "fridge-2", LimitC: 4, MinMinutes: 5}
		must(t, db.CreateSensorBinding(ctx, second))
		list, err := db.FindSensorBindings(ctx, w.a)
		must(t, err)
		if len(list) != 2 || list[0].ID != w.binding.ID || list[1].ID != second.ID || list[1].LimitC != 4 {
			t.Fatalf("bindings = %+v", list)
		}
		_, err = db.FindSensorBindings(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
		wantCode(t, db.DeleteSensorBinding(ctx, w.b, second.ID), popkit.ENOTFOUND, "")
		must(t, db.DeleteSensorBinding(ctx, w.a, second.ID))
		wantCode(t, db.DeleteSensorBinding(ctx, w.a, second.ID), popkit.ENOTFOUND, "")
		_, err = db.FindExcursionByID(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
		_, err = db.ResolveExcursion(ctx, popkit.NewID(), popkit.Resolution{Action: popkit.ActionRelease, Actor: "admin:x"})
		wantCode(t, err, popkit.ENOTFOUND, "")
		_, err = db.ResolveExcursion(ctx, popkit.NewID(), popkit.Resolution{Action: "keep", Actor: "admin:x"})
		wantCode(t, err, popkit.EINVALID, "action")
		_, _, err = db.FindExcursions(ctx, popkit.ExcursionFilter{Status: "warm"})
		wantCode(t, err, popkit.EINVALID, "status")
	})
}
