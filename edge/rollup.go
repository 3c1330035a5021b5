package edge

import (
	"math"
	"slices"
	"time"

	"github.com/popkit/popkit"
)

// storedReading is a reading as the agent keeps it on disk: presence
// identifiers are already pseudonyms, and the receive time is recorded.
type storedReading struct {
	Type      string  `json:"t"`
	Sensor    string  `json:"s"`
	TS        int64   `json:"ts"` // device time, Unix nanoseconds
	RX        int64   `json:"rx"` // agent receive time, Unix nanoseconds
	In        int64   `json:"in,omitempty"`
	Out       int64   `json:"out,omitempty"`
	Count     int64   `json:"n,omitempty"`
	Length    float64 `json:"len,omitempty"`
	OpenTills int     `json:"tills,omitempty"`
	Pseudonym string  `json:"p,omitempty"`
	Epoch     int64   `json:"e,omitempty"`
	Action    string  `json:"a,omitempty"`
	Celsius   float64 `json:"c,omitempty"`
	KWh       float64 `json:"kwh,omitempty"`
}

// rollupKind maps a reading type to the kind of rollup it feeds.
var rollupKind = map[string]string{
	TypeFootfall:    popkit.RollupFootfall,
	TypeOccupancy:   popkit.RollupOccupancy,
	TypeQueue:       popkit.RollupQueue,
	TypePresence:    popkit.RollupDwell,
	TypeTemperature: popkit.RollupTemperature,
	TypeEnergy:      popkit.RollupEnergy,
}

// minuteKey names one minute of one sensor's rollup.
type minuteKey struct {
	Sensor string
	Kind   string
	Minute int64 // Unix seconds of the minute's start
}

func keyOf(r *storedReading) minuteKey {
	return minuteKey{Sensor: r.Sensor, Kind: rollupKind[r.Type], Minute: time.Unix(0, r.TS).Truncate(time.Minute).Unix()}
}

// minuteAgg is the running state of one minute's rollup, stored in the
// minutes table so that a late reading updates the whole minute.
type minuteAgg struct {
	In        int64     `json:"in,omitempty"`
	Out       int64     `json:"out,omitempty"`
	OccMax    int64     `json:"occ,omitempty"`
	Queue     []float64 `json:"q,omitempty"`
	OpenTills int       `json:"tills,omitempty"`
	TempN     int       `json:"tn,omitempty"`
	TempMin   float64   `json:"tmin,omitempty"`
	TempMax   float64   `json:"tmax,omitempty"`
	TempSum   float64   `json:"tsum,omitempty"`
	KWh       float64   `json:"kwh,omitempty"`
	Visitors  []string  `json:"v,omitempty"` // pseudonyms entering in the minute
	Repeat    int64     `json:"rep,omitempty"`
	Stays     []float64 `json:"st,omitempty"`   // seconds of stays ≥ 30 s ending in the minute
	Arrivals  int64     `json:"arr,omitempty"`  // enters in the minute
	InsideSum int64     `json:"isum,omitempty"` // pseudonyms inside, summed over presence readings
	InsideN   int64     `json:"in_n,omitempty"` // presence readings summed
}

// maxQueueSamples bounds the queue samples kept for one minute; beyond it
// every other sample is kept, which preserves the quantiles well enough.
const maxQueueSamples = 4096

func (a *minuteAgg) clone() *minuteAgg {
	c := *a
	c.Queue = slices.Clone(a.Queue)
	c.Visitors = slices.Clone(a.Visitors)
	c.Stays = slices.Clone(a.Stays)
	return &c
}

// applySimple adds a reading that needs no other state to the minute.
func (a *minuteAgg) applySimple(r *storedReading) {
	switch r.Type {
	case TypeFootfall:
		a.In += r.In
		a.Out += r.Out
	case TypeOccupancy:
		a.OccMax = max(a.OccMax, r.Count)
	case TypeQueue:
		if len(a.Queue) >= maxQueueSamples {
			// Keep every other sample: a uniform thinning of the minute.
			for i := 0; i < len(a.Queue)/2; i++ {
				a.Queue[i] = a.Queue[2*i+1]
			}
			a.Queue = a.Queue[:len(a.Queue)/2]
		}
		a.Queue = append(a.Queue, r.Length)
		a.OpenTills = max(a.OpenTills, r.OpenTills)
	case TypeTemperature:
		if a.TempN == 0 || r.Celsius < a.TempMin {
			a.TempMin = r.Celsius
		}
		if a.TempN == 0 || r.Celsius > a.TempMax {
			a.TempMax = r.Celsius
		}
		a.TempN++
		a.TempSum += r.Celsius
	}
}

// rollup turns a minute's state into the record that goes up, suppressing
// presence-derived counts below k.
func (a *minuteAgg) rollup(eventID string, key minuteKey, k int) popkit.Rollup {
	r := popkit.Rollup{EventID: eventID, Sensor: key.Sensor, Kind: key.Kind, Minute: time.Unix(key.Minute, 0).UTC()}
	switch key.Kind {
	case popkit.RollupFootfall:
		r.In, r.Out = a.In, a.Out
	case popkit.RollupOccupancy:
		r.OccupancyMax = a.OccMax
	case popkit.RollupQueue:
		q := slices.Clone(a.Queue)
		slices.Sort(q)
		r.QueueSamples = len(q)
		r.QueueP50, r.QueueP95 = quantile(q, 0.50), quantile(q, 0.95)
		if len(q) > 0 {
			r.QueueMax = q[len(q)-1]
		}
		r.OpenTills = a.OpenTills
	case popkit.RollupDwell:
		r.Visitors, r.RepeatVisitors = int64(len(a.Visitors)), a.Repeat
		if len(a.Stays) >= k {
			s := slices.Clone(a.Stays)
			slices.Sort(s)
			r.DwellMedianSeconds = quantile(s, 0.5)
			r.DwellStays = int64(len(s))
		} else if len(a.Stays) > 0 {
			r.Suppressed = true
		}
		if a.Arrivals >= int64(k) && a.InsideN > 0 {
			meanInside := float64(a.InsideSum) / float64(a.InsideN)
			r.DwellLittleSeconds = math.Round(meanInside/(float64(a.Arrivals)/60)*10) / 10
		}
		if r.Visitors < int64(k) && r.Visitors > 0 {
			r.Visitors, r.Suppressed = 0, true
		}
		if r.RepeatVisitors < int64(k) && r.RepeatVisitors > 0 {
			r.RepeatVisitors, r.Suppressed = 0, true
		}
	case popkit.RollupTemperature:
		r.TempSamples, r.TempMin, r.TempMax = a.TempN, a.TempMin, a.TempMax
		if a.TempN > 0 {
			r.TempMean = math.Round(a.TempSum/float64(a.TempN)*1000) / 1000
		}
	case popkit.RollupEnergy:
		r.KWh = math.Round(a.KWh*1e6) / 1e6
	}
	return r
}

// quantile returns the nearest-rank q-quantile of sorted samples.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
