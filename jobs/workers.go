package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/popkit/popkit"
)

// deliverWorker POSTs one webhook delivery to its node's endpoint.
type deliverWorker struct {
	river.WorkerDefaults[popkit.DeliverWebhookArgs]
	cfg     *Config
	metrics *metrics
}

// Timeout bounds one attempt: the POST plus the store's bookkeeping.
func (w *deliverWorker) Timeout(*river.Job[popkit.DeliverWebhookArgs]) time.Duration {
	return w.cfg.DeliveryTimeout + workTimeoutOverDelivery
}

// NextRetry schedules the next attempt by the configured backoff.
func (w *deliverWorker) NextRetry(job *river.Job[popkit.DeliverWebhookArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt))
}

// maxErrorBody is how much of a refusing answer's body the log keeps.
const maxErrorBody = 200

// Work makes one attempt. A 2xx answer delivers; 410 Gone fails the
// delivery at once; anything else is recorded and returned as an error so
// River retries, until MaxAttempts attempts have failed.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[popkit.DeliverWebhookArgs]) error {
	d, ep, err := w.cfg.Webhooks.FindWebhookDelivery(ctx, job.Args.DeliveryID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return river.JobCancel(fmt.Errorf("webhook delivery %s not found", job.Args.DeliveryID))
	} else if err != nil {
		return err
	}
	if d.Status != popkit.WebhookPending {
		return nil // done by an earlier run of this job
	}
	if ep == nil {
		if err := w.record(ctx, d.ID, popkit.WebhookAttempt{Status: popkit.WebhookFailed, Error: "the node has no webhook endpoint"}); err != nil {
			return err
		}
		return river.JobCancel(errors.New("the node has no webhook endpoint"))
	}

	status, perr := w.post(ctx, ep, d)
	switch {
	case perr == nil && status >= 200 && status < 300:
		return w.record(ctx, d.ID, popkit.WebhookAttempt{HTTPStatus: status, Status: popkit.WebhookDelivered})
	case perr == nil && status == http.StatusGone:
		if err := w.record(ctx, d.ID, popkit.WebhookAttempt{HTTPStatus: status, Error: "410 Gone: the endpoint asked for no more webhooks", Status: popkit.WebhookFailed}); err != nil {
			return err
		}
		return river.JobCancel(errors.New("endpoint answered 410 Gone"))
	}
	if perr == nil {
		perr = fmt.Errorf("endpoint answered %d", status)
	}
	a := popkit.WebhookAttempt{HTTPStatus: status, Error: perr.Error(), Status: popkit.WebhookPending}
	if job.Attempt >= w.cfg.MaxAttempts {
		a.Status = popkit.WebhookFailed
		if err := w.record(ctx, d.ID, a); err != nil {
			return err
		}
		return river.JobCancel(fmt.Errorf("giving up after %d attempts: %w", job.Attempt, perr))
	}
	next := w.NextRetry(job)
	a.NextAttemptAt = &next
	if err := w.record(ctx, d.ID, a); err != nil {
		return err
	}
	return perr
}

// record stores an attempt's outcome and counts it.
func (w *deliverWorker) record(ctx context.Context, id string, a popkit.WebhookAttempt) error {
	// Bookkeeping must not be lost to a POST that used up the job's time.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeoutOverDelivery)
	defer cancel()
	if err := w.cfg.Webhooks.RecordWebhookAttempt(rctx, id, a); err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	w.metrics.attempt(a)
	return nil
}

// post sends the delivery and returns the answer's status. An error means
// no answer came (or it was unreadable).
func (w *deliverWorker) post(ctx context.Context, ep *popkit.WebhookEndpoint, d *popkit.WebhookDelivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	now := w.cfg.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "popkit-webhooks/"+popkit.Version)
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", popkit.SignWebhook(popkit.WebhookSecretKey(ep.Secret), d.ID, now, d.Payload))
	resp, err := w.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %s", oneLine(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusGone && len(body) > 0 {
		return resp.StatusCode, fmt.Errorf("endpoint answered %d: %s", resp.StatusCode, oneLine(errors.New(string(body))))
	}
	return resp.StatusCode, nil
}

// lockBundleWorker locks a bundle at its wave's cutoff.
type lockBundleWorker struct {
	river.WorkerDefaults[popkit.LockBundleArgs]
	f Fulfilment
}

// Work locks the bundle; LockBundle is idempotent.
func (w *lockBundleWorker) Work(ctx context.Context, job *river.Job[popkit.LockBundleArgs]) error {
	if w.f == nil {
		return errors.New("no fulfilment service to lock bundles")
	}
	err := w.f.LockBundle(ctx, job.Args.BundleID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return river.JobCancel(err)
	}
	return err
}

// rerouteWorker routes an order's open fulfilment again.
type rerouteWorker struct {
	river.WorkerDefaults[popkit.RerouteOrderArgs]
	f Fulfilment
}

// Work re-routes the order.
func (w *rerouteWorker) Work(ctx context.Context, job *river.Job[popkit.RerouteOrderArgs]) error {
	if w.f == nil {
		return errors.New("no fulfilment service to re-route orders")
	}
	err := w.f.RerouteOrder(ctx, job.Args.OrderID, job.Args.Reason)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return river.JobCancel(err)
	}
	return err
}

// ReapIdempotencyKeysArgs is the periodic job that deletes expired
// Idempotency-Key records.
type ReapIdempotencyKeysArgs struct{}

// Kind implements river.JobArgs.
func (ReapIdempotencyKeysArgs) Kind() string { return "reap_idempotency_keys" }

// reapWorker deletes Idempotency-Key records older than
// popkit.IdempotencyTTL.
type reapWorker struct {
	river.WorkerDefaults[ReapIdempotencyKeysArgs]
	store popkit.IdempotencyService
	log   *slog.Logger
}

// Work reaps once.
func (w *reapWorker) Work(ctx context.Context, _ *river.Job[ReapIdempotencyKeysArgs]) error {
	n, err := w.store.ReapIdempotencyKeys(ctx, time.Now().Add(-popkit.IdempotencyTTL))
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.Info("reaped idempotency keys", "count", n)
	}
	return nil
}

// metrics counts webhook attempts and final outcomes.
type metrics struct {
	attempts   *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "popkit_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (delivered, retry, failed).",
		}, []string{"outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "popkit_webhook_deliveries_total",
			Help: "Webhook deliveries that ended, by status (delivered, failed).",
		}, []string{"status"}),
	}
	for _, o := range []string{"delivered", "retry", "failed"} {
		m.attempts.WithLabelValues(o)
	}
	for _, s := range []string{"delivered", "failed"} {
		m.deliveries.WithLabelValues(s)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.deliveries} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("jobs: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// attempt counts one recorded attempt.
func (m *metrics) attempt(a popkit.WebhookAttempt) {
	switch a.Status {
	case popkit.WebhookDelivered:
		m.attempts.WithLabelValues("delivered").Inc()
		m.deliveries.WithLabelValues("delivered").Inc()
	case popkit.WebhookFailed:
		m.attempts.WithLabelValues("failed").Inc()
		m.deliveries.WithLabelValues("failed").Inc()
	default:
		m.attempts.WithLabelValues("retry").Inc()
	}
}
