package popkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Webhooks to partner nodes. An external fulfilment node registers one
// endpoint; every event about its fulfilment orders and bundles becomes a
// WebhookDelivery, stored in the same transaction as the change together
// with a durable deliver_webhook job, and the job POSTs it, signed as
// Standard Webhooks do (SignWebhook), retrying with backoff until the
// partner answers 2xx or the attempts run out.

// Webhook event types sent to partner nodes.
const (
	WebhookFulfilmentOrderCreated = "fulfilment_order.created"
	WebhookFulfilmentOrderUpdated = "fulfilment_order.updated"
	WebhookBundleLocked           = "bundle.locked"
)

// WebhookSecretPrefix starts every webhook signing secret, as in Standard
// Webhooks; the rest is the base64 of 32 random bytes.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a new signing secret: "whsec_" + base64 of 32
// random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// WebhookSecretKey returns the HMAC key of a secret: the decoded bytes after
// "whsec_", or the secret's bytes when it is not in that form.
func WebhookSecretKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, WebhookSecretPrefix); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return b
		}
	}
	return []byte(secret)
}

// maxWebhookURL bounds the length of an endpoint URL.
const maxWebhookURL = 2000

// ValidateWebhookURL checks an endpoint URL: absolute http or https with a
// host, at most 2000 characters. Returns EINVALID naming "url".
func ValidateWebhookURL(s string) error {
	u, err := url.Parse(s)
	if s == "" || len(s) > maxWebhookURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return InvalidField("url", "must be an absolute http or https URL of at most %d characters, without credentials", maxWebhookURL)
	}
	return nil
}

// WebhookEndpoint is a node's partner endpoint. Secret is set only when the
// endpoint is created or replaced (shown once) and in what the delivery
// worker reads.
type WebhookEndpoint struct {
	NodeID    string    `json:"node_id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookStatus is the state of a delivery.
type WebhookStatus string

// Delivery states: pending until the partner answers 2xx (delivered) or
// the attempts run out or it answers 410 Gone (failed).
const (
	WebhookPending   WebhookStatus = "pending"
	WebhookDelivered WebhookStatus = "delivered"
	WebhookFailed    WebhookStatus = "failed"
)

// Valid reports whether s is a known status.
func (s WebhookStatus) Valid() bool {
	return s == WebhookPending || s == WebhookDelivered || s == WebhookFailed
}

// WebhookEnvelope is the body of every webhook: the event type, when it
// happened, and the object it is about.
type WebhookEnvelope struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// WebhookDelivery is one webhook message to a node and the state of its
// delivery. ID is the webhook-id header; Payload is the exact body sent
// (a WebhookEnvelope).
type WebhookDelivery struct {
	ID            string          `json:"id"`
	NodeID        string          `json:"node_id"`
	EventType     string          `json:"event_type"`
	Payload       json.RawMessage `json:"payload"`
	Status        WebhookStatus   `json:"status"`
	Attempts      int             `json:"attempts"`
	LastStatus    int             `json:"last_status,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	DeliveredAt   *time.Time      `json:"delivered_at,omitempty"`
}

// WebhookAttempt is the outcome of one delivery attempt.
type WebhookAttempt struct {
	HTTPStatus int    // 0 when no answer came
	Error      string // short; "" on success
	// Status is the delivery's state after the attempt.
	Status WebhookStatus
	// NextAttemptAt is when the next attempt is due, for a pending delivery.
	NextAttemptAt *time.Time
}

// WebhookDeliveryFilter selects deliveries.
type WebhookDeliveryFilter struct {
	NodeID string
	Status WebhookStatus
	Page   Page
}

// WebhookService stores partner endpoints and the delivery log.
type WebhookService interface {
	// SetWebhookEndpoint creates or replaces a node's endpoint with a new
	// secret, set in e.Secret. Returns ENOTFOUND for an unknown node and
	// EINVALID for a bad URL.
	SetWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// FindWebhookEndpoint returns a node's endpoint without its secret.
	// Returns ENOTFOUND when the node has none.
	FindWebhookEndpoint(ctx context.Context, nodeID string) (*WebhookEndpoint, error)
	// FindWebhookDeliveries returns a page of deliveries in id (creation)
	// order and the next cursor. Returns EINVALID for a bad page or status.
	FindWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) ([]*WebhookDelivery, string, error)
}

// WebhookDeliverer is what the delivery worker needs from the store.
type WebhookDeliverer interface {
	// FindWebhookDelivery returns a delivery and its node's endpoint (with
	// the secret); the endpoint is nil when the node no longer has one.
	// Returns ENOTFOUND for an unknown delivery.
	FindWebhookDelivery(ctx context.Context, id string) (*WebhookDelivery, *WebhookEndpoint, error)
	// RecordWebhookAttempt counts one attempt of a pending delivery and
	// stores its outcome. Returns ENOTFOUND for an unknown delivery.
	RecordWebhookAttempt(ctx context.Context, id string, a WebhookAttempt) error
}
