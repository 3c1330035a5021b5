package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit/plan"
)

// writeHistory writes a gzipped Online Retail CSV of 60 days in which A
// sells 4 a day at 1.00 and B 1 a day at 3.00.
func writeHistory(t *testing.T) string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
	start := time.Date(2011, 1, 1, 10, 0, 0, 0, time.UTC)
	for d := range 60 {
		day := start.AddDate(0, 0, d).Format("2006-01-02 15:04:05")
		fmt.Fprintf(&csv, "%d,A,a,4,%s,1.00,1.0,UK\n", 2*d, day)
		fmt.Fprintf(&csv, "%d,B,b,1,%s,3.00,1.0,UK\n", 2*d+1, day)
	}
	path := filepath.Join(t.TempDir(), "retail.csv.gz")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte(csv.String()))
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunPrintsTable(t *testing.T) {
	path := writeHistory(t)
	var out bytes.Buffer
	cfg := plan.ReplayConfig{SKUs: 1, HistoryDays: 28, FirstDay: 28}
	if err := run(&out, path, cfg); err != nil {
		t.Fatal(err)
	}
	// Events start on days 28, 35, 42 and 49 (each needs 7 days): 4 rows.
	// Demand is steady, so both arms stock and sell exactly a week's demand
	// of A (the top revenue: 28 × 400p against B's 28 × 300p): 28 units at
	// cost 60p = £16.80, margin 28 × (100 − 60) = £11.20 per event. The
	// planner picks A too (28 × 40p beats B's 7 × 120p): uplift 0.
	s := out.String()
	if !strings.Contains(s, "4 events; mean per event: baseline margin £11.20 at stock £16.80, planner margin £11.20 at stock £16.80") {
		t.Fatalf("output:\n%s", s)
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, filepath.Join(t.TempDir(), "missing.csv"), plan.ReplayConfig{}); err == nil {
		t.Fatal("a missing file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,two,2011-01-01 00:00:00,1\n"), 0o600)
	if err := run(&out, bad, plan.ReplayConfig{}); err == nil || !strings.Contains(err.Error(), "line 2: Quantity") {
		t.Fatalf("err = %v", err)
	}
}
