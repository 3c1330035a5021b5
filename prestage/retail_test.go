package prestage

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popkit/popkit/forecast"
)

// TestReplayUCI replays the pre-stage plan against realised UCI demand over
// the 112 days of Protocol A's windows (2011-08-20 .. 2011-12-09, weekly
// review) and checks issue 14's target: the fill rate of the best baseline
// with at least 15% fewer leftover units. Run with -v for the table.
func TestReplayUCI(t *testing.T) {
	f, err := os.Open("../../shared/data/online_retail_top300_sku.csv.gz")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must have the shared data: %v", err)
		}
		t.Skipf("no shared data (CI has it): %v", err)
	}
	defer f.Close()
	d, _, err := forecast.LoadRetail(f, forecast.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2011, 8, 20, 0, 0, 0, 0, time.UTC)
	const days, review = 112, 7
	ratio, err := DefaultEconomics(1).CriticalRatio()
	if err != nil {
		t.Fatal(err)
	}
	auto := &memo{f: forecast.AutoDaily(), m: map[memoKey]*forecast.Forecast{}}
	plan := ReplayRetail(d, start, days, review, Newsvendor{Forecaster: auto, Ratio: ratio})
	sn := ReplayRetail(d, start, days, review, SeasonalNaiveStock{})
	ms := ReplayRetail(d, start, days, review, MeanSafetyStock{Safety: 1})
	kSN, snM := MatchFillRate(d, start, days, review, func(k float64) Policy { return SeasonalNaiveStock{Factor: k} }, plan.FillRate(), 0.5, 6, 14)
	kMS, msM := MatchFillRate(d, start, days, review, func(k float64) Policy { return MeanSafetyStock{Safety: k} }, plan.FillRate(), -1, 6, 14)

	nv := func(k float64) Policy { return Newsvendor{Forecaster: auto, Ratio: k} }
	rMS, planMS := MatchFillRate(d, start, days, review, nv, ms.FillRate(), 0.3, 0.95, 8)
	rSN, planSN := MatchFillRate(d, start, days, review, nv, sn.FillRate(), 0.3, 0.95, 8)

	var b strings.Builder
	row := func(name string, o Outcome) {
		fmt.Fprintf(&b, "| %s | %.3f | %.0f | %.0f | %.0f |\n", name, o.FillRate(), o.Leftover, o.Staged, o.Demand)
	}
	b.WriteString("| policy | fill rate | leftover unit-days | staged | demand |\n|---|---|---|---|---|\n")
	row(fmt.Sprintf("newsvendor q%.2f of auto", ratio), plan)
	row("seasonal naive", sn)
	row("28-day mean + 1 sd", ms)
	row(fmt.Sprintf("seasonal naive × %.2f (fill matched)", kSN), snM)
	row(fmt.Sprintf("28-day mean + %.2f sd (fill matched)", kMS), msM)
	row(fmt.Sprintf("newsvendor q%.2f of auto (fill of seasonal naive)", rSN), planSN)
	row(fmt.Sprintf("newsvendor q%.2f of auto (fill of 28-day mean + 1 sd)", rMS), planMS)
	t.Log("\n" + b.String())
	for _, c := range []struct {
		name       string
		base, plan Outcome
	}{{"seasonal naive", sn, planSN}, {"28-day mean + 1 sd", ms, planMS}} {
		if c.plan.FillRate() < c.base.FillRate() || c.plan.Leftover > 0.85*c.base.Leftover {
			t.Errorf("at the fill rate of %s (%.3f) the plan has fill %.3f and leftover %.0f, want at most 85%% of %.0f",
				c.name, c.base.FillRate(), c.plan.FillRate(), c.plan.Leftover, c.base.Leftover)
		}
	}

	best := min(snM.Leftover, msM.Leftover)
	if plan.Leftover > 0.85*best {
		t.Errorf("plan leftover %.0f is not 15%% below the best fill-matched baseline's %.0f", plan.Leftover, best)
	}
	for _, o := range []Outcome{sn, ms} {
		if o.FillRate() > plan.FillRate() && o.Leftover <= plan.Leftover {
			t.Errorf("a default baseline dominates the plan: fill %.3f leftover %.0f", o.FillRate(), o.Leftover)
		}
	}
}

// memo remembers the forecasts of f by history, so that replays that differ
// only in the critical ratio forecast each SKU-week once.
type memo struct {
	f  forecast.Forecaster
	mu sync.Mutex
	m  map[memoKey]*forecast.Forecast
}

type memoKey struct {
	first *float64
	n, h  int
}

func (m *memo) Name() string { return m.f.Name() }

func (m *memo) Forecast(y []float64, h int, f *forecast.Forecast) {
	k := memoKey{&y[0], len(y), h}
	m.mu.Lock()
	c, ok := m.m[k]
	m.mu.Unlock()
	if !ok {
		c = new(forecast.Forecast)
		m.f.Forecast(y, h, c)
		m.mu.Lock()
		m.m[k] = c
		m.mu.Unlock()
	}
	f.Reset(h)
	f.Method = c.Method
	copy(f.Point, c.Point)
	for i := range f.Q {
		copy(f.Q[i], c.Q[i])
	}
}
