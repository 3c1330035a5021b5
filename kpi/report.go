package kpi

import (
	"sort"
	"time"

	"github.com/popkit/popkit"
)

// Event is what a report needs of one event in scope.
type Event struct {
	ID       string
	Name     string
	CityID   string
	CityName string
	Currency string
	Loc      *time.Location
	Sessions []Span // uncancelled sessions, UTC
	Costs    popkit.Costs
	// HideCosts leaves fixed costs and contribution out (a brand's view:
	// it sees its own sales, not the event's costs).
	HideCosts bool
}

// openHours returns the event's open hours over all its sessions.
func (e *Event) openHours() float64 {
	var d time.Duration
	for _, s := range e.Sessions {
		d += s.End.Sub(s.Start)
	}
	return d.Hours()
}

// Hour is the facts of one event in one whole UTC hour (Hour = Unix
// seconds ÷ 3600), or in the whole range when Hour is negative.
type Hour struct {
	EventID string
	Hour    int64

	Footfall, Visitors         int64
	QueueSamples, QueueOverMin int64
	QueueP95WSum               float64
	Repeat, SuppressedMin      int64
	DwellStays, LittleMin      int64
	DwellWSum, LittleSum, KWh  float64

	Transactions, POSRevenue, POSCOGS int64
	Revenue, Refunds, COGS            int64
	FulfilmentCost                    int64
}

func (h *Hour) add(o *Hour) {
	h.Footfall += o.Footfall
	h.Visitors += o.Visitors
	h.QueueSamples += o.QueueSamples
	h.QueueOverMin += o.QueueOverMin
	h.QueueP95WSum += o.QueueP95WSum
	h.Repeat += o.Repeat
	h.SuppressedMin += o.SuppressedMin
	h.DwellStays += o.DwellStays
	h.LittleMin += o.LittleMin
	h.DwellWSum += o.DwellWSum
	h.LittleSum += o.LittleSum
	h.KWh += o.KWh
	h.Transactions += o.Transactions
	h.POSRevenue += o.POSRevenue
	h.POSCOGS += o.POSCOGS
	h.Revenue += o.Revenue
	h.Refunds += o.Refunds
	h.COGS += o.COGS
	h.FulfilmentCost += o.FulfilmentCost
}

// SameDayOrder is one order asked for same day, placed in the range.
type SameDayOrder struct {
	EventID    string
	PlacedAt   time.Time
	Cancelled  bool       // the customer cancelled it
	Rerouted   bool       // routing sent it to next day
	DoneAt     *time.Time // last delivered or picked_up, when every fulfilment order got there
	Incomplete bool       // some fulfilment order never got there
}

// MemberVisit is one check-in in the range that repeats an earlier visit
// of the same member within 30 days (another local day or event).
type MemberVisit struct {
	EventID  string
	MemberID string
	At       time.Time
}

// UpliftInput is what a listing uplift needs of one event: its local days
// after publication with observed and expected visitors, and the open
// hours of the baseline.
type UpliftInput struct {
	Days          []DayPair
	BaselineHours float64
	Baseline      string
}

// Input is everything a report is built from.
type Input struct {
	Filter   popkit.KPIFilter
	Currency string
	Events   []*Event
	Hours    []Hour
	SameDay  []SameDayOrder
	Members  []MemberVisit
	Uplift   map[string]*UpliftInput // by event id
	// Rates converts event currencies into Currency; nil converts nothing
	// (every amount then lacks a rate unless already in Currency).
	Rates *RateBook
}

// Money amounts a group keeps per (currency, venue-local day), so that
// each is converted at its day's rate.
const (
	mRevenue = iota
	mRefunds
	mCOGS
	mPOSRevenue
	mPOSCOGS
	mFulfil
	mRent
	mStaff
	mTrans
	mEnergy
	nMoney
)

type moneyKey struct{ currency, day string }

type moneyVec [nMoney]float64

type acc struct {
	row      popkit.KPIRow
	h        Hour
	events   map[string]bool
	open     float64
	money    map[moneyKey]*moneyVec
	hide     bool
	sdAcc    int64
	sdOnTime int64
	sdCanc   int64
	sdRerout int64
	sdMins   []float64
	members  map[string]bool
	uplift   []DayPair
	upBase   float64
	upName   string
	upEvents int
}

