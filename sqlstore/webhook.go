package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/popkit/popkit"
)

var (
	_ popkit.WebhookService   = (*DB)(nil)
	_ popkit.WebhookDeliverer = (*DB)(nil)
)

// maxWebhookError bounds the stored last error of a delivery.
const maxWebhookError = 300

// notifyNode records, in tx, a webhook delivery to the partner endpoint of
// a node and enqueues its deliver_webhook job in the same transaction, so
// the delivery exists exactly when the change that caused it commits. A
// node without an endpoint (an internal node) gets nothing. payload is the
// object the event is about; the stored body is a popkit.WebhookEnvelope.
func (tx *txn) notifyNode(ctx context.Context, nodeID, eventType string, payload any) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM webhook_endpoints WHERE node_id = ?`, nodeID).Scan(&n); err != nil {
		return wrap("find webhook endpoint", err)
	}
	if n == 0 {
		return nil
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode webhook %s: %w", eventType, err)
	}
	body, err := json.Marshal(popkit.WebhookEnvelope{Type: eventType, Timestamp: tx.now, Data: data})
	if err != nil {
		return fmt.Errorf("encode webhook %s: %w", eventType, err)
	}
	id := popkit.NewID()
	if _, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (id, node_id, event_type, payload, status, attempts, last_status, last_error, next_attempt_at, created_at, delivered_at)
		VALUES (?, ?, ?, ?, ?, 0, 0, '', ?, ?, NULL)`,
		id, nodeID, eventType, string(body), string(popkit.WebhookPending), tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		return wrap("insert webhook delivery", err)
	}
	return tx.enqueue(ctx, popkit.DeliverWebhookArgs{DeliveryID: id}, nil)
}

// NotifyNode records a webhook to a node's partner endpoint and enqueues
// its delivery in one transaction, for events that are not part of another
// change. It does nothing when the node has no endpoint.
func (db *DB) NotifyNode(ctx context.Context, nodeID, eventType string, payload any) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.notifyNode(ctx, nodeID, eventType, payload); err != nil {
		return err
	}
	return tx.commit()
}

