package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// idemMode says how a route treats the Idempotency-Key header.
type idemMode int

const (
	idemNone     idemMode = iota // the header is ignored
	idemOptional                 // used when present
	idemRequired                 // 400 when missing
	// idemRequiredInTx is idemRequired for a route whose store method
	// claims the key and stores the response in its own transaction
	// (popkit.IdempotentWrite): one transaction per request instead of
	// three.
	idemRequiredInTx
)

// maxIdempotencyKey bounds the length of an Idempotency-Key.
const maxIdempotencyKey = 255

// idempotencyKey returns the key of a request. The IETF draft sends it as a
// structured-field string ("..."); a bare token is accepted too. Keys are
// 1 to 255 printable ASCII characters.
func idempotencyKey(r *http.Request) (key string, present bool, err error) {
	v := r.Header.Get("Idempotency-Key")
	if v == "" {
		return "", false, nil
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v[1 : len(v)-1])
	}
	ok := len(v) > 0 && len(v) <= maxIdempotencyKey
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] >= 0x20 && v[i] <= 0x7e
	}
	if !ok {
		return "", true, popkit.InvalidField("Idempotency-Key", "must be 1 to %d printable ASCII characters", maxIdempotencyKey)
	}
	return v, true, nil
}

// requestHash identifies a request for Idempotency-Key reuse checks: its
// method, path and the canonical form of its JSON body (canonjson.go), or
// the raw body when that is not one JSON value.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	io.WriteString(h, method+"\n"+path+"\n")
	if c, ok := canonicalJSON(body); ok {
		io.WriteString(h, "json\n")
		h.Write(c)
	} else {
		io.WriteString(h, "raw\n")
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotent makes retries of a POST safe (IETF httpapi Idempotency-Key
// draft). With a key, the first request claims (token, key) and its
// response is stored; an identical retry gets the stored response with
// Idempotent-Replayed: true; a retry with another method, path or body gets
// 422; a retry while the first is in flight gets 409. A claim whose request
// failed with a 5xx (or panicked) is released so that the client may retry.
func (s *Server) idempotent(mode idemMode, next http.Handler) http.Handler {
	if mode == idemNone {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, present, err := idempotencyKey(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !present {
			if mode == idemRequired || mode == idemRequiredInTx {
				s.writeError(w, r, popkit.InvalidField("Idempotency-Key", "this route requires an Idempotency-Key header"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		body, err := readBody(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		tok := popkit.TokenFromContext(r.Context())
		if tok == nil { // idempotent routes always authenticate first
			s.writeError(w, r, popkit.Errorf(popkit.EINTERNAL, "idempotent route without a token"))
			return
		}
		rec := &popkit.IdempotencyRecord{
			TokenID:     tok.ID,
			Key:         key,
			Method:      r.Method,
			Path:        r.URL.Path,
			RequestHash: requestHash(r.Method, r.URL.Path, body),
			CreatedAt:   time.Now().UTC(),
		}
		if mode == idemRequiredInTx {
			s.runInTx(w, r, rec, next)
			return
		}
		existing, claimed, err := s.claim(r.Context(), rec)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !claimed {
			s.answerRetry(w, r, rec, existing)
			return
		}
		s.runClaimed(w, r, rec, next)
	})
}

// claim claims rec's key. A completed claim older than the TTL that the
// reaper has not yet deleted is released and claimed anew.
func (s *Server) claim(ctx context.Context, rec *popkit.IdempotencyRecord) (*popkit.IdempotencyRecord, bool, error) {
	existing, claimed, err := s.Idempotency.ClaimIdempotencyKey(ctx, rec)
	if err != nil || claimed || existing == nil {
		return existing, claimed, err
	}
	if existing.InFlight() || time.Since(existing.CreatedAt) < popkit.IdempotencyTTL {
		return existing, false, nil
	}
	if err := s.Idempotency.ReleaseIdempotencyKey(ctx, rec.TokenID, rec.Key); err != nil {
		return nil, false, err
	}
	return s.Idempotency.ClaimIdempotencyKey(ctx, rec)
}

// answerRetry answers a request whose key was already claimed.
func (s *Server) answerRetry(w http.ResponseWriter, r *http.Request, rec, existing *popkit.IdempotencyRecord) {
	switch {
	case existing == nil:
		s.writeError(w, r, popkit.Errorf(popkit.EINTERNAL, "idempotency claim returned no record"))
	case existing.RequestHash != rec.RequestHash || existing.Method != rec.Method || existing.Path != rec.Path:
		s.writeError(w, r, popkit.Errorf(popkit.EUNPROCESSABLE, "the Idempotency-Key was already used for a different request"))
	case existing.InFlight():
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, popkit.Errorf(popkit.ECONFLICT, "a request with this Idempotency-Key is still being processed"))
	default:
		h := w.Header()
		if existing.ContentType != "" {
			h.Set("Content-Type", existing.ContentType)
		}
		if existing.Location != "" {
			h.Set("Location", existing.Location)
		}
		h.Set("Idempotent-Replayed", "true")
		h.Set("Content-Length", strconv.Itoa(len(existing.Body)))
		w.WriteHeader(existing.Status)
		w.Write(existing.Body)
	}
}

// runClaimed runs the handler for a freshly claimed key, stores its
// response (or releases the claim after a server error) and then sends it,
// so that a retry after the response always finds it stored.
func (s *Server) runClaimed(w http.ResponseWriter, r *http.Request, rec *popkit.IdempotencyRecord, next http.Handler) {
	ctx := context.WithoutCancel(r.Context())
	done := false
	defer func() {
		if !done { // the handler panicked: let the client retry
			s.release(ctx, rec)
		}
	}()
	b := newBufferedWriter()
	next.ServeHTTP(b, r)
	done = true
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status >= 500 {
		s.release(ctx, rec)
	} else {
		s.complete(ctx, rec, b)
	}
	b.copyTo(w)
}

// runInTx runs the handler with a popkit.IdempotentWrite in its context.
// When the store claimed the key and stored the response in its
// transaction, the response is sent; when the key was already claimed, the
// request is answered as a retry. Otherwise the handler answered before or
// without its store transaction (a 4xx such as a validation error, after
// which nothing was written): the key is then claimed and that response
// stored as usual, so that retries replay it.
func (s *Server) runInTx(w http.ResponseWriter, r *http.Request, rec *popkit.IdempotencyRecord, next http.Handler) {
	iw := &popkit.IdempotentWrite{Record: rec}
	b := newBufferedWriter()
	next.ServeHTTP(b, r.WithContext(popkit.WithIdempotentWrite(r.Context(), iw)))
	if b.status == 0 {
		b.status = http.StatusOK
	}
	switch {
	case iw.Completed:
		b.copyTo(w)
	case iw.Existing != nil:
		s.answerRetry(w, r, rec, iw.Existing)
	case b.status >= 500:
		b.copyTo(w) // nothing was stored: the client may retry
	default:
		existing, claimed, err := s.claim(r.Context(), rec)
		switch {
		case err != nil:
			s.writeError(w, r, err)
		case !claimed:
			s.answerRetry(w, r, rec, existing)
		default:
			s.complete(context.WithoutCancel(r.Context()), rec, b)
			b.copyTo(w)
		}
	}
}

// complete stores b as the response of rec's claimed key, releasing the
// claim if that fails.
func (s *Server) complete(ctx context.Context, rec *popkit.IdempotencyRecord, b *bufferedWriter) {
	now := time.Now().UTC()
	rec.Status = b.status
	rec.ContentType = b.header.Get("Content-Type")
	rec.Location = b.header.Get("Location")
	rec.Body = b.body
	rec.CompletedAt = &now
	if err := s.Idempotency.CompleteIdempotencyKey(ctx, rec); err != nil {
		logger(ctx).Error("store idempotent response", slog.String("error", err.Error()))
		s.release(ctx, rec)
	}
}

func (s *Server) release(ctx context.Context, rec *popkit.IdempotencyRecord) {
	if err := s.Idempotency.ReleaseIdempotencyKey(ctx, rec.TokenID, rec.Key); err != nil {
		logger(ctx).Error("release idempotency key", slog.String("error", err.Error()))
	}
}
