package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

func TestOpen_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dsn  string
		want string // substring of the error
	}{
		{"unwritable path", "/nonexistent/dir/popkit.db", "open database /nonexistent/dir/popkit.db: unable to open"},
		{"empty", "", "open database: no database named"},
		{"memory", ":memory:", "in-memory databases are not supported"},
		{"unreachable postgres", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1", "open database postgres://postgres@127.0.0.1:1/test:"},
		{"password hidden", "postgres://postgres:hunter2@127.0.0.1:1/test?sslmode=disable", "xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			db, err := sqlstore.Open(t.Context(), tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !oneLine(err.Error()) {
				t.Errorf("error is not one line: %q", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %q", err)
			}
			if d := time.Since(start); d > 6*time.Second {
				t.Errorf("Open took %v to fail", d)
			}
		})
	}
}

func TestOpen_SQLitePragmas(t *testing.T) {
	t.Parallel()
	db := sqlstoretest.OpenSQLite(t)
	ctx := t.Context()
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "2"}, // FULL: see TestSQLiteAcknowledgedWritesSynced
	} {
		var got string
		must(t, db.SQL().QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got))
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
	if got := db.Dialect(); got != sqlstore.DialectSQLite {
		t.Errorf("Dialect() = %q", got)
	}
}

func TestMigrate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		applied, err := db.Migrate(ctx)
		must(t, err)
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", applied)
		}
		if n := count(t, db, "schema_migrations"); n < 1 {
			t.Errorf("schema_migrations has %d rows", n)
		}
		p, err := db.FindProgram(ctx)
		must(t, err)
		want := popkit.DefaultProgram()
		if p.Name != want.Name || p.Currency != want.Currency || p.KAnonymity != want.KAnonymity || p.EpochDays != want.EpochDays {
			t.Errorf("seeded program = %+v, want %+v", p, want)
		}
	})
}

// TestMigrate_Concurrent migrates one empty database from two openers at
// once: exactly one applies each migration.
func TestMigrate_Concurrent(t *testing.T) {
	t.Parallel()
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "popkit.db")}
	if u := sqlstoretest.PostgresURL(); u != "" {
		dsns["postgres"] = emptyPostgresSchema(t, u)
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			const n = 4
			var wg sync.WaitGroup
			results := make([][]string, n)
			errs := make([]error, n)
			for i := range n {
				db, err := sqlstore.Open(ctx, dsn)
				must(t, err)
				t.Cleanup(func() { db.Close() })
				wg.Go(func() { results[i], errs[i] = db.Migrate(ctx) })
			}
			wg.Wait()
			var all []string
			for i := range n {
				must(t, errs[i])
				all = append(all, results[i]...)
			}
			if !slices.Contains(all, "0001-foundation") || len(all) != len(slices.Compact(slices.Sorted(slices.Values(all)))) {
				t.Errorf("migrations applied across openers: %v, want each exactly once", all)
			}
		})
	}
}

// TestMigrate_WaitsForLockedSQLite holds the SQLite file's write lock
// longer than the busy timeout (5 s, TestOpen_SQLitePragmas), as another
// process migrating a loaded machine does, and checks that Migrate waits
// for it instead of failing with "database is locked" (which made
// TestMigrate_Concurrent fail under CPU contention).
func TestMigrate_WaitsForLockedSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "popkit.db")
	db, err := sqlstore.Open(ctx, path)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	other, err := sql.Open("sqlite", path)
	must(t, err)
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	must(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := db.Migrate(ctx)
		done <- err
	}()
	// The held lock outlasts the busy timeout: the time is what is
	// tested, not a wait for a condition.
	select {
	case err := <-done:
		t.Fatalf("Migrate returned (%v) while another connection held the write lock", err)
	case <-time.After(7 * time.Second):
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	must(t, err)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Migrate after the lock was released: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Migrate still waiting a minute after the lock was released")
	}
}

