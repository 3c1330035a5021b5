package forecast

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

const retailFixture = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1,A,thing,6,2010-12-01 08:26:00,2.50,17850.0,United Kingdom
2,A,thing,4,12/1/2010 9:00,2.00,,United Kingdom
C3,A,thing,-3,2010-12-01 10:00:00,2.50,17850.0,United Kingdom
4,B,other,2,2010-12-03 10:00:00,1.00,17850.0,France
C5,B,other,-5,2010-12-02 10:00:00,1.00,17850.0,France
`

func TestLoadRetailAggregatesDays(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		in := []byte(retailFixture)
		if gz {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(in)
			w.Close()
			in = b.Bytes()
		}
		d, rep, err := LoadRetail(bytes.NewReader(in), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 5 || d.Days != 3 || len(d.Codes) != 2 {
			t.Fatalf("gz=%v rows %d days %d codes %v", gz, rep.Rows, d.Days, d.Codes)
		}
		// A: 6+4−3 on day 0; B: −5 (clipped to 0) on day 1, 2 on day 2.
		if a := d.Qty[0]; a[0] != 7 || a[1] != 0 || a[2] != 0 {
			t.Fatalf("A %v", a)
		}
		if b := d.Qty[1]; b[0] != 0 || b[1] != 0 || b[2] != 2 || d.FirstSale[1] != 2 {
			t.Fatalf("B %v first %d", b, d.FirstSale[1])
		}
		// revenue 15 + 8 − 7.5
		if !near(d.Revenue[0][0], 15.5) {
			t.Fatalf("revenue %v", d.Revenue[0])
		}
	}
}

func TestLoadRetailBadRows(t *testing.T) {
	t.Parallel()
	bad := retailFixture + "6,A,thing,lots,2010-12-01 08:26:00,2.50,,UK\n7,A,thing,1,2010-12-01 08:26:00,2.50,,UK\n8,A,short\n"
	_, _, err := LoadRetail(strings.NewReader(bad), LoadOptions{})
	var re *RowError
	if !errors.As(err, &re) || re.Line != 7 || re.Column != "Quantity" {
		t.Fatalf("got %v, want line 7 Quantity", err)
	}
	d, rep, err := LoadRetail(strings.NewReader(bad), LoadOptions{SkipBadRows: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.SkippedRows != 2 || rep.Skipped[0].Line != 7 || rep.Skipped[1].Line != 9 {
		t.Fatalf("rows %d skipped %d %v", rep.Rows, rep.SkippedRows, rep.Skipped)
	}
	if d.Qty[0][0] != 8 {
		t.Fatalf("the good row after the bad one was lost: %v", d.Qty[0])
	}
	if _, _, err := LoadRetail(strings.NewReader("Sensor,Date_Time,Date,Time,Count\n"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "online-retail") {
		t.Fatalf("wrong format: %v", err)
	}
}

func TestLoadHourlyGridAndFill(t *testing.T) {
	t.Parallel()
	in := "Sensor,Date_Time,Date,Time,Count\n" +
		"S,2015-01-01T00:00:00+11:00,2015-01-01,0,5\n" +
		"S,2015-01-01T02:00:00+11:00,2015-01-01,2,7\n" +
		"T,2015-01-02T01:00:00+11:00,2015-01-02,1,3\n" +
		"T,x,2015-01-02,25,3\n"
	_, _, err := LoadHourly(strings.NewReader(in), LoadOptions{})
	var re *RowError
	if !errors.As(err, &re) || re.Line != 5 || re.Column != "Time" {
		t.Fatalf("got %v, want line 5 Time", err)
	}
	d, _, err := LoadHourly(strings.NewReader(in), LoadOptions{SkipBadRows: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Hours != 26 || d.Names[0] != "S" || d.Counts[0][2] != 7 || d.Observed[0][1] || !d.Observed[1][25] {
		t.Fatalf("%+v", d)
	}
	y := FillWeekly([]float64{1, 2, 0, 4, 0}, []bool{true, true, false, true, false}, 2)
	// hour 2 from hour 0, hour 4 from filled hour 2
	if want := []float64{1, 2, 1, 4, 1}; !equal(y, want) {
		t.Fatalf("fill %v, want %v", y, want)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}
