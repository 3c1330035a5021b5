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
	g, _ := os.Open("../../shared/data/melbourne_pedestrian_hourly_2015_2016.csv")
	hd, _, _ := LoadHourly(g, LoadOptions{})
	var ws, vs []Window
	for _, o := range ProtocolBOrigins() {
		ws = append(ws, Window{o, 168})
		for k := 1; k <= 5; k++ {
			vs = append(vs, Window{o.AddDate(0, 0, -7*8*k), 168})
		}
	}
	var fs []Forecaster
	for _, sp := range []Spread{SpreadSqrt, SpreadLinear} {
		for _, o := range []int{4, 8, 16} {
			a := AutoHourly()
			a.Spread, a.Origins = sp, o
			a.Label = fmt.Sprint(sp, "-", o)
			fs = append(fs, a)
		}
	}
	for _, r := range MeanRows(BacktestHourly(hd, vs, fs, nil, nil)) {
		fmt.Printf("valid %-22s n=%d MASE %.3f MAPE %.1f pb90 %.4f cov %.4f\n", r.Method, r.Series, r.MASE, r.MAPE, r.Pinball90, r.Cover90)
	}
	for _, r := range MeanRows(BacktestHourly(hd, ws, fs, nil, nil)) {
		fmt.Printf("%-22s n=%d MASE %.3f MAPE %.1f pb90 %.4f cov %.4f\n", r.Method, r.Series, r.MASE, r.MAPE, r.Pinball90, r.Cover90)
	}
}
