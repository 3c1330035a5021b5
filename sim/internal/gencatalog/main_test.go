package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFixtureUpToDate regenerates the fixture from the source data, when the
// data is present (it is not on a user's machine), and compares it with the
// committed sim/catalog.csv.
func TestFixtureUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: reads 200,000 lines of ../shared/data (./test.sh --full runs it)")
	}
	const src = "../../../../shared/data/online_retail_top300_sku.csv.gz"
	if _, err := os.Stat(src); err != nil {
		t.Skipf("source data ../shared/data not available: %v", err)
	}
	out := filepath.Join(t.TempDir(), "catalog.csv")
	if err := run(src, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("sim/catalog.csv is stale; regenerate it (see sim/CATALOG.md)")
	}
}
