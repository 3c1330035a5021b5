package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/popkit/popkit"
)

// BenchmarkCreateOrderParallel creates pos orders of 1-3 lines with an
// Idempotency-Key each from 16 goroutines per core, over 50 SKUs with
// ample stock: the store's share of POST /api/v1/orders. Each store runs
// with its fast path (pipelined on PostgreSQL, order_pg.go; group commit on
// SQLite, order_batch.go) and, as "-plain", with a transaction per order.
func BenchmarkCreateOrderParallel(b *testing.B) {
	for _, be := range backends() {
		for _, fast := range []bool{true, false} {
			name := be.name
			if !fast {
				name += "-plain"
			}
			b.Run(name, func(b *testing.B) {
				db := be.open(b)
				db.SetOrderFastPaths(fast)
				w := mkWorld(b, db)
				skus := make([]string, 50)
				for i := range skus {
					s := mkSKU(b, db, w.brands[i%len(w.brands)].ID)
					must(b, db.SetAssortmentItem(b.Context(), &popkit.AssortmentItem{EventID: w.event.ID, SKUID: s.ID, Stock: 100_000_000}))
					skus[i] = s.ID
				}
				token := popkit.NewID()
				var n atomic.Int64
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(n.Add(1))
						o := &popkit.Order{EventID: w.event.ID, Channel: popkit.ChannelPOS, Payment: popkit.Payment{Method: popkit.PaymentCard}}
						for k := range 1 + i%3 {
							o.Lines = append(o.Lines, popkit.OrderLine{SKUID: skus[(i+k*7)%len(skus)], Quantity: 1, UnitPriceMinor: 1200})
							o.Payment.AmountMinor += 1200
						}
						iw := idemWrite(token, fmt.Sprintf("bench-%d", i), o)
						if _, err := db.CreateOrder(popkit.WithIdempotentWrite(context.Background(), iw), o); err != nil || !iw.Completed {
							b.Fatalf("CreateOrder: %v", err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
				if _, txs, _ := db.OrderWriterStats(); txs > 0 {
					b.ReportMetric(float64(b.N)/float64(txs), "orders/tx")
				}
			})
		}
	}
}
