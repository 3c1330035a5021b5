// Package edge is the on-site agent of a pop-up (`popkit edge`): it takes
// sensor readings over local HTTP and MQTT, anonymises presence
// identifiers, keeps raw readings and per-minute rollups in a durable
// SQLite outbox, and ships the rollups to the control plane.
//
// # Inputs
//
// POST /v1/readings takes a JSON array or NDJSON of readings (schemas in
// edge/schema/*.json: footfall, occupancy, queue, presence, temperature,
// energy). The answer is 202 {"accepted": n} once every reading is durable;
// when some readings are invalid the valid ones are stored and the answer
// is a 422 problem+json whose "accepted" member counts them and whose
// "errors" list each refused reading's index and reason. A body over
// max_body_bytes or with more than 20,000 readings is refused whole (413);
// a full outbox refuses input with 507 and raises the
// popkit_edge_outbox_full alarm. A request with an Idempotency-Key header
// that repeats an earlier one (same key, same body, within a day) is
// answered as before with Idempotent-Replayed: true and stored only once,
// so a sensor that lost its 202 may resend. MQTT messages (one reading, an array or
// NDJSON) on the configured topics are taken with QoS 1 in a persistent
// session and acked to the broker only after they are durable; a message
// redelivered after a crash between commit and ack is recognised (an HMAC
// of it is kept for a day) and not counted twice.
//
// # Durability and the loss window
//
// The outbox is SQLite in WAL mode with synchronous=FULL, written by one
// goroutine that group-commits concurrent requests: every request waiting
// at that moment shares one transaction and one fsync, and each is
// answered only after the commit. A reading is therefore either
// acknowledged (202 or MQTT ack) and on disk, or not acknowledged: the
// loss window is exactly the input in flight that has not been answered,
// which the sender still holds and must retry. An unreadable outbox at
// start is moved to quarantine/ beside it and a fresh outbox with a new
// stream is started; the loss (file, bytes, reason) is logged, counted in
// popkit_edge_quarantined_outboxes and reported to the server.
//
// # Rollups, corrections and the uplink
//
// Each reading updates the state of its (sensor, kind, minute) in the same
// transaction that stores it. Once a minute is over (plus rollup_delay)
// every changed minute becomes an uplink record with the next seq of the
// stream; a late reading for a minute already uplinked changes the minute
// again and it is sent again with a higher seq, which the server keeps in
// place of the earlier one (a correction, never an addition). The uplink
// streams fixed-size batches from the file (never the whole backlog),
// gzips them, retries with exponential backoff and jitter, and deletes only
// records the server acknowledged (popkit.IngestResult.AckSeq).
//
// # Privacy
//
// Presence identifiers are replaced on arrival by HMAC-SHA256 under the
// key of the current epoch (key_epoch, 30 days by default), which lives in
// data_dir/keys only and is overwritten and deleted when the epoch ends;
// presence state of ended epochs is deleted with it. Dwell counts below k
// (k_anonymity, 5) are sent as 0 with Suppressed set. Raw readings are
// kept for retention (7 days) and then deleted.
//
// # Offline POS
//
// GET /pos serves the till page (embedded HTML, CSS and JS; no external
// assets, large touch targets for a phone or tablet); its JSON API is GET
// /pos/api/items (assortment with local stock, unsynced totals, caps),
// POST /pos/api/sales (ring up a sale), GET /pos/api/sales[/{id}]
// (receipts with their sync state) and POST /pos/api/refresh. The agent
// fetches the event's assortment with its device token at start and every
// pos.refresh while online and caches it in the outbox file, so the till
// keeps selling offline and across restarts. Local stock is the server's
// available stock at the last fetch minus local sales the server had not
// acknowledged when that fetch started.
//
// A sale is checked (SKUs in the cached assortment with a known price,
// quantity > 0, amount == total), given a UUIDv7 (or the till's own id,
// which makes a retry return the stored receipt), and stored as a
// popkit.RecordSale uplink record of class sale together with its receipt
// and stock decrement in one fsync'd transaction; the till is answered
// only after it. A full outbox refuses the sale (507) with stock unchanged.
// A sale that takes local stock below zero is refused (409, with the
// shortfalls) until the cashier confirms it with allow_oversell: the goods
// are in the customer's hands, the server accepts the sale and opens an
// oversell exception. Payment methods: cash; external (a card terminal,
// with its reference); card_offline (a card taken while the terminal
// cannot reach its bank), capped per payment (pos.card_offline_max_tx) and
// in total over the device's unacknowledged offline card payments
// (pos.card_offline_max_total): over a cap the sale is refused with a 422
// naming it, and the total falls as the server acknowledges sales. The
// till takes no "card" payments: popkit does not process cards, so a card
// paid online is an external payment with the terminal's reference.
//
// # Size limit
//
// max_bytes bounds raw readings plus waiting uplink records. Past it the
// oldest raw readings are dropped (popkit_edge_readings_dropped_total);
// uplink records (rollups, and the sale class reserved for the POS) are
// never dropped: when only they are left, new input is refused instead.
package edge
