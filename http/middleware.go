package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// maxBodyBytes limits every request body; larger bodies get 413.
const maxBodyBytes = 1 << 20

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// requestID returns the id of the request ctx belongs to.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// logger returns the request's logger, which adds the request id to every
// line.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rw *recorder) WriteHeader(status int) {
	if rw.status == 0 {
		rw.status = status
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// routeLabel returns the route of a matched mux pattern without its method,
// or "unmatched". Metrics and logs use it instead of the raw path, whose
// cardinality is unbounded.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// serve is the outermost handler: it assigns the request id, limits the
// body, recovers panics, and logs and measures every request.
func (s *Server) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !popkit.ValidLabel(id, 128) {
			id = popkit.NewID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.logger.With(slog.String("request_id", id))
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, log)
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
		rw := &recorder{ResponseWriter: w}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.LogAttrs(ctx, slog.LevelError, "panic serving request",
					slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				if rw.status == 0 {
					writeProblem(rw, newProblem(r, http.StatusInternalServerError, popkit.EINTERNAL, "internal error", nil))
				}
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := routeLabel(r.Pattern)
			d := time.Since(start)
			s.metrics.observe(route, r.Method, status, d)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(ctx, level, "http request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", d),
				slog.Int("bytes", rw.bytes))
		}()
		next.ServeHTTP(rw, r)
	})
}

// bufferedWriter holds a whole response in memory, for the idempotency
// store and for rewriting the mux's plain-text 404 and 405 answers.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{header: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// copyTo writes the buffered response to w.
func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body)
}

// unmatched answers requests that no route matches with a problem instead
// of the mux's plain text, keeping its status (404 or 405) and Allow
// header, and passing its redirects to canonical paths through.
func unmatched(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := newBufferedWriter()
		mux.ServeHTTP(b, r)
		if b.status < 400 {
			b.copyTo(w)
			return
		}
		if allow := b.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		detail := "no such route"
		if b.status == http.StatusMethodNotAllowed {
			detail = "method not allowed on this route"
		}
		writeProblem(w, newProblem(r, b.status, "", detail, nil))
	})
}