// builder groups facts by the filter's grouping.
type builder struct {
	in     *Input
	events map[string]*Event
	groups map[string]*acc
	total  *acc
}

// Build returns the report's rows, ordered by key (by start for time
// groups), and its total row.
func Build(in *Input) ([]popkit.KPIRow, popkit.KPIRow) {
	b := &builder{in: in, events: map[string]*Event{}, groups: map[string]*acc{},
		total: newAcc(popkit.KPIRow{Key: "total", Label: "total"})}
	for _, e := range in.Events {
		b.events[e.ID] = e
	}
	for _, e := range in.Events {
		b.addOpenHours(e)
	}
	for i := range in.Hours {
		h := &in.Hours[i]
		e := b.events[h.EventID]
		if e == nil {
			continue
		}
		at := time.Unix(h.Hour*3600, 0).UTC()
		if h.Hour < 0 {
			at = in.Filter.From
		}
		day := DayKey(at, e.Loc)
		for _, a := range b.accs(e, at) {
			a.h.add(h)
			a.addMoney(e.Currency, day, func(v *moneyVec) {
				v[mRevenue] += float64(h.Revenue)
				v[mRefunds] += float64(h.Refunds)
				v[mCOGS] += float64(h.COGS)
				v[mPOSRevenue] += float64(h.POSRevenue)
				v[mPOSCOGS] += float64(h.POSCOGS)
				v[mFulfil] += float64(h.FulfilmentCost)
				v[mEnergy] += h.KWh * float64(e.Costs.EnergyTariffMinorKWh)
			})
			a.events[e.ID] = true
		}
	}
	for _, o := range in.SameDay {
		e := b.events[o.EventID]
		if e == nil {
			continue
		}
		for _, a := range b.accs(e, o.PlacedAt) {
			switch {
			case o.Cancelled:
				a.sdCanc++
			case o.Rerouted:
				a.sdRerout++
			default:
				a.sdAcc++
				if o.DoneAt != nil && !o.Incomplete {
					pl := o.PlacedAt.In(e.Loc)
					endOfDay := time.Date(pl.Year(), pl.Month(), pl.Day()+1, 0, 0, 0, 0, e.Loc)
					if o.DoneAt.Before(endOfDay) {
						a.sdOnTime++
					}
					a.sdMins = append(a.sdMins, o.DoneAt.Sub(o.PlacedAt).Minutes())
				}
			}
		}
	}
	for _, m := range in.Members {
		e := b.events[m.EventID]
		if e == nil {
			continue
		}
		for _, a := range b.accs(e, m.At) {
			a.members[m.MemberID] = true
		}
	}
	for id, u := range in.Uplift {
		e := b.events[id]
		if e == nil || u == nil {
			continue
		}
		for _, a := range b.accs(e, in.Filter.From) {
			if in.Filter.Group == popkit.GroupEvent || a == b.total {
				a.uplift = append(a.uplift, u.Days...)
				a.upBase += u.BaselineHours
				a.upName = u.Baseline
				a.upEvents++
			}
		}
	}
	rows := make([]popkit.KPIRow, 0, len(b.groups))
	for _, a := range b.groups {
		rows = append(rows, b.finish(a))
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Start != nil && rows[j].Start != nil && !rows[i].Start.Equal(*rows[j].Start) {
			return rows[i].Start.Before(*rows[j].Start)
		}
		return rows[i].Key < rows[j].Key
	})
	return rows, b.finish(b.total)
}

func newAcc(row popkit.KPIRow) *acc {
	return &acc{row: row, events: map[string]bool{}, members: map[string]bool{}, money: map[moneyKey]*moneyVec{}}
}

// addMoney adds amounts in currency on a venue-local day.
func (a *acc) addMoney(currency, day string, set func(v *moneyVec)) {
	k := moneyKey{currency, day}
	v := a.money[k]
	if v == nil {
		v = &moneyVec{}
		a.money[k] = v
	}
	set(v)
}

