package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
)

// fakeAPI records the transitions a partner makes; refuse and flaky pick
// answers per "id/to".
type fakeAPI struct {
	srv    *httptest.Server
	token  string
	refuse map[string]bool
	flaky  map[string]int // answers 503 this many times first
	mu     sync.Mutex
	calls  []string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{token: "pk_fulfiller", refuse: map[string]bool{}, flaky: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/fulfilment-orders/")
		id, ok2 := strings.CutSuffix(id, "/transitions")
		if !ok || !ok2 || r.Method != "POST" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.token || r.Header.Get("Idempotency-Key") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var in struct{ To, Reason string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		key := id + "/" + in.To
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.flaky[key] > 0 {
			f.flaky[key]--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if f.refuse[key] {
			w.WriteHeader(http.StatusConflict)
			return
		}
		f.calls = append(f.calls, key)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"status":%q}`, id, in.To)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) transitions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// send posts a signed webhook to the partner and returns the status.
func send(t *testing.T, url string, secret []byte, id, typ, foID string, at time.Time, tamper bool) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"type": typ, "timestamp": at, "data": map[string]string{"id": foID, "status": "open"}})
	sig := popkit.SignWebhook(secret, id, at, body)
	if tamper {
		body = bytes.Replace(body, []byte(foID), []byte(popkit.NewID()), 1)
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// awaitStats polls the partner until cond holds or 10 s pass.
func awaitStats(t *testing.T, p *sim.Partner, what string, cond func(sim.PartnerStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(p.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, p.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPartnerWalksOrders(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	secret := popkit.NewWebhookSecret()
	key := popkit.WebhookSecretKey(secret)
	p := &sim.Partner{Secret: secret, API: api.srv.URL, Token: api.token}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go p.Run(ctx)

	fo, now := popkit.NewID(), time.Now()
	hook := popkit.NewID()
	api.flaky[fo+"/kitting"] = 2 // transient failures are retried

	// Bad signatures and old timestamps are rejected and change nothing.
	if got := send(t, srv.URL, key, popkit.NewID(), popkit.WebhookFulfilmentOrderCreated, fo, now, true); got != 401 {
		t.Fatalf("tampered body: %d, want 401", got)
	}
	if got := send(t, srv.URL, []byte("wrong secret"), popkit.NewID(), popkit.WebhookFulfilmentOrderCreated, fo, now, false); got != 401 {
		t.Fatalf("wrong secret: %d, want 401", got)
	}
	if got := send(t, srv.URL, key, popkit.NewID(), popkit.WebhookFulfilmentOrderCreated, fo, now.Add(-10*time.Minute), false); got != 401 {
		t.Fatalf("old timestamp: %d, want 401", got)
	}

	if got := send(t, srv.URL, key, hook, popkit.WebhookFulfilmentOrderCreated, fo, now, false); got/100 != 2 {
		t.Fatalf("valid webhook: %d", got)
	}
	// A replay of the same webhook-id is answered 200 and ignored.
	if got := send(t, srv.URL, key, hook, popkit.WebhookFulfilmentOrderCreated, fo, now, false); got != 200 {
		t.Fatalf("replay: %d, want 200", got)
	}
	// Other events are taken without walking anything.
	if got := send(t, srv.URL, key, popkit.NewID(), popkit.WebhookFulfilmentOrderUpdated, fo, now, false); got/100 != 2 {
		t.Fatalf("update webhook: %d", got)
	}
	awaitStats(t, p, "the walk", func(s sim.PartnerStats) bool { return s.Walked == 1 })
	want := []string{fo + "/accepted", fo + "/kitting", fo + "/ready", fo + "/out_for_delivery", fo + "/delivered"}
	if got := api.transitions(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	if s := p.Stats(); s.Rejected != 3 || s.Replayed != 1 || s.Received != 3 || s.Abandoned != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPartnerStopsWhenRefused(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	secret := popkit.NewWebhookSecret()
	p := &sim.Partner{Secret: secret, API: api.srv.URL, Token: api.token}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go p.Run(ctx)

	fo := popkit.NewID()
	api.refuse[fo+"/ready"] = true // e.g. the order was put on hold
	send(t, srv.URL, popkit.WebhookSecretKey(secret), popkit.NewID(), popkit.WebhookFulfilmentOrderCreated, fo, time.Now(), false)
	awaitStats(t, p, "the abandoned walk", func(s sim.PartnerStats) bool { return s.Abandoned == 1 })
	if got := api.transitions(); len(got) != 2 || got[1] != fo+"/kitting" {
		t.Fatalf("transitions %v, want accepted and kitting only", got)
	}
}

// FuzzPartnerWebhook sends arbitrary bodies and headers to a partner: it
// must never panic, and never walk an order for a webhook that is not
// validly signed.
func FuzzPartnerWebhook(f *testing.F) {
	secret := popkit.NewWebhookSecret()
	key := popkit.WebhookSecretKey(secret)
	now := time.Now()
	valid := `{"type":"fulfilment_order.created","timestamp":"2026-05-01T10:00:00Z","data":{"id":"fo-1"}}`
	f.Add(valid, "msg_1", fmt.Sprint(now.Unix()), popkit.SignWebhook(key, "msg_1", now, []byte(valid)))
	f.Add(`{"type":1}`, "msg_2", fmt.Sprint(now.Unix()), "v1,AAAA")
	f.Add(`not json`, "", "", "")
	f.Add(`{"data":{"id":"`+strings.Repeat("x", 300)+`"}}`, "msg.3", "-1", "v2,x v1,")
	f.Fuzz(func(t *testing.T, body, id, ts, sig string) {
		p := &sim.Partner{Secret: secret, API: "http://127.0.0.1:1", Token: "t", Now: func() time.Time { return now }}
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		for k, v := range map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig} {
			req.Header[http.CanonicalHeaderKey(k)] = []string{v}
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		verified := popkit.VerifyWebhook(key, id, ts, sig, []byte(body), now) == nil
		if rec.Code/100 == 2 && !verified {
			t.Fatalf("accepted an unverified webhook: %d", rec.Code)
		}
		if s := p.Stats(); !verified && s.Received != 0 {
			t.Fatalf("counted an unverified webhook: %+v", s)
		}
	})
}
