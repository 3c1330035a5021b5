package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenRefusesMissingDatabase checks that token commands fail with a
// one-line error naming the file, and create nothing, when the SQLite
// database does not exist; migrate creates it, and then they work.
func TestTokenRefusesMissingDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	run := func(args ...string) error {
		cmd := newRootCmd(&bytes.Buffer{}, &bytes.Buffer{})
		cmd.SetArgs(args)
		return cmd.ExecuteContext(context.Background())
	}
	for _, args := range [][]string{
		{"token", "list", "--db", path},
		{"token", "create", "--role", "admin", "--db", path},
		{"token", "revoke", "01a24228-f8a8-7d4c-bfb8-5d3df8f66bf2", "--db", "file:" + path + "?_pragma=foreign_keys(1)"},
	} {
		err := run(args...)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one line naming %s", strings.Join(args, " "), err, path)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s created the database file (stat: %v)", strings.Join(args, " "), err)
		}
	}
	if err := run("migrate", "--db", path); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run("token", "list", "--db", path); err != nil {
		t.Errorf("token list after migrate: %v", err)
	}
}
