package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/jobs"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// backend is one database the tests run on.
type backend struct {
	name string
	dsn  func(testing.TB) string
}

func backends() []backend {
	list := []backend{{"sqlite", sqlstoretest.SQLiteDSN}}
	if u := sqlstoretest.PostgresURL(); u != "" {
		list = append(list, backend{"postgres", func(tb testing.TB) string { return sqlstoretest.PostgresDSN(tb, u) }})
	}
	return list
}

// env is one fresh database with a node and its store.
type env struct {
	dsn  string
	db   *sqlstore.DB
	node string
}

func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			db, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, &env{dsn: dsn, db: db, node: sqlstoretest.PartnerNode(t, db)})
		})
	}
}

// start starts a Runner over e's database with short backoffs.
func start(t testing.TB, e *env, cfg jobs.Config) *jobs.Runner {
	t.Helper()
	cfg.Dialect = e.db.Dialect()
	cfg.Pool = e.db.WritePool()
	cfg.DSN = e.dsn
	cfg.Webhooks = e.db
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	r, err := jobs.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			r.Stop(context.Background())
		}
	})
	return r
}

// receiver is a partner endpoint that verifies every webhook.
type receiver struct {
	srv     *httptest.Server
	secret  []byte
	answer  func(n int) int // status for the n-th request (1-based)
	mu      sync.Mutex
	n       int
	ids     map[string]int
	bodies  [][]byte
	invalid []string
}

func newReceiver(t testing.TB, answer func(n int) int) *receiver {
	rc := &receiver{answer: answer, ids: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		if err := popkit.VerifyWebhook(rc.secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now()); err != nil {
			rc.invalid = append(rc.invalid, err.Error())
		}
		rc.ids[r.Header.Get("webhook-id")]++
		rc.bodies = append(rc.bodies, body)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// register sets the node's endpoint to rc.
func register(t testing.TB, e *env, rc *receiver) {
	t.Helper()
	ep := &popkit.WebhookEndpoint{NodeID: e.node, URL: rc.srv.URL + "/hooks"}
	if err := e.db.SetWebhookEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	rc.secret = popkit.WebhookSecretKey(ep.Secret)
}

func notify(t testing.TB, e *env, data any) *popkit.WebhookDelivery {
	t.Helper()
	ctx := context.Background()
	if err := e.db.NotifyNode(ctx, e.node, popkit.WebhookFulfilmentOrderCreated, data); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.db.FindWebhookDeliveries(ctx, popkit.WebhookDeliveryFilter{NodeID: e.node, Page: popkit.Page{Limit: 200}})
	if err != nil || len(list) == 0 {
		t.Fatalf("no delivery recorded: %v", err)
	}
	return list[len(list)-1]
}

// await polls the delivery until cond holds or 20 s pass.
func await(t testing.TB, e *env, id string, what string, cond func(*popkit.WebhookDelivery) bool) *popkit.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, _, err := e.db.FindWebhookDelivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(s popkit.WebhookStatus) func(*popkit.WebhookDelivery) bool {
	return func(d *popkit.WebhookDelivery) bool { return d.Status == s }
}

func TestDeliverSigned(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, nil)
		register(t, e, rc)
		reg := prometheus.NewRegistry()
		start(t, e, jobs.Config{Registry: reg})
		d := notify(t, e, map[string]string{"id": "fo-1"})
		got := await(t, e, d.ID, "delivered", status(popkit.WebhookDelivered))
		if got.Attempts != 1 || got.LastStatus != 200 || got.DeliveredAt == nil {
			t.Fatalf("delivery = %+v, want 1 attempt answered 200", got)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.invalid) > 0 || rc.ids[d.ID] != 1 {
			t.Fatalf("receiver saw invalid=%v ids=%v", rc.invalid, rc.ids)
		}
		var env popkit.WebhookEnvelope
		if err := json.Unmarshal(rc.bodies[0], &env); err != nil || env.Type != popkit.WebhookFulfilmentOrderCreated || string(env.Data) != `{"id":"fo-1"}` {
			t.Fatalf("body %s: %v", rc.bodies[0], err)
		}
		// The signature covers the body: a tampered body does not verify.
		tampered := []byte(strings.Replace(string(rc.bodies[0]), "fo-1", "fo-2", 1))
		ts := fmt.Sprint(time.Now().Unix())
		sig := popkit.SignWebhook(rc.secret, d.ID, time.Now(), rc.bodies[0])
		if err := popkit.VerifyWebhook(rc.secret, d.ID, ts, sig, tampered, time.Now()); popkit.ErrorCode(err) != popkit.EUNAUTHORIZED {
			t.Fatalf("tampered body verified: %v", err)
		}
		if n := counter(t, reg, "popkit_webhook_deliveries_total", "delivered"); n != 1 {
			t.Fatalf("delivered counter = %v, want 1", n)
		}
	})
}

