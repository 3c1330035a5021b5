package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// demoSummaryEvery is how often the demo refreshes its summary line.
const demoSummaryEvery = 5 * time.Second

// openDemoLog opens where the demo logs: path, or beside the database
// (./popkit-demo.db logs to ./popkit-demo.log) when path is empty, or
// stderr for "-". It returns the writer, a description of where it goes,
// and an error naming --log-file when the file cannot be opened.
func openDemoLog(path, dsn string, stderr io.Writer) (io.WriteCloser, string, error) {
	if path == "-" {
		return nopCloser{stderr}, "stderr", nil
	}
	if path == "" {
		path = "./popkit-demo.log"
		if !strings.Contains(dsn, "://") {
			path = strings.TrimSuffix(dsn, filepath.Ext(dsn)) + ".log"
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("--log-file: %w", err)
	}
	return f, path + ` (--log-file, "-" for stderr)`, nil
}

// nopCloser is a writer that is not closed (stderr).
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// orderExample returns a ready-to-run curl that creates a POS order at the
// first site that prices a product, with its Idempotency-Key: the same
// example README.md explains.
func orderExample(base, token string, sites []*demoSite) string {
	for _, s := range sites {
		for _, it := range s.items {
			return fmt.Sprintf(`create an order (a retry with the same Idempotency-Key replays the answer):
  curl -s -X POST '%s/api/v1/orders' \
    -H 'Authorization: Bearer %s' \
    -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $(date +%%s%%N)" \
    -d '{"event_id":"%s","channel":"pos","lines":[{"sku_id":"%s","quantity":1,"unit_price_minor":%d}],"payment":{"method":"card","amount_minor":%d}}'
`, base, token, s.event.ID, it.sku.ID, it.price, it.price)
		}
	}
	return ""
}

// demoSummary is one refresh of the live summary line.
type demoSummary struct {
	Readings       int64 // uplink records the server stored from the tills' agents
	Entries, Sales int64 // door entries and till sales since the demo started
	OpenExceptions int   // open reconciliation exceptions (100 means 100 or more)
	TillsOnline    int   // tills whose agent reached the server at its last assortment fetch
	Tills          int
}

// String formats the summary as one short line.
func (s demoSummary) String() string {
	conv := "–"
	if s.Entries > 0 {
		conv = fmt.Sprintf("%.0f%%", 100*float64(s.Sales)/float64(s.Entries))
	}
	exc := fmt.Sprint(s.OpenExceptions)
	if s.OpenExceptions >= 100 {
		exc = "100+"
	}
	return fmt.Sprintf("readings stored %d · visitors %d · till sales %d (conversion %s) · open exceptions %s · tills online %d/%d",
		s.Readings, s.Entries, s.Sales, conv, exc, s.TillsOnline, s.Tills)
}

// runDemoSummary writes the summary line to out every period until ctx
// ends: on a terminal it rewrites one line in place (so the URLs and the
// token above it stay in view), elsewhere it appends a line.
func runDemoSummary(ctx context.Context, m *Main, tills []demoTill, counts *demoCounts, out io.Writer, period time.Duration) {
	inPlace := false
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			inPlace = true
		}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if inPlace {
				fmt.Fprintln(out)
			}
			return
		case <-t.C:
		}
		s := collectSummary(ctx, m, tills, counts, client)
		line := time.Now().Format("15:04:05") + "  " + s.String()
		if inPlace {
			fmt.Fprintf(out, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(out, line)
		}
	}
}

// collectSummary reads the figures of the summary line.
func collectSummary(ctx context.Context, m *Main, tills []demoTill, counts *demoCounts, client *http.Client) demoSummary {
	s := demoSummary{Entries: counts.entries.Load(), Sales: counts.sales.Load(), Tills: len(tills)}
	for _, t := range tills {
		if st, err := m.DB.FindDeviceStatus(ctx, t.site.device.ID); err == nil {
			s.Readings += st.RecordsStored
		}
		if u := t.url(); u != "" && tillOnline(ctx, client, u) {
			s.TillsOnline++
		}
	}
	if exc, _, err := m.DB.FindExceptions(ctx, popkit.ExceptionFilter{Status: popkit.ExceptionOpen, Page: popkit.Page{Limit: 100}}); err == nil {
		s.OpenExceptions = len(exc)
	}
	return s
}

// tillOnline reports whether the till at base answers and its last
// assortment fetch reached the server.
func tillOnline(ctx context.Context, client *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/pos/api/items", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v struct {
		Online bool `json:"online"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&v) == nil && v.Online
}
