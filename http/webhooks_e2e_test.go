package http_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/jobs"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestPartnerNodeEndToEnd places a same-day order routed to an external
// node whose partner (sim.Partner) gets the signed fulfilment_order.created
// webhook from the job runner and walks the order to delivered through the
// API with its fulfiller token.
func TestPartnerNodeEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := sqlstoretest.OpenDSN(t)
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return fulfilT0 }
	srv := pkhttp.NewServer(db)
	e := &env{tb: t, db: db, srv: srv, h: srv.Handler(), logs: &logBuffer{}, check: openAPICheck(t, nil)}
	if e.admin, err = db.CreateToken(ctx, &popkit.Token{Name: "admin", Role: popkit.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(e.h)
	t.Cleanup(api.Close)
	w := newWorld(e)

	body := nodeBody("Partner", 52.52, 13.40)
	body["external"] = true
	node := create[fulfil.NodeRecord](e, "/api/v1/nodes", "", body)
	fa := e.newToken(map[string]any{"role": "fulfiller", "node_id": node.ID})
	e.do("PUT", "/api/v1/nodes/"+node.ID+"/stock", fa, map[string]any{"lines": []map[string]any{{"sku_id": w.skuA.ID, "on_hand": 10}}}).want(t, 200)

	partner := &sim.Partner{API: api.URL, Token: fa}
	hooks := httptest.NewServer(partner)
	t.Cleanup(hooks.Close)
	pctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go partner.Run(pctx)
	ep := decodeAs[popkit.WebhookEndpoint](t, e.do("PUT", "/api/v1/nodes/"+node.ID+"/webhook", e.admin, map[string]string{"url": hooks.URL}).want(t, 200))
	partner.Secret = ep.Secret

	r, err := jobs.Start(ctx, jobs.Config{Dialect: db.Dialect(), Pool: db.WritePool(), DSN: dsn, Webhooks: db, Fulfilment: db, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })

	o := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", w.device, sameDayBody(w, map[string]any{"mode": "delivery", "lat": 52.521, "lon": 13.41}), key("e2e-1")).want(t, 201))
	if len(o.FulfilmentOrders) != 1 || o.FulfilmentOrders[0].NodeID != node.ID {
		t.Fatalf("order not routed to the partner node: %+v", o.FulfilmentOrders)
	}
	foPath := "/api/v1/fulfilment-orders/" + o.FulfilmentOrders[0].ID
	deadline := time.Now().Add(30 * time.Second)
	for {
		fo := decodeAs[fulfil.FulfilmentOrder](t, e.do("GET", foPath, e.admin, nil).want(t, 200))
		if fo.Status == fulfil.StateDelivered {
			if len(fo.Transitions) != 5 || fo.Transitions[0].Actor[:10] != "fulfiller:" {
				t.Fatalf("transitions %+v", fo.Transitions)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fulfilment order %s after 30 s; partner %+v", fo.Status, partner.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The partner counts the walk once its last call has returned, which
	// may be just after the order reads delivered.
	for s := partner.Stats(); s.Walked != 1 || s.Rejected != 0; s = partner.Stats() {
		if s.Walked > 1 || s.Rejected != 0 || time.Now().After(deadline) {
			t.Fatalf("partner stats %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	list := decodeAs[listBody[popkit.WebhookDelivery]](t, e.do("GET", "/api/v1/webhook-deliveries?node_id="+node.ID, fa, nil).want(t, 200))
	if len(list.Items) == 0 || list.Items[0].EventType != popkit.WebhookFulfilmentOrderCreated || list.Items[0].Status != popkit.WebhookDelivered {
		t.Fatalf("deliveries %+v", list.Items)
	}
}
