package http_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// tempBody is an ingest batch of temperature rollups of sensor, records
// seq first.. for minutes first.. after fulfilT0, one per value (temp_max).
func tempBody(deviceID, eventID, stream, sensor string, first int, values ...float64) map[string]any {
	recs := make([]map[string]any, len(values))
	for i, v := range values {
		minute := fulfilT0.Add(time.Duration(first+i) * time.Minute)
		recs[i] = map[string]any{"seq": first + i, "kind": "rollup", "rollup": map[string]any{
			"event_id": eventID, "sensor": sensor, "kind": "temperature", "minute": minute.Format(time.RFC3339),
			"temp_samples": 6, "temp_min": v - 1, "temp_mean": v - 0.5, "temp_max": v}}
	}
	return map[string]any{"device_id": deviceID, "stream": stream, "sent_at": fulfilT0.Format(time.RFC3339Nano),
		"report": map[string]any{"version": "test", "backlog_count": 0, "backlog_bytes": 0}, "records": recs}
}

// TestColdChainAPI binds a sensor to a node, sends temperature rollups
// through POST /api/v1/ingest, and follows the excursion: the node's
// perishable same-day order goes on hold, comes back on release, and a
// second resolution is 409. Fulfiller tokens see only their node.
func TestColdChainAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.db.Now = func() time.Time { return fulfilT0 }
	w := newWorld(e)

	body := nodeBody("Kühlhaus", 52.52, 13.40)
	body["cold_chain"] = true
	a := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", body)
	b := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", nodeBody("Trocken", 52.57, 13.40))
	fa := e.newToken(map[string]any{"role": "fulfiller", "node_id": a.ID})
	fb := e.newToken(map[string]any{"role": "fulfiller", "node_id": b.ID})

	milk := skuBody(w.brandA.ID, "MILK-1")
	milk["perishable"] = true
	sku := create[popkit.SKU](e, "/api/v1/skus", "", milk)
	e.do("PUT", "/api/v1/events/"+w.e1.ID+"/assortment/"+sku.ID, e.admin, map[string]any{"stock": 10}).want(t, 200)
	e.do("PUT", "/api/v1/nodes/"+a.ID+"/stock", fa, map[string]any{"lines": []map[string]any{{"sku_id": sku.ID, "on_hand": 10}}}).want(t, 200)
	order := sameDayBody(w, map[string]any{"mode": "delivery", "lat": 52.521, "lon": 13.41})
	order["lines"] = []map[string]any{{"sku_id": sku.ID, "quantity": 2, "unit_price_minor": 1200}}
	o := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, order, key("cold-1")).want(t, 201))
	if len(o.FulfilmentOrders) != 1 || o.FulfilmentOrders[0].NodeID != a.ID {
		t.Fatalf("order routed to %+v, want node %s", o.FulfilmentOrders, a.ID)
	}
	foPath := "/api/v1/fulfilment-orders/" + o.FulfilmentOrders[0].ID
	e.do("POST", foPath+"/transitions", fa, map[string]any{"to": "accepted"}).want(t, 200)

	// Bindings: validation, unknown node and device, scope, conflicts.
	sensors := "/api/v1/nodes/" + a.ID + "/sensors"
	p := decodeAs[problem](t, e.do("POST", sensors, e.admin, map[string]any{"device_id": w.dev1.ID, "sensor": "fridge 1", "min_minutes": 0}).want(t, 400))
	if !p.hasField("sensor") || !p.hasField("min_minutes") {
		t.Errorf("problem %+v, want sensor and min_minutes", p)
	}
	e.do("POST", "/api/v1/nodes/"+popkit.NewID()+"/sensors", e.admin, map[string]any{"device_id": w.dev1.ID, "sensor": "fridge-1"}).want(t, 404)
	e.do("POST", sensors, e.admin, map[string]any{"device_id": popkit.NewID(), "sensor": "fridge-1"}).want(t, 422)
	e.do("POST", sensors, fa, map[string]any{"device_id": w.dev1.ID, "sensor": "fridge-1"}).want(t, 403)
	bnd := create[popkit.SensorBinding](e, sensors, "", map[string]any{"device_id": w.dev1.ID, "sensor": "fridge-1", "cold_box": "box-1"})
	if bnd.LimitC != 8 || bnd.MinMinutes != 10 || bnd.NodeID != a.ID {
		t.Fatalf("binding %+v, want the defaults 8 °C and 10 minutes", bnd)
	}
	e.do("POST", sensors, e.admin, map[string]any{"device_id": w.dev1.ID, "sensor": "fridge-1"}).want(t, 409)
	if got := decodeAs[struct{ Items []popkit.SensorBinding }](t, e.do("GET", sensors, fa, nil).want(t, 200)); len(got.Items) != 1 {
		t.Fatalf("bindings %+v", got.Items)
	}
	e.do("GET", sensors, fb, nil).want(t, 404)

	// Nine minutes over: nothing; the tenth opens the excursion.
	stream := popkit.NewID()
	nine := make([]float64, 9)
	for i := range nine {
		nine[i] = 9
	}
	e.ingest(w.device, tempBody(w.dev1.ID, w.e1.ID, stream, "fridge-1", 1, nine...), false).want(t, 200)
	if got := decodeAs[struct{ Items []popkit.Excursion }](t, e.do("GET", "/api/v1/excursions", e.admin, nil).want(t, 200)); len(got.Items) != 0 {
		t.Fatalf("after 9 minutes: %+v", got.Items)
	}
	e.ingest(w.device, tempBody(w.dev1.ID, w.e1.ID, stream, "fridge-1", 10, 12.5), false).want(t, 200)
	list := decodeAs[struct{ Items []popkit.Excursion }](t, e.do("GET", "/api/v1/excursions?status=active&node_id="+a.ID, fa, nil).want(t, 200))
	if len(list.Items) != 1 || list.Items[0].HeldOrders != 1 || list.Items[0].MaxC != 12.5 || list.Items[0].DurationMinutes != 10 {
		t.Fatalf("excursions %+v", list.Items)
	}
	x := list.Items[0]
	xPath := "/api/v1/excursions/" + x.ID
	fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", foPath, fa, nil).want(t, 200))
	if fo.Status != fulfil.StateOnHold || fo.HeldFrom != fulfil.StateAccepted {
		t.Fatalf("fulfilment order %+v, want on hold from accepted", fo)
	}
	e.do("GET", xPath, fb, nil).want(t, 404)
	e.do("GET", "/api/v1/excursions?node_id="+a.ID, fb, nil).want(t, 403)
	e.do("GET", "/api/v1/excursions?status=warm", e.admin, nil).want(t, 400)
	e.do("POST", xPath+"/resolution", fb, map[string]any{"action": "release"}).want(t, 404)
	e.do("POST", xPath+"/resolution", fa, map[string]any{"action": "release"}).want(t, 409)
	e.do("POST", xPath+"/resolution", fa, map[string]any{"action": "discard"}).want(t, 400) // a discard needs a note
	e.do("POST", xPath+"/resolution", fa, map[string]any{"action": "keep"}).want(t, 400)

	// Back under the limit, then released.
	e.ingest(w.device, tempBody(w.dev1.ID, w.e1.ID, stream, "fridge-1", 11, 5), false).want(t, 200)
	x = decodeAs[popkit.Excursion](t, e.do("GET", xPath, fa, nil).want(t, 200))
	if x.Status != popkit.ExcursionEnded || x.EndedAt == nil {
		t.Fatalf("after recovery %+v", x)
	}
	x = decodeAs[popkit.Excursion](t, e.do("POST", xPath+"/resolution", fa, map[string]any{"action": "release", "note": "probe 4 °C"}).want(t, 200))
	if x.Status != popkit.ExcursionResolved || x.Resolution == nil || x.Resolution.Actor[:10] != "fulfiller:" {
		t.Fatalf("released %+v", x)
	}
	if fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", foPath, fa, nil).want(t, 200)); fo.Status != fulfil.StateAccepted {
		t.Fatalf("after release the fulfilment order is %s, want accepted", fo.Status)
	}
	p = decodeAs[problem](t, e.do("POST", xPath+"/resolution", e.admin, map[string]any{"action": "discard", "note": "late"}).want(t, 409))
	if p.Code != popkit.ECONFLICT {
		t.Errorf("problem %+v", p)
	}

	// Unbinding keeps the excursion.
	e.do("DELETE", sensors+"/"+bnd.ID, fa, nil).want(t, 403)
	e.do("DELETE", sensors+"/"+bnd.ID, e.admin, nil).want(t, 204)
	e.do("DELETE", sensors+"/"+bnd.ID, e.admin, nil).want(t, 404)
	e.do("GET", xPath, e.admin, nil).want(t, 200)
}

