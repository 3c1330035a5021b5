// Package jobs runs popkit's durable background work: River workers over
// the same database the store writes its jobs to (sqlstore enqueues them in
// the transaction of the change that causes them). It delivers signed
// webhooks to partner nodes, locks bundles at their wave's cutoff,
// re-routes orders, and reaps expired Idempotency-Key records.
//
// On SQLite the workers share the store's single writer connection (River's
// SQLite driver needs one connection for writes, as the store does); on
// PostgreSQL they use a pgx pool of their own and any number of processes
// share the queue, each job running in one of them at a time.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/internal/riversqlite"
)

// Fulfilment is what the lock_bundle and reroute_order workers call.
type Fulfilment interface {
	// LockBundle locks a bundle at its wave's cutoff; it is a no-op for a
	// bundle already locked or later.
	LockBundle(ctx context.Context, bundleID string) error
	// RerouteOrder routes an order's open fulfilment again.
	RerouteOrder(ctx context.Context, orderID, reason string) error
}

// Defaults of Config.
const (
	DefaultWorkers         = 10
	DefaultMaxAttempts     = 12
	DefaultDeliveryTimeout = 10 * time.Second
	DefaultStopTimeout     = 10 * time.Second
	DefaultReapEvery       = time.Hour
	DefaultSQLitePoll      = 200 * time.Millisecond
	DefaultPostgresPoll    = 500 * time.Millisecond
	postgresPoolExtraConns = 4
	// fetchCooldown is the least time between two fetches of jobs; with
	// River's 100 ms a busy runner works at most Workers jobs per 100 ms.
	fetchCooldown           = 10 * time.Millisecond
	workTimeoutOverDelivery = 5 * time.Second
)

// Config configures a Runner. Dialect and, for it, Pool or DSN are
// required, and Webhooks.
type Config struct {
	// Dialect is "sqlite" or "postgres" (sqlstore.DB.Dialect).
	Dialect string
	// Pool is the store's write pool on SQLite (sqlstore.DB.WritePool).
	Pool *sql.DB
	// DSN is the postgres:// URL on PostgreSQL.
	DSN string

	// Webhooks reads deliveries and records attempts.
	Webhooks popkit.WebhookDeliverer
	// Fulfilment serves lock_bundle and reroute_order; while nil those
	// jobs fail and are retried.
	Fulfilment Fulfilment
	// Reaper, when set, reaps expired Idempotency-Key records every
	// ReapEvery as a periodic job (run by one process of those sharing
	// the database).
	Reaper popkit.IdempotencyService
	// ReapEvery is the reaping period; 0 means DefaultReapEvery.
	ReapEvery time.Duration

	// Workers is the number of jobs run at once; 0 means DefaultWorkers.
	Workers int
	// MaxAttempts bounds the attempts of one webhook delivery; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff returns the wait after the given failed attempt (1-based);
	// nil means WebhookBackoff.
	Backoff func(attempt int) time.Duration
	// PollInterval is how often idle workers look for new jobs; 0 means
	// 200 ms on SQLite and 500 ms on PostgreSQL.
	PollInterval time.Duration
	// DeliveryTimeout bounds one webhook POST; 0 means 10 s.
	DeliveryTimeout time.Duration
	// StopTimeout is how long Stop lets running jobs finish before
	// cancelling them; 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	// HTTPClient sends webhooks; nil means a client with DeliveryTimeout.
	HTTPClient *http.Client
	// Registry receives the delivery metrics; nil means none.
	Registry prometheus.Registerer
	// Logger receives River's and the workers' logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time, for webhook timestamps; nil means
	// time.Now.
	Now func() time.Time
}

// webhookBackoffs are the waits after each failed attempt: about a day
// over 12 attempts, as webhook senders commonly do.
var webhookBackoffs = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour,
}

// WebhookBackoff is the default wait after failed attempt n (1-based):
// 5 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 6 h, then 8 h.
func WebhookBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	return webhookBackoffs[min(attempt, len(webhookBackoffs))-1]
}

