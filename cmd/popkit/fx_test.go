package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// The first lines of the ECB's two layouts, as published (values as of a
// day in 2025; the historical file's old columns are N/A today).
const (
	ecbDaily = "Date, USD, JPY, BGN, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, ISK, NOK, TRY, AUD, BRL, CAD, CNY, HKD, IDR, ILS, INR, KRW, MXN, MYR, NZD, PHP, SGD, THB, ZAR, \n" +
		"04 December 2025, 1.1645, 181.14, 1.9558, 24.246, 7.4689, 0.87350, 383.45, 4.2260, 5.0893, 10.9410, 0.9352, 148.20, 11.7730, 49.5403, 1.7653, 6.2064, 1.6273, 8.2350, 9.0643, 19406.38, 3.7617, 104.7425, 1710.15, 21.2138, 4.8010, 2.0244, 68.852, 1.5087, 37.153, 19.8213, \n"
	ecbHist = "Date,USD,JPY,BGN,CYP,CZK,GBP,\n" +
		"2025-12-04,1.1645,181.14,1.9558,N/A,24.246,0.87350,\n" +
		"2025-12-03,1.1630,180.92,1.9558,N/A,24.251,0.87215,\n" +
		"\n" +
		"1999-01-04,1.1789,133.73,N/A,0.58231,35.107,0.7111,\n"
)

func TestParseECB(t *testing.T) {
	t.Parallel()
	d, err := parseECB(strings.NewReader(ecbDaily))
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows != 1 || len(d.Rates) != 30 || len(d.Skipped) != 0 {
		t.Fatalf("daily: %d rows, %d rates, skipped %v; want 1, 30, none", d.Rows, len(d.Rates), d.Skipped)
	}
	if r := d.Rates[5]; *r != (popkit.FXRate{Day: "2025-12-04", Base: "EUR", Quote: "GBP", Rate: "0.87350"}) {
		t.Errorf("daily GBP rate = %+v", *r)
	}

	h, err := parseECB(strings.NewReader(ecbHist))
	if err != nil {
		t.Fatal(err)
	}
	// 3 rows; CYP skipped; BGN N/A in 1999: 5+5+4 rates.
	if h.Rows != 3 || len(h.Rates) != 14 || strings.Join(h.Skipped, ",") != "CYP" {
		t.Fatalf("hist: %d rows, %d rates, skipped %v; want 3, 14, CYP", h.Rows, len(h.Rates), h.Skipped)
	}
	if r := h.Rates[13]; *r != (popkit.FXRate{Day: "1999-01-04", Base: "EUR", Quote: "GBP", Rate: "0.7111"}) {
		t.Errorf("last hist rate = %+v", *r)
	}

	bad := []struct{ name, csv, want string }{
		{"empty", "", "empty"},
		{"no Date", "Day,USD\n", "line 1"},
		{"bad column", "Date,US Dollar\n", "line 1"},
		{"EUR column", "Date,EUR\n", "EUR"},
		{"twice", "Date,USD,USD\n", "twice"},
		{"bad day", "Date,USD\n2025-12-04,1.1\n2025-13-01,1.2\n", "line 3"},
		{"bad rate", "Date,USD,GBP\n2025-12-04,1.1,0.8\n\n2025-12-03,1.1,0,87\n", "line 4"},
		{"comma decimal", "Date,USD\n2025-12-04,\"1,1\"\n", "line 2"},
		{"negative", "Date,USD\n2025-12-04,-1.1\n", "line 2: USD"},
	}
	for _, tt := range bad {
		if _, err := parseECB(strings.NewReader(tt.csv)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func runFX(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestFXCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	if _, _, err := runFX(t, "fx", "set", "--db", missing, "--day", "2026-03-02", "--base", "EUR", "--quote", "GBP", "--rate", "0.8571"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("fx set on a missing database: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("fx set created the missing database")
	}
	dbPath := filepath.Join(dir, "popkit.db")
	if _, _, err := runFX(t, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFX(t, "fx", "set", "--db", dbPath, "--day", "2026-03-02", "--base", "EUR", "--quote", "GBP", "--rate", "0,8571"); err == nil || !strings.Contains(err.Error(), "--rate") {
		t.Errorf("a bad --rate: %v", err)
	}
	if _, _, err := runFX(t, "fx", "set", "--db", dbPath, "--day", "2026-03-02", "--base", "EUR", "--quote", "GBP", "--rate", "0.8571"); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(dir, "eurofxref-hist.csv")
	if err := os.WriteFile(hist, []byte(ecbHist), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runFX(t, "fx", "import", "--db", dbPath, hist)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "imported 14 rates of 3 days (1999-01-04 to 2025-12-04)") || !strings.Contains(errOut, "CYP") {
		t.Errorf("import said %q / %q", out, errOut)
	}
	broken := filepath.Join(dir, "broken.csv")
	if err := os.WriteFile(broken, []byte("Date,USD\n2026-01-05,1.1\n2026-01-06,N/A\n2026-01-07,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFX(t, "fx", "import", "--db", dbPath, broken); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("broken file: %v", err)
	}

	db, err := sqlstore.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rates, _, err := db.FindRates(t.Context(), popkit.FXRateFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 15 {
		t.Errorf("%d rates stored, want 15 (1 set + 14 imported, none of the broken file)", len(rates))
	}
	r, err := db.RateOn(t.Context(), "2025-12-06", "GBP", "USD")
	if err != nil || r.Day != "2025-12-04" || r.Derived != "cross:EUR" {
		t.Errorf("GBP→USD on a Saturday: %+v, %v", r, err)
	}
}
