package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/popkit/popkit"
)

// Partner is an external fulfilment node for the demo: an HTTP endpoint
// that receives popkit's webhooks and, for each new fulfilment order, walks
// it accepted → kitting → ready → out_for_delivery → delivered through the
// transitions API with its fulfiller token, as a partner's own system
// would.
//
// Every webhook is verified (Standard Webhooks signature and timestamp); a
// webhook-id seen before is answered 200 and ignored, so popkit's retries
// never walk an order twice. The webhook is answered as soon as it is
// queued; when the queue is full the answer is 503 and popkit retries.
type Partner struct {
	// Secret is the endpoint's signing secret ("whsec_…"), from
	// PUT /api/v1/nodes/{id}/webhook.
	Secret string
	// API is popkit's base URL, e.g. http://127.0.0.1:8080.
	API string
	// Token is a fulfiller token of the partner's node.
	Token string
	// Steps are the states each new order is moved through; nil means
	// PartnerSteps.
	Steps []string
	// StepDelay is the pause before each step (a kitting station takes a
	// while); 0 means none.
	StepDelay time.Duration
	// Client calls the API; nil means a client with a 10 s timeout.
	Client *http.Client
	// Logger receives what the partner does; nil discards it.
	Logger *slog.Logger
	// Now returns the current time, for the timestamp check; nil means
	// time.Now.
	Now func() time.Time

	once  sync.Once
	queue chan string
	mu    sync.Mutex
	seen  map[string]time.Time // webhook-id → when it was first seen
	stats PartnerStats
}

// PartnerSteps is the default walk of a new fulfilment order.
var PartnerSteps = []string{"accepted", "kitting", "ready", "out_for_delivery", "delivered"}

// PartnerStats counts what a Partner did.
type PartnerStats struct {
	Received  int // verified webhooks, replays included
	Replayed  int // webhooks with an id seen before, ignored
	Rejected  int // webhooks that failed verification
	Walked    int // orders moved through every step
	Abandoned int // orders whose walk stopped early (refused or failing)
}

// Partner limits.
const (
	partnerQueue       = 1000
	partnerMaxBody     = 1 << 20
	partnerAttempts    = 5
	partnerRetryFirst  = 100 * time.Millisecond
	partnerCallTimeout = 10 * time.Second
)

func (p *Partner) init() {
	p.once.Do(func() {
		p.queue = make(chan string, partnerQueue)
		p.seen = map[string]time.Time{}
		if p.Client == nil {
			p.Client = &http.Client{Timeout: partnerCallTimeout}
		}
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
		if p.Now == nil {
			p.Now = time.Now
		}
		if p.Steps == nil {
			p.Steps = PartnerSteps
		}
	})
}

// Stats returns the partner's counts so far.
func (p *Partner) Stats() PartnerStats {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// ServeHTTP receives one webhook.
func (p *Partner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, partnerMaxBody+1))
	if err != nil || len(body) > partnerMaxBody {
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	now := p.Now()
	if err := popkit.VerifyWebhook(popkit.WebhookSecretKey(p.Secret), id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, now); err != nil {
		p.count(func(s *PartnerStats) { s.Rejected++ })
		p.Logger.Warn("partner: webhook rejected", "error", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var env struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "body is not a webhook envelope", http.StatusBadRequest)
		return
	}

	p.mu.Lock()
	p.stats.Received++
	p.forget(now)
	if _, dup := p.seen[id]; dup {
		p.stats.Replayed++
		p.mu.Unlock()
		w.WriteHeader(http.StatusOK) // already handled: a retry of a webhook we took
		return
	}
	if env.Type == popkit.WebhookFulfilmentOrderCreated && env.Data.ID != "" {
		select {
		case p.queue <- env.Data.ID:
		default:
			p.stats.Received--
			p.mu.Unlock()
			http.Error(w, "busy", http.StatusServiceUnavailable) // not marked seen: the retry is taken
			return
		}
	}
	p.seen[id] = now
	p.mu.Unlock()
	p.Logger.Info("partner: webhook", "type", env.Type, "id", env.Data.ID)
	w.WriteHeader(http.StatusNoContent)
}

// forget drops webhook-ids older than twice the timestamp tolerance: a
// replay of those fails verification anyway. p.mu is held.
func (p *Partner) forget(now time.Time) {
	for id, at := range p.seen {
		if now.Sub(at) > 2*popkit.WebhookTolerance {
			delete(p.seen, id)
		}
	}
}

func (p *Partner) count(f func(*PartnerStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

// Run walks queued orders until ctx is done, one at a time.
func (p *Partner) Run(ctx context.Context) {
	p.init()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-p.queue:
			if err := p.walk(ctx, id); err != nil {
				if ctx.Err() != nil {
					return
				}
				p.count(func(s *PartnerStats) { s.Abandoned++ })
				p.Logger.Warn("partner: walk stopped", "fulfilment_order", id, "error", err)
				continue
			}
			p.count(func(s *PartnerStats) { s.Walked++ })
		}
	}
}

// walk moves one fulfilment order through the steps.
func (p *Partner) walk(ctx context.Context, id string) error {
	for _, to := range p.Steps {
		if p.StepDelay > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(p.StepDelay):
			}
		}
		if err := p.transition(ctx, id, to); err != nil {
			return fmt.Errorf("%s: %w", to, err)
		}
	}
	return nil
}

// errRefused is a 4xx answer: retrying would not help.
var errRefused = errors.New("refused")

// transition makes one transition, retrying transient failures with
// backoff; the Idempotency-Key makes a retry of a lost answer harmless.
func (p *Partner) transition(ctx context.Context, id, to string) error {
	body, _ := json.Marshal(map[string]string{"to": to, "reason": ""})
	u := p.API + "/api/v1/fulfilment-orders/" + url.PathEscape(id) + "/transitions"
	wait := partnerRetryFirst
	var last error
	for attempt := 1; attempt <= partnerAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+p.Token)
		req.Header.Set("Idempotency-Key", "partner-"+id+"-"+to)
		resp, err := p.Client.Do(req)
		if err != nil {
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			p.Logger.Info("partner: transition", "fulfilment_order", id, "to", to)
			return nil
		case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
			return fmt.Errorf("%w: %d %s", errRefused, resp.StatusCode, bytes.TrimSpace(msg))
		}
		last = fmt.Errorf("answered %d", resp.StatusCode)
	}
	return fmt.Errorf("gave up after %d attempts: %w", partnerAttempts, last)
}
