package forecast

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RowError describes one malformed input row: its 1-based line number in the
// (decompressed) file, the column at fault and what is wrong with it.
type RowError struct {
	Line   int
	Column string
	Msg    string
}

// Error returns "line N: column: message".
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Msg)
}

// LoadOptions controls how the loaders treat malformed rows.
type LoadOptions struct {
	// SkipBadRows makes a loader record a malformed row in Skipped and go on
	// instead of stopping at it.
	SkipBadRows bool
	// MaxSkipped bounds Skipped; rows past it are counted but not kept. Zero
	// means 1000.
	MaxSkipped int
}

// LoadReport says what a loader read.
type LoadReport struct {
	Rows        int
	Skipped     []*RowError
	SkippedRows int
}

func (o LoadOptions) skip(rep *LoadReport, err *RowError) error {
	if !o.SkipBadRows {
		return err
	}
	rep.SkippedRows++
	limit := o.MaxSkipped
	if limit == 0 {
		limit = 1000
	}
	if len(rep.Skipped) < limit {
		rep.Skipped = append(rep.Skipped, err)
	}
	return nil
}

// Decompress returns a reader of r's content, transparently un-gzipping it
// when it starts with the gzip magic bytes.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// Retail is daily demand per SKU built from invoice lines in the UCI Online
// Retail layout: Qty[i][d] is the sum of Quantity of SKU Codes[i] on day
// Start+d (cancellations included, so a same-day cancel nets out), clipped
// at 0; Revenue[i][d] is the sum of Quantity×UnitPrice that day (not
// clipped). Days without lines are 0. FirstSale[i] is the first day with a
// positive Qty.
type Retail struct {
	Start     time.Time
	Days      int
	Codes     []string
	Qty       [][]float64
	Revenue   [][]float64
	FirstSale []int
}

var retailHeader = []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}