// Runner runs the workers until Stop.
type Runner struct {
	cfg    Config
	client interface {
		Start(context.Context) error
		Stop(context.Context) error
		StopAndCancel(context.Context) error
	}
	pgPool *pgxpool.Pool
}

// Start validates cfg, opens what the workers need and starts them.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Webhooks == nil {
		return nil, errors.New("jobs: no webhook store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = WebhookBackoff
	}
	cfg.Workers = cmpOr(cfg.Workers, DefaultWorkers)
	cfg.MaxAttempts = cmpOr(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.DeliveryTimeout = cmpOr(cfg.DeliveryTimeout, DefaultDeliveryTimeout)
	cfg.StopTimeout = cmpOr(cfg.StopTimeout, DefaultStopTimeout)
	cfg.ReapEvery = cmpOr(cfg.ReapEvery, DefaultReapEvery)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.DeliveryTimeout}
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{cfg: &cfg, metrics: m})
	river.AddWorker(workers, &lockBundleWorker{f: cfg.Fulfilment})
	river.AddWorker(workers, &rerouteWorker{f: cfg.Fulfilment})
	var periodic []*river.PeriodicJob
	if cfg.Reaper != nil {
		river.AddWorker(workers, &reapWorker{store: cfg.Reaper, log: cfg.Logger})
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.ReapEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ReapIdempotencyKeysArgs{}, nil },
			&river.PeriodicJobOpts{ID: "reap_idempotency_keys", RunOnStart: true}))
	}
	rc := &river.Config{
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       cfg.Logger,
		// The delivery worker bounds its own attempts (Config.MaxAttempts);
		// River's bound only stops a job that keeps failing otherwise.
		MaxAttempts: cfg.MaxAttempts + 1,
	}

	r := &Runner{cfg: cfg}
	switch cfg.Dialect {
	case "sqlite":
		if cfg.Pool == nil {
			return nil, errors.New("jobs: no SQLite pool")
		}
		rc.FetchPollInterval = cmpOr(cfg.PollInterval, DefaultSQLitePoll)
		rc.FetchCooldown = min(fetchCooldown, rc.FetchPollInterval)
		rc.PollOnly = true
		driver, err := riversqlite.Driver(cfg.Pool)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		c, err := river.NewClient(driver, rc)
		if err != nil {
			return nil, fmt.Errorf("jobs: river client: %w", err)
		}
		r.client = c
	case "postgres":
		pcfg, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, errors.New("jobs: invalid database URL")
		}
		pcfg.MaxConns = int32(cfg.Workers + postgresPoolExtraConns)
		// The insert-only clients of other processes cannot notify (they
		// use database/sql), so the workers poll as well as listen.
		rc.FetchPollInterval = cmpOr(cfg.PollInterval, DefaultPostgresPoll)
		rc.FetchCooldown = min(fetchCooldown, rc.FetchPollInterval)
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: open database: %s", oneLine(err))
		}
		c, err := river.NewClient(riverpgxv5.New(pool), rc)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("jobs: river client: %w", err)
		}
		r.client, r.pgPool = c, pool
	default:
		return nil, fmt.Errorf("jobs: unknown dialect %q", cfg.Dialect)
	}
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		r.closePool()
		return nil, fmt.Errorf("jobs: start: %w", err)
	}
	return r, nil
}

// Stop stops fetching jobs, lets running ones finish for up to
// StopTimeout, then cancels those still running and waits for them. Jobs
// not finished stay in the queue for the next Runner.
func (r *Runner) Stop(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, r.cfg.StopTimeout)
	defer cancel()
	err := r.client.Stop(sctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.StopTimeout)
		defer hcancel()
		err = r.client.StopAndCancel(hctx)
	}
	r.closePool()
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

func (r *Runner) closePool() {
	if r.pgPool != nil {
		r.pgPool.Close()
	}
}

// cmpOr returns v, or def when v is zero.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// oneLine returns the message of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
