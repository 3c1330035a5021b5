package plan

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// ReplayConfig sets the capsule replay on a RetailHistory. Zero fields take
// the defaults in brackets.
type ReplayConfig struct {
	// SKUs is N, the slots of both capsules [20].
	SKUs int
	// EventDays is the length of each replayed event [7]; Step the days
	// between event starts [7].
	EventDays int
	Step      int
	// HistoryDays is the planner's look-back: its demand for an event is the
	// empirical distribution of every rolling EventDays-day total that ends
	// within the HistoryDays days before it [56].
	HistoryDays int
	// BaselineDays is the baseline's look-back for revenue rank and mean
	// demand [28]; it is also the window of the reference price.
	BaselineDays int
	// CostShare is the unit cost as a share of the reference price [0.6];
	// SalvageShare an unsold unit's value as a share of its cost [0.25].
	CostShare    float64
	SalvageShare float64
	// LevelDays, when positive, rescales the planner's rolling totals to the
	// recent level: each total is multiplied by the mean daily demand of the
	// last LevelDays days over that of the whole look-back (no rescaling
	// when the look-back sold nothing) [0: off].
	LevelDays int
	// FirstDay is the day index of the first event's start [91, the
	// default look-back, so every setting replays the same events].
	FirstDay int
	// MaxEvents caps the events replayed (0: every start that fits).
	MaxEvents int
}

func (c *ReplayConfig) defaults() {
	if c.SKUs == 0 {
		c.SKUs = 20
	}
	if c.EventDays == 0 {
		c.EventDays = 7
	}
	if c.Step == 0 {
		c.Step = 7
	}
	if c.HistoryDays == 0 {
		c.HistoryDays = 56
	}
	if c.BaselineDays == 0 {
		c.BaselineDays = 28
	}
	if c.CostShare == 0 {
		c.CostShare = 0.6
	}
	if c.SalvageShare == 0 {
		c.SalvageShare = 0.25
	}
	if c.FirstDay == 0 {
		c.FirstDay = 91
	}
}

// ArmResult is one capsule sold against an event's realised demand.
type ArmResult struct {
	SKUs  int
	Units int
	// StockCost = Σ units × cost; Revenue = Σ price × sold; Sold = Σ
	// min(realised demand, units); Leftover = Σ units − sold.
	StockCost float64
	Revenue   float64
	Sold      float64
	Leftover  float64
	// Margin is the realised gross margin after leftovers: Σ price·sold −
	// cost·units + salvage·leftover, in minor units.
	Margin float64
}

// EventResult is one replayed event.
type EventResult struct {
	Start      time.Time
	Candidates int // SKUs with a sale (hence a price) in the look-back
	Baseline   ArmResult
	Planner    ArmResult
	// TopNUnits is an ablation, not a target: the baseline's N SKUs with
	// units chosen by the planner under the same budget, showing how much
	// of the gain comes from the units and how much from the choice of SKUs.
	TopNUnits ArmResult
	// PlannerExpected is the planner's expected contribution and Gap its
	// proven optimality gap, both in minor units.
	PlannerExpected float64
	Gap             float64
}

// Replay runs rolling events over the history. For an event starting on
// day e, each SKU sold in [e − BaselineDays, e) is a candidate, priced at
// the median unit price of its sale lines in that window (both arms sell
// at it), with unit cost CostShare × price and salvage SalvageShare × cost.
//
// The baseline carries the N candidates with the most net revenue in
// [e − BaselineDays, e), each stocked with its mean 7-day demand there
// (units over the window ÷ BaselineDays × EventDays, rounded). The
// planner gets the same N slots and, as its budget, the baseline's stock
// cost; its demand per SKU is Empirical over the rolling EventDays-day
// totals within [e − HistoryDays, e) (from the SKU's first sale), and it
// solves with Solve. Both capsules are then sold against the realised
// demand of [e, e + EventDays) (daily net units clipped at 0).
func Replay(h *RetailHistory, cfg ReplayConfig) ([]EventResult, error) {
	cfg.defaults()
	if cfg.SKUs < 1 || cfg.EventDays < 1 || cfg.Step < 1 || cfg.HistoryDays < cfg.EventDays || cfg.BaselineDays < 1 {
		return nil, fmt.Errorf("replay config: sizes must be positive and history at least one event long")
	}
	if cfg.CostShare <= 0 || cfg.CostShare >= 1 || cfg.SalvageShare < 0 || cfg.SalvageShare >= 1 {
		return nil, fmt.Errorf("replay config: cost share must be in (0, 1) and salvage share in [0, 1)")
	}
	firstSale := h.firstSales()
	var out []EventResult
	for e := max(cfg.FirstDay, cfg.BaselineDays); e+cfg.EventDays <= h.Days; e += cfg.Step {
		if cfg.MaxEvents > 0 && len(out) == cfg.MaxEvents {
			break
		}
		r, err := replayEvent(h, cfg, e, firstSale)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", h.Start.AddDate(0, 0, e).Format(time.DateOnly), err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("replay: the history (%d days) is too short for one event", h.Days)
	}
	return out, nil
}

