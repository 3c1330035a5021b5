package popkit

import (
	"time"
)

// The uplink is how an edge agent ships its outbox to the control plane:
// POST /api/v1/ingest with a gzip'd JSON IngestBatch and the device's token.
// Every record carries (device, stream, seq). Seq starts at 1 and grows by
// one per record within a stream; a stream is one outbox database, so an
// agent that has to start a fresh outbox (after quarantining a corrupt one)
// starts a new stream instead of reusing sequence numbers. The server
// stores each (device, stream, seq) once and answers with the highest seq
// up to which it holds every record of the stream; the agent deletes only
// records at or below that acknowledgement.

// Uplink record kinds.
const (
	RecordRollup = "rollup" // one minute of one metric of one sensor
	RecordSale   = "sale"   // one sale rung up at the agent's offline till
)

// Rollup kinds: what a per-minute aggregate measures.
const (
	RollupFootfall    = "footfall"    // In, Out entries at a door or line
	RollupOccupancy   = "occupancy"   // OccupancyMax
	RollupQueue       = "queue"       // queue length quantiles
	RollupDwell       = "dwell"       // dwell estimates and distinct visitors
	RollupTemperature = "temperature" // fridge or cold box, °C
	RollupEnergy      = "energy"      // kWh consumed in the minute
)

// Rollup is the per-minute aggregate of one sensor at one event: the unit
// the edge uplinks. When late readings change a minute that was already
// uplinked, the agent sends the whole minute again as a new record (a
// correction, with a higher seq); the server keeps, for each (device,
// sensor, kind, minute), the record with the highest (stream, seq), so a
// correction replaces and never adds.
type Rollup struct {
	EventID string    `json:"event_id"`
	Sensor  string    `json:"sensor"` // door, line, till, fridge or meter id
	Kind    string    `json:"kind"`   // one of the Rollup* kinds
	Minute  time.Time `json:"minute"` // UTC start of the minute, by the device clock

	In  int64 `json:"in,omitempty"`
	Out int64 `json:"out,omitempty"`

	OccupancyMax int64 `json:"occupancy_max,omitempty"`

	QueueSamples int     `json:"queue_samples,omitempty"`
	QueueP50     float64 `json:"queue_p50,omitempty"`
	QueueP95     float64 `json:"queue_p95,omitempty"`
	QueueMax     float64 `json:"queue_max,omitempty"`
	OpenTills    int     `json:"open_tills,omitempty"`

	// Dwell: Visitors and Repeat are distinct pseudonyms (repeat: seen on
	// an earlier day of the key epoch). Counts below the program's
	// k-anonymity threshold are sent as 0 with Suppressed set.
	Visitors           int64   `json:"visitors,omitempty"`
	RepeatVisitors     int64   `json:"repeat_visitors,omitempty"`
	DwellMedianSeconds float64 `json:"dwell_median_seconds,omitempty"`
	// DwellStays is the number of stays of at least 30 s that ended in the
	// minute, the stays DwellMedianSeconds is the median of. A minute in
	// which no stay ended has neither (both absent): it carries no dwell
	// value, not a dwell of 0 s. Optional for older agents: the server then
	// counts a minute with a positive median as one stay.
	DwellStays int64 `json:"dwell_stays,omitempty"`
	// DwellLittleSeconds is the dwell estimate by Little's law over the
	// minute: mean occupancy (pseudonyms inside) ÷ arrival rate. Optional:
	// added by the edge agent; suppressed with the other counts below k.
	DwellLittleSeconds float64 `json:"dwell_little_seconds,omitempty"`
	Suppressed         bool    `json:"suppressed,omitempty"`

	TempSamples int     `json:"temp_samples,omitempty"`
	TempMin     float64 `json:"temp_min,omitempty"`
	TempMax     float64 `json:"temp_max,omitempty"`
	TempMean    float64 `json:"temp_mean,omitempty"`

	KWh float64 `json:"kwh,omitempty"` // energy consumed in the minute
}

// UplinkRecord is one outbox entry as it travels to the server.
type UplinkRecord struct {
	Seq    int64   `json:"seq"`
	Kind   string  `json:"kind"` // RecordRollup; later kinds add fields
	Rollup *Rollup `json:"rollup,omitempty"`
	Sale   *Sale   `json:"sale,omitempty"`
}

// Sale is one sale rung up at an edge agent's till (the offline POS), as it
// travels in the uplink. The agent never drops a sale: it sits in the
// outbox's sale class until the server acknowledges it. On the server a
// sale becomes a pos order, idempotent by ID (a UUIDv7 made by the till), at
// its original OccurredAt; its stock is subtracted in occurred_at order (see
// ReconcileService) and never rejected for want of stock: the goods have
// already left the shop.
type Sale struct {
	ID         string      `json:"id"`
	EventID    string      `json:"event_id"`
	Till       string      `json:"till"`  // the till's label on the agent, e.g. "till-1"
	Lines      []OrderLine `json:"lines"` // SKU, quantity and the till's unit price; unit cost is set by the server
	Payment    Payment     `json:"payment"`
	OccurredAt time.Time   `json:"occurred_at"` // the till's clock when the sale was completed
}

// AgentReport is the agent's view of itself, sent with every batch and
// shown by GET /api/v1/devices/{id}/status.
type AgentReport struct {
	Version       string           `json:"version"`
	BacklogCount  int64            `json:"backlog_count"` // records waiting in the outbox
	BacklogBytes  int64            `json:"backlog_bytes"`
	Dropped       map[string]int64 `json:"dropped,omitempty"`  // by class, since the agent started its outbox
	Rejected      int64            `json:"rejected,omitempty"` // invalid readings refused at input
	Quarantined   int64            `json:"quarantined,omitempty"`
	LastReadingAt *time.Time       `json:"last_reading_at,omitempty"`
}

// IngestBatch is the body of POST /api/v1/ingest.
type IngestBatch struct {
	DeviceID string         `json:"device_id"`
	Stream   string         `json:"stream"`  // UUIDv7 of the outbox
	SentAt   time.Time      `json:"sent_at"` // device clock when sent
	Report   AgentReport    `json:"report"`
	Records  []UplinkRecord `json:"records"`
}

// MaxIngestRecords bounds the records of one batch.
const MaxIngestRecords = 5000

// IngestResult is the answer to an IngestBatch.
type IngestResult struct {
	Stream     string  `json:"stream"`
	AckSeq     int64   `json:"ack_seq"` // every record of the stream up to here is stored
	Stored     int     `json:"stored"`  // new records stored by this call
	Duplicates int     `json:"duplicates"`
	ClockSkew  float64 `json:"clock_skew_seconds"` // device clock minus server clock
}

// MaxClockSkew is how far a device clock may be off before the device is
// flagged.
const MaxClockSkew = 2 * time.Minute