// coldChainScenario calls every cold-chain route once with success, for
// the OpenAPI coverage check: bind, list, ingest an excursion, read,
// resolve, unbind.
func coldChainScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	body := nodeBody("Scenario cold", 52.52, 13.40)
	body["cold_chain"] = true
	node := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", body)
	sensors := "/api/v1/nodes/" + node.ID + "/sensors"
	b := decodeAs[popkit.SensorBinding](t, e.do("POST", sensors, e.admin,
		map[string]any{"device_id": w.dev1.ID, "sensor": "scenario-fridge", "limit_c": 4, "min_minutes": 2}, key("bind-1")).want(t, 201))
	e.do("GET", sensors, e.admin, nil).want(t, 200)
	e.ingest(w.device, tempBody(w.dev1.ID, w.e1.ID, popkit.NewID(), "scenario-fridge", 1, 6, 7, 3), false).want(t, 200)
	list := decodeAs[struct{ Items []popkit.Excursion }](t, e.do("GET", "/api/v1/excursions?status=ended&node_id="+node.ID+"&limit=5", e.admin, nil).want(t, 200))
	if len(list.Items) != 1 {
		t.Fatalf("scenario excursions %+v", list.Items)
	}
	x := "/api/v1/excursions/" + list.Items[0].ID
	e.do("GET", x, e.admin, nil).want(t, 200)
	e.do("POST", x+"/resolution", e.admin, map[string]any{"action": "discard", "note": "warm"}, key("resolve-1")).want(t, 200)
	e.do("POST", x+"/resolution", e.admin, map[string]any{"action": "release"}).want(t, 409)
	e.do("DELETE", sensors+"/"+b.ID, e.admin, nil).want(t, 204)
}