// SetWebhookEndpoint creates or replaces a node's partner endpoint with a
// new secret, which it sets in e.Secret (the only time it is shown).
// Returns ENOTFOUND for an unknown node and EINVALID for a bad URL.
func (db *DB) SetWebhookEndpoint(ctx context.Context, e *popkit.WebhookEndpoint) error {
	if !popkit.ValidID(e.NodeID) {
		return notFound("node")
	}
	if err := popkit.ValidateWebhookURL(e.URL); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM nodes WHERE id = ?`, e.NodeID).Scan(&n); err != nil {
		return wrap("find node", err)
	}
	if n == 0 {
		return notFound("node")
	}
	secret := popkit.NewWebhookSecret()
	if _, err := tx.exec(ctx, `INSERT INTO webhook_endpoints (node_id, url, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at`,
		e.NodeID, e.URL, secret, tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		return wrap("set webhook endpoint", err)
	}
	got, err := findWebhookEndpoint(ctx, tx, e.NodeID)
	if err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		return err
	}
	*e = *got
	return nil
}

// FindWebhookEndpoint returns a node's endpoint without its secret.
// Returns ENOTFOUND when the node has none.
func (db *DB) FindWebhookEndpoint(ctx context.Context, nodeID string) (*popkit.WebhookEndpoint, error) {
	if !popkit.ValidID(nodeID) {
		return nil, notFound("webhook endpoint")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := findWebhookEndpoint(ctx, tx, nodeID)
	if err != nil {
		return nil, err
	}
	e.Secret = ""
	return e, nil
}

func findWebhookEndpoint(ctx context.Context, tx *txn, nodeID string) (*popkit.WebhookEndpoint, error) {
	var e popkit.WebhookEndpoint
	err := tx.queryRow(ctx, `SELECT node_id, url, secret, created_at, updated_at FROM webhook_endpoints WHERE node_id = ?`, nodeID).
		Scan(&e.NodeID, &e.URL, &e.Secret, scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook endpoint")
	} else if err != nil {
		return nil, wrap("find webhook endpoint", err)
	}
	return &e, nil
}

// FindWebhookDelivery returns a delivery and its node's endpoint with the
// secret, or a nil endpoint when the node has none any more. Returns
// ENOTFOUND for an unknown delivery.
func (db *DB) FindWebhookDelivery(ctx context.Context, id string) (*popkit.WebhookDelivery, *popkit.WebhookEndpoint, error) {
	if !popkit.ValidID(id) {
		return nil, nil, notFound("webhook delivery")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	d, err := scanWebhookDelivery(tx.queryRow(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("webhook delivery")
	} else if err != nil {
		return nil, nil, wrap("find webhook delivery", err)
	}
	e, err := findWebhookEndpoint(ctx, tx, d.NodeID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return d, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return d, e, nil
}

// RecordWebhookAttempt counts one attempt of a pending delivery and stores
// its outcome; a delivery that is no longer pending is left as it is.
// Returns ENOTFOUND for an unknown delivery and EINVALID for a bad status.
func (db *DB) RecordWebhookAttempt(ctx context.Context, id string, a popkit.WebhookAttempt) error {
	if !a.Status.Valid() {
		return popkit.InvalidField("status", "must be pending, delivered or failed")
	}
	if !popkit.ValidID(id) {
		return notFound("webhook delivery")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var delivered, next any
	if a.Status == popkit.WebhookDelivered {
		delivered = tx.timeArg(tx.now)
	}
	if a.Status == popkit.WebhookPending {
		next = tx.nullTimeArg(a.NextAttemptAt)
	}
	n, err := tx.execN(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status = ?, last_error = ?, next_attempt_at = ?, delivered_at = ?
		WHERE id = ? AND status = ?`,
		string(a.Status), a.HTTPStatus, shortError(a.Error), next, delivered, id, string(popkit.WebhookPending))
	if err != nil {
		return wrap("record webhook attempt", err)
	}
	if n == 0 {
		var exists int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE id = ?`, id).Scan(&exists); err != nil {
			return wrap("find webhook delivery", err)
		}
		if exists == 0 {
			return notFound("webhook delivery")
		}
		return nil
	}
	return tx.commit()
}

// shortError trims an error message to maxWebhookError bytes of valid
// UTF-8 on one line.
func shortError(s string) string {
	s = oneLine(errors.New(s))
	if len(s) <= maxWebhookError {
		return s
	}
	s = s[:maxWebhookError]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// FindWebhookDeliveries returns a page of deliveries in id order and the
// next cursor. Returns EINVALID for a bad page or status.
func (db *DB) FindWebhookDeliveries(ctx context.Context, f popkit.WebhookDeliveryFilter) ([]*popkit.WebhookDelivery, string, error) {
	var w where
	if f.NodeID != "" {
		if !popkit.ValidID(f.NodeID) {
			return nil, "", popkit.InvalidField("node_id", "must be a UUID")
		}
		w.and("node_id = ?", f.NodeID)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, "", popkit.InvalidField("status", "must be pending, delivered or failed")
		}
		w.and("status = ?", string(f.Status))
	}
	return findPage(ctx, db, "find webhook deliveries", f.Page, &w, webhookDeliveryCols, "webhook_deliveries", scanWebhookDelivery,
		func(d *popkit.WebhookDelivery) string { return d.ID })
}

const webhookDeliveryCols = `id, node_id, event_type, payload, status, attempts, last_status, last_error, next_attempt_at, created_at, delivered_at`

func scanWebhookDelivery(s scanner) (*popkit.WebhookDelivery, error) {
	var d popkit.WebhookDelivery
	var payload, status string
	if err := s.Scan(&d.ID, &d.NodeID, &d.EventType, &payload, &status, &d.Attempts, &d.LastStatus, &d.LastError,
		scanNullTime(&d.NextAttemptAt), scanTime(&d.CreatedAt), scanNullTime(&d.DeliveredAt)); err != nil {
		return nil, err
	}
	d.Payload = json.RawMessage(payload)
	d.Status = popkit.WebhookStatus(status)
	return &d, nil
}
