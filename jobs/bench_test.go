package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/jobs"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// BenchmarkDeliverWebhooks measures delivery throughput: b.N webhooks are
// recorded (one transaction each, as a change would) with no runner, then
// a runner with 10 workers delivers them, signed, to a local receiver;
// only the delivery is timed.
func BenchmarkDeliverWebhooks(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			db, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			e := &env{dsn: dsn, db: db, node: sqlstoretest.PartnerNode(b, db)}
			rc := newReceiver(b, nil)
			register(b, e, rc)
			for i := range b.N {
				if err := db.NotifyNode(context.Background(), e.node, popkit.WebhookFulfilmentOrderUpdated, map[string]int{"i": i}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start(b, e, jobs.Config{Workers: 10})
			deadline := time.Now().Add(5 * time.Minute)
			for rc.requests() < b.N {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d delivered", rc.requests(), b.N)
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
		})
	}
}
