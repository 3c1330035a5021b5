package http_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// fulfilT0 is Friday 2026-05-01, 10:00 in Berlin.
var fulfilT0 = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func nodeBody(name string, lat, lon float64) map[string]any {
	return map[string]any{
		"name": name, "kind": "kitting_station", "lat": lat, "lon": lon, "service_radius_km": 10, "time_zone": "Europe/Berlin",
		"opening_hours":   []map[string]any{{"day": "fri", "open": "08:00", "close": "20:00"}},
		"same_day_cutoff": "16:00", "capacity_per_hour": 100, "capacity_per_day": 500, "cold_chain": false,
		"cost_per_order_minor": 250, "cost_per_bundle_minor": 1000, "external": false,
	}
}

func sameDayBody(w *world, delivery map[string]any) map[string]any {
	return map[string]any{
		"event_id": w.e1.ID, "channel": "same_day",
		"lines":    []map[string]any{{"sku_id": w.skuA.ID, "quantity": 2, "unit_price_minor": 1200}},
		"payment":  map[string]any{"method": "card", "amount_minor": 2400},
		"delivery": delivery,
	}
}

func TestFulfilmentAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.db.Now = func() time.Time { return fulfilT0 }
	w := newWorld(e)

	a := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", nodeBody("Mitte", 52.52, 13.40))
	b := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", nodeBody("Pankow", 52.57, 13.40))
	if a.SameDayCutoff != 16*60 || len(a.OpeningHours) != 1 || a.CreatedAt.IsZero() {
		t.Fatalf("created node %+v", a)
	}
	fa := e.newToken(map[string]any{"role": "fulfiller", "node_id": a.ID})
	fb := e.newToken(map[string]any{"role": "fulfiller", "node_id": b.ID})

	stock := map[string]any{"lines": []map[string]any{{"sku_id": w.skuA.ID, "on_hand": 10}}}
	e.do("PUT", "/api/v1/nodes/"+a.ID+"/stock", fa, stock).want(t, 200)
	e.do("PUT", "/api/v1/nodes/"+b.ID+"/stock", fa, stock).want(t, 404)
	e.do("GET", "/api/v1/nodes/"+b.ID, fa, nil).want(t, 404)
	nodes := decodeAs[struct{ Items []fulfil.NodeRecord }](t, e.do("GET", "/api/v1/nodes", fa, nil).want(t, 200))
	if len(nodes.Items) != 1 || nodes.Items[0].ID != a.ID {
		t.Errorf("fulfiller's node list %+v, want only its node", nodes.Items)
	}
	e.do("GET", "/api/v1/nodes/"+a.ID+"/stock", w.brand, nil).want(t, 403)

	res := e.do("POST", "/api/v1/orders", w.device, sameDayBody(w, map[string]any{"mode": "delivery", "lat": 52.521, "lon": 13.41}), key("sd-1")).want(t, 201)
	o := decodeAs[popkit.Order](t, res)
	if o.Channel != popkit.ChannelSameDay || len(o.FulfilmentOrders) != 1 || o.FulfilmentOrders[0].NodeID != a.ID {
		t.Fatalf("order %s", res.Body)
	}
	foID := o.FulfilmentOrders[0].ID
	foPath := "/api/v1/fulfilment-orders/" + foID

	t.Run("fulfiller scope", func(t *testing.T) {
		e := e.with(t)
		e.do("GET", foPath, fb, nil).want(t, 404)
		e.do("POST", foPath+"/transitions", fb, map[string]any{"to": "accepted"}).want(t, 404)
		e.do("GET", "/api/v1/fulfilment-orders?node_id="+a.ID, fb, nil).want(t, 403)
		list := decodeAs[struct{ Items []fulfil.FulfilmentOrder }](t, e.do("GET", "/api/v1/fulfilment-orders", fb, nil).want(t, 200))
		if len(list.Items) != 0 {
			t.Errorf("node B's fulfiller sees %d fulfilment orders, want 0", len(list.Items))
		}
		e.do("GET", foPath, w.brand, nil).want(t, 403)
		fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", foPath, fa, nil).want(t, 200))
		if fo.Status != fulfil.StateOpen || len(fo.Transitions) != 0 {
			t.Errorf("after refused moves: %+v", fo)
		}
	})

	t.Run("bad transitions", func(t *testing.T) {
		e := e.with(t)
		p := decodeAs[problem](t, e.do("POST", foPath+"/transitions", fa, map[string]any{"to": "delivered"}).want(t, 409))
		if p.Code != popkit.ECONFLICT {
			t.Errorf("problem %+v", p)
		}
		e.do("POST", foPath+"/transitions", fa, map[string]any{"to": "teleported"}).want(t, 400)
		e.do("POST", foPath+"/transitions", fa, map[string]any{"to": "accepted", "extra": 1}).want(t, 400)
		fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", foPath, fa, nil).want(t, 200))
		if fo.Status != fulfil.StateOpen || len(fo.Transitions) != 0 {
			t.Errorf("after refused moves: %+v", fo)
		}
	})

	t.Run("bad orders", func(t *testing.T) {
		e := e.with(t)
		before := len(decodeAs[struct{ Items []popkit.Order }](t, e.do("GET", "/api/v1/orders?limit=200", e.admin, nil).want(t, 200)).Items)
		p := decodeAs[problem](t, e.do("POST", "/api/v1/orders", w.device, sameDayBody(w, map[string]any{"mode": "pickup", "pickup_node_id": popkit.NewID()}), key("sd-bad-1")).want(t, 422))
		if !p.hasField("delivery.pickup_node_id") {
			t.Errorf("problem %+v, want delivery.pickup_node_id", p)
		}
		e.do("POST", "/api/v1/orders", w.device, sameDayBody(w, nil), key("sd-bad-2")).want(t, 400)
		body := orderBody(w, 1)
		body["delivery"] = map[string]any{"mode": "delivery", "lat": 52.5, "lon": 13.4}
		e.do("POST", "/api/v1/orders", w.device, body, key("sd-bad-3")).want(t, 400)
		after := len(decodeAs[struct{ Items []popkit.Order }](t, e.do("GET", "/api/v1/orders?limit=200", e.admin, nil).want(t, 200)).Items)
		if after != before {
			t.Errorf("%d orders after refused ones, want %d", after, before)
		}
	})

	t.Run("delivered", func(t *testing.T) {
		e := e.with(t)
		var fo fulfil.FulfilmentOrder
		for _, to := range []string{"accepted", "kitting", "ready", "out_for_delivery", "delivered"} {
			fo = decodeAs[fulfil.FulfilmentOrder](t, e.do("POST", foPath+"/transitions", fa, map[string]any{"to": to}).want(t, 200))
		}
		if fo.Status != fulfil.StateDelivered || len(fo.Transitions) != 5 || fo.Transitions[0].Actor[:10] != "fulfiller:" {
			t.Errorf("fulfilment order %+v", fo)
		}
		got := decodeAs[popkit.Order](t, e.do("GET", "/api/v1/orders/"+o.ID, e.admin, nil).want(t, 200))
		if got.Status != popkit.OrderFulfilled {
			t.Errorf("order %s, want fulfilled", got.Status)
		}
		st := decodeAs[struct {
			Lines []fulfil.StockLine
		}](t, e.do("GET", "/api/v1/nodes/"+a.ID+"/stock", fa, nil).want(t, 200))
		if len(st.Lines) != 1 || st.Lines[0].OnHand != 8 || st.Lines[0].Reserved != 0 {
			t.Errorf("node stock %+v, want 8 on hand, 0 reserved", st.Lines)
		}
	})

	t.Run("bundles", func(t *testing.T) {
		e := e.with(t)
		list := decodeAs[struct{ Items []fulfil.BundleRecord }](t, e.do("GET", "/api/v1/bundles?status=forming", fa, nil).want(t, 200))
		if len(list.Items) != 1 || list.Items[0].NodeID != a.ID || len(list.Items[0].Members) != 1 || list.Items[0].CostMinor != 1250 {
			t.Fatalf("bundles %+v", list.Items)
		}
		id := list.Items[0].ID
		e.do("GET", "/api/v1/bundles/"+id, fb, nil).want(t, 404)
		e.do("GET", "/api/v1/bundles?node_id="+a.ID, fb, nil).want(t, 403)
		e.do("POST", "/api/v1/bundles/"+id+"/transitions", fa, map[string]any{"to": "locked"}).want(t, 409) // before the cutoff
		e.do("POST", "/api/v1/bundles/"+id+"/transitions", fa, map[string]any{"to": "kitting"}).want(t, 409)
		e.do("POST", "/api/v1/bundles/"+id+"/transitions", fa, map[string]any{"to": "gone"}).want(t, 400)
	})

	t.Run("nodes", func(t *testing.T) {
		e := e.with(t)
		bad := nodeBody("x", 52.5, 13.4)
		bad["stock"] = map[string]int{w.skuA.ID: 3}
		e.do("POST", "/api/v1/nodes", e.admin, bad).want(t, 400)
		bad = nodeBody("x", 52.5, 13.4)
		bad["same_day_cutoff"] = "25:00"
		e.do("POST", "/api/v1/nodes", e.admin, bad).want(t, 400)
		bad = nodeBody("x", 52.5, 13.4)
		bad["time_zone"] = "Mars/Olympus"
		p := decodeAs[problem](t, e.do("POST", "/api/v1/nodes", e.admin, bad).want(t, 400))
		if !p.hasField("time_zone") {
			t.Errorf("problem %+v, want time_zone", p)
		}
		e.do("POST", "/api/v1/nodes", fa, nodeBody("x", 52.5, 13.4)).want(t, 403)
		closed := nodeBody("closed", 52.5, 13.4)
		delete(closed, "opening_hours")
		if n := decodeAs[fulfil.NodeRecord](t, e.do("POST", "/api/v1/nodes", e.admin, closed).want(t, 201)); n.OpeningHours == nil {
			t.Errorf("node without hours: %+v", n)
		}
		got := decodeAs[fulfil.NodeRecord](t, e.do("PATCH", "/api/v1/nodes/"+b.ID, e.admin, map[string]any{"name": "Pankow Nord", "same_day_cutoff": "15:30"}).want(t, 200))
		if got.Name != "Pankow Nord" || got.SameDayCutoff != 15*60+30 || got.CapacityPerHour != 100 {
			t.Errorf("patched %+v", got)
		}
		e.do("PATCH", "/api/v1/nodes/"+b.ID, e.admin, map[string]any{"capacity_per_hour": 0}).want(t, 400)
		e.do("PATCH", "/api/v1/nodes/"+popkit.NewID(), e.admin, map[string]any{"name": "y"}).want(t, 404)
		p = decodeAs[problem](t, e.do("PUT", "/api/v1/nodes/"+a.ID+"/stock", e.admin, map[string]any{"lines": []map[string]any{{"sku_id": popkit.NewID(), "on_hand": 1}}}).want(t, 422))
		if !p.hasField("lines[0].sku_id") {
			t.Errorf("problem %+v", p)
		}
	})
}

