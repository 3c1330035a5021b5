// Command gencatalog derives the demo catalogue fixture sim/catalog.csv from
// the UCI "Online Retail" top-300 SKU extract.
//
// For each StockCode it keeps the most common Description (whitespace
// collapsed; ties go to the alphabetically first), the lower median
// UnitPrice in pence and the number of lines, counting only sale lines:
// InvoiceNo not starting with "C", Quantity > 0 and UnitPrice > 0. Rows are
// written in StockCode order, so the output is stable.
//
// Run it from the module root:
//
//	go run ./sim/internal/gencatalog -in ../shared/data/online_retail_top300_sku.csv.gz -out sim/catalog.csv
package main

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// header is written above the rows as CSV comments.
const header = `# Derived from UCI Machine Learning Repository "Online Retail" (id 352),
# donated by Daqing Chen, London South Bank University; licence CC BY 4.0.
# D. Chen, S. L. Sain, K. Guo, "Data mining for the online retail industry: a case
# study of RFM model-based customer segmentation using data mining", Journal of
# Database Marketing and Customer Strategy Management 19(3), 197-208, 2012.
# doi:10.1057/dbm.2012.17
# Per StockCode over sale lines (InvoiceNo not C..., Quantity > 0, UnitPrice > 0):
# most common Description, lower median UnitPrice in pence (GBP), line count.
# See sim/CATALOG.md. Regenerate from the module root with:
# go run ./sim/internal/gencatalog -in ../shared/data/online_retail_top300_sku.csv.gz -out sim/catalog.csv
`

func main() {
	in := flag.String("in", "", "path of online_retail_top300_sku.csv.gz")
	out := flag.String("out", "sim/catalog.csv", "path of the fixture to write")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "gencatalog: -in is required")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

// stock accumulates the sale lines of one StockCode.
type stock struct {
	names  map[string]int
	prices []int64 // pence
}

func run(inPath, outPath string) error {
	f, err := os.Open(inPath)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("open gzip: %w", err)
	}
	stocks, err := read(zr)
	if err != nil {
		return err
	}

	var b strings.Builder
	b.WriteString(header)
	w := csv.NewWriter(&b)
	if err := w.Write([]string{"stock_code", "description", "median_price_pence", "lines"}); err != nil {
		return err
	}
	codes := make([]string, 0, len(stocks))
	for code := range stocks {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		s := stocks[code]
		slices.Sort(s.prices)
		median := s.prices[(len(s.prices)-1)/2]
		rec := []string{code, mostCommon(s.names), strconv.FormatInt(median, 10), strconv.Itoa(len(s.prices))}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gencatalog: wrote %d stock codes to %s (%d bytes)\n", len(codes), outPath, b.Len())
	return nil
}

// read collects the sale lines of every StockCode.
func read(r io.Reader) (map[string]*stock, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, name := range head {
		col[name] = i
	}
	for _, name := range []string{"InvoiceNo", "StockCode", "Description", "Quantity", "UnitPrice"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("column %s missing", name)
		}
	}
	stocks := map[string]*stock{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if strings.HasPrefix(rec[col["InvoiceNo"]], "C") {
			continue
		}
		qty, err := strconv.Atoi(rec[col["Quantity"]])
		if err != nil {
			return nil, fmt.Errorf("quantity %q: %w", rec[col["Quantity"]], err)
		}
		price, err := strconv.ParseFloat(rec[col["UnitPrice"]], 64)
		if err != nil {
			return nil, fmt.Errorf("unit price %q: %w", rec[col["UnitPrice"]], err)
		}
		pence := int64(math.Round(price * 100))
		if qty <= 0 || price <= 0 || pence <= 0 {
			continue
		}
		code := rec[col["StockCode"]]
		s := stocks[code]
		if s == nil {
			s = &stock{names: map[string]int{}}
			stocks[code] = s
		}
		if name := strings.Join(strings.Fields(rec[col["Description"]]), " "); name != "" {
			s.names[name]++
		}
		s.prices = append(s.prices, pence)
	}
	return stocks, nil
}

// mostCommon returns the most frequent name; ties go to the alphabetically
// first.
func mostCommon(names map[string]int) string {
	best, n := "", 0
	for name, c := range names {
		if c > n || c == n && name < best {
			best, n = name, c
		}
	}
	return best
}
