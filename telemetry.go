package popkit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Telemetry is what the control plane keeps of the edge uplink (uplink.go):
// every record key (device, stream, seq) once, the latest version of each
// per-minute rollup, and each device's health as it last reported it.
//
// Record handling at ingest, decided here once for both sides:
//   - A rollup that fails validation (wrong event, unknown rollup kind, a
//     minute that is not whole, negative counts, a wrong type) does not
//     fail the batch: it is stored as rejected, with the reason, acked like
//     any other record, and counted in the device status. Rejecting the
//     batch instead would stall the agent's stream forever on one bad
//     record.
//   - A record of a kind the server does not know (a newer agent) is
//     stored raw and acked, so that new kinds never block a stream.
//   - Only problems that make the batch unreadable or unkeyable (malformed
//     JSON, a missing or non-positive or repeated seq, a bad device_id or
//     stream, more than MaxIngestRecords records) fail it with 400.

// Record statuses at ingest.
const (
	RecordStored   = "stored"   // a valid record of a known kind, applied
	RecordRejected = "rejected" // invalid; kept with its reason, acked
	RecordUnknown  = "unknown"  // a kind this server does not know; kept raw, acked
)

// RecordStatus returns how the server treats one decoded record of a
// device bound to eventID: RecordStored with no reason, or RecordRejected
// or RecordUnknown with the reason.
func RecordStatus(r *UplinkRecord, eventID string) (status, reason string) {
	switch r.Kind {
	case RecordRollup:
		if r.Rollup == nil {
			return RecordRejected, "rollup: is required for kind rollup"
		}
		if err := r.Rollup.Validate(eventID); err != nil {
			return RecordRejected, ErrorMessage(err)
		}
		return RecordStored, ""
	case "":
		return RecordRejected, "kind: is required"
	default:
		return RecordUnknown, "kind " + r.Kind + " is not known to this server"
	}
}

