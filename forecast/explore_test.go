package forecast

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	f, _ := os.Open("../../shared/data/online_retail_top300_sku.csv.gz")
	d, _, _ := LoadRetail(f, LoadOptions{})
	var ws []Window
	for _, o := range ProtocolAOrigins {
		ws = append(ws, Window{o, 28})
	}
	var vs []Window
	for k := 0; k < 6; k++ {
		vs = append(vs, Window{date(2011, 7, 22).AddDate(0, 0, -28*k), 28})
	}
	a := AutoDaily()
	fs := DailyMethods()
	for _, o := range []int{6, 10, 12} {
		b := a
		b.Origins = o
		b.Label = fmt.Sprint("o", o)
		fs = append(fs, b)
	}
	b := a
	b.Refit = true
	b.Label = "refit"
	fs = append(fs, b)
	for _, r := range MeanRows(BacktestRetail(d, vs, fs, nil, nil)) {
		fmt.Printf("valid %-22s n=%d MASE %.3f RMSSE %.3f WRMSSE %.3f pb90 %.4f cov %.4f\n", r.Method, r.Series, r.MASE, r.RMSSE, r.WRMSSE, r.Pinball90, r.Cover90)
	}
	for _, r := range MeanRows(BacktestRetail(d, ws, fs, nil, nil)) {
		fmt.Printf("%-22s n=%d MASE %.3f RMSSE %.3f WRMSSE %.3f pb90 %.4f cov %.4f\n", r.Method, r.Series, r.MASE, r.RMSSE, r.WRMSSE, r.Pinball90, r.Cover90)
	}
	g, _ := os.Open("../../shared/data/melbourne_pedestrian_hourly_2015_2016.csv")
	hd, _, _ := LoadHourly(g, LoadOptions{})
	ws = nil
	for _, o := range ProtocolBOrigins() {
		ws = append(ws, Window{o, 168})
	}
	for _, r := range MeanRows(BacktestHourly(hd, ws, HourlyMethods(), nil, nil)) {
		fmt.Printf("%-22s n=%d MASE %.3f MAPE %.1f pb90 %.4f cov %.4f\n", r.Method, r.Series, r.MASE, r.MAPE, r.Pinball90, r.Cover90)
	}
}