// counter returns the value of one series of a counter vec in reg.
func counter(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

func TestDeliverRetries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, func(n int) int {
			if n <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		register(t, e, rc)
		reg := prometheus.NewRegistry()
		start(t, e, jobs.Config{Registry: reg})
		d := notify(t, e, map[string]int{"n": 1})
		got := await(t, e, d.ID, "delivered", status(popkit.WebhookDelivered))
		if got.Attempts != 3 || got.LastStatus != 200 || rc.requests() != 3 {
			t.Fatalf("delivery = %+v after %d requests, want delivered on attempt 3", got, rc.requests())
		}
		if n := counter(t, reg, "popkit_webhook_attempts_total", "retry"); n != 2 {
			t.Fatalf("retry counter = %v, want 2", n)
		}
	})
}

func TestDeliverGone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, func(int) int { return http.StatusGone })
		register(t, e, rc)
		start(t, e, jobs.Config{})
		d := notify(t, e, map[string]int{"n": 1})
		got := await(t, e, d.ID, "failed", status(popkit.WebhookFailed))
		if got.Attempts != 1 || got.LastStatus != 410 {
			t.Fatalf("delivery = %+v, want failed after one 410", got)
		}
	})
}

func TestDeliverGivesUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
		register(t, e, rc)
		start(t, e, jobs.Config{MaxAttempts: 3})
		d := notify(t, e, map[string]int{"n": 1})
		got := await(t, e, d.ID, "failed", status(popkit.WebhookFailed))
		if got.Attempts != 3 || got.LastStatus != 503 || got.LastError == "" {
			t.Fatalf("delivery = %+v, want failed after 3 attempts", got)
		}
		// The job is finalised (cancelled): no fourth attempt follows.
		deadline := time.Now().Add(20 * time.Second)
		for {
			var state string
			if err := e.db.SQL().QueryRowContext(context.Background(), `SELECT CAST(state AS TEXT) FROM river_job`).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if state == "cancelled" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job state %s, want cancelled", state)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := rc.requests(); n != 3 {
			t.Fatalf("receiver got %d requests, want 3", n)
		}
	})
}

// TestDeliverDurable enqueues a webhook while no runner runs (the first
// was stopped), and a new runner delivers it: a restart loses nothing.
func TestDeliverDurable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, nil)
		register(t, e, rc)
		first, err := jobs.Start(context.Background(), jobs.Config{Dialect: e.db.Dialect(), Pool: e.db.WritePool(), DSN: e.dsn, Webhooks: e.db, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		d := notify(t, e, map[string]int{"n": 1})
		if got, _, _ := e.db.FindWebhookDelivery(context.Background(), d.ID); got.Status != popkit.WebhookPending || rc.requests() != 0 {
			t.Fatalf("delivered with no runner: %+v", got)
		}
		start(t, e, jobs.Config{})
		await(t, e, d.ID, "delivered", status(popkit.WebhookDelivered))
	})
}

// TestStopFinishesInFlight stops the runner while a delivery is in flight:
// Stop waits for it and its outcome is stored.
func TestStopFinishesInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		entered := make(chan struct{}, 1)
		release := make(chan struct{})
		rc := newReceiver(t, func(int) int {
			entered <- struct{}{}
			<-release
			return http.StatusOK
		})
		register(t, e, rc)
		r, err := jobs.Start(context.Background(), jobs.Config{Dialect: e.db.Dialect(), Pool: e.db.WritePool(), DSN: e.dsn, Webhooks: e.db, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		d := notify(t, e, map[string]int{"n": 1})
		select {
		case <-entered:
		case <-time.After(20 * time.Second):
			t.Fatal("delivery not attempted")
		}
		stopped := make(chan error, 1)
		go func() { stopped <- r.Stop(context.Background()) }()
		time.AfterFunc(100*time.Millisecond, func() { close(release) })
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		got, _, _ := e.db.FindWebhookDelivery(context.Background(), d.ID)
		if got.Status != popkit.WebhookDelivered {
			t.Fatalf("after Stop: %+v, want delivered", got)
		}
	})
}