// emptyPostgresSchema creates an unmigrated schema and returns a URL that
// selects it.
func emptyPostgresSchema(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	must(t, err)
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	must(t, err)
	u, err := url.Parse(base)
	must(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOpenDSN_SecondOpener(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := sqlstoretest.OpenDSN(t)
	a, err := sqlstore.Open(ctx, dsn)
	must(t, err)
	defer a.Close()
	b, err := sqlstore.Open(ctx, dsn)
	must(t, err)
	defer b.Close()
	applied, err := a.Migrate(ctx)
	must(t, err)
	if len(applied) != 0 {
		t.Errorf("OpenDSN database was not migrated: applied %v", applied)
	}
	c := &popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"}
	must(t, a.CreateCity(ctx, c))
	got, err := b.FindCityByID(ctx, c.ID)
	must(t, err)
	if got.Name != "Berlin" {
		t.Errorf("second opener read %+v", got)
	}
}

func TestPingAndClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		must(t, db.Ping(t.Context()))
		if db.SQL() == nil {
			t.Fatal("SQL() is nil")
		}
		must(t, db.Close())
		wantCode(t, db.Ping(context.Background()), popkit.EUNAVAILABLE, "")
	})
}

// TestClock checks that the injected clock sets the stored times exactly.
func TestClock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC)
		clk := newClock(db, at)
		c := &popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"}
		must(t, db.CreateCity(ctx, c))
		if !c.CreatedAt.Equal(at) || !c.UpdatedAt.Equal(at) {
			t.Errorf("returned times %v %v, want %v", c.CreatedAt, c.UpdatedAt, at)
		}
		got, err := db.FindCityByID(ctx, c.ID)
		must(t, err)
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("stored created_at %v, want %v in UTC", got.CreatedAt, at)
		}

		clk.Add(time.Hour)
		name := "Berlin-Mitte"
		upd, err := db.UpdateCity(ctx, c.ID, popkit.CityUpdate{Name: &name})
		must(t, err)
		got, err = db.FindCityByID(ctx, c.ID)
		must(t, err)
		if !got.CreatedAt.Equal(at) || !got.UpdatedAt.Equal(at.Add(time.Hour)) || !upd.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("after update: created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, at, at.Add(time.Hour))
		}
	})
}

func TestProgram(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		newClock(db, at)
		p := &popkit.Program{Name: "Berlin pop-ups", Currency: "CHF", KAnonymity: 10, EpochDays: 14}
		must(t, db.UpdateProgram(ctx, p))
		got, err := db.FindProgram(ctx)
		must(t, err)
		if got.Name != p.Name || got.Currency != "CHF" || got.KAnonymity != 10 || got.EpochDays != 14 || !got.UpdatedAt.Equal(at) {
			t.Errorf("FindProgram() = %+v", got)
		}

		bad := &popkit.Program{Name: "x", Currency: "euro", KAnonymity: 5, EpochDays: 30}
		wantCode(t, db.UpdateProgram(ctx, bad), popkit.EINVALID, "currency")
		got, err = db.FindProgram(ctx)
		must(t, err)
		if got.Currency != "CHF" {
			t.Errorf("invalid update was written: %+v", got)
		}
	})
}

// TestPostgres_RecoversFromDeadConnections ends every server session of a
// DB, as a PostgreSQL restart does, and checks that the next calls succeed
// on new connections.
func TestPostgres_RecoversFromDeadConnections(t *testing.T) {
	t.Parallel()
	base := sqlstoretest.PostgresURL()
	if base == "" {
		t.Skipf("PostgreSQL test skipped: set %s to run it", sqlstoretest.EnvPostgresURL)
	}
	ctx := t.Context()
	b := make([]byte, 6)
	rand.Read(b)
	app := "popkit_test_" + hex.EncodeToString(b)
	u, err := url.Parse(sqlstoretest.PostgresDSN(t, base))
	must(t, err)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db, err := sqlstore.Open(ctx, u.String())
	must(t, err)
	defer db.Close()

	// Fill the pool with several recently used connections.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, _, err := db.FindCities(ctx, popkit.CityFilter{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	admin, err := sql.Open("pgx", base)
	must(t, err)
	defer admin.Close()
	var killed int
	must(t, admin.QueryRowContext(ctx, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&killed))
	if killed == 0 {
		t.Fatal("no sessions to terminate")
	}

	for i := range 6 {
		c := &popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"}
		if err := db.CreateCity(ctx, c); err != nil {
			t.Fatalf("call %d after %d sessions ended: %v", i, killed, err)
		}
		if _, err := db.FindCityByID(ctx, c.ID); err != nil {
			t.Fatalf("read %d after %d sessions ended: %v", i, killed, err)
		}
	}
	must(t, db.Ping(ctx))
}
