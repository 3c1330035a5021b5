package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
	"github.com/popkit/popkit/jobs"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
)

// Main is the control plane: one database and one HTTP listener. main and
// end-to-end tests use it the same way: set the fields, Run, then Close.
type Main struct {
	Addr   string       // listen address, e.g. 127.0.0.1:8080; port 0 picks one
	DSN    string       // SQLite path or postgres:// URL
	Logger *slog.Logger // where logs go

	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout time.Duration
	// ConnState, when set, is told of every client connection's state
	// change (see net/http.Server.ConnState).
	ConnState func(net.Conn, http.ConnState)
	// Workers is how many durable jobs (webhook deliveries, bundle locks,
	// re-routing, key reaping) this process runs at once; 0 means
	// jobs.DefaultWorkers, negative runs no jobs here (another process
	// sharing the PostgreSQL database may).
	Workers int
	// DBTimeout bounds every database call (sqlstore.DB.QueryTimeout); 0
	// means sqlstore.DefaultQueryTimeout, negative no bound.
	DBTimeout time.Duration
	// PublicURL is the origin the public site is reached at
	// (https://popups.example): canonical links, JSON-LD, the sitemap,
	// robots.txt and iCalendar URLs use it, never the request's Host.
	// Empty means the URL the server listens on.
	PublicURL string
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// DBWait bounds how long Open waits for a database that cannot be
	// reached, trying again with backoff; 0 waits until ctx ends.
	DBWait time.Duration

	DB       *sqlstore.DB
	server   *http.Server
	listener net.Listener
	serveErr chan error
	stopReap context.CancelFunc
	jobs     *jobs.Runner
	site     *web.Handler
}

// Open opens and migrates the database and starts listening. It returns
// once the server accepts connections; the bound address is in URL.
func (m *Main) Open(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.ShutdownTimeout == 0 {
		m.ShutdownTimeout = 30 * time.Second
	}
	if err := checkPublicURL(m.PublicURL); err != nil {
		return err
	}
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	m.DB = db

	billing, err := billingSecret()
	if err != nil {
		db.Close()
		m.DB = nil
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "popkit"),
	)
	srv := pkhttp.NewServer(db)
	srv.BillingSecret = billing
	srv.Ready = db.Ping
	srv.Logger = m.Logger
	srv.Registry = reg
	srv.MetricsToken = m.MetricsToken
	if m.Workers >= 0 {
		// The job runner reaps Idempotency-Key records as a periodic job.
		cfg := jobs.Config{Dialect: db.Dialect(), Pool: db.WritePool(), DSN: m.DSN, Webhooks: db, Fulfilment: db,
			Reaper: db, Workers: m.Workers, Registry: reg, Logger: m.Logger}
		if m.jobs, err = jobs.Start(ctx, cfg); err != nil {
			db.Close()
			m.DB = nil
			return err
		}
	}
	m.site = newMicrosite(db, m.Logger)
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		if m.jobs != nil {
			m.jobs.Stop(ctx)
		}
		db.Close()
		return fmt.Errorf("listen: %w", err)
	}
	ln = pkhttp.ProblemListener(ln) // net/http's own 400 and 431 as problem+json
	m.listener = ln
	m.site.BaseURL = m.PublicURL
	if m.site.BaseURL == "" {
		m.site.BaseURL = m.URL()
	}
	m.server = &http.Server{
		Handler:           splitAPI(srv.Handler(), m.site),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
		ConnState:         m.ConnState,
	}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.server.Serve(ln) }()

	if m.jobs == nil {
		reapCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		m.stopReap = cancel
		go m.reapIdempotencyKeys(reapCtx, time.Hour)
	}
	m.Logger.Info("serving", "url", m.URL(), "db", db.Dialect())
	return nil
}

// Backoff between tries to reach the database at start.
const (
	dbRetryFirst = 100 * time.Millisecond
	dbRetryMax   = 5 * time.Second
)

