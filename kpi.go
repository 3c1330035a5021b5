package popkit

import (
	"context"
	"slices"
	"time"
)

// This file defines every KPI popkit reports, once. The API's OpenAPI part
// (http/openapi_kpi.json) repeats these definitions; the computations live
// in package kpi (pure) and sqlstore (queries over hourly aggregates).
//
// Time. Every instant is stored in UTC. "Hour", "day" and "week" are the
// venue's local hour, date and ISO week in the event venue's IANA zone, so
// a daylight-saving day has 23 or 25 hourly rows (the repeated hour shows
// twice, told apart by its UTC offset). Aggregates are kept per whole UTC
// hour; a venue whose zone is a whole number of hours off UTC (every zone
// popkit's demo uses) gets exact local hours, one with a :30 or :45 offset
// gets each UTC hour under the local hour it starts in. A range [from, to)
// is widened to whole UTC hours.
//
// Which sensors count. A footfall sensor (a (device, sensor) pair of an
// event) is an entrance unless it is marked otherwise (SensorRole); only
// entrance sensors count towards footfall and visitors, so two doors add up
// and an inner line counter does not.
//
// The KPIs, by name:
//
//   - footfall (entries): Σ in-crossings of the event's entrance sensors in
//     the group's hours, open or not.
//   - visitors (people): Σ in-crossings of entrance sensors in minutes an
//     uncancelled session of the event covered when the rollup was stored.
//     Entries outside sessions (set-up, staff, late closing) count towards
//     footfall only. Sessions changed after the rollups arrived do not move
//     stored counts.
//   - open_hours (h): the length of the event's uncancelled sessions inside
//     the group.
//   - footfall_per_open_hour (entries/h): visitors ÷ open_hours.
//   - transactions (orders): POS orders at the event placed in the group
//     (by occurred_at) and not cancelled, refunded or partially refunded.
//   - conversion_rate (ratio): transactions ÷ visitors over the same hours,
//     with a Wilson 95% score interval; undefined (absent, with the
//     insufficient_data flag) when there are no visitors. Transactions above
//     visitors (sales without counted entries) cap the rate at 1 and set
//     insufficient_data.
//   - average_basket (minor units): POS revenue of those transactions ÷
//     transactions.
//   - same_day_rate (ratio): same-day orders (channel same_day, placed in
//     the group) whose fulfilment orders all reached delivered or picked_up
//     by the end of the venue-local day the order was placed on ÷ same-day
//     orders accepted; cancelled orders (customer cancellations) are not in
//     the rate and count as same_day_cancelled. same_day_rerouted_share:
//     orders asked for same day that routing sent to next day (channel
//     next_day with routing reasons) ÷ (those + accepted same-day orders).
//     same_day_median_minutes: median minutes from occurred_at to the last
//     delivered or picked_up transition, over delivered same-day orders.
//     These read orders and fulfilment orders directly, not aggregates.
//   - queue_p95 (people): the queue samples-weighted mean of the per-minute
//     95th percentile of queue length; queue_minutes_over (minutes): minutes
//     whose p95 exceeds KPIQueueThreshold people.
//   - dwell_median_seconds (s): the mean of per-minute medians of stays of
//     at least 30 s, each minute weighted by the stays that ended in it; a
//     minute in which no stay ended has no value (it is not 0 s).
//     dwell_little_seconds (s): the mean over minutes of the agent's
//     Little's-law estimate (mean occupancy ÷ arrival rate), minutes without
//     an estimate left out.
//   - energy_kwh (kWh): Σ energy rollups of the event (any sensor);
//     energy_kwh_per_open_hour and energy_kwh_per_visitor divide it.
//   - repeat_visitors_edge (people): Σ per-minute counts of pseudonyms the
//     edge agent had seen on an earlier day of the same key epoch (at most
//     30 days). Only the count leaves the device; a minute counted below
//     the program's k is sent as 0 and flagged, so the sum is a lower bound
//     and carries the suppressed flag when any minute was suppressed.
//   - repeat_members (people): members who checked in at two or more
//     visits (different local days or events) within 30 days, the second
//     visit inside the group. Reported apart from the edge count and never
//     joined with it.
//   - revenue (minor units): Σ total of orders of any channel placed in the
//     group that were not cancelled; refunds: Σ total of refunded orders
//     (partially refunded orders count in revenue; the refunded part is not
//     recorded); net_revenue = revenue − refunds.
//   - cogs: Σ unit cost × quantity of those orders, refunded ones
//     excluded; gross_margin = net_revenue − cogs.
//   - rent, staff, transport: the event's fixed costs spread over its open
//     hours, the group's share being its open hours ÷ the event's open
//     hours; energy_cost = energy_kwh × the event's tariff, rounded half
//     away from zero to a minor unit.
//   - fulfilment_cost: Σ of the bundle cost shares (largest-remainder
//     splits of a shared bundle) of the fulfilment orders of the group's
//     orders that were not cancelled; fulfilment stores no other per-order
//     cost, so a node's own handling cost is not in it.
//   - contribution = gross_margin − rent − staff − transport − energy_cost −
//     fulfilment_cost; contribution_per_visitor and
//     contribution_per_open_hour divide it.
//   - break_even_visitors (people): (rent + staff + transport +
//     energy_cost + fulfilment_cost) ÷ (conversion_rate × (average basket −
//     average COGS per transaction)): the visitors at which the observed
//     conversion and basket pay the costs; undefined when the margin per
//     transaction is not positive or conversion is undefined.
//   - listing_uplift_pct (%): for an event with a published listing, the
//     visitors of its open hours after publication against a baseline: the
//     same venue's visitors per open hour-of-week from sessions before
//     publication (KPIBaselineBefore). Uplift = 100 × (Σ after ÷ Σ
//     expected − 1), with a 90% percentile bootstrap interval over local
//     days (KPIBootstrapSamples resamples, fixed seed). Flagged
//     insufficient_data when the baseline has fewer than
//     KPIMinBaselineHours open hours, or no hour after publication.
//
// Money. Every amount is an integer of minor units of the event's
// currency; a group mixing currencies reports each currency's amounts only
// in the reporting currency, converted with the rate of the venue-local day;
// a missing rate sets missing_rate and leaves the converted amount absent.
// Until cities carry their own currency every event is in the program
// currency.

