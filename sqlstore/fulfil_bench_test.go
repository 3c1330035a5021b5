package sqlstore_test

import (
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// BenchmarkCreateSameDayOrder creates same-day orders of one unit routed
// over 50 nodes around Berlin (10 in range of the address), each with
// plenty of stock. It reports the 99th percentile latency beside the mean.
func BenchmarkCreateSameDayOrder(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			newClock(db, fulfilT0)
			w := mkWorld(b, db)
			sku := mkSKU(b, db, w.brands[0].ID)
			must(b, db.SetAssortmentItem(b.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: sku.ID, Stock: 1_000_000}))
			for i := range 50 {
				n := &fulfil.NodeRecord{Node: fulfil.Node{Name: uniq("node"), Kind: fulfil.KindKittingStation, Lat: 52.52 + float64(i%10)*0.002, Lon: 13.40 + float64(i/10)*0.5,
					ServiceRadiusKm: 10, TimeZone: "Europe/Berlin", OpeningHours: []fulfil.Opening{{Day: "fri", Open: 0, Close: 1440}}, SameDayCutoff: 23 * 60,
					CapacityPerHour: 1_000_000, CapacityPerDay: 1_000_000, CostPerOrderMinor: int64(100 + i), CostPerBundleMinor: 1000}}
				must(b, db.CreateNode(b.Context(), n))
				_, err := db.SetNodeStock(b.Context(), n.ID, []fulfil.StockLine{{SKUID: sku.ID, OnHand: 10_000_000}})
				must(b, err)
			}
			benchLatency(b, func() {
				o := &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelSameDay,
					Lines:    []popkit.OrderLine{{SKUID: sku.ID, Quantity: 1, UnitPriceMinor: 1200}},
					Payment:  popkit.Payment{Method: popkit.PaymentCard, AmountMinor: 1200},
					Delivery: &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: 52.521, Lon: 13.41}}
				if _, err := db.CreateOrder(b.Context(), o); err != nil || o.Channel != popkit.ChannelSameDay {
					b.Fatalf("CreateOrder: %s, %v", o.Channel, err)
				}
			})
		})
	}
}
