package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// requireExistingDB returns an error when dsn names a SQLite file that
// does not exist. Only serve, migrate and demo create a database; the
// other commands (token ...) would otherwise create an empty one where a
// mistyped --db or a missing POPKIT_DB points, and act on it silently.
func requireExistingDB(dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil
	}
	name, _, _ := strings.Cut(dsn, "?")
	name = strings.TrimPrefix(name, "file:")
	if name == "" {
		return nil // sqlstore.Open names the problem
	}
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s does not exist: pass --db (or POPKIT_DB), or create it with popkit migrate --db %s", name, name)
	}
	return nil
}