// KPI flags.
const (
	FlagMissingRate      = "missing_rate"      // an exchange rate needed for a conversion is missing
	FlagInsufficientData = "insufficient_data" // too little data for the value (it may be absent)
	FlagSuppressed       = "suppressed"        // counts below k were withheld by the edge agent
)

// KPI tuning constants.
const (
	KPIQueueThreshold   = 5    // people: a minute whose p95 queue exceeds this counts as "over"
	KPIMinBaselineHours = 20   // open hours a listing-uplift baseline needs
	KPIBootstrapSamples = 1000 // bootstrap resamples of the uplift interval
	KPIMaxRangeDays     = 400  // longest from–to range a query may span
	KPIBaselineBefore   = "venue_before_publication"
	KPIRepeatWindow     = 30 * 24 * time.Hour
	KPIBootstrapSeed    = 20260501
	KPIConversionZ      = 1.959963984540054 // two-sided 95%
	KPIUpliftLevel      = 0.90              // bootstrap interval level
	KPIMinDwellStaySecs = 30
)

// KPI scopes.
const (
	ScopeProgram = "program"
	ScopeCity    = "city"
	ScopeEvent   = "event"
)

// KPI groupings.
const (
	GroupHour  = "hour"
	GroupDay   = "day"
	GroupWeek  = "week"
	GroupEvent = "event"
	GroupCity  = "city"
)

// KPI comparison shortcuts.
const (
	ComparePreviousPeriod = "previous_period"
	ComparePreviousYear   = "previous_year"
)

