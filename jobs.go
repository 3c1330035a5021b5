package popkit

// Durable jobs. Work that must happen after a change, and must not be lost
// if the process dies, is enqueued as a job in the same transaction as the
// change (River is the engine; see package jobs for the workers). Each
// job's arguments are a small JSON document named by Kind.

// DeliverWebhookArgs asks for one webhook delivery to be attempted (and
// retried with backoff until it succeeds or its attempts run out).
type DeliverWebhookArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliverWebhookArgs) Kind() string { return "deliver_webhook" }

// LockBundleArgs asks for a bundle to be locked at its wave's cutoff.
type LockBundleArgs struct {
	BundleID string `json:"bundle_id"`
}

// Kind implements river.JobArgs.
func (LockBundleArgs) Kind() string { return "lock_bundle" }

// RerouteOrderArgs asks for an order's open fulfilment to be routed again
// (its node refused, failed or went on hold past the cutoff).
type RerouteOrderArgs struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// Kind implements river.JobArgs.
func (RerouteOrderArgs) Kind() string { return "reroute_order" }