// accs returns the group of e at instant t and the total.
func (b *builder) accs(e *Event, t time.Time) [2]*acc {
	key, label, start, end := b.groupOf(e, t)
	a := b.groups[key]
	if a == nil {
		a = newAcc(popkit.KPIRow{Key: key, Label: label, Start: start, End: end})
		b.groups[key] = a
	}
	a.hide = a.hide || e.HideCosts
	b.total.hide = b.total.hide || e.HideCosts
	return [2]*acc{a, b.total}
}

// groupOf returns the group key of e at t.
func (b *builder) groupOf(e *Event, t time.Time) (key, label string, start, end *time.Time) {
	switch b.in.Filter.Group {
	case popkit.GroupEvent:
		return e.ID, e.Name, nil, nil
	case popkit.GroupCity:
		return e.CityID, e.CityName, nil, nil
	case popkit.GroupHour:
		s := HourStart(t, e.Loc)
		en := s.Add(time.Hour)
		k := HourKey(t, e.Loc)
		return k, k, &s, &en
	case popkit.GroupWeek:
		l := t.In(e.Loc)
		wd := (int(l.Weekday()) + 6) % 7
		s := time.Date(l.Year(), l.Month(), l.Day()-wd, 0, 0, 0, 0, e.Loc).UTC()
		en := time.Date(l.Year(), l.Month(), l.Day()-wd+7, 0, 0, 0, 0, e.Loc).UTC()
		k := WeekKey(t, e.Loc)
		return k, k, &s, &en
	default: // day
		l := t.In(e.Loc)
		s := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, e.Loc).UTC()
		en := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, e.Loc).UTC()
		k := DayKey(t, e.Loc)
		return k, k, &s, &en
	}
}

// addOpenHours spreads the event's sessions inside the range over its
// groups, with the fixed costs pro rata.
func (b *builder) addOpenHours(e *Event) {
	total := e.openHours()
	from, to := b.in.Filter.From, b.in.Filter.To
	for _, s := range e.Sessions {
		start, end := s.Start, s.End
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if !end.After(start) {
			continue
		}
		step := []time.Time{start}
		if g := b.in.Filter.Group; g != popkit.GroupEvent && g != popkit.GroupCity {
			step = LocalHours(start, end, e.Loc)
		}
		for i, h := range step {
			a0, a1 := h, end
			if i+1 < len(step) {
				a1 = step[i+1]
			}
			if a0.Before(start) {
				a0 = start
			}
			hours := Span{a0, a1}.Overlap(start, end).Hours()
			if hours <= 0 {
				continue
			}
			share := hours / total
			day := DayKey(a0, e.Loc)
			for _, a := range b.accs(e, a0) {
				a.open += hours
				a.addMoney(e.Currency, day, func(v *moneyVec) {
					v[mRent] += share * float64(e.Costs.RentMinor)
					v[mStaff] += share * float64(e.Costs.StaffMinor)
					v[mTrans] += share * float64(e.Costs.TransportMinor)
				})
				a.events[e.ID] = true
			}
		}
	}
}