// fulfilScenario calls every fulfilment route once with a 2xx answer, for
// the OpenAPI scenario. It sets the database clock to fulfilT0 (a Friday
// morning in Berlin) while it runs.
func fulfilScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	now := fulfilT0
	e.db.Now = func() time.Time { return now }
	defer func() { e.db.Now = time.Now }()
	body := nodeBody("Scenario", 52.5, 13.4)
	body["cold_chain"] = true
	n := decodeAs[fulfil.NodeRecord](t, e.do("POST", "/api/v1/nodes", e.admin, body, key("scenario-node")).want(t, 201))
	f := e.newToken(map[string]any{"role": "fulfiller", "node_id": n.ID})
	e.do("GET", "/api/v1/nodes?limit=5", e.admin, nil).want(t, 200)
	e.do("GET", "/api/v1/nodes/"+n.ID, f, nil).want(t, 200)
	e.do("PATCH", "/api/v1/nodes/"+n.ID, e.admin, map[string]any{"capacity_per_day": 900}).want(t, 200)
	e.do("PUT", "/api/v1/nodes/"+n.ID+"/stock", f, map[string]any{"lines": []map[string]any{{"sku_id": w.skuA.ID, "on_hand": 5}}}).want(t, 200)
	e.do("GET", "/api/v1/nodes/"+n.ID+"/stock", f, nil).want(t, 200)
	body = orderBody(w, 1)
	body["channel"] = "same_day"
	body["delivery"] = map[string]any{"mode": "pickup", "pickup_node_id": n.ID}
	o := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, body, key("scenario-same-day")).want(t, 201))
	if len(o.FulfilmentOrders) != 1 {
		t.Fatalf("same-day order %+v has no fulfilment order", o)
	}
	fo := o.FulfilmentOrders[0]
	e.do("GET", "/api/v1/fulfilment-orders?status=open&order_id="+o.ID, f, nil).want(t, 200)
	e.do("GET", "/api/v1/fulfilment-orders/"+fo.ID, f, nil).want(t, 200)
	e.do("POST", "/api/v1/fulfilment-orders/"+fo.ID+"/transitions", f, map[string]any{"to": "accepted"}, key("scenario-accept")).want(t, 200)
	e.do("GET", "/api/v1/bundles?node_id="+n.ID+"&status=forming", f, nil).want(t, 200)
	e.do("GET", "/api/v1/bundles/"+fo.BundleID, f, nil).want(t, 200)
	now = now.Add(6 * time.Hour) // past the 16:00 cutoff
	e.do("POST", "/api/v1/bundles/"+fo.BundleID+"/transitions", f, map[string]any{"to": "locked"}).want(t, 200)
}
