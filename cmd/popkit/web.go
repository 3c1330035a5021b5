package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/web"
)

// newMicrosite returns the public microsite and curator page over db.
func newMicrosite(db *sqlstore.DB, logger *slog.Logger) *web.Handler {
	return &web.Handler{
		Site: "popkit pop-ups",
		Source: &web.Store{
			Listings: db, Events: db, Venues: db, CityService: db, Brands: db, Program: db,
		},
		Members: &web.Members{Members: db, Tiers: db, Secrets: db},
		Queue:   &web.TelemetryQueue{Telemetry: db},
		Funnel:  db,
		Curator: &web.Curator{Tokens: db, Listings: db, Events: db},
		Logger:  logger,
	}
}

// splitAPI sends the API's paths (/api/, /healthz, /readyz, /metrics) to
// api and everything else to site.
func splitAPI(api, site http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/") || p == "/api" || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			api.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	})
}