// LoadRetail reads invoice lines with the header
// InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
// (InvoiceDate as "2006-01-02 15:04:05" or the UCI original's "12/1/2010
// 8:26", local time without a zone) from r,
// plain or gzipped. A malformed row is an error naming its line, unless
// opt.SkipBadRows is set.
func LoadRetail(r io.Reader, opt LoadOptions) (*Retail, *LoadReport, error) {
	dr, err := Decompress(r)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(dr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rep := &LoadReport{}
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: header: %w", err)
	}
	if len(head) != len(retailHeader) {
		return nil, nil, fmt.Errorf("line 1: header has %d columns, want %d (%s): not the online-retail format", len(head), len(retailHeader), strings.Join(retailHeader, ","))
	}
	for i, h := range retailHeader {
		if strings.TrimPrefix(head[i], "\ufeff") != h {
			return nil, nil, fmt.Errorf("line 1: header column %d is %q, want %q: not the online-retail format", i+1, head[i], h)
		}
	}
	type agg struct{ qty, rev map[int]float64 }
	bySKU := map[string]*agg{}
	minDay, maxDay := int(^uint(0)>>1), -1<<31
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := opt.skip(rep, &RowError{Line: pe.Line, Msg: pe.Err.Error()}); e != nil {
					return nil, rep, e
				}
				continue
			}
			return nil, rep, err
		}
		if len(rec) != len(retailHeader) {
			if e := opt.skip(rep, &RowError{Line: line, Msg: fmt.Sprintf("%d columns, want %d", len(rec), len(retailHeader))}); e != nil {
				return nil, rep, e
			}
			continue
		}
		code := strings.TrimSpace(rec[1])
		if code == "" {
			if e := opt.skip(rep, &RowError{Line: line, Column: "StockCode", Msg: "empty"}); e != nil {
				return nil, rep, e
			}
			continue
		}
		q, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			if e := opt.skip(rep, &RowError{Line: line, Column: "Quantity", Msg: fmt.Sprintf("%q is not a number", rec[3])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		t, ok := parseInvoiceDate(rec[4])
		if !ok {
			if e := opt.skip(rep, &RowError{Line: line, Column: "InvoiceDate", Msg: fmt.Sprintf("%q is not YYYY-MM-DD hh:mm[:ss] or M/D/YYYY h:mm", rec[4])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		p, err := strconv.ParseFloat(rec[5], 64)
		if err != nil {
			if e := opt.skip(rep, &RowError{Line: line, Column: "UnitPrice", Msg: fmt.Sprintf("%q is not a number", rec[5])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		rep.Rows++
		day := int(t.Unix() / 86400)
		minDay = min(minDay, day)
		maxDay = max(maxDay, day)
		a := bySKU[code]
		if a == nil {
			a = &agg{qty: map[int]float64{}, rev: map[int]float64{}}
			bySKU[strings.Clone(code)] = a
		}
		a.qty[day] += q
		a.rev[day] += q * p
	}
	if rep.Rows == 0 {
		return nil, rep, errors.New("no valid rows")
	}
	out := &Retail{Start: time.Unix(int64(minDay)*86400, 0).UTC(), Days: maxDay - minDay + 1}
	for c := range bySKU {
		out.Codes = append(out.Codes, c)
	}
	sort.Strings(out.Codes)
	for _, c := range out.Codes {
		a := bySKU[c]
		qty := make([]float64, out.Days)
		rev := make([]float64, out.Days)
		for d, v := range a.qty {
			qty[d-minDay] = max(v, 0)
		}
		for d, v := range a.rev {
			rev[d-minDay] = v
		}
		first := -1
		for d, v := range qty {
			if v > 0 {
				first = d
				break
			}
		}
		out.Qty = append(out.Qty, qty)
		out.Revenue = append(out.Revenue, rev)
		out.FirstSale = append(out.FirstSale, first)
	}
	return out, rep, nil
}

// invoiceLayouts are the InvoiceDate layouts LoadRetail accepts: ISO (the
// shared copy) and the UCI original's M/D/YYYY h:mm.
var invoiceLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "1/2/2006 15:04"}

func parseInvoiceDate(s string) (time.Time, bool) {
	for _, l := range invoiceLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Hourly is hourly counts per sensor on a local-time grid: Counts[i][k] is
// the count of sensor Names[i] in local hour k counted from 00:00 of the
// local date Start; Observed[i][k] says whether the input had that hour.
type Hourly struct {
	Start    time.Time
	Hours    int
	Names    []string
	Counts   [][]float64
	Observed [][]bool
}

var hourlyHeader = []string{"Sensor", "Date_Time", "Date", "Time", "Count"}

// LoadHourly reads hourly counts with the header
// Sensor,Date_Time,Date,Time,Count (Date as YYYY-MM-DD local date, Time the
// local hour 0-23) from r, plain or gzipped. Date_Time is not used: the local
// date and hour place each row on the grid.
func LoadHourly(r io.Reader, opt LoadOptions) (*Hourly, *LoadReport, error) {
	dr, err := Decompress(r)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(dr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rep := &LoadReport{}
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: header: %w", err)
	}
	if len(head) != len(hourlyHeader) {
		return nil, nil, fmt.Errorf("line 1: header has %d columns, want %d (%s): not the hourly-counts format", len(head), len(hourlyHeader), strings.Join(hourlyHeader, ","))
	}
	for i, h := range hourlyHeader {
		if strings.TrimPrefix(head[i], "\ufeff") != h {
			return nil, nil, fmt.Errorf("line 1: header column %d is %q, want %q: not the hourly-counts format", i+1, head[i], h)
		}
	}
	type obs struct {
		hour int
		v    float64
	}
	bySensor := map[string][]obs{}
	minH, maxH := int(^uint(0)>>1), -1<<31
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := opt.skip(rep, &RowError{Line: pe.Line, Msg: pe.Err.Error()}); e != nil {
					return nil, rep, e
				}
				continue
			}
			return nil, rep, err
		}
		if len(rec) != len(hourlyHeader) {
			if e := opt.skip(rep, &RowError{Line: line, Msg: fmt.Sprintf("%d columns, want %d", len(rec), len(hourlyHeader))}); e != nil {
				return nil, rep, e
			}
			continue
		}
		d, err := time.Parse("2006-01-02", rec[2])
		if err != nil {
			if e := opt.skip(rep, &RowError{Line: line, Column: "Date", Msg: fmt.Sprintf("%q is not YYYY-MM-DD", rec[2])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		h, err := strconv.Atoi(rec[3])
		if err != nil || h < 0 || h > 23 {
			if e := opt.skip(rep, &RowError{Line: line, Column: "Time", Msg: fmt.Sprintf("%q is not an hour 0-23", rec[3])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		c, err := strconv.ParseFloat(rec[4], 64)
		if err != nil || c < 0 {
			if e := opt.skip(rep, &RowError{Line: line, Column: "Count", Msg: fmt.Sprintf("%q is not a count", rec[4])}); e != nil {
				return nil, rep, e
			}
			continue
		}
		rep.Rows++
		k := int(d.Unix()/86400)*24 + h
		minH = min(minH, k)
		maxH = max(maxH, k)
		name := rec[0]
		if _, ok := bySensor[name]; !ok {
			name = strings.Clone(name)
		}
		bySensor[name] = append(bySensor[name], obs{k, c})
	}
	if rep.Rows == 0 {
		return nil, rep, errors.New("no valid rows")
	}
	minH -= ((minH % 24) + 24) % 24
	out := &Hourly{Start: time.Unix(int64(minH)*3600, 0).UTC(), Hours: maxH - minH + 1}
	for n := range bySensor {
		out.Names = append(out.Names, n)
	}
	sort.Strings(out.Names)
	for _, n := range out.Names {
		c := make([]float64, out.Hours)
		o := make([]bool, out.Hours)
		for _, x := range bySensor[n] {
			c[x.hour-minH] = x.v
			o[x.hour-minH] = true
		}
		out.Counts = append(out.Counts, c)
		out.Observed = append(out.Observed, o)
	}
	return out, rep, nil
}