// firstSales returns each code's first day with positive net units (Days
// when it has none).
func (h *RetailHistory) firstSales() map[string]int {
	first := map[string]int{}
	for _, code := range h.Codes {
		first[code] = h.Days
		for d, q := range h.Qty[code] {
			if q > 0 {
				first[code] = d
				break
			}
		}
	}
	return first
}

type replaySKU struct {
	code                 string
	price, cost, salvage int64
	revenue, meanDemand  float64
	realised             float64
}

// replaySKUs returns the event's candidates: SKUs sold in the baseline's
// look-back, with their price, cost, salvage, look-back revenue and mean
// demand, and the realised demand of the event.
func replaySKUs(h *RetailHistory, cfg ReplayConfig, e int) []replaySKU {
	var skus []replaySKU
	for _, code := range h.Codes {
		p := math.Round(h.MedianPrice(code, e-cfg.BaselineDays, e))
		if p <= 0 {
			continue
		}
		cost := max(1, int64(math.Round(cfg.CostShare*p)))
		if cost >= int64(p) {
			continue // a price of a penny or two leaves no margin to plan
		}
		rev := 0.0
		for d := e - cfg.BaselineDays; d < e; d++ {
			rev += h.Revenue[code][d]
		}
		skus = append(skus, replaySKU{
			code: code, price: int64(p), cost: cost,
			salvage:    int64(math.Floor(cfg.SalvageShare * float64(cost))),
			revenue:    rev,
			meanDemand: h.demand(code, e-cfg.BaselineDays, e) / float64(cfg.BaselineDays) * float64(cfg.EventDays),
			realised:   h.demand(code, e, e+cfg.EventDays),
		})
	}
	return skus
}

func replayEvent(h *RetailHistory, cfg ReplayConfig, e int, firstSale map[string]int) (EventResult, error) {
	res := EventResult{Start: h.Start.AddDate(0, 0, e)}
	skus := replaySKUs(h, cfg, e)
	res.Candidates = len(skus)
	sell := func(arm *ArmResult, s replaySKU, q int) {
		sold := math.Min(s.realised, float64(q))
		arm.SKUs++
		arm.Units += q
		arm.StockCost += float64(int64(q) * s.cost)
		arm.Revenue += float64(s.price) * sold
		arm.Sold += sold
		arm.Leftover += float64(q) - sold
		arm.Margin += float64(s.price)*sold - float64(int64(q)*s.cost) + float64(s.salvage)*(float64(q)-sold)
	}
	// Baseline: top N by revenue, stocked at mean demand.
	byRev := append([]replaySKU(nil), skus...)
	sort.SliceStable(byRev, func(i, j int) bool { return byRev[i].revenue > byRev[j].revenue })
	var budget int64
	for _, s := range byRev[:min(cfg.SKUs, len(byRev))] {
		q := int(math.Round(s.meanDemand))
		budget += int64(q) * s.cost
		sell(&res.Baseline, s, q)
	}
	// Planner.
	cands, kept, err := plannerCandidates(h, cfg, e, skus, firstSale, 0)
	if err != nil {
		return res, err
	}
	p, err := Solve(cands, Constraints{TotalSlots: cfg.SKUs, Budget: budget})
	if err != nil {
		return res, err
	}
	for i, l := range p.Lines {
		if l.In {
			sell(&res.Planner, kept[i], l.Units)
		}
	}
	res.PlannerExpected, res.Gap = p.ExpectedContribution, p.Gap
	// Ablation: the baseline's SKUs, units chosen by the planner.
	top := map[string]bool{}
	for _, s := range byRev[:min(cfg.SKUs, len(byRev))] {
		top[s.code] = true
	}
	var topCands []Candidate
	var topKept []replaySKU
	for i, k := range cands {
		if top[k.SKU] {
			topCands = append(topCands, k)
			topKept = append(topKept, kept[i])
		}
	}
	p, err = Solve(topCands, Constraints{TotalSlots: cfg.SKUs, Budget: budget})
	if err != nil {
		return res, err
	}
	for i, l := range p.Lines {
		if l.In {
			sell(&res.TopNUnits, topKept[i], l.Units)
		}
	}
	return res, nil
}

