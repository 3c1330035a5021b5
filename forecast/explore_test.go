package forecast

import (
	"fmt"
	"os"
	"testing"
)

func loadA(t *testing.T) *Retail {
	f, err := os.Open("../../shared/data/online_retail_top300_sku.csv.gz")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	d, _, err := LoadRetail(f, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	d := loadA(t)
	t.Log(d.Start, d.Days, len(d.Codes))
	var ws []Window
	for _, o := range ProtocolAOrigins {
		ws = append(ws, Window{o, 28})
	}
	cf := func(m Method) Forecaster { return Conformal{M: m, Origins: 8, Step: 7, NonNegative: true} }
	fs := []Forecaster{
		cf(SeasonalNaive{7}), cf(SES{}), cf(Croston{Alpha: 0.1, Bias: true}), cf(IMAPA{}), cf(ETSANA{Period: 7}),
		cf(DayOfWeekProfile{Period: 7, Level: 28, Weeks: 8}),
		cf(TSB{Alpha: 0.1, Beta: 0.1}),
	}
	rows := BacktestRetail(d, ws, fs, nil, nil)
	for _, r := range MeanRows(rows) {
		fmt.Printf("%-10s n=%d MASE %.3f RMSSE %.3f WRMSSE %.3f pb90 %.3f cov %.3f\n", r.Method, r.Series, r.MASE, r.RMSSE, r.WRMSSE, r.Pinball90, r.Cover90)
	}
}