// KPIDef describes one KPI: its name (a stable JSON key and CSV column),
// its unit and its definition.
type KPIDef struct {
	Name       string `json:"name"`
	Unit       string `json:"unit"`
	Money      bool   `json:"money,omitempty"` // minor units of the row's currency
	Definition string `json:"definition"`
}

// KPIDefs lists every KPI in report and CSV column order. The column
// names are stable: new KPIs are appended, none is renamed.
var KPIDefs = []KPIDef{
	{"footfall", "entries", false, "Σ in-crossings of entrance sensors in the group's venue-local hours, open or not"},
	{"visitors", "people", false, "Σ in-crossings of entrance sensors during uncancelled sessions"},
	{"open_hours", "h", false, "length of uncancelled sessions inside the group"},
	{"footfall_per_open_hour", "people/h", false, "visitors ÷ open_hours"},
	{"transactions", "orders", false, "POS orders placed in the group, not cancelled, refunded or partially refunded"},
	{"conversion_rate", "ratio", false, "transactions ÷ visitors, Wilson 95% interval; undefined without visitors"},
	{"average_basket", "minor", true, "POS revenue of the transactions ÷ transactions"},
	{"same_day_rate", "ratio", false, "same-day orders delivered or picked up by the end of their venue-local day ÷ same-day orders accepted (customer cancellations apart)"},
	{"same_day_cancelled", "orders", false, "same-day orders the customer cancelled, not in the rate"},
	{"same_day_rerouted_share", "ratio", false, "orders asked for same day that were routed to next day ÷ (those + same-day orders accepted)"},
	{"same_day_median_minutes", "min", false, "median time from placing to the last delivery or pick-up of delivered same-day orders"},
	{"queue_p95", "people", false, "queue-samples-weighted mean of per-minute p95 queue length"},
	{"queue_minutes_over", "minutes", false, "minutes whose p95 queue length exceeds 5 people"},
	{"dwell_median_seconds", "s", false, "per-minute median stay (≥ 30 s) weighted by the stays that ended in the minute"},
	{"dwell_little_seconds", "s", false, "mean of per-minute Little's-law dwell (mean occupancy ÷ arrival rate)"},
	{"energy_kwh", "kWh", false, "Σ energy rollups"},
	{"energy_kwh_per_open_hour", "kWh/h", false, "energy_kwh ÷ open_hours"},
	{"energy_kwh_per_visitor", "kWh/person", false, "energy_kwh ÷ visitors"},
	{"repeat_visitors_edge", "people", false, "Σ per-minute pseudonyms seen on an earlier day of the key epoch (edge count, k-suppressed)"},
	{"repeat_members", "people", false, "members with a second check-in within 30 days of another, on another day or event"},
	{"revenue", "minor", true, "Σ totals of orders (all channels) not cancelled"},
	{"refunds", "minor", true, "Σ totals of refunded orders"},
	{"net_revenue", "minor", true, "revenue − refunds"},
	{"cogs", "minor", true, "Σ unit cost × quantity of orders neither cancelled nor refunded"},
	{"gross_margin", "minor", true, "net_revenue − cogs"},
	{"rent", "minor", true, "event rent × group open hours ÷ event open hours"},
	{"staff", "minor", true, "event staff cost × group open hours ÷ event open hours"},
	{"transport", "minor", true, "event transport cost × group open hours ÷ event open hours"},
	{"energy_cost", "minor", true, "energy_kwh × the event's tariff"},
	{"fulfilment_cost", "minor", true, "Σ bundle cost shares of the fulfilment orders of the group's orders"},
	{"contribution", "minor", true, "gross_margin − rent − staff − transport − energy_cost − fulfilment_cost"},
	{"contribution_per_visitor", "minor/person", true, "contribution ÷ visitors"},
	{"contribution_per_open_hour", "minor/h", true, "contribution ÷ open_hours"},
	{"break_even_visitors", "people", false, "fixed and energy costs ÷ (conversion × (basket − COGS per transaction))"},
	{"listing_uplift_pct", "%", false, "visitors per open hour after listing publication vs. the venue's hour-of-week baseline before it, 90% bootstrap over days"},
}

