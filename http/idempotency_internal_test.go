package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

// TestIdempotencyRequired checks the mode that routes such as orders will
// use: a request without Idempotency-Key is 400 and never reaches the
// handler.
func TestIdempotencyRequired(t *testing.T) {
	t.Parallel()
	s := &Server{}
	reached := false
	h := s.idempotent(idemRequired, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	req := httptest.NewRequest("POST", "/api/v1/orders", strings.NewReader(`{}`))
	req = req.WithContext(popkit.NewContextWithToken(req.Context(), &popkit.Token{ID: popkit.NewID(), Role: popkit.RoleAdmin}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || reached {
		t.Fatalf("status %d, handler reached %v", rec.Code, reached)
	}
	if !strings.Contains(rec.Body.String(), `"field":"Idempotency-Key"`) {
		t.Errorf("problem does not name the header: %s", rec.Body)
	}
}
