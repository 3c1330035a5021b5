package plan

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RetailHistory is the daily sales history of the UCI "Online Retail"
// invoice lines (InvoiceNo,StockCode,Description,Quantity,InvoiceDate,
// UnitPrice,CustomerID,Country), one series per StockCode over every
// calendar day from the first to the last invoice date.
type RetailHistory struct {
	// Start is the first calendar day (UTC midnight); day i is Start + i days.
	Start time.Time
	Days  int
	// Codes lists the StockCodes in first-seen order.
	Codes []string
	// Qty is each code's net units per day: the sum of Quantity, with
	// cancellation lines (negative) included, so a same-day cancellation
	// nets out. Callers clip at 0 where demand is meant.
	Qty map[string][]float64
	// Revenue is each code's net Σ Quantity × UnitPrice per day, in minor
	// units (pence).
	Revenue map[string][]float64
	// Lines holds each code's sale lines (Quantity > 0): day, units and unit
	// price in minor units, in source order.
	Lines map[string][]SaleLine
}

// SaleLine is one invoice line with a positive quantity.
type SaleLine struct {
	Day   int
	Qty   float64
	Price float64 // minor units
}

// maxHistory is the longest span of days a history may cover (ten years),
// so a stray date cannot make every series enormous.
const maxHistory = 3660

// ReadOnlineRetail reads the UCI Online Retail CSV (with its header). A
// malformed row is an error naming its line number and column.
func ReadOnlineRetail(r io.Reader) (*RetailHistory, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range []string{"StockCode", "Quantity", "InvoiceDate", "UnitPrice"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("line 1: header has no %s column", h)
		}
	}
	type row struct {
		code  string
		day   time.Time
		qty   float64
		price float64
	}
	var rows []row
	var first, last time.Time
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) != len(head) {
			return nil, fmt.Errorf("line %d: %d fields, header has %d", line, len(rec), len(head))
		}
		ts, err := time.Parse("2006-01-02 15:04:05", rec[col["InvoiceDate"]])
		if err != nil {
			return nil, fmt.Errorf("line %d: InvoiceDate: %q is not YYYY-MM-DD HH:MM:SS", line, rec[col["InvoiceDate"]])
		}
		q, err := strconv.ParseFloat(rec[col["Quantity"]], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: Quantity: %q is not a number", line, rec[col["Quantity"]])
		}
		p, err := strconv.ParseFloat(rec[col["UnitPrice"]], 64)
		if err != nil || p < 0 {
			return nil, fmt.Errorf("line %d: UnitPrice: %q is not a non-negative number", line, rec[col["UnitPrice"]])
		}
		day := time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC)
		if first.IsZero() || day.Before(first) {
			first = day
		}
		if day.After(last) {
			last = day
		}
		if last.Sub(first) > maxHistory*24*time.Hour {
			return nil, fmt.Errorf("line %d: InvoiceDate: the dates so far span more than %d days", line, maxHistory)
		}
		rows = append(rows, row{rec[col["StockCode"]], day, q, math.Round(p * 100)})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("line 2: no invoice lines")
	}
	h := &RetailHistory{
		Start: first, Days: int(last.Sub(first).Hours()/24) + 1,
		Qty: map[string][]float64{}, Revenue: map[string][]float64{}, Lines: map[string][]SaleLine{},
	}
	for _, r := range rows {
		if _, ok := h.Qty[r.code]; !ok {
			h.Codes = append(h.Codes, r.code)
			h.Qty[r.code] = make([]float64, h.Days)
			h.Revenue[r.code] = make([]float64, h.Days)
		}
		d := int(r.day.Sub(first).Hours() / 24)
		h.Qty[r.code][d] += r.qty
		h.Revenue[r.code][d] += r.qty * r.price
		if r.qty > 0 && r.price > 0 {
			h.Lines[r.code] = append(h.Lines[r.code], SaleLine{d, r.qty, r.price})
		}
	}
	return h, nil
}

// Day returns the index of the calendar day t (UTC date) in the history.
func (h *RetailHistory) Day(t time.Time) int {
	return int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Sub(h.Start).Hours() / 24)
}

// demand returns the code's units over days [from, to), each day clipped
// at 0.
func (h *RetailHistory) demand(code string, from, to int) float64 {
	s := 0.0
	q := h.Qty[code]
	for d := max(0, from); d < min(to, h.Days); d++ {
		s += math.Max(0, q[d])
	}
	return s
}

// MedianPrice returns the median unit price (minor units) of the code's
// sale lines on days [from, to), or 0 when it has none.
func (h *RetailHistory) MedianPrice(code string, from, to int) float64 {
	var ps []float64
	for _, l := range h.Lines[code] {
		if l.Day >= from && l.Day < to {
			ps = append(ps, l.Price)
		}
	}
	if len(ps) == 0 {
		return 0
	}
	sort.Float64s(ps)
	if n := len(ps); n%2 == 1 {
		return ps[n/2]
	} else {
		return (ps[n/2-1] + ps[n/2]) / 2
	}
}

// PricePoints returns one point per day in [from, to) with sales of the
// code: the day's units and their quantity-weighted mean unit price. They
// feed EstimateResponse.
func (h *RetailHistory) PricePoints(code string, from, to int) []PricePoint {
	type acc struct{ q, pq float64 }
	days := map[int]*acc{}
	var order []int
	for _, l := range h.Lines[code] {
		if l.Day < from || l.Day >= to {
			continue
		}
		a := days[l.Day]
		if a == nil {
			a = &acc{}
			days[l.Day] = a
			order = append(order, l.Day)
		}
		a.q += l.Qty
		a.pq += l.Qty * l.Price
	}
	pts := make([]PricePoint, 0, len(order))
	for _, d := range order {
		a := days[d]
		pts = append(pts, PricePoint{Price: a.pq / a.q, Quantity: a.q})
	}
	return pts
}
