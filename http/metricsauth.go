package http

import (
	"crypto/subtle"
	"net/http"
)

// metricsAllowed reports whether r may read /metrics: always when
// Server.MetricsToken is empty, else only with that token as its bearer
// token (compared in constant time). Otherwise it answers 401.
func (s *Server) metricsAllowed(w http.ResponseWriter, r *http.Request) bool {
	if s.MetricsToken == "" {
		return true
	}
	secret, _ := bearer(r)
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.MetricsToken)) == 1 {
		return true
	}
	s.unauthorized(w, r, "", "/metrics requires the metrics token as an Authorization: Bearer token")
	return false
}
