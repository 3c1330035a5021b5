-- 0002-telemetry (PostgreSQL): the edge uplink (see uplink.go and
-- telemetry.go in the root package).
--
-- telemetry_rollups holds the latest version of each per-minute rollup.
-- Its primary key leads with (event_id, kind, minute): a series query for
-- one event and metric over a time range is one contiguous range scan of
-- that B-tree whatever the table holds (a year of minutes for 1,000
-- events is ~0.5 billion rows per kind and sensor; the scan reads only the
-- rows of the range). The key also serves the upsert: a device belongs to
-- one event for life, so (event_id, kind, minute, device_id, sensor) is
-- unique exactly when (device_id, sensor, kind, minute) is. Range
-- partitioning by month was considered: it would make dropping old months
-- cheap, but nothing here expires telemetry yet, and the index alone keeps
-- queries independent of table size; it can be added later without
-- changing the queries.
--
-- Live ingest from many sites writes the rows of one event interleaved
-- with every other event's, so a plain index scan over 30 days of one
-- event reads one heap page per minute (~10,000 pages). The key therefore
-- INCLUDEs the columns the series aggregate: a series query is an
-- index-only scan over contiguous leaf pages once autovacuum has marked
-- the pages all-visible (PostgreSQL 13+ vacuums insert-only tables too).
-- The price is a larger index and slower rollup corrections, which are
-- rare (see BENCHMARKS.md for both sides).

CREATE TABLE ingest_streams (
	device_id     TEXT        NOT NULL REFERENCES devices (id),
	stream        TEXT        NOT NULL,
	ack_seq       BIGINT      NOT NULL,
	max_seq       BIGINT      NOT NULL,
	records       BIGINT      NOT NULL,
	first_seen_at TIMESTAMPTZ NOT NULL,
	last_batch_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (device_id, stream)
);

-- One row per uplink record ever received: the idempotency key. raw and
-- reason are kept only for rejected and unknown records.
CREATE TABLE ingest_records (
	device_id   TEXT        NOT NULL,
	stream      TEXT        NOT NULL,
	seq         BIGINT      NOT NULL,
	status      TEXT        NOT NULL,
	kind        TEXT        NOT NULL,
	reason      TEXT,
	raw         TEXT,
	received_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (device_id, stream, seq)
);
CREATE INDEX ingest_records_kept ON ingest_records (device_id, status) WHERE status <> 'stored';

CREATE TABLE device_telemetry (
	device_id        TEXT        PRIMARY KEY REFERENCES devices (id),
	last_seen_at     TIMESTAMPTZ NOT NULL,
	last_sent_at     TIMESTAMPTZ NOT NULL,
	clock_skew_us    BIGINT      NOT NULL,
	report           TEXT        NOT NULL,
	records_stored   BIGINT      NOT NULL DEFAULT 0,
	records_rejected BIGINT      NOT NULL DEFAULT 0,
	records_unknown  BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE telemetry_rollups (
	event_id             TEXT             NOT NULL,
	kind                 TEXT             NOT NULL,
	minute               TIMESTAMPTZ      NOT NULL,
	device_id            TEXT             NOT NULL,
	sensor               TEXT             NOT NULL,
	src_stream           TEXT             NOT NULL,
	src_seq              BIGINT           NOT NULL,
	in_count             BIGINT           NOT NULL,
	out_count            BIGINT           NOT NULL,
	occupancy_max        BIGINT           NOT NULL,
	queue_samples        BIGINT           NOT NULL,
	queue_p50            DOUBLE PRECISION NOT NULL,
	queue_p95            DOUBLE PRECISION NOT NULL,
	queue_max            DOUBLE PRECISION NOT NULL,
	open_tills           BIGINT           NOT NULL,
	visitors             BIGINT           NOT NULL,
	repeat_visitors      BIGINT           NOT NULL,
	dwell_median_seconds DOUBLE PRECISION NOT NULL,
	suppressed           BOOLEAN          NOT NULL,
	temp_samples         BIGINT           NOT NULL,
	temp_min             DOUBLE PRECISION NOT NULL,
	temp_max             DOUBLE PRECISION NOT NULL,
	temp_mean            DOUBLE PRECISION NOT NULL,
	kwh                  DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (event_id, kind, minute, device_id, sensor)
		INCLUDE (in_count, out_count, occupancy_max, queue_samples, queue_p50, queue_p95, queue_max,
			visitors, dwell_median_seconds, temp_samples, temp_min, temp_max, temp_mean, kwh)
);
