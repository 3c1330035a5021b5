package http

import (
	"net/http"
	"strings"

	"github.com/popkit/popkit"
)

// bearer returns the token secret of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// authenticate admits requests with a live token of one of roles, and puts
// the token in the request context. No, unknown or revoked tokens get 401
// with WWW-Authenticate; other roles get 403.
func (s *Server) authenticate(roles []popkit.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			s.unauthorized(w, r, "", "an Authorization: Bearer token is required")
			return
		}
		if !popkit.LooksLikeToken(secret) {
			s.unauthorized(w, r, "invalid_token", "the token is unknown or revoked")
			return
		}
		t, err := s.Tokens.Authenticate(r.Context(), secret)
		if popkit.ErrorCode(err) == popkit.EUNAUTHORIZED {
			s.unauthorized(w, r, "invalid_token", "the token is unknown or revoked")
			return
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !allowed(roles, t) {
			s.writeError(w, r, forbidden("role %s may not use this route", t.Role))
			return
		}
		next.ServeHTTP(w, r.WithContext(popkit.NewContextWithToken(r.Context(), t)))
	})
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, code, detail string) {
	challenge := `Bearer realm="popkit"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeProblem(w, newProblem(r, http.StatusUnauthorized, popkit.EUNAUTHORIZED, detail, nil))
}