// finish turns a group's sums into its KPI values, in popkit.KPIDefs
// order.
func (b *builder) finish(a *acc) popkit.KPIRow {
	h := &a.h
	cur := b.in.Currency
	row := a.row
	vals := map[string]*popkit.KPIValue{}
	for _, d := range popkit.KPIDefs {
		v := popkit.KPIValue{Name: d.Name, Unit: d.Unit}
		if d.Money {
			v.Currency = cur
		}
		vals[d.Name] = &v
		row.Values = append(row.Values, v)
	}
	// Values are filled through the map, then copied back in order.
	set := func(name string, f float64, inputs map[string]float64) *popkit.KPIValue {
		v := vals[name]
		v.Value = &f
		v.Inputs = inputs
		return v
	}
	undefined := func(name string, inputs map[string]float64) *popkit.KPIValue {
		v := vals[name]
		v.Inputs = inputs
		v.Flag(popkit.FlagInsufficientData)
		return v
	}
	ratio := func(name string, num, den float64, inputs map[string]float64) *popkit.KPIValue {
		if den <= 0 {
			return undefined(name, inputs)
		}
		return set(name, num/den, inputs)
	}
	visitors := float64(h.Visitors)
	set("footfall", float64(h.Footfall), nil)
	vis := set("visitors", visitors, nil)
	set("open_hours", a.open, nil)
	ratio("footfall_per_open_hour", visitors, a.open, map[string]float64{"visitors": visitors, "open_hours": a.open})
	set("transactions", float64(h.Transactions), nil)
	convIn := map[string]float64{"transactions": float64(h.Transactions), "visitors": visitors}
	rate, low, high, ok := Wilson(h.Transactions, h.Visitors, popkit.KPIConversionZ)
	if ok {
		v := set("conversion_rate", rate, convIn)
		v.Low, v.High = &low, &high
		if h.Transactions > h.Visitors {
			v.Flag(popkit.FlagInsufficientData)
		}
	} else {
		undefined("conversion_rate", convIn)
	}
	sdIn := map[string]float64{"accepted": float64(a.sdAcc), "on_time": float64(a.sdOnTime), "cancelled": float64(a.sdCanc), "rerouted": float64(a.sdRerout)}
	ratio("same_day_rate", float64(a.sdOnTime), float64(a.sdAcc), sdIn)
	set("same_day_cancelled", float64(a.sdCanc), nil)
	ratio("same_day_rerouted_share", float64(a.sdRerout), float64(a.sdRerout+a.sdAcc), sdIn)
	if m, ok := Median(a.sdMins); ok {
		set("same_day_median_minutes", m, map[string]float64{"delivered": float64(len(a.sdMins))})
	} else {
		undefined("same_day_median_minutes", map[string]float64{"delivered": 0})
	}
	ratio("queue_p95", h.QueueP95WSum, float64(h.QueueSamples), map[string]float64{"queue_samples": float64(h.QueueSamples)})
	set("queue_minutes_over", float64(h.QueueOverMin), map[string]float64{"threshold_people": popkit.KPIQueueThreshold})
	ratio("dwell_median_seconds", h.DwellWSum, float64(h.DwellStays), map[string]float64{"stays": float64(h.DwellStays)})
	ratio("dwell_little_seconds", h.LittleSum, float64(h.LittleMin), map[string]float64{"minutes": float64(h.LittleMin)})
	set("energy_kwh", h.KWh, nil)
	ratio("energy_kwh_per_open_hour", h.KWh, a.open, map[string]float64{"energy_kwh": h.KWh, "open_hours": a.open})
	ratio("energy_kwh_per_visitor", h.KWh, visitors, map[string]float64{"energy_kwh": h.KWh, "visitors": visitors})
	repeat := set("repeat_visitors_edge", float64(h.Repeat), map[string]float64{"suppressed_minutes": float64(h.SuppressedMin)})
	if h.SuppressedMin > 0 {
		repeat.Flag(popkit.FlagSuppressed)
		vis.Flag(popkit.FlagSuppressed)
	}
	set("repeat_members", float64(len(a.members)), nil)

	local, localCur := a.localMoney()
	rep, missing := b.reportingMoney(a)
	for name, x := range moneyKPIs(local, h, a.open) {
		v := vals[name]
		if x != nil && localCur != "" {
			v.LocalValue, v.LocalCurrency = x, localCur
		}
	}
	for name, x := range moneyKPIs(rep, h, a.open) {
		v := vals[name]
		if missing {
			v.Flag(popkit.FlagMissingRate)
			continue
		}
		if x == nil {
			v.Flag(popkit.FlagInsufficientData)
			continue
		}
		v.Value = x
	}
	vals["net_revenue"].Inputs = map[string]float64{"revenue": rep[mRevenue], "refunds": rep[mRefunds]}
	vals["energy_cost"].Inputs = map[string]float64{"energy_kwh": h.KWh}
	vals["break_even_visitors"].Inputs = map[string]float64{"transactions": float64(h.Transactions), "visitors": visitors}
	if a.hide {
		for _, n := range []string{"rent", "staff", "transport", "energy_cost", "fulfilment_cost", "contribution",
			"contribution_per_visitor", "contribution_per_open_hour", "break_even_visitors"} {
			v := vals[n]
			v.Value, v.LocalValue, v.LocalCurrency, v.Inputs = nil, nil, "", nil
			v.Flag(popkit.FlagInsufficientData)
		}
	}
	up := vals["listing_uplift_pct"]
	up.Baseline = a.upName
	upIn := map[string]float64{"baseline_hours": a.upBase, "days": float64(len(a.uplift)), "events": float64(a.upEvents)}
	if a.upEvents > 0 && a.upBase >= popkit.KPIMinBaselineHours {
		if u, ok := BootstrapUplift(a.uplift, popkit.KPIBootstrapSamples, popkit.KPIUpliftLevel, popkit.KPIBootstrapSeed); ok {
			upIn["observed"], upIn["expected"] = u.Observed, u.Expected
			v := set("listing_uplift_pct", u.Pct, upIn)
			v.Low, v.High = &u.Low, &u.High
		} else {
			undefined("listing_uplift_pct", upIn)
		}
	} else {
		undefined("listing_uplift_pct", upIn)
	}
	for i := range row.Values {
		row.Values[i] = *vals[row.Values[i].Name]
	}
	return row
}