// TestTwoRunnersDeliverOnce runs two runners on one PostgreSQL database:
// every webhook reaches the partner exactly once.
func TestTwoRunnersDeliverOnce(t *testing.T) {
	u := sqlstoretest.PostgresURL()
	if u == "" {
		t.Skipf("PostgreSQL suite skipped: set %s to run it", sqlstoretest.EnvPostgresURL)
	}
	t.Parallel()
	dsn := sqlstoretest.PostgresDSN(t, u)
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{dsn: dsn, db: db, node: sqlstoretest.PartnerNode(t, db)}
	rc := newReceiver(t, nil)
	register(t, e, rc)
	start(t, e, jobs.Config{Workers: 4})
	start(t, e, jobs.Config{Workers: 4})
	const n = 60
	for i := range n {
		if err := db.NotifyNode(context.Background(), e.node, popkit.WebhookFulfilmentOrderUpdated, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _, err := db.FindWebhookDeliveries(context.Background(), popkit.WebhookDeliveryFilter{Status: popkit.WebhookDelivered, Page: popkit.Page{Limit: 200}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered", len(list), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.ids) != n || rc.n != n {
		t.Fatalf("receiver got %d requests for %d ids, want %d each once", rc.n, len(rc.ids), n)
	}
}

// fulfilment is a fake jobs.Fulfilment.
type fulfilment struct {
	locked   chan string
	rerouted chan string
}

func (f *fulfilment) LockBundle(_ context.Context, id string) error { f.locked <- id; return nil }
func (f *fulfilment) RerouteOrder(_ context.Context, id, reason string) error {
	f.rerouted <- id + ":" + reason
	return nil
}

func TestLockBundleAndReroute(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		f := &fulfilment{locked: make(chan string, 1), rerouted: make(chan string, 1)}
		start(t, e, jobs.Config{Fulfilment: f})
		insert(t, e, popkit.LockBundleArgs{BundleID: "b-1"})
		insert(t, e, popkit.RerouteOrderArgs{OrderID: "o-1", Reason: "node refused"})
		for _, c := range []struct {
			ch   chan string
			want string
		}{{f.locked, "b-1"}, {f.rerouted, "o-1:node refused"}} {
			select {
			case got := <-c.ch:
				if got != c.want {
					t.Fatalf("got %q, want %q", got, c.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("job for %q not run", c.want)
			}
		}
	})
}

// insert enqueues a job as the store does, with an insert-only client.
func insert(t testing.TB, e *env, args river.JobArgs) {
	t.Helper()
	ctx := context.Background()
	var err error
	if e.db.Dialect() == sqlstore.DialectSQLite {
		var c *river.Client[*sql.Tx]
		c, err = river.NewClient(riversqlite.New(e.db.WritePool()), &river.Config{})
		if err == nil {
			_, err = c.Insert(ctx, args, nil)
		}
	} else {
		var c *river.Client[*sql.Tx]
		c, err = river.NewClient(riverdatabasesql.New(e.db.WritePool()), &river.Config{})
		if err == nil {
			_, err = c.Insert(ctx, args, nil)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// reaper is a fake idempotency store that reports each reap.
type reaper struct {
	popkit.IdempotencyService
	reaped chan time.Time
}

func (r *reaper) ReapIdempotencyKeys(_ context.Context, cutoff time.Time) (int, error) {
	select {
	case r.reaped <- cutoff:
	default:
	}
	return 0, nil
}

// TestReapIdempotencyKeys checks that the periodic job reaps on start,
// with the 72-hour retention as cutoff.
func TestReapIdempotencyKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := &reaper{reaped: make(chan time.Time, 1)}
		start(t, e, jobs.Config{Reaper: r})
		select {
		case cutoff := <-r.reaped:
			if age := time.Since(cutoff); age < popkit.IdempotencyTTL || age > popkit.IdempotencyTTL+time.Minute {
				t.Fatalf("reaped keys older than %v, want %v", age, popkit.IdempotencyTTL)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("keys not reaped")
		}
	})
}
