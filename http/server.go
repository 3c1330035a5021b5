// Package http serves popkit's JSON API under /api/v1, with bearer-token
// authorization, RFC 9457 problem details, Idempotency-Key support,
// request ids, structured access logs, Prometheus metrics and an OpenAPI
// 3.1 document, plus /healthz, /readyz and /metrics.
//
// cmd/popkit owns the net/http.Server: it sets the fields of a Server and
// serves its Handler.
package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Store is every service the API serves; sqlstore.DB is one.
type Store interface {
	popkit.ProgramService
	popkit.CityService
	popkit.VenueService
	popkit.BrandService
	popkit.EventService
	popkit.SKUService
	popkit.AssortmentService
	popkit.DeviceService
	popkit.TokenService
	popkit.IdempotencyService
	popkit.TelemetryService
	popkit.OrderService
	popkit.ListingService
	popkit.TierService
	popkit.MemberService
	popkit.BillingService
	popkit.FunnelService
	popkit.SecretService
	popkit.WebhookService
	fulfil.Service
	popkit.ColdChainService
	popkit.ReconcileService
	popkit.KPIService
	FXStore
	popkit.SKUPriceService
	popkit.TillService
}

// FXStore is the exchange-rate service the API needs: FXService and a
// bulk write of many rates in one transaction.
type FXStore interface {
	popkit.FXService
	// SetRates stores rates as SetRate does, all or none. Returns
	// EINVALID naming rates[i].field.
	SetRates(ctx context.Context, rates []*popkit.FXRate) error
}

// NewServer returns a Server whose services all come from st. Callers
// set Ready, Logger, Registry and the other options before Handler.
func NewServer(st Store) *Server {
	return &Server{
		Program: st, Cities: st, Venues: st, Brands: st, Events: st, SKUs: st,
		Assortment: st, Devices: st, Tokens: st, Idempotency: st, Telemetry: st, Orders: st,
		Listings: st, Tiers: st, Members: st, Billing: st, Funnel: st, Secrets: st,
		Webhooks: st, Fulfilment: st, ColdChain: st, Reconcile: st,
		FX: st, SKUPrices: st, Till: st, KPIs: st,
	}
}

// Server serves the API over the domain services. Set every service before
// the first call to Handler.
type Server struct {
	Program     popkit.ProgramService
	Cities      popkit.CityService
	Venues      popkit.VenueService
	Brands      popkit.BrandService
	Events      popkit.EventService
	SKUs        popkit.SKUService
	Assortment  popkit.AssortmentService
	Devices     popkit.DeviceService
	Tokens      popkit.TokenService
	Idempotency popkit.IdempotencyService
	Telemetry   popkit.TelemetryService
	Orders      popkit.OrderService
	// Reconcile applies offline sales and stock counts and keeps the
	// exceptions they raise.
	Reconcile popkit.ReconcileService
	// FX holds dated exchange rates; SKUPrices the SKU prices per
	// currency; Till answers an edge agent's till in one request.
	FX        FXStore
	SKUPrices popkit.SKUPriceService
	Till      popkit.TillService

	// Discovery: listings and curation, memberships, the billing webhook
	// and the funnel.
	Listings popkit.ListingService
	Tiers    popkit.TierService
	Members  popkit.MemberService
	Billing  popkit.BillingService
	Funnel   popkit.FunnelService
	// Secrets holds the member-link secret, and the billing webhook secret
	// unless BillingSecret is set.
	Secrets popkit.SecretService
	// Webhooks holds partner nodes' endpoints and the delivery log.
	Webhooks popkit.WebhookService
	// Fulfilment holds nodes, their stock, fulfilment orders and bundles.
	Fulfilment fulfil.Service
	// ColdChain holds sensor bindings and cold-chain excursions.
	ColdChain popkit.ColdChainService
	// KPIs computes KPI reports and keeps sensor roles.
	KPIs popkit.KPIService
	// BillingSecret verifies billing webhooks (the payment provider's
	// signing secret); empty means the one stored in Secrets.
	BillingSecret []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// Ready reports whether the server can serve (typically the database's
	// Ping); /readyz answers 503 while it returns an error. Nil means
	// always ready.
	Ready func(ctx context.Context) error
	// Logger receives access logs and errors; nil discards them.
	Logger *slog.Logger
	// Registry receives the server's metrics and is served at /metrics;
	// nil means a new registry.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires
	// (401 without it); empty leaves /metrics open.
	MetricsToken string

	once    sync.Once
	handler http.Handler
	logger  *slog.Logger
	metrics *metrics
	prom    http.Handler
	openapi []byte
}

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// Handler returns the server's handler. It builds the mux on the first call
// and panics when a service is missing or the metrics cannot be registered:
// both are wiring mistakes.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.build)
	return s.handler
}

func (s *Server) build() {
	for name, svc := range map[string]any{
		"Program": s.Program, "Cities": s.Cities, "Venues": s.Venues, "Brands": s.Brands,
		"Events": s.Events, "SKUs": s.SKUs, "Assortment": s.Assortment, "Devices": s.Devices,
		"Tokens": s.Tokens, "Idempotency": s.Idempotency, "Telemetry": s.Telemetry,
		"Listings": s.Listings, "Tiers": s.Tiers, "Members": s.Members, "Billing": s.Billing,
		"Funnel": s.Funnel, "Secrets": s.Secrets, "ColdChain": s.ColdChain,
		"Reconcile": s.Reconcile, "KPIs": s.KPIs,
	} {
		if svc == nil {
			panic(fmt.Sprintf("http: Server.%s is nil", name))
		}
	}
	s.logger = s.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.Registry)
	if err != nil {
		panic(fmt.Sprintf("http: register metrics: %v", err))
	}
	s.metrics = m
	s.prom = promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	if s.openapi, err = openAPIDocument(routeTable); err != nil {
		panic(fmt.Sprintf("http: build OpenAPI document: %v", err))
	}

	mux := http.NewServeMux()
	for _, rt := range routeTable {
		var h http.Handler = rt.handler(s)
		h = s.idempotent(rt.idem, h)
		if rt.doc.in != "" {
			h = requireJSON(h)
		}
		if rt.roles != nil {
			h = s.authenticate(rt.roles, h)
		}
		mux.Handle(rt.pattern(), h)
	}
	problems := unmatched(mux)
	s.handler = s.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			problems.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// health is the body of /healthz and /readyz.
type health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, health{Status: "ok", Version: popkit.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			logger(ctx).Warn("not ready", slog.String("error", err.Error()))
			writeProblem(w, newProblem(r, http.StatusServiceUnavailable, popkit.EUNAVAILABLE, "the database is unreachable", nil))
			return
		}
	}
	writeJSON(w, r, http.StatusOK, health{Status: "ready", Version: popkit.Version})
}

func (s *Server) metricsHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.metricsAllowed(w, r) {
			s.prom.ServeHTTP(w, r)
		}
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}
