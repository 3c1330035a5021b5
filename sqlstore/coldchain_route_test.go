package sqlstore_test

import (
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// TestRoutingAvoidsBrokenColdChain: while a node's cold-chain excursion is
// unresolved, perishable same-day orders go to another cold-chain node;
// once it is resolved (and the temperature is back), they may go there
// again.
func TestRoutingAvoidsBrokenColdChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkFulfilWorld(t, db)
		yes := true
		_, err := db.UpdateSKU(ctx, w.skus[0].ID, popkit.SKUUpdate{Perishable: &yes})
		must(t, err)
		cold := func(n *fulfil.NodeRecord) { n.ColdChain = true }
		cheap := mkFulfilNode(t, db, 52.52, 13.40, 100, cold)
		dear := mkFulfilNode(t, db, 52.52, 13.40, 400, cold)
		setStock(t, db, cheap.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})
		setStock(t, db, dear.ID, fulfil.StockLine{SKUID: w.skus[0].ID, OnHand: 10})

		routedTo := func() string {
			t.Helper()
			o := w.sameDay()
			_, err := db.CreateOrder(ctx, o)
			must(t, err)
			if o.Channel != popkit.ChannelSameDay || len(o.FulfilmentOrders) != 1 {
				t.Fatalf("order = %+v, want one same-day fulfilment order", o)
			}
			return o.FulfilmentOrders[0].NodeID
		}
		if got := routedTo(); got != cheap.ID {
			t.Fatalf("with no excursion the order went to %s, want the cheaper node %s", got, cheap.ID)
		}

		now := timeFixture(db, fulfilT0)
		x := popkit.NewID()
		execFixture(t, db, `INSERT INTO excursions (id, binding_id, node_id, cold_box, device_id, sensor, limit_c, started_at, last_minute,
				max_c, status, held_orders, created_at, updated_at)
			VALUES (?, ?, ?, '', ?, 'fridge-1', 8, ?, ?, 11, 'active', 0, ?, ?)`, x, popkit.NewID(), cheap.ID, popkit.NewID(), now, now, now, now)
		if got := routedTo(); got != dear.ID {
			t.Fatalf("during an excursion at the cheaper node the order went to %s, want %s", got, dear.ID)
		}
		// An ambient order is not affected.
		no := false
		_, err = db.UpdateSKU(ctx, w.skus[0].ID, popkit.SKUUpdate{Perishable: &no})
		must(t, err)
		if got := routedTo(); got != cheap.ID {
			t.Fatalf("an ambient order went to %s, want %s", got, cheap.ID)
		}
		_, err = db.UpdateSKU(ctx, w.skus[0].ID, popkit.SKUUpdate{Perishable: &yes})
		must(t, err)

		execFixture(t, db, `UPDATE excursions SET status = 'resolved', ended_at = ?, resolved_at = ? WHERE id = ?`, now, now, x)
		if got := routedTo(); got != cheap.ID {
			t.Fatalf("after the excursion was resolved the order went to %s, want %s", got, cheap.ID)
		}
	})
}
