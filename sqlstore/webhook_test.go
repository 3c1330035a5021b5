package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

func TestWebhookEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		node := sqlstoretest.PartnerNode(t, db)
		_, err := db.FindWebhookEndpoint(ctx, node)
		wantCode(t, err, popkit.ENOTFOUND, "")

		e := &popkit.WebhookEndpoint{NodeID: node, URL: "https://partner.example/hooks"}
		must(t, db.SetWebhookEndpoint(ctx, e))
		if !strings.HasPrefix(e.Secret, "whsec_") || len(popkit.WebhookSecretKey(e.Secret)) != 32 || e.CreatedAt.IsZero() {
			t.Fatalf("endpoint = %+v, want a whsec_ secret of 32 bytes", e)
		}
		got, err := db.FindWebhookEndpoint(ctx, node)
		must(t, err)
		if got.URL != e.URL || got.Secret != "" {
			t.Fatalf("found %+v, want the URL and no secret", got)
		}

		// Replacing it rotates the secret.
		e2 := &popkit.WebhookEndpoint{NodeID: node, URL: "http://127.0.0.1:9/hooks"}
		must(t, db.SetWebhookEndpoint(ctx, e2))
		if e2.Secret == e.Secret || !e2.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("replaced endpoint = %+v, want a new secret and the first created_at %v", e2, e.CreatedAt)
		}

		wantCode(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: popkit.NewID(), URL: "https://x.example"}), popkit.ENOTFOUND, "")
		for _, u := range []string{"", "ftp://x.example/", "/relative", "https://", "https://user:pw@x.example/", "javascript:alert(1)", "https://x.example/" + strings.Repeat("a", 2001)} {
			wantCode(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: node, URL: u}), popkit.EINVALID, "url")
		}
	})
}

func TestNotifyNode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		internal, partner := sqlstoretest.PartnerNode(t, db), sqlstoretest.PartnerNode(t, db)
		must(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: partner, URL: "https://partner.example/hooks"}))

		// A node without an endpoint gets nothing.
		must(t, db.NotifyNode(ctx, internal, popkit.WebhookFulfilmentOrderCreated, map[string]string{"id": "x"}))
		if n := count(t, db, "webhook_deliveries"); n != 0 {
			t.Fatalf("%d deliveries for a node without endpoint", n)
		}

		// A rolled-back change leaves neither a delivery nor a job.
		must(t, db.NotifyNodeThenRollback(ctx, partner, popkit.WebhookFulfilmentOrderCreated, map[string]string{"id": "x"}))
		if d, j := count(t, db, "webhook_deliveries"), count(t, db, "river_job"); d != 0 || j != 0 {
			t.Fatalf("after rollback: %d deliveries, %d jobs", d, j)
		}

		must(t, db.NotifyNode(ctx, partner, popkit.WebhookFulfilmentOrderCreated, map[string]string{"id": "fo-1"}))
		if d, j := count(t, db, "webhook_deliveries"), count(t, db, "river_job"); d != 1 || j != 1 {
			t.Fatalf("after commit: %d deliveries, %d jobs; want 1 and 1", d, j)
		}
		list, next, err := db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{NodeID: partner})
		must(t, err)
		if len(list) != 1 || next != "" {
			t.Fatalf("deliveries = %v", list)
		}
		d := list[0]
		var env popkit.WebhookEnvelope
		must(t, json.Unmarshal(d.Payload, &env))
		if d.Status != popkit.WebhookPending || d.Attempts != 0 || d.EventType != popkit.WebhookFulfilmentOrderCreated ||
			env.Type != d.EventType || string(env.Data) != `{"id":"fo-1"}` {
			t.Fatalf("delivery = %+v, payload %s", d, d.Payload)
		}
		var kind, args string
		must(t, db.SQL().QueryRowContext(ctx, `SELECT kind, CAST(args AS TEXT) FROM river_job`).Scan(&kind, &args))
		if kind != "deliver_webhook" || !strings.Contains(args, d.ID) {
			t.Fatalf("job = %s %s, want deliver_webhook for %s", kind, args, d.ID)
		}

		// The worker finds it with the secret.
		got, ep, err := db.FindWebhookDelivery(ctx, d.ID)
		must(t, err)
		if got.ID != d.ID || ep == nil || !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("FindWebhookDelivery = %+v, %+v", got, ep)
		}
		_, _, err = db.FindWebhookDelivery(ctx, popkit.NewID())
		wantCode(t, err, popkit.ENOTFOUND, "")
	})
}