// LookupKPI returns the definition of a KPI.
func LookupKPI(name string) (KPIDef, bool) {
	i := slices.IndexFunc(KPIDefs, func(d KPIDef) bool { return d.Name == name })
	if i < 0 {
		return KPIDef{}, false
	}
	return KPIDefs[i], true
}

// SensorRole marks a sensor of a device as an entrance or not. Sensors
// without a role count as entrances.
type SensorRole struct {
	DeviceID string    `json:"device_id"`
	Sensor   string    `json:"sensor"`
	Entrance bool      `json:"entrance"`
	EventID  string    `json:"event_id,omitempty"` // the device's event, read-only
	Updated  time.Time `json:"updated_at"`
}

// KPIFilter selects a KPI report. BrandID, when set (a brand token),
// narrows the scope to events the brand takes part in and sales to the
// brand's own SKUs.
type KPIFilter struct {
	Scope   string
	ID      string // city or event id; empty for the program
	From    time.Time
	To      time.Time
	Group   string
	BrandID string
}

// Validate checks the filter. Returns EINVALID naming the query parameter.
func (f *KPIFilter) Validate() error {
	var v Validation
	v.Check(slices.Contains([]string{ScopeProgram, ScopeCity, ScopeEvent}, f.Scope), "scope", "must be program, city or event")
	v.Check(slices.Contains([]string{GroupHour, GroupDay, GroupWeek, GroupEvent, GroupCity}, f.Group), "group", "must be hour, day, week, event or city")
	switch f.Scope {
	case ScopeProgram:
		v.Check(f.ID == "", "id", "must be empty for the program scope")
	case ScopeCity, ScopeEvent:
		v.Check(ValidID(f.ID), "id", "must be a %s id", f.Scope)
	}
	v.Check(!f.From.IsZero(), "from", "is required")
	v.Check(!f.To.IsZero(), "to", "is required")
	if err := v.Err(); err != nil {
		return err
	}
	if !f.From.Before(f.To) {
		return InvalidField("from", "must be before to")
	}
	if f.To.Sub(f.From) > KPIMaxRangeDays*24*time.Hour {
		return InvalidField("to", "the range may span at most %d days", KPIMaxRangeDays)
	}
	if f.Group == GroupHour && f.To.Sub(f.From) > 93*24*time.Hour {
		return InvalidField("group", "hourly groups span at most 93 days: use day or week")
	}
	return nil
}

// KPIValue is one KPI of one group: the value (absent when undefined),
// its unit and currency, an interval where the KPI has one, the inputs it
// was computed from, and flags.
type KPIValue struct {
	Name     string             `json:"name"`
	Value    *float64           `json:"value"`
	Unit     string             `json:"unit"`
	Currency string             `json:"currency,omitempty"`
	Low      *float64           `json:"low,omitempty"`  // interval bounds (conversion: Wilson 95%; uplift: bootstrap 90%)
	High     *float64           `json:"high,omitempty"` // ditto
	Inputs   map[string]float64 `json:"inputs,omitempty"`
	Flags    []string           `json:"flags,omitempty"`
	Baseline string             `json:"baseline,omitempty"` // listing uplift: which baseline was used
	// LocalValue is a money KPI in the group's own currency (the city's),
	// when all its events share one; Value is in the reporting currency.
	LocalValue    *float64 `json:"local_value,omitempty"`
	LocalCurrency string   `json:"local_currency,omitempty"`
	// Set by a comparison: the other period's value and the differences.
	CompareValue  *float64 `json:"compare_value,omitempty"`
	Delta         *float64 `json:"delta,omitempty"`
	DeltaRelative *float64 `json:"delta_relative,omitempty"` // (value − compare) ÷ |compare|
}

