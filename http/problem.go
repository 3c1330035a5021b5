package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/popkit/popkit"
)

// problemTypePrefix starts the type URI of every problem. The URIs are
// identifiers, not links: RFC 9457 allows type URIs that do not resolve.
const problemTypePrefix = "urn:popkit:problem:"

// Problem is an RFC 9457 problem details object, the body of every error
// response (media type application/problem+json). Code and RequestID are
// extension members: Code is the popkit error code, RequestID the
// X-Request-Id of the request, also used in the server's logs.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Instance  string              `json:"instance,omitempty"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []popkit.FieldError `json:"errors,omitempty"`
}

// statusCodes maps each popkit error code to its HTTP status. It is the one
// place where codes become statuses.
var statusCodes = map[string]int{
	popkit.EINVALID:       http.StatusBadRequest,
	popkit.ENOTFOUND:      http.StatusNotFound,
	popkit.ECONFLICT:      http.StatusConflict,
	popkit.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	popkit.EUNAUTHORIZED:  http.StatusUnauthorized,
	popkit.EFORBIDDEN:     http.StatusForbidden,
	popkit.EUNAVAILABLE:   http.StatusServiceUnavailable,
	popkit.EINTERNAL:      http.StatusInternalServerError,
}

// errorStatus returns the HTTP status for err. Errors that are not a
// *popkit.Error (and unknown codes) are internal: 500.
func errorStatus(err error) int {
	if s, ok := statusCodes[popkit.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Codes of problems that only the HTTP layer reports.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeTooLarge             = "too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
)

// codeForStatus returns the code of an HTTP error status, for problems that
// the HTTP layer makes itself.
func codeForStatus(status int) string {
	switch status {
	case http.StatusMethodNotAllowed:
		return codeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return codeTooLarge
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMediaType
	}
	for code, s := range statusCodes {
		if s == status {
			return code
		}
	}
	if status >= 500 {
		return popkit.EINTERNAL
	}
	return popkit.EINVALID
}

// problemFor builds the problem for err. Internal errors get the detail
// "internal error" so that nothing internal leaks.
func problemFor(r *http.Request, err error) Problem {
	if errors.Is(err, errTooLarge) {
		return newProblem(r, http.StatusRequestEntityTooLarge, codeTooLarge, popkit.ErrorMessage(err), nil)
	}
	status := errorStatus(err)
	code := popkit.ErrorCode(err)
	detail := popkit.ErrorMessage(err)
	if code == popkit.EINTERNAL && errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		// A call that ran out of its own deadline (the database's) while
		// the client was still waiting: the dependency is unavailable.
		status, code, detail = http.StatusServiceUnavailable, popkit.EUNAVAILABLE, "a dependency did not answer in time"
	}
	if status == http.StatusInternalServerError {
		code, detail = popkit.EINTERNAL, "internal error"
	}
	return newProblem(r, status, code, detail, popkit.ErrorFields(err))
}

func newProblem(r *http.Request, status int, code, detail string, fields []popkit.FieldError) Problem {
	if code == "" {
		code = codeForStatus(status)
	}
	return Problem{
		Type:      problemTypePrefix + code,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: requestID(r.Context()),
		Errors:    fields,
	}
}

// writeError writes err as a problem. Internal errors and unavailable
// dependencies are logged with the request id; the client sees only
// "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(r, err)
	if p.Status >= 500 {
		logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.Int("status", p.Status), slog.String("error", errString(err)))
	}
	writeProblem(w, p)
}

func errString(err error) string {
	var e *popkit.Error
	if errors.As(err, &e) && e.Code != popkit.EINTERNAL {
		return e.Error()
	}
	return err.Error()
}

// retryAfterUnavailable is the Retry-After, in seconds, of a 503: how long
// a client should wait before trying again while a dependency is down.
const retryAfterUnavailable = "5"

// writeProblem writes p with its status; a 503 says when to try again.
func writeProblem(w http.ResponseWriter, p Problem) {
	body, err := json.Marshal(p)
	if err != nil { // a Problem always marshals
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Del("Location")
	if p.Status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", retryAfterUnavailable)
	}
	w.WriteHeader(p.Status)
	w.Write(append(body, '\n'))
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		logger(r.Context()).Error("encode response", slog.String("error", err.Error()))
		writeProblem(w, newProblem(r, http.StatusInternalServerError, popkit.EINTERNAL, "internal error", nil))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