// localMoney returns a group's amounts in its one currency, rounded to
// minor units, or "" when the group mixes currencies.
func (a *acc) localMoney() (moneyVec, string) {
	var out moneyVec
	cur := ""
	for k, v := range a.money {
		if cur != "" && cur != k.currency {
			return moneyVec{}, ""
		}
		cur = k.currency
		for i := range v {
			out[i] += v[i]
		}
	}
	for i := range out {
		out[i] = float64(RoundHalfAway(out[i]))
	}
	return out, cur
}

// reportingMoney converts a group's amounts into the reporting currency:
// each (currency, day) sum is rounded to a minor unit and converted at the
// day's rate (popkit.ConvertMinor: exact, ties to even). missing is set
// when some day has no rate.
func (b *builder) reportingMoney(a *acc) (moneyVec, bool) {
	var out moneyVec
	missing := false
	for k, v := range a.money {
		var rate *popkit.FXRate
		if k.currency == b.in.Currency {
			rate = &popkit.FXRate{Day: k.day, Base: k.currency, Quote: k.currency, Rate: "1"}
		} else if b.in.Rates != nil {
			rate = b.in.Rates.Rate(k.day, k.currency, b.in.Currency)
		}
		if rate == nil {
			missing = true
			continue
		}
		for i := range v {
			amt := RoundHalfAway(v[i])
			if amt == 0 {
				continue
			}
			c, err := popkit.ConvertMinor(amt, k.currency, b.in.Currency, rate)
			if err != nil {
				missing = true
				continue
			}
			out[i] += float64(c)
		}
	}
	return out, missing
}

// moneyKPIs computes the money KPIs (and break-even visitors) of amounts
// m in one currency; nil where undefined.
func moneyKPIs(m moneyVec, h *Hour, open float64) map[string]*float64 {
	f := func(x float64) *float64 { return &x }
	div := func(a, b float64) *float64 {
		if b <= 0 {
			return nil
		}
		return f(a / b)
	}
	net := m[mRevenue] - m[mRefunds]
	margin := net - m[mCOGS]
	costs := m[mRent] + m[mStaff] + m[mTrans] + m[mEnergy] + m[mFulfil]
	contrib := margin - costs
	out := map[string]*float64{
		"average_basket": div(m[mPOSRevenue], float64(h.Transactions)),
		"revenue":        f(m[mRevenue]), "refunds": f(m[mRefunds]), "net_revenue": f(net),
		"cogs": f(m[mCOGS]), "gross_margin": f(margin),
		"rent": f(m[mRent]), "staff": f(m[mStaff]), "transport": f(m[mTrans]),
		"energy_cost": f(m[mEnergy]), "fulfilment_cost": f(m[mFulfil]),
		"contribution":               f(contrib),
		"contribution_per_visitor":   div(contrib, float64(h.Visitors)),
		"contribution_per_open_hour": div(contrib, open),
		"break_even_visitors":        nil,
	}
	if h.Transactions > 0 && h.Visitors > 0 {
		perTxn := (m[mPOSRevenue] - m[mPOSCOGS]) / float64(h.Transactions)
		conv := float64(h.Transactions) / float64(h.Visitors)
		out["break_even_visitors"] = div(costs, conv*perTxn)
	}
	return out
}
