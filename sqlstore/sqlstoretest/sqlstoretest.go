// Package sqlstoretest gives each test a fresh, migrated popkit database:
// a SQLite file in the test's temporary directory by default, or a fresh
// schema of the PostgreSQL database named by POPKIT_TEST_POSTGRES_URL when
// that variable is set.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sqlstore"
)

// EnvPostgresURL names the environment variable that selects PostgreSQL.
const EnvPostgresURL = "POPKIT_TEST_POSTGRES_URL"

// ExamplePostgresURL is a URL that works with a local PostgreSQL that
// trusts local connections.
const ExamplePostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the URL of the test PostgreSQL server, or "" when
// tests run on SQLite only.
func PostgresURL() string { return os.Getenv(EnvPostgresURL) }

// Open returns a fresh migrated database that is closed when the test
// ends: PostgreSQL when POPKIT_TEST_POSTGRES_URL is set, SQLite otherwise.
func Open(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	if u := PostgresURL(); u != "" {
		return OpenPostgres(tb, u)
	}
	return OpenSQLite(tb)
}

// OpenDSN creates a fresh migrated database, as Open does, and returns its
// DSN for other openers (a second server, a subprocess). The database is
// removed when the test ends.
func OpenDSN(tb testing.TB) string {
	tb.Helper()
	if u := PostgresURL(); u != "" {
		return PostgresDSN(tb, u)
	}
	return SQLiteDSN(tb)
}

// OpenSQLite returns a fresh migrated SQLite database.
func OpenSQLite(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	return mustOpenMigrated(tb, sqliteFile(tb))
}

// OpenPostgres returns a fresh migrated database in a new schema of the
// PostgreSQL database at baseURL.
func OpenPostgres(tb testing.TB, baseURL string) *sqlstore.DB {
	tb.Helper()
	return mustOpenMigrated(tb, postgresSchema(tb, baseURL))
}

// SQLiteDSN creates and migrates a SQLite file in tb.TempDir and returns
// its path.
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	dsn := sqliteFile(tb)
	mustOpenMigrated(tb, dsn).Close()
	return dsn
}

// sqliteFile returns the path of a new database file in tb.TempDir.
func sqliteFile(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "popkit.db")
}

// PostgresDSN creates a schema t_<random> in the PostgreSQL database at
// baseURL, migrates it, and returns a URL whose search_path selects it. The
// schema is dropped when the test ends.
func PostgresDSN(tb testing.TB, baseURL string) string {
	tb.Helper()
	dsn := postgresSchema(tb, baseURL)
	mustOpenMigrated(tb, dsn).Close()
	return dsn
}

// postgresSchema creates an empty schema and returns a URL that selects
// it; the schema is dropped when the test ends.
func postgresSchema(tb testing.TB, baseURL string) string {
	tb.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)

	admin := func(stmt string) error {
		db, err := sql.Open("pgx", baseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	if err := admin("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		if err := admin("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// mustOpenMigrated opens and migrates dsn, and closes it when the test
// ends (closing it earlier is harmless).
func mustOpenMigrated(tb testing.TB, dsn string) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// PartnerNode stores, through the store, an external partner's kitting
// station in Berlin (open no hours, cutoff 16:00) and returns its id: a
// node for tests that need one to hang webhooks or jobs on.
func PartnerNode(tb testing.TB, db *sqlstore.DB) string {
	tb.Helper()
	n := &fulfil.NodeRecord{Node: fulfil.Node{ID: popkit.NewID(), Name: "Partner", Kind: fulfil.KindKittingStation,
		Lat: 52.5, Lon: 13.4, ServiceRadiusKm: 10, TimeZone: "Europe/Berlin", SameDayCutoff: 16 * 60,
		CapacityPerHour: 10, CapacityPerDay: 100, External: true}}
	if err := db.CreateNode(context.Background(), n); err != nil {
		tb.Fatalf("create node: %v", err)
	}
	return n.ID
}