// openDB opens and migrates the database. While the database cannot be
// reached it tries again with exponential backoff, logging each try, until
// it answers, DBWait passes or ctx ends; other errors end it at once.
func (m *Main) openDB(ctx context.Context) (*sqlstore.DB, error) {
	start := time.Now()
	wait := dbRetryFirst
	for try := 1; ; try++ {
		db, err := m.openMigrated(ctx)
		if err == nil {
			if try > 1 {
				m.Logger.Info("database reachable", "tries", try, "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return db, nil
		}
		if popkit.ErrorCode(err) != popkit.EUNAVAILABLE {
			return nil, err
		}
		if m.DBWait > 0 && time.Since(start)+wait > m.DBWait {
			return nil, fmt.Errorf("database unreachable after %d tries in %s: %s", try, time.Since(start).Round(time.Millisecond), oneLineError(err))
		}
		m.Logger.Warn("database unreachable, trying again", "try", try, "retry_in", wait.String(), "error", oneLineError(err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gave up waiting for the database: %s", oneLineError(err))
		case <-time.After(wait):
		}
		wait = min(2*wait, dbRetryMax)
	}
}

// openMigrated opens the database with the configured deadline and
// applies pending migrations.
func (m *Main) openMigrated(ctx context.Context) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, m.DSN)
	if err != nil {
		return nil, err
	}
	db.QueryTimeout = m.DBTimeout
	if m.DBTimeout == 0 {
		db.QueryTimeout = sqlstore.DefaultQueryTimeout
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, name := range applied {
		m.Logger.Info("applied migration", "name", name)
	}
	return db, nil
}

// oneLineError is the user-facing text of err on one line: the message
// of a domain error, the whole chain of any other.
func oneLineError(err error) string {
	msg := err.Error()
	if popkit.ErrorCode(err) != popkit.EINTERNAL {
		msg = popkit.ErrorMessage(err)
	}
	return strings.Join(strings.Fields(msg), " ")
}

// URL returns the base URL the server listens on.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// Wait blocks until ctx is done or the server fails.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
}

// Close stops accepting connections, lets in-flight requests finish (up to
// ShutdownTimeout) and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.stopReap != nil {
		m.stopReap()
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
		defer cancel()
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	if m.jobs != nil {
		if err := m.jobs.Stop(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	if m.site != nil {
		m.site.Close() // writes the page views still queued
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	return errors.Join(errs...)
}

// reapIdempotencyKeys deletes expired Idempotency-Key records every period.
// Deleting is idempotent, so several replicas may reap the same database.
func (m *Main) reapIdempotencyKeys(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		n, err := m.DB.ReapIdempotencyKeys(ctx, time.Now().Add(-popkit.IdempotencyTTL))
		if err != nil && ctx.Err() == nil {
			m.Logger.Warn("reap idempotency keys", "err", err)
		} else if n > 0 {
			m.Logger.Info("reaped idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newServeCmd() *cobra.Command {
	m := &Main{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane: the JSON API, health checks and metrics",
		Long: `serve runs the popkit control plane. It applies pending migrations, then
serves the JSON API under /api/v1, /healthz, /readyz and /metrics.

The database is a SQLite file by default; a postgres:// URL selects
PostgreSQL, and then any number of serve processes may share it.
SIGINT or SIGTERM lets in-flight requests finish and closes the database.`,
		Example: `  popkit serve
  popkit serve --addr 0.0.0.0:8080 --db postgres://popkit@db:5432/popkit
  POPKIT_DB=./shop.db popkit serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m.Logger = newLogger(cmd.ErrOrStderr())
			if err := m.Open(cmd.Context()); err != nil {
				return err
			}
			err := m.Wait(cmd.Context())
			m.Logger.Info("shutting down")
			return errors.Join(err, m.Close())
		},
	}
	cmd.Flags().StringVar(&m.Addr, "addr", envDefault("POPKIT_ADDR", "127.0.0.1:8080"), "listen address (env POPKIT_ADDR)")
	addDBFlag(cmd, &m.DSN, defaultDB)
	cmd.Flags().DurationVar(&m.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for in-flight requests on shutdown")
	addWorkersFlag(cmd, &m.Workers)
	addDBTimeoutFlags(cmd, m)
	addPublicURLFlag(cmd, m)
	cmd.Flags().StringVar(&m.MetricsToken, "metrics-token", envDefault("POPKIT_METRICS_TOKEN", ""),
		"bearer token /metrics requires; empty leaves /metrics open (env POPKIT_METRICS_TOKEN)")
	return cmd
}

// addPublicURLFlag adds --public-url (env POPKIT_PUBLIC_URL).
func addPublicURLFlag(cmd *cobra.Command, m *Main) {
	cmd.Flags().StringVar(&m.PublicURL, "public-url", envDefault("POPKIT_PUBLIC_URL", ""),
		"origin the public site is reached at, for canonical links, JSON-LD, the sitemap and feeds, e.g. https://popups.example; empty: the listen address (env POPKIT_PUBLIC_URL)")
}

// checkPublicURL accepts an empty public URL or an absolute http(s) origin
// with an optional path prefix, and nothing else.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q: want an absolute http or https URL such as https://popups.example", s)
	}
	return nil
}

// addDBTimeoutFlags adds --db-timeout (env POPKIT_DB_TIMEOUT) and
// --db-wait (env POPKIT_DB_WAIT).
func addDBTimeoutFlags(cmd *cobra.Command, m *Main) {
	timeout, wait := sqlstore.DefaultQueryTimeout, time.Duration(0)
	if d, err := time.ParseDuration(envDefault("POPKIT_DB_TIMEOUT", "")); err == nil {
		timeout = d
	}
	if d, err := time.ParseDuration(envDefault("POPKIT_DB_WAIT", "")); err == nil {
		wait = d
	}
	cmd.Flags().DurationVar(&m.DBTimeout, "db-timeout", timeout, "deadline of every database call; past it the API answers 503 (env POPKIT_DB_TIMEOUT)")
	cmd.Flags().DurationVar(&m.DBWait, "db-wait", wait, "how long to wait at start for a database that cannot be reached, trying again with backoff; 0 waits until interrupted (env POPKIT_DB_WAIT)")
}

// addWorkersFlag adds --workers (env POPKIT_WORKERS).
func addWorkersFlag(cmd *cobra.Command, workers *int) {
	def := jobs.DefaultWorkers
	if v, err := strconv.Atoi(envDefault("POPKIT_WORKERS", "")); err == nil {
		def = v
	}
	cmd.Flags().IntVar(workers, "workers", def, "durable jobs run at once by this process (webhooks, bundle locks, re-routing, key reaping); -1 runs none (env POPKIT_WORKERS)")
}