// Flag adds a flag once.
func (v *KPIValue) Flag(f string) {
	if !slices.Contains(v.Flags, f) {
		v.Flags = append(v.Flags, f)
	}
}

// KPIRow is one group of a report: a local hour, day or week, an event or
// a city.
type KPIRow struct {
	Key    string     `json:"key"`   // "2026-03-29T03:00+02:00", "2026-03-29", "2026-W13", an event or city id
	Label  string     `json:"label"` // a name for event and city groups; the key otherwise
	Start  *time.Time `json:"start,omitempty"`
	End    *time.Time `json:"end,omitempty"`
	Values []KPIValue `json:"values"`
}

// Value returns the row's KPI of the given name, or nil.
func (r *KPIRow) Value(name string) *KPIValue {
	for i := range r.Values {
		if r.Values[i].Name == name {
			return &r.Values[i]
		}
	}
	return nil
}

// KPIReport is the answer to a KPI query.
type KPIReport struct {
	Scope    string    `json:"scope"`
	ID       string    `json:"id,omitempty"`
	Group    string    `json:"group"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Currency string    `json:"currency"` // the reporting currency
	Events   int       `json:"events"`   // events in scope
	Rows     []KPIRow  `json:"rows"`
	Total    KPIRow    `json:"total"` // the whole range and scope in one group
	// Compare is the report of the compared period or event, when asked.
	Compare *KPIReport `json:"compare,omitempty"`
}

// KPIService computes KPI reports.
type KPIService interface {
	// FindKPIs returns the report of a filter. Returns EINVALID for a bad
	// filter, ENOTFOUND when the city or event does not exist (or, for a
	// brand, when the brand takes no part in the event).
	FindKPIs(ctx context.Context, f KPIFilter) (*KPIReport, error)
	// SetSensorRole marks a sensor of a device as an entrance or not.
	// Returns EINVALID, ENOTFOUND when the device does not exist.
	SetSensorRole(ctx context.Context, r *SensorRole) error
	// FindSensorRoles lists the sensor roles of an event's devices.
	FindSensorRoles(ctx context.Context, eventID string) ([]*SensorRole, error)
}

// CompareWith fills each value of r with the matching value of other (same
// key for event and city groups, same position for time groups) and the
// differences, and keeps other as r.Compare.
func (r *KPIReport) CompareWith(other *KPIReport) {
	r.Compare = other
	byKey := map[string]*KPIRow{}
	for i := range other.Rows {
		byKey[other.Rows[i].Key] = &other.Rows[i]
	}
	for i := range r.Rows {
		var o *KPIRow
		if r.Group == GroupEvent || r.Group == GroupCity {
			o = byKey[r.Rows[i].Key]
		} else if i < len(other.Rows) {
			o = &other.Rows[i]
		}
		compareRow(&r.Rows[i], o)
	}
	compareRow(&r.Total, &other.Total)
}

func compareRow(r, o *KPIRow) {
	if o == nil {
		return
	}
	for i := range r.Values {
		v := &r.Values[i]
		ov := o.Value(v.Name)
		if ov == nil || ov.Value == nil {
			continue
		}
		c := *ov.Value
		v.CompareValue = &c
		if v.Value == nil {
			continue
		}
		d := *v.Value - c
		v.Delta = &d
		if c != 0 {
			rel := d / abs(c)
			v.DeltaRelative = &rel
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// ComparePeriod returns the range a compare shortcut names: the same
// length just before [from, to), or the same dates a year earlier.
// Returns EINVALID naming "compare" for another word.
func ComparePeriod(compare string, from, to time.Time) (time.Time, time.Time, error) {
	switch compare {
	case ComparePreviousPeriod:
		d := to.Sub(from)
		return from.Add(-d), from, nil
	case ComparePreviousYear:
		return from.AddDate(-1, 0, 0), to.AddDate(-1, 0, 0), nil
	}
	return time.Time{}, time.Time{}, InvalidField("compare", "must be previous_period or previous_year")
}
