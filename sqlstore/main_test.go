package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// backend is one database the shared suite runs on.
type backend struct {
	name string
	open func(testing.TB) *sqlstore.DB
}

// backends returns SQLite, and PostgreSQL when POPKIT_TEST_POSTGRES_URL is
// set, so that one `go test` run exercises both.
func backends() []backend {
	list := []backend{{name: "sqlite", open: sqlstoretest.OpenSQLite}}
	if u := sqlstoretest.PostgresURL(); u != "" {
		list = append(list, backend{name: "postgres", open: func(tb testing.TB) *sqlstore.DB {
			tb.Helper()
			return sqlstoretest.OpenPostgres(tb, u)
		}})
	}
	return list
}

// forEachBackend runs fn in parallel on a fresh database of every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t))
		})
	}
}

// postgresOnly marks a test that runs on PostgreSQL alone as parallel and
// returns the suite's PostgreSQL URL, skipping the test when none is set.
func postgresOnly(t *testing.T) string {
	t.Helper()
	u := sqlstoretest.PostgresURL()
	if u == "" {
		t.Skipf("PostgreSQL suite skipped: set %s to run it", sqlstoretest.EnvPostgresURL)
	}
	t.Parallel()
	return u
}

// TestPostgresEnabled says when the PostgreSQL half of the suite is
// skipped.
func TestPostgresEnabled(t *testing.T) {
	if sqlstoretest.PostgresURL() == "" {
		t.Skipf("PostgreSQL suite skipped: set %s=%s to run it", sqlstoretest.EnvPostgresURL, sqlstoretest.ExamplePostgresURL)
	}
	db := sqlstoretest.Open(t)
	if got := db.Dialect(); got != sqlstore.DialectPostgres {
		t.Fatalf("Dialect() = %q with %s set, want postgres", got, sqlstoretest.EnvPostgresURL)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable clock for DB.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(db *sqlstore.DB, t time.Time) *clock {
	c := &clock{t: t}
	db.Now = c.Now
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantCode fails unless err has the domain code and, when field is not
// empty, names field in its field list.
func wantCode(t testing.TB, err error, code, field string) {
	t.Helper()
	if got := popkit.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	if field == "" {
		return
	}
	for _, f := range popkit.ErrorFields(err) {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name field %q", err, field)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// count returns the number of rows of table.
func count(t testing.TB, db *sqlstore.DB, table string) int {
	t.Helper()
	var n int
	must(t, db.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

var seq atomic.Int64

// uniq returns a slug-safe name unique within the test binary.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

func mkCity(t testing.TB, db *sqlstore.DB, tz string) *popkit.City {
	t.Helper()
	c := &popkit.City{Name: uniq("city"), Country: "DE", TimeZone: tz}
	must(t, db.CreateCity(context.Background(), c))
	return c
}

func mkVenue(t testing.TB, db *sqlstore.DB, cityID, tz string) *popkit.Venue {
	t.Helper()
	v := &popkit.Venue{CityID: cityID, Name: uniq("venue"), Address: "Torstraße 1", Lat: 52.5, Lon: 13.4, TimeZone: tz}
	must(t, db.CreateVenue(context.Background(), v))
	return v
}

func mkBrand(t testing.TB, db *sqlstore.DB) *popkit.Brand {
	t.Helper()
	b := &popkit.Brand{Name: "Brand", Slug: uniq("brand")}
	must(t, db.CreateBrand(context.Background(), b))
	return b
}

func mkSKU(t testing.TB, db *sqlstore.DB, brandID string) *popkit.SKU {
	t.Helper()
	s := &popkit.SKU{BrandID: brandID, Code: uniq("sku"), Name: "Thing", PriceMinor: 1200, UnitCostMinor: 400, WeightGrams: 250}
	must(t, db.CreateSKU(context.Background(), s))
	return s
}

// session returns a session on day (2006-01-02) from start to end (15:04).
func session(day, start, end string) popkit.Session {
	return popkit.Session{Start: popkit.LocalTime(day + "T" + start), End: popkit.LocalTime(day + "T" + end)}
}

func newEvent(venueID string, brandIDs []string, sessions ...popkit.Session) *popkit.Event {
	if len(sessions) == 0 {
		sessions = []popkit.Session{session("2026-05-01", "10:00", "18:00")}
	}
	return &popkit.Event{VenueID: venueID, Name: "Pop-up", Slug: uniq("event"), BrandIDs: brandIDs, Sessions: sessions,
		Costs: popkit.Costs{RentMinor: 100000, StaffMinor: 50000, TransportMinor: 10000, EnergyTariffMinorKWh: 30}}
}

func mkEvent(t testing.TB, db *sqlstore.DB, venueID string, brandIDs []string, sessions ...popkit.Session) *popkit.Event {
	t.Helper()
	e := newEvent(venueID, brandIDs, sessions...)
	must(t, db.CreateEvent(context.Background(), e))
	return e
}

// world is a small catalogue most tests start from.
type world struct {
	city   *popkit.City
	venue  *popkit.Venue
	brands []*popkit.Brand
	event  *popkit.Event
}

func mkWorld(t testing.TB, db *sqlstore.DB) *world {
	t.Helper()
	w := &world{city: mkCity(t, db, "Europe/Berlin")}
	w.venue = mkVenue(t, db, w.city.ID, "")
	w.brands = []*popkit.Brand{mkBrand(t, db), mkBrand(t, db)}
	w.event = mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID, w.brands[1].ID})
	return w
}

// allPages lists every page with the given page size and checks the pages
// are in ascending key order with no duplicates.
func allPages[T any](t testing.TB, limit int, key func(T) string, find func(popkit.Page) ([]T, string, error)) (items []T, pages int) {
	t.Helper()
	p := popkit.Page{Limit: limit}
	for {
		got, next, err := find(p)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(got) > limit {
			t.Fatalf("page %d has %d items, limit %d", pages, len(got), limit)
		}
		if next != "" && len(got) != limit {
			t.Fatalf("page %d has %d items and a next cursor, limit %d", pages, len(got), limit)
		}
		items = append(items, got...)
		if next == "" {
			break
		}
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		p.After = next
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Fatalf("keys not strictly ascending: %v", keys)
	}
	return items, pages
}

// ids returns the ids of items.
func ids[T any](items []T, key func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

func sortedIDs(ids ...string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

// oneLine reports whether s is a single line.
func oneLine(s string) bool { return !strings.ContainsAny(s, "\r\n") }

// waitFor polls cond until it holds, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockedBy waits until a backend of db waits for a lock held by the
// transaction on pid.
func blockedBy(t *testing.T, db *sqlstore.DB, pid int) {
	t.Helper()
	waitFor(t, "a transaction waiting on the held one", func() bool {
		var n int
		must(t, db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&n))
		return n > 0
	})
}

// holdTx begins a transaction on db's pool and returns it with its backend.
func holdTx(t *testing.T, db *sqlstore.DB) (*sql.Tx, int) {
	t.Helper()
	tx, err := db.SQL().BeginTx(t.Context(), nil)
	must(t, err)
	t.Cleanup(func() { tx.Rollback() })
	var pid int
	must(t, tx.QueryRowContext(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid))
	return tx, pid
}

// execTx runs one statement in tx.
func execTx(t *testing.T, tx *sql.Tx, q string, args ...any) {
	t.Helper()
	_, err := tx.ExecContext(t.Context(), q, args...)
	must(t, err)
}