// plannerCandidates builds the planner's candidates for an event starting
// on day e: demand from the rolling totals of the look-back and, when band
// is positive, an allowed price range of reference × (1 ± band) with the
// price response estimated from the SKU's daily prices over every day
// before e (EstimateResponse; the prior where the history is too thin).
// With band 0 the price is fixed at the reference.
func plannerCandidates(h *RetailHistory, cfg ReplayConfig, e int, skus []replaySKU, firstSale map[string]int, band float64) ([]Candidate, []replaySKU, error) {
	var cands []Candidate
	var kept []replaySKU
	for _, s := range skus {
		from := max(e-cfg.HistoryDays, firstSale[s.code])
		var totals []float64
		for d := from; d+cfg.EventDays <= e; d++ {
			totals = append(totals, h.demand(s.code, d, d+cfg.EventDays))
		}
		if len(totals) == 0 {
			continue
		}
		if cfg.LevelDays > 0 {
			all := h.demand(s.code, from, e) / float64(e-from)
			recent := h.demand(s.code, max(from, e-cfg.LevelDays), e) / float64(e-max(from, e-cfg.LevelDays))
			if all > 0 {
				for i := range totals {
					totals[i] *= recent / all
				}
			}
		}
		d, err := Empirical(totals)
		if err != nil {
			return nil, nil, fmt.Errorf("sku %s: %w", s.code, err)
		}
		k := Candidate{
			SKU: s.code, Brand: "retail", UnitCost: s.cost, Salvage: s.salvage, RefPrice: s.price,
			Demand: d, Response: Prior("replay sells at the reference price"),
		}
		if band > 0 {
			k.MinPrice = int64(math.Round(float64(s.price) * (1 - band)))
			k.MaxPrice = int64(math.Round(float64(s.price) * (1 + band)))
			k.Response = EstimateResponse(h.PricePoints(s.code, 0, e))
		}
		cands = append(cands, k)
		kept = append(kept, s)
	}
	return cands, kept, nil
}

// PlanEvent plans, with the replay's candidates and demand, the capsule for
// the event starting on start, with prices free within reference × (1 ±
// band) and the given constraints (their TotalSlots and Budget default to
// cfg.SKUs and the top-N baseline's stock cost). It shows the planner's
// explanations and price responses on real data; the replay itself sells
// at the reference price because the history cannot say what would have
// sold at another.
func PlanEvent(h *RetailHistory, cfg ReplayConfig, start time.Time, band float64, c Constraints) (*Plan, error) {
	cfg.defaults()
	e := h.Day(start)
	if e < cfg.BaselineDays || e >= h.Days {
		return nil, fmt.Errorf("start: %s is not %d days into the history", start.Format(time.DateOnly), cfg.BaselineDays)
	}
	firstSale := h.firstSales()
	skus := replaySKUs(h, cfg, e)
	if c.TotalSlots == 0 {
		c.TotalSlots = cfg.SKUs
	}
	if c.Budget == 0 {
		byRev := append([]replaySKU(nil), skus...)
		sort.SliceStable(byRev, func(i, j int) bool { return byRev[i].revenue > byRev[j].revenue })
		for _, s := range byRev[:min(cfg.SKUs, len(byRev))] {
			c.Budget += int64(math.Round(s.meanDemand)) * s.cost
		}
	}
	cands, _, err := plannerCandidates(h, cfg, e, skus, firstSale, band)
	if err != nil {
		return nil, err
	}
	return Solve(cands, c)
}

// ReplaySummary averages a replay's events.
type ReplaySummary struct {
	Events int
	// Mean per event of each arm's realised margin and stock cost.
	BaselineMargin, PlannerMargin       float64
	TopNUnitsMargin                     float64
	BaselineStockCost, PlannerStockCost float64
	// Uplift = (PlannerMargin − BaselineMargin) / |BaselineMargin| (the
	// target is ≥ 0.10); the absolute value keeps the sign right when the
	// baseline loses money.
	Uplift float64
	// Wins counts events where the planner's margin beat the baseline's.
	Wins int
	// UpliftLow and UpliftHigh are the 2.5% and 97.5% points of Uplift over
	// 2,000 bootstrap resamples of the events (seeded, reproducible).
	UpliftLow, UpliftHigh float64
}

// Summarise averages the events and bootstraps the uplift's interval.
func Summarise(rs []EventResult) ReplaySummary {
	s := ReplaySummary{Events: len(rs)}
	if len(rs) == 0 {
		return s
	}
	mean := func(idx []int) (bm, pm float64) {
		for _, i := range idx {
			bm += rs[i].Baseline.Margin
			pm += rs[i].Planner.Margin
		}
		return bm / float64(len(idx)), pm / float64(len(idx))
	}
	all := make([]int, len(rs))
	for i, r := range rs {
		all[i] = i
		s.BaselineStockCost += r.Baseline.StockCost / float64(len(rs))
		s.PlannerStockCost += r.Planner.StockCost / float64(len(rs))
		s.TopNUnitsMargin += r.TopNUnits.Margin / float64(len(rs))
		if r.Planner.Margin > r.Baseline.Margin {
			s.Wins++
		}
	}
	s.BaselineMargin, s.PlannerMargin = mean(all)
	s.Uplift = uplift(s.BaselineMargin, s.PlannerMargin)
	// Bootstrap with a fixed linear congruential stream, so the interval is
	// the same on every run.
	var ups []float64
	x := uint64(1)
	idx := make([]int, len(rs))
	for range 2000 {
		for j := range idx {
			x = x*6364136223846793005 + 1442695040888963407
			idx[j] = int((x >> 33) % uint64(len(rs)))
		}
		bm, pm := mean(idx)
		ups = append(ups, uplift(bm, pm))
	}
	sort.Float64s(ups)
	s.UpliftLow, s.UpliftHigh = ups[50], ups[1949]
	return s
}

func uplift(base, plan float64) float64 {
	return (plan - base) / math.Abs(base)
}
