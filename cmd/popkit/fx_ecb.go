package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// ECB reference rates come as CSV: a header "Date, USD, JPY, …" and one
// row per day with the units of each currency per 1 EUR, "N/A" (or
// nothing) where there is no rate. The daily file (eurofxref.csv) writes
// the day as "04 December 2026" and pads cells with a space; the
// historical file (eurofxref-hist.csv) writes 2026-12-04. Both end rows
// with a comma, which leaves an empty last column.

// ecbImport is what parseECB read from a file.
type ecbImport struct {
	Rates []*popkit.FXRate
	// Skipped lists the header's currencies that are not in circulation
	// (CYP, SIT, … in the historical file); their columns are left out.
	Skipped []string
	Rows    int
}

// ecbDayLayouts are the ways the files write a day.
var ecbDayLayouts = []string{popkit.DayLayout, "02 January 2006", "2 January 2006"}

// parseECB reads an ECB reference-rate CSV. Every rate is checked before
// any is returned; the error of a bad row names its line (1-based).
func parseECB(r io.Reader) (*ecbImport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out ecbImport
	var cols []string // currency of each column after Date; "" to skip
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		cells := strings.Split(text, ",")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) > 1 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if cols == nil {
			if !strings.EqualFold(cells[0], "Date") || len(cells) < 2 {
				return nil, fmt.Errorf("line %d: the header must start with Date and name at least one currency", line)
			}
			seen := map[string]bool{}
			for _, c := range cells[1:] {
				switch {
				case len(c) != 3 || strings.ToUpper(c) != c:
					return nil, fmt.Errorf("line %d: column %q is not an ISO 4217 currency code", line, c)
				case seen[c]:
					return nil, fmt.Errorf("line %d: currency %s is named twice", line, c)
				case c == "EUR":
					return nil, fmt.Errorf("line %d: EUR is the base of the file, not a column", line)
				}
				seen[c] = true
				if !popkit.ValidCurrency(c) {
					out.Skipped = append(out.Skipped, c)
					c = ""
				}
				cols = append(cols, c)
			}
			continue
		}
		if len(cells) != len(cols)+1 {
			return nil, fmt.Errorf("line %d: %d columns, the header has %d", line, len(cells), len(cols)+1)
		}
		day, ok := ecbDay(cells[0])
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not a day (2026-12-04 or 04 December 2026)", line, cells[0])
		}
		out.Rows++
		for i, v := range cells[1:] {
			if cols[i] == "" || v == "" || v == "N/A" {
				continue
			}
			r := &popkit.FXRate{Day: day, Base: "EUR", Quote: cols[i], Rate: v}
			if err := r.Validate(); err != nil {
				return nil, fmt.Errorf("line %d: %s: rate %q is not a positive decimal", line, cols[i], v)
			}
			out.Rates = append(out.Rates, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if cols == nil {
		return nil, fmt.Errorf("the file is empty: want a header line starting with Date")
	}
	return &out, nil
}

func ecbDay(s string) (string, bool) {
	for _, l := range ecbDayLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(popkit.DayLayout), true
		}
	}
	return "", false
}