// Bounds of a rollup minute: anything outside is a broken device clock.
var (
	minRollupMinute = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxRollupMinute = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// RollupKinds lists the known rollup kinds.
var RollupKinds = []string{RollupFootfall, RollupOccupancy, RollupQueue, RollupDwell, RollupTemperature, RollupEnergy}

// Validate checks a rollup of a device bound to eventID: the event, the
// sensor, a known kind, a whole UTC minute, finite numbers and
// non-negative counts. Field names are prefixed with "rollup.".
func (r *Rollup) Validate(eventID string) error {
	var v Validation
	v.Check(r.EventID == eventID, "rollup.event_id", "must be the device's event")
	v.Check(r.Sensor != "" && len(r.Sensor) <= 200 && utf8.ValidString(r.Sensor) && !strings.ContainsRune(r.Sensor, 0),
		"rollup.sensor", "is required (at most 200 bytes of UTF-8, no NUL)")
	known := false
	for _, k := range RollupKinds {
		known = known || r.Kind == k
	}
	v.Check(known, "rollup.kind", "must be one of %s", strings.Join(RollupKinds, ", "))
	v.Check(!r.Minute.Before(minRollupMinute) && r.Minute.Before(maxRollupMinute), "rollup.minute", "must be between 2000 and 2100")
	v.Check(r.Minute.Equal(r.Minute.Truncate(time.Minute)), "rollup.minute", "must be the start of a minute")
	type count struct {
		name string
		n    int64
	}
	for _, c := range [...]count{
		{"in", r.In}, {"out", r.Out}, {"occupancy_max", r.OccupancyMax}, {"queue_samples", int64(r.QueueSamples)},
		{"open_tills", int64(r.OpenTills)}, {"visitors", r.Visitors}, {"repeat_visitors", r.RepeatVisitors},
		{"temp_samples", int64(r.TempSamples)},
	} {
		v.Check(c.n >= 0, "rollup."+c.name, "must not be negative")
	}
	type number struct {
		name string
		f    float64
	}
	for _, c := range [...]number{
		{"queue_p50", r.QueueP50}, {"queue_p95", r.QueueP95}, {"queue_max", r.QueueMax},
		{"dwell_median_seconds", r.DwellMedianSeconds}, {"kwh", r.KWh},
	} {
		v.Check(!math.IsNaN(c.f) && !math.IsInf(c.f, 0) && c.f >= 0, "rollup."+c.name, "must be a finite, non-negative number")
	}
	for _, c := range [...]number{{"temp_min", r.TempMin}, {"temp_max", r.TempMax}, {"temp_mean", r.TempMean}} {
		v.Check(!math.IsNaN(c.f) && !math.IsInf(c.f, 0) && c.f > -100 && c.f < 200, "rollup."+c.name, "must be a finite temperature in °C")
	}
	v.Check(r.RepeatVisitors <= r.Visitors || r.Suppressed, "rollup.repeat_visitors", "must not exceed visitors")
	v.Check(r.QueueP50 <= r.QueueP95 && r.QueueP95 <= r.QueueMax, "rollup.queue_p95", "quantiles must satisfy p50 <= p95 <= max")
	v.Check(r.TempMin <= r.TempMean && r.TempMean <= r.TempMax, "rollup.temp_mean", "must satisfy temp_min <= temp_mean <= temp_max")
	return v.Err()
}

// IngestRecord is one record of an IngestRequest: the decoded record, and
// the record as received for those kept raw (rejected and unknown ones).
type IngestRecord struct {
	UplinkRecord
	Raw []byte
	// DecodeError is set when the record's envelope decoded but its body
	// did not (a wrong type, an unknown field): it is then rejected.
	DecodeError string
}

// IngestRequest is an IngestBatch as the server receives it: each record
// with its raw JSON.
type IngestRequest struct {
	DeviceID string
	Stream   string
	SentAt   time.Time
	Report   AgentReport
	Records  []IngestRecord
}

// NewIngestRequest returns the request for a batch built in Go (tests, the
// simulator): each record's Raw is its JSON encoding.
func NewIngestRequest(b *IngestBatch) *IngestRequest {
	req := &IngestRequest{DeviceID: b.DeviceID, Stream: b.Stream, SentAt: b.SentAt, Report: b.Report,
		Records: make([]IngestRecord, len(b.Records))}
	for i, r := range b.Records {
		raw, _ := json.Marshal(r) // an UplinkRecord of finite numbers always marshals
		req.Records[i] = IngestRecord{UplinkRecord: r, Raw: raw}
	}
	return req
}

// Status returns how the server treats the record for a device bound to
// eventID (see RecordStatus); a record that did not decode is rejected.
func (r *IngestRecord) Status(eventID string) (status, reason string) {
	if r.DecodeError != "" {
		return RecordRejected, r.DecodeError
	}
	return RecordStatus(&r.UplinkRecord, eventID)
}

// The range of a batch's sent_at: the device's clock may be off (the skew
// is reported), but not by centuries.
var (
	MinSentAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxSentAt = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// nilUUID is the all-zero UUID, which no outbox is named by.
const nilUUID = "00000000-0000-0000-0000-000000000000"

// Validate checks what makes a batch readable and keyable; the records'
// contents are judged one by one by IngestRecord.Status. Returns EINVALID
// naming the field.
func (b *IngestRequest) Validate() error {
	var v Validation
	v.Check(ValidID(b.DeviceID), "device_id", "must be a device id")
	v.Check(ValidID(b.Stream) && b.Stream != nilUUID, "stream", "must be a UUID (the outbox's UUIDv7), not the nil UUID")
	v.Check(!b.SentAt.IsZero(), "sent_at", "is required")
	v.Check(b.SentAt.IsZero() || !b.SentAt.Before(MinSentAt) && b.SentAt.Before(MaxSentAt), "sent_at", "must be from 2000-01-01 to before 2100-01-01")
	v.Check(len(b.Records) <= MaxIngestRecords, "records", "must hold at most %d records", MaxIngestRecords)
	r := &b.Report
	v.Check(len(r.Version) <= 100 && utf8.ValidString(r.Version), "report.version", "must be at most 100 bytes of UTF-8")
	v.Check(r.BacklogCount >= 0 && r.BacklogBytes >= 0 && r.Rejected >= 0 && r.Quarantined >= 0, "report", "counts must not be negative")
	v.Check(len(r.Dropped) <= 32, "report.dropped", "must have at most 32 classes")
	for class, n := range r.Dropped {
		v.Check(n >= 0 && class != "" && len(class) <= 64 && utf8.ValidString(class), "report.dropped", "classes must be 1-64 bytes and counts not negative")
	}
	var prev int64
	for i, rec := range b.Records {
		if rec.Seq <= prev {
			v.Add(fmt.Sprintf("records[%d].seq", i), "must be positive and greater than the previous record's")
			break
		}
		prev = rec.Seq
	}
	return v.Err()
}

// ClockSkew returns how far a device clock is off: its sent_at minus the
// server's receive time.
func ClockSkew(sentAt, receivedAt time.Time) time.Duration { return sentAt.Sub(receivedAt) }

// SkewFlagged reports whether a clock skew exceeds MaxClockSkew.
func SkewFlagged(skew time.Duration) bool { return skew > MaxClockSkew || skew < -MaxClockSkew }

// StreamStatus is the server's view of one outbox stream of a device.
type StreamStatus struct {
	Stream      string    `json:"stream"`
	AckSeq      int64     `json:"ack_seq"`       // highest contiguous seq stored
	MaxSeq      int64     `json:"max_seq"`       // highest seq stored (beyond a gap when > ack_seq)
	Records     int64     `json:"records"`       // records stored, of every status
	LastBatchAt time.Time `json:"last_batch_at"` // receive time of the last batch
}

// DeviceStatus is the health of an edge device as the server knows it.
type DeviceStatus struct {
	DeviceID string `json:"device_id"`
	EventID  string `json:"event_id"`
	// LastSeenAt is the receive time of the last batch, by the server
	// clock; LastSentAt is the same batch's sent_at, by the device clock.
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`
	LastSentAt *time.Time `json:"last_sent_at,omitempty"`
	// ClockSkewSeconds is sent_at minus receive time of the last batch
	// (network delay included); ClockSkewFlagged is set when its absolute
	// value exceeds MaxClockSkew.
	ClockSkewSeconds float64 `json:"clock_skew_seconds"`
	ClockSkewFlagged bool    `json:"clock_skew_flagged"`
	// Report is the agent's last self-report (backlog, dropped counts).
	Report *AgentReport `json:"report,omitempty"`
	// Server-side record counts over all streams.
	RecordsStored   int64          `json:"records_stored"`
	RecordsRejected int64          `json:"records_rejected"`
	RecordsUnknown  int64          `json:"records_unknown"`
	Streams         []StreamStatus `json:"streams"`
}

// Telemetry metrics offered by FindTelemetry, with their rollup kind.
const (
	MetricFootfallIn      = "footfall_in"          // sum of in
	MetricFootfallOut     = "footfall_out"         // sum of out
	MetricOccupancyMax    = "occupancy_max"        // max over minutes and sensors
	MetricQueueP50        = "queue_p50"            // per-minute p50, mean weighted by samples
	MetricQueueP95        = "queue_p95"            // per-minute p95, mean weighted by samples
	MetricQueueMax        = "queue_max"            // max
	MetricVisitors        = "visitors"             // sum of per-minute distinct visitors
	MetricDwellMedian     = "dwell_median_seconds" // per-minute median, mean weighted by the stays that ended in the minute; minutes without stays have no value
	MetricTemperatureMin  = "temperature_min"      // min
	MetricTemperatureMax  = "temperature_max"      // max
	MetricTemperatureMean = "temperature_mean"     // per-minute mean, mean weighted by samples
	MetricEnergyKWh       = "energy_kwh"           // sum
)

// Aggregations of a metric over the minutes of a bucket.
const (
	AggSum          = "sum"
	AggMax          = "max"
	AggMin          = "min"
	AggWeightedMean = "weighted_mean"
)

// MetricDef says where a metric comes from and how a bucket aggregates it.
type MetricDef struct {
	Name        string
	Kind        string // rollup kind
	Aggregation string // AggSum, AggMax, AggMin or AggWeightedMean
}

// Metrics lists the telemetry metrics, in documentation order.
var Metrics = []MetricDef{
	{MetricFootfallIn, RollupFootfall, AggSum},
	{MetricFootfallOut, RollupFootfall, AggSum},
	{MetricOccupancyMax, RollupOccupancy, AggMax},
	{MetricQueueP50, RollupQueue, AggWeightedMean},
	{MetricQueueP95, RollupQueue, AggWeightedMean},
	{MetricQueueMax, RollupQueue, AggMax},
	{MetricVisitors, RollupDwell, AggSum},
	{MetricDwellMedian, RollupDwell, AggWeightedMean},
	{MetricTemperatureMin, RollupTemperature, AggMin},
	{MetricTemperatureMax, RollupTemperature, AggMax},
	{MetricTemperatureMean, RollupTemperature, AggWeightedMean},
	{MetricEnergyKWh, RollupEnergy, AggSum},
}

// LookupMetric returns the definition of a metric.
func LookupMetric(name string) (MetricDef, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricDef{}, false
}

// MaxSeriesPoints bounds the buckets a telemetry query may span.
const MaxSeriesPoints = 10000

// ParseStep parses a series step: 1m, 5m, 15m, 1h, 1d, or any Go duration
// of whole minutes that divides a day (so buckets align to UTC midnight).
func ParseStep(s string) (time.Duration, error) {
	if s == "1d" {
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 24*time.Hour || d%time.Minute != 0 || (24*time.Hour)%d != 0 {
		return 0, InvalidField("step", "must be 1m, 5m, 15m, 1h, 1d or a whole number of minutes that divides a day")
	}
	return d, nil
}

// TelemetryFilter selects one series: a metric of an event over [From, To)
// in buckets of Step, aligned to UTC (multiples of Step since the Unix
// epoch, so 1d buckets are UTC days whatever the venue's time zone).
type TelemetryFilter struct {
	EventID string
	Metric  string
	Sensor  string // optional: one sensor only
	From    time.Time
	To      time.Time
	Step    time.Duration
}

// Validate checks the filter: a known metric, From before To, a step that
// divides a day, and at most MaxSeriesPoints buckets. Returns EINVALID
// naming the query parameter.
func (f *TelemetryFilter) Validate() error {
	var v Validation
	v.Check(ValidID(f.EventID), "id", "must be an event id")
	if _, ok := LookupMetric(f.Metric); !ok {
		names := make([]string, len(Metrics))
		for i, m := range Metrics {
			names[i] = m.Name
		}
		v.Add("metric", "must be one of %s", strings.Join(names, ", "))
	}
	v.Check(len(f.Sensor) <= 200, "sensor", "must be at most 200 bytes")
	v.Check(!f.From.IsZero(), "from", "is required")
	v.Check(!f.To.IsZero(), "to", "is required")
	v.Check(f.Step >= time.Minute && (24*time.Hour)%f.Step == 0 && f.Step%time.Minute == 0, "step", "must be a whole number of minutes that divides a day")
	if err := v.Err(); err != nil {
		return err
	}
	if !f.From.Before(f.To) {
		return InvalidField("to", "must be after from")
	}
	first := f.From.Truncate(f.Step)
	if n := (f.To.Sub(first) + f.Step - 1) / f.Step; n > MaxSeriesPoints {
		return InvalidField("step", "the range spans %d buckets, more than %d: use a larger step or a shorter range", n, MaxSeriesPoints)
	}
	return nil
}

// Point is one bucket of a series. Buckets without data are left out.
type Point struct {
	T       time.Time `json:"t"`       // UTC start of the bucket
	Value   float64   `json:"value"`   // the metric's aggregate over the bucket
	Minutes int64     `json:"minutes"` // minute rollups (of all sensors) that went into it
}

// Series is the answer to a telemetry query.
type Series struct {
	EventID     string  `json:"event_id"`
	Metric      string  `json:"metric"`
	Sensor      string  `json:"sensor,omitempty"`
	Aggregation string  `json:"aggregation"`
	Step        string  `json:"step"`
	From        string  `json:"from"`
	To          string  `json:"to"`
	Points      []Point `json:"points"`
}

// TelemetryService stores the uplink and answers telemetry queries.
type TelemetryService interface {
	// Ingest stores a batch from a device whose token is scoped to
	// eventID: each (device, stream, seq) once, rollups upserted if newer,
	// the device's status and last_seen_at updated, all in one
	// transaction. Returns EINVALID for a batch that fails Validate,
	// EFORBIDDEN when the device does not exist or is not a device of
	// eventID.
	Ingest(ctx context.Context, eventID string, b *IngestRequest) (*IngestResult, error)
	// FindTelemetry returns one series. Returns EINVALID for a bad filter,
	// ENOTFOUND when the event does not exist.
	FindTelemetry(ctx context.Context, f TelemetryFilter) (*Series, error)
	// FindDeviceStatus returns a device's status. Returns ENOTFOUND.
	FindDeviceStatus(ctx context.Context, deviceID string) (*DeviceStatus, error)
}
