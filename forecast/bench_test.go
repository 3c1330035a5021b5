package forecast

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSeries returns n daily series of 365 days: the 300 SKUs of the shared
// UCI data cycled, each cycle shifted by one more day.
func benchSeries(tb testing.TB, n int) [][]float64 {
	tb.Helper()
	f, err := os.Open("../../shared/data/online_retail_top300_sku.csv.gz")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI must have the shared data: %v", err)
		}
		tb.Skipf("no shared data (CI has it): %v", err)
	}
	defer f.Close()
	d, _, err := LoadRetail(f, LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]float64, n)
	for k := range out {
		i, off := k%len(d.Codes), (k/len(d.Codes))%(d.Days-365+1)
		out[k] = d.Qty[i][off : off+365]
	}
	return out
}

// BenchmarkAutoDaily10k fits AutoDaily to 10,000 series of 365 days and
// forecasts each 28 days ahead with quantiles, on one goroutine. Run with
// -cpu 1 for GOMAXPROCS=1.
func BenchmarkAutoDaily10k(b *testing.B) {
	ys := benchSeries(b, 10000)
	a := AutoDaily()
	var f Forecast
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, y := range ys {
			a.Forecast(y, 28, &f)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/10k")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1e4, "µs/series")
}
