package sqlstore_test

import (
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// TestBackorder: an oversell resolved by backorder gives the node a
// fulfilment order for the short units, from its stock (reserved) or made
// there; a second backorder of the same order at the node joins it; a
// perishable SKU needs a cold chain; an external node hears of it; and the
// node ships it through the usual states, its stock consumed.
func TestBackorder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		newClock(db, at(120))
		w := mkOrderWorld(t, db)
		ev, a, b := w.event.ID, w.skus[0].ID, w.skus[1].ID // 10 of a, 5 of b
		p := &popkit.SKU{BrandID: w.brands[0].ID, Code: uniq("sku"), Name: "Ice cream", PriceMinor: 500, UnitCostMinor: 200, WeightGrams: 100, Perishable: true}
		must(t, db.CreateSKU(ctx, p))
		must(t, db.SetAssortmentItem(ctx, &popkit.AssortmentItem{EventID: ev, SKUID: p.ID, Stock: 1}))

		// One sale, short by 2 of a, 1 of b and 1 of p.
		s := sale(ev, at(10), 1000, a, 12, b, 6, p.ID, 2)
		res := mustApply(t, db, ev, s)
		short := map[string]string{} // SKU → exception
		for _, id := range res.Exceptions {
			e, err := db.FindException(ctx, id)
			must(t, err)
			short[e.SKUID] = e.ID
		}
		if len(short) != 3 {
			t.Fatalf("exceptions %v, want one per SKU", res.Exceptions)
		}
		// An internal microfactory with 5 of a that makes b; an external
		// cold store with 3 of p.
		station := mkFulfilNode(t, db, 52.52, 13.40, 250, func(n *fulfil.NodeRecord) { n.Kind, n.Makes = fulfil.KindMicrofactory, []string{b} })
		setStock(t, db, station.ID, fulfil.StockLine{SKUID: a, OnHand: 5})
		cold := mkFulfilNode(t, db, 52.50, 13.30, 300, func(n *fulfil.NodeRecord) { n.External, n.ColdChain = true, true })
		setStock(t, db, cold.ID, fulfil.StockLine{SKUID: p.ID, OnHand: 3})
		must(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: cold.ID, URL: "https://cold.example/hooks"}))
		backorder := func(sku, node string) (*popkit.Exception, error) {
			return db.ResolveException(ctx, short[sku], &popkit.ExceptionResolution{Kind: popkit.ResolveBackorder, NodeID: node, Actor: "admin:1"})
		}

		got, err := backorder(a, station.ID)
		must(t, err)
		foID := got.Resolution.FulfilmentOrderID
		fo, err := db.FindFulfilmentOrderByID(ctx, foID)
		must(t, err)
		if fo.OrderID != s.ID || fo.NodeID != station.ID || fo.Status != fulfil.StateOpen || fo.Units != 2 ||
			len(fo.Lines) != 1 || fo.Lines[0] != (fulfil.OrderLine{SKUID: a, Quantity: 2}) {
			t.Fatalf("backorder's fulfilment order = %+v", fo)
		}
		if on, res := nodeStockOf(t, db, station.ID, a); on != 5 || res != 2 {
			t.Fatalf("station stock of a: %d on hand, %d reserved; want 5 and 2", on, res)
		}

		// b: none in stock, but the station makes it: the same order.
		got, err = backorder(b, station.ID)
		must(t, err)
		if got.Resolution.FulfilmentOrderID != foID {
			t.Fatalf("b's backorder went to %s, want the order's open %s", got.Resolution.FulfilmentOrderID, foID)
		}
		fo, err = db.FindFulfilmentOrderByID(ctx, foID)
		must(t, err)
		if fo.Units != 3 || len(fo.Lines) != 2 || fo.Perishable {
			t.Fatalf("after b = %+v", fo)
		}

		// p is perishable: not at the station, at the cold store.
		_, err = backorder(p.ID, station.ID)
		wantCode(t, err, popkit.EUNPROCESSABLE, "node_id")
		if fo, err = db.FindFulfilmentOrderByID(ctx, foID); err != nil || fo.Units != 3 {
			t.Fatalf("a refused backorder changed the order: %+v, %v", fo, err)
		}
		got, err = backorder(p.ID, cold.ID)
		must(t, err)
		coldFO, err := db.FindFulfilmentOrderByID(ctx, got.Resolution.FulfilmentOrderID)
		must(t, err)
		if coldFO.NodeID != cold.ID || !coldFO.Perishable || coldFO.Units != 1 {
			t.Fatalf("cold store's fulfilment order = %+v", coldFO)
		}
		hooks, _, err := db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{NodeID: cold.ID})
		must(t, err)
		if len(hooks) != 1 || hooks[0].EventType != popkit.WebhookFulfilmentOrderCreated {
			t.Fatalf("cold store's webhooks = %+v, want one fulfilment_order.created", hooks)
		}

		// The station hands the units over: its stock of a is consumed.
		walk(t, db, foID, "admin:1", fulfil.StateAccepted, fulfil.StateKitting, fulfil.StateReady, fulfil.StatePickedUp)
		if on, res := nodeStockOf(t, db, station.ID, a); on != 3 || res != 0 {
			t.Fatalf("station stock of a after pick-up: %d on hand, %d reserved; want 3 and 0", on, res)
		}
		if es := exceptions(t, db, popkit.ExceptionFilter{EventID: ev, Status: popkit.ExceptionOpen}); len(es) != 0 {
			t.Fatalf("%d open exceptions, want 0", len(es))
		}
	})
}