func TestRecordWebhookAttempt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		node := sqlstoretest.PartnerNode(t, db)
		must(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: node, URL: "https://partner.example/hooks"}))
		must(t, db.NotifyNode(ctx, node, popkit.WebhookBundleLocked, map[string]int{"n": 1}))
		list, _, err := db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{})
		must(t, err)
		id := list[0].ID

		next := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		long := strings.Repeat("é", 400) + "\nsecond line"
		must(t, db.RecordWebhookAttempt(ctx, id, popkit.WebhookAttempt{HTTPStatus: 500, Error: long, Status: popkit.WebhookPending, NextAttemptAt: &next}))
		d, _, err := db.FindWebhookDelivery(ctx, id)
		must(t, err)
		if d.Attempts != 1 || d.LastStatus != 500 || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(next) || len(d.LastError) > 300 || !oneLine(d.LastError) || d.Status != popkit.WebhookPending {
			t.Fatalf("after a failed attempt: %+v", d)
		}
		must(t, db.RecordWebhookAttempt(ctx, id, popkit.WebhookAttempt{HTTPStatus: 204, Status: popkit.WebhookDelivered}))
		d, _, err = db.FindWebhookDelivery(ctx, id)
		must(t, err)
		if d.Attempts != 2 || d.Status != popkit.WebhookDelivered || d.DeliveredAt == nil || d.NextAttemptAt != nil || d.LastError != "" {
			t.Fatalf("after delivery: %+v", d)
		}
		// A delivered delivery stays delivered.
		must(t, db.RecordWebhookAttempt(ctx, id, popkit.WebhookAttempt{HTTPStatus: 500, Status: popkit.WebhookFailed}))
		if d, _, _ = db.FindWebhookDelivery(ctx, id); d.Status != popkit.WebhookDelivered || d.Attempts != 2 {
			t.Fatalf("a late attempt changed a delivered delivery: %+v", d)
		}
		wantCode(t, db.RecordWebhookAttempt(ctx, popkit.NewID(), popkit.WebhookAttempt{Status: popkit.WebhookFailed}), popkit.ENOTFOUND, "")
		wantCode(t, db.RecordWebhookAttempt(ctx, id, popkit.WebhookAttempt{Status: "lost"}), popkit.EINVALID, "status")

		for _, f := range []popkit.WebhookDeliveryFilter{{Status: popkit.WebhookDelivered}, {NodeID: node, Status: popkit.WebhookDelivered}} {
			list, _, err := db.FindWebhookDeliveries(ctx, f)
			must(t, err)
			if len(list) != 1 {
				t.Fatalf("filter %+v: %d deliveries", f, len(list))
			}
		}
		list, _, err = db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{Status: popkit.WebhookPending})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("pending: %d", len(list))
		}
		_, _, err = db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{Status: "lost"})
		wantCode(t, err, popkit.EINVALID, "status")
	})
}

func TestWebhookDeliveriesPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := sqlstoretest.PartnerNode(t, db), sqlstoretest.PartnerNode(t, db)
		for _, n := range []string{a, b} {
			must(t, db.SetWebhookEndpoint(ctx, &popkit.WebhookEndpoint{NodeID: n, URL: "https://partner.example/hooks"}))
		}
		for i := range 7 {
			must(t, db.NotifyNode(ctx, a, popkit.WebhookFulfilmentOrderUpdated, map[string]int{"i": i}))
		}
		must(t, db.NotifyNode(ctx, b, popkit.WebhookFulfilmentOrderUpdated, map[string]int{"i": 0}))
		items, pages := allPages(t, 3, func(d *popkit.WebhookDelivery) string { return d.ID }, func(p popkit.Page) ([]*popkit.WebhookDelivery, string, error) {
			return db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{NodeID: a, Page: p})
		})
		if len(items) != 7 || pages != 3 {
			t.Fatalf("%d items in %d pages, want 7 in 3", len(items), pages)
		}
	})
}
