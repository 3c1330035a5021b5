-- 0002-telemetry (SQLite): the edge uplink (see uplink.go and telemetry.go
-- in the root package). Times are INTEGER microseconds since the Unix epoch
-- (UTC). The tables are WITHOUT ROWID, so each is stored in its primary key
-- order: the rollups of one event and kind lie together in minute order,
-- and a series query is one contiguous range read. The PostgreSQL migration
-- explains the key.

CREATE TABLE ingest_streams (
	device_id     TEXT        NOT NULL REFERENCES devices (id),
	stream        TEXT        NOT NULL,
	ack_seq       INTEGER     NOT NULL,
	max_seq       INTEGER     NOT NULL,
	records       INTEGER     NOT NULL,
	first_seen_at INTEGER     NOT NULL,
	last_batch_at INTEGER     NOT NULL,
	PRIMARY KEY (device_id, stream)
) WITHOUT ROWID;

-- One row per uplink record ever received: the idempotency key. raw and
-- reason are kept only for rejected and unknown records.
CREATE TABLE ingest_records (
	device_id   TEXT        NOT NULL,
	stream      TEXT        NOT NULL,
	seq         INTEGER     NOT NULL,
	status      TEXT        NOT NULL,
	kind        TEXT        NOT NULL,
	reason      TEXT,
	raw         TEXT,
	received_at INTEGER     NOT NULL,
	PRIMARY KEY (device_id, stream, seq)
) WITHOUT ROWID;
CREATE INDEX ingest_records_kept ON ingest_records (device_id, status) WHERE status <> 'stored';

CREATE TABLE device_telemetry (
	device_id        TEXT        PRIMARY KEY REFERENCES devices (id),
	last_seen_at     INTEGER     NOT NULL,
	last_sent_at     INTEGER     NOT NULL,
	clock_skew_us    INTEGER     NOT NULL,
	report           TEXT        NOT NULL,
	records_stored   INTEGER     NOT NULL DEFAULT 0,
	records_rejected INTEGER     NOT NULL DEFAULT 0,
	records_unknown  INTEGER     NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE telemetry_rollups (
	event_id             TEXT             NOT NULL,
	kind                 TEXT             NOT NULL,
	minute               INTEGER          NOT NULL,
	device_id            TEXT             NOT NULL,
	sensor               TEXT             NOT NULL,
	src_stream           TEXT             NOT NULL,
	src_seq              INTEGER          NOT NULL,
	in_count             INTEGER          NOT NULL,
	out_count            INTEGER          NOT NULL,
	occupancy_max        INTEGER          NOT NULL,
	queue_samples        INTEGER          NOT NULL,
	queue_p50            REAL             NOT NULL,
	queue_p95            REAL             NOT NULL,
	queue_max            REAL             NOT NULL,
	open_tills           INTEGER          NOT NULL,
	visitors             INTEGER          NOT NULL,
	repeat_visitors      INTEGER          NOT NULL,
	dwell_median_seconds REAL             NOT NULL,
	suppressed           INTEGER          NOT NULL,
	temp_samples         INTEGER          NOT NULL,
	temp_min             REAL             NOT NULL,
	temp_max             REAL             NOT NULL,
	temp_mean            REAL             NOT NULL,
	kwh                  REAL             NOT NULL,
	PRIMARY KEY (event_id, kind, minute, device_id, sensor)
) WITHOUT ROWID;
