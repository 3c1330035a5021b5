-- 0012-kpi (SQLite): what the KPI engine needs (kpi.go in the root package).
--
-- sensor_roles marks a sensor of a device as an entrance or not; a
-- footfall sensor without a row counts as an entrance, so data stored
-- before this migration keeps its meaning.
--
-- The kpi_*_hourly tables are hourly aggregates kept by triggers in the
-- transaction that writes the raw rows (rollups, orders, order lines,
-- order status changes), whatever code path writes them: ingest, the order
-- services, reconciliation or a seeding program. Each trigger adds the new
-- row's contribution and subtracts the old one's, so concurrent writers
-- commute and a corrected rollup replaces its earlier version. Hours are
-- whole UTC hours numbered since the Unix epoch (hour = µs / 3,600,000,000);
-- the KPI queries map them onto venue-local hours.
--
-- A rollup minute counts as "open" when an uncancelled session of its event
-- covers it at the time the rollup is stored; sessions changed afterwards
-- do not move stored aggregates (see kpi.go).

ALTER TABLE telemetry_rollups ADD COLUMN dwell_stays INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_rollups ADD COLUMN dwell_little_seconds REAL NOT NULL DEFAULT 0;

CREATE TABLE sensor_roles (
	device_id  TEXT    NOT NULL REFERENCES devices (id),
	sensor     TEXT    NOT NULL,
	entrance   INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (device_id, sensor)
) WITHOUT ROWID;

CREATE TABLE kpi_telemetry_hourly (
	event_id        TEXT    NOT NULL,
	hour            INTEGER NOT NULL,
	device_id       TEXT    NOT NULL,
	sensor          TEXT    NOT NULL,
	kind            TEXT    NOT NULL,
	minutes         INTEGER NOT NULL DEFAULT 0,
	in_count        INTEGER NOT NULL DEFAULT 0,
	in_open         INTEGER NOT NULL DEFAULT 0,
	out_count       INTEGER NOT NULL DEFAULT 0,
	queue_samples   INTEGER NOT NULL DEFAULT 0,
	queue_p95_wsum  REAL    NOT NULL DEFAULT 0,
	queue_over_min  INTEGER NOT NULL DEFAULT 0,
	visitors        INTEGER NOT NULL DEFAULT 0,
	repeat_visitors INTEGER NOT NULL DEFAULT 0,
	suppressed_min  INTEGER NOT NULL DEFAULT 0,
	dwell_stays     INTEGER NOT NULL DEFAULT 0,
	dwell_wsum      REAL    NOT NULL DEFAULT 0,
	little_min      INTEGER NOT NULL DEFAULT 0,
	little_sum      REAL    NOT NULL DEFAULT 0,
	kwh             REAL    NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, device_id, sensor, kind)
) WITHOUT ROWID;

-- The queue threshold of queue_over_min is popkit.KPIQueueThreshold (5
-- people, by per-minute p95).
CREATE TRIGGER kpi_rollup_insert AFTER INSERT ON telemetry_rollups BEGIN
	INSERT INTO kpi_telemetry_hourly (event_id, hour, device_id, sensor, kind, minutes, in_count, in_open, out_count,
		queue_samples, queue_p95_wsum, queue_over_min, visitors, repeat_visitors, suppressed_min,
		dwell_stays, dwell_wsum, little_min, little_sum, kwh)
	SELECT NEW.event_id, NEW.minute / 3600000000, NEW.device_id, NEW.sensor, NEW.kind, 1, NEW.in_count,
		CASE WHEN EXISTS (SELECT 1 FROM event_sessions s WHERE s.event_id = NEW.event_id AND NOT s.cancelled
			AND s.start_utc <= NEW.minute AND s.end_utc > NEW.minute) THEN NEW.in_count ELSE 0 END,
		NEW.out_count, NEW.queue_samples, NEW.queue_p95 * NEW.queue_samples, CASE WHEN NEW.queue_p95 > 5 THEN 1 ELSE 0 END,
		NEW.visitors, NEW.repeat_visitors, CASE WHEN NEW.suppressed THEN 1 ELSE 0 END,
		CASE WHEN NEW.dwell_median_seconds > 0 THEN MAX(NEW.dwell_stays, 1) ELSE 0 END,
		CASE WHEN NEW.dwell_median_seconds > 0 THEN NEW.dwell_median_seconds * MAX(NEW.dwell_stays, 1) ELSE 0 END,
		CASE WHEN NEW.dwell_little_seconds > 0 THEN 1 ELSE 0 END, NEW.dwell_little_seconds, NEW.kwh
	WHERE true
	ON CONFLICT (event_id, hour, device_id, sensor, kind) DO UPDATE SET
		minutes = minutes + excluded.minutes, in_count = in_count + excluded.in_count, in_open = in_open + excluded.in_open,
		out_count = out_count + excluded.out_count, queue_samples = queue_samples + excluded.queue_samples,
		queue_p95_wsum = queue_p95_wsum + excluded.queue_p95_wsum, queue_over_min = queue_over_min + excluded.queue_over_min,
		visitors = visitors + excluded.visitors, repeat_visitors = repeat_visitors + excluded.repeat_visitors,
		suppressed_min = suppressed_min + excluded.suppressed_min, dwell_stays = dwell_stays + excluded.dwell_stays,
		dwell_wsum = dwell_wsum + excluded.dwell_wsum, little_min = little_min + excluded.little_min,
		little_sum = little_sum + excluded.little_sum, kwh = kwh + excluded.kwh;
END;

-- An update replaces a rollup (same key, newer version): take the old
-- version's contribution out; the insert trigger's upsert adds the new.
CREATE TRIGGER kpi_rollup_update AFTER UPDATE ON telemetry_rollups BEGIN
	UPDATE kpi_telemetry_hourly SET
		in_count = in_count - OLD.in_count + NEW.in_count,
		in_open = in_open
			- CASE WHEN EXISTS (SELECT 1 FROM event_sessions s WHERE s.event_id = OLD.event_id AND NOT s.cancelled
				AND s.start_utc <= OLD.minute AND s.end_utc > OLD.minute) THEN OLD.in_count ELSE 0 END
			+ CASE WHEN EXISTS (SELECT 1 FROM event_sessions s WHERE s.event_id = NEW.event_id AND NOT s.cancelled
				AND s.start_utc <= NEW.minute AND s.end_utc > NEW.minute) THEN NEW.in_count ELSE 0 END,
		out_count = out_count - OLD.out_count + NEW.out_count,
		queue_samples = queue_samples - OLD.queue_samples + NEW.queue_samples,
		queue_p95_wsum = queue_p95_wsum - OLD.queue_p95 * OLD.queue_samples + NEW.queue_p95 * NEW.queue_samples,
		queue_over_min = queue_over_min - (CASE WHEN OLD.queue_p95 > 5 THEN 1 ELSE 0 END) + (CASE WHEN NEW.queue_p95 > 5 THEN 1 ELSE 0 END),
		visitors = visitors - OLD.visitors + NEW.visitors,
		repeat_visitors = repeat_visitors - OLD.repeat_visitors + NEW.repeat_visitors,
		suppressed_min = suppressed_min - (CASE WHEN OLD.suppressed THEN 1 ELSE 0 END) + (CASE WHEN NEW.suppressed THEN 1 ELSE 0 END),
		dwell_stays = dwell_stays - (CASE WHEN OLD.dwell_median_seconds > 0 THEN MAX(OLD.dwell_stays, 1) ELSE 0 END)
			+ (CASE WHEN NEW.dwell_median_seconds > 0 THEN MAX(NEW.dwell_stays, 1) ELSE 0 END),
		dwell_wsum = dwell_wsum - (CASE WHEN OLD.dwell_median_seconds > 0 THEN OLD.dwell_median_seconds * MAX(OLD.dwell_stays, 1) ELSE 0 END)
			+ (CASE WHEN NEW.dwell_median_seconds > 0 THEN NEW.dwell_median_seconds * MAX(NEW.dwell_stays, 1) ELSE 0 END),
		little_min = little_min - (CASE WHEN OLD.dwell_little_seconds > 0 THEN 1 ELSE 0 END) + (CASE WHEN NEW.dwell_little_seconds > 0 THEN 1 ELSE 0 END),
		little_sum = little_sum - OLD.dwell_little_seconds + NEW.dwell_little_seconds,
		kwh = kwh - OLD.kwh + NEW.kwh
	WHERE event_id = NEW.event_id AND hour = NEW.minute / 3600000000 AND device_id = NEW.device_id
		AND sensor = NEW.sensor AND kind = NEW.kind;
END;

-- Orders by event, UTC hour of occurred_at, channel and status.
CREATE TABLE kpi_orders_hourly (
	event_id    TEXT    NOT NULL,
	hour        INTEGER NOT NULL,
	channel     TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	orders      INTEGER NOT NULL DEFAULT 0,
	total_minor INTEGER NOT NULL DEFAULT 0,
	cost_minor  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, channel, status)
) WITHOUT ROWID;

-- Order lines by event, UTC hour, SKU, channel and the order's status.
CREATE TABLE kpi_sku_sales_hourly (
	event_id    TEXT    NOT NULL,
	hour        INTEGER NOT NULL,
	sku_id      TEXT    NOT NULL,
	channel     TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	lines       INTEGER NOT NULL DEFAULT 0,
	units       INTEGER NOT NULL DEFAULT 0,
	total_minor INTEGER NOT NULL DEFAULT 0,
	cost_minor  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, sku_id, channel, status)
) WITHOUT ROWID;

CREATE TRIGGER kpi_order_insert AFTER INSERT ON orders BEGIN
	INSERT INTO kpi_orders_hourly (event_id, hour, channel, status, orders, total_minor, cost_minor)
	SELECT NEW.event_id, NEW.occurred_at / 3600000000, NEW.channel, NEW.status, 1, NEW.total_minor, NEW.cost_minor
	WHERE true
	ON CONFLICT (event_id, hour, channel, status) DO UPDATE SET orders = orders + 1,
		total_minor = total_minor + excluded.total_minor, cost_minor = cost_minor + excluded.cost_minor;
END;

-- An order changes its status (or, for a same-day order re-routed to next
-- day, its channel): move its counts and its lines' counts.
CREATE TRIGGER kpi_order_update AFTER UPDATE OF status, channel, total_minor, cost_minor, occurred_at ON orders
WHEN OLD.status <> NEW.status OR OLD.channel <> NEW.channel OR OLD.total_minor <> NEW.total_minor
	OR OLD.cost_minor <> NEW.cost_minor OR OLD.occurred_at <> NEW.occurred_at BEGIN
	UPDATE kpi_orders_hourly SET orders = orders - 1, total_minor = total_minor - OLD.total_minor, cost_minor = cost_minor - OLD.cost_minor
	WHERE event_id = OLD.event_id AND hour = OLD.occurred_at / 3600000000 AND channel = OLD.channel AND status = OLD.status;
	INSERT INTO kpi_orders_hourly (event_id, hour, channel, status, orders, total_minor, cost_minor)
	SELECT NEW.event_id, NEW.occurred_at / 3600000000, NEW.channel, NEW.status, 1, NEW.total_minor, NEW.cost_minor
	WHERE true
	ON CONFLICT (event_id, hour, channel, status) DO UPDATE SET orders = orders + 1,
		total_minor = total_minor + excluded.total_minor, cost_minor = cost_minor + excluded.cost_minor;
	UPDATE kpi_sku_sales_hourly SET
		lines = lines - (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = OLD.id AND l.sku_id = kpi_sku_sales_hourly.sku_id),
		units = units - (SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l WHERE l.order_id = OLD.id AND l.sku_id = kpi_sku_sales_hourly.sku_id),
		total_minor = total_minor - (SELECT COALESCE(SUM(l.quantity * l.unit_price_minor), 0) FROM order_lines l WHERE l.order_id = OLD.id AND l.sku_id = kpi_sku_sales_hourly.sku_id),
		cost_minor = cost_minor - (SELECT COALESCE(SUM(l.quantity * l.unit_cost_minor), 0) FROM order_lines l WHERE l.order_id = OLD.id AND l.sku_id = kpi_sku_sales_hourly.sku_id)
	WHERE event_id = OLD.event_id AND hour = OLD.occurred_at / 3600000000 AND channel = OLD.channel AND status = OLD.status
		AND sku_id IN (SELECT l.sku_id FROM order_lines l WHERE l.order_id = OLD.id);
	INSERT INTO kpi_sku_sales_hourly (event_id, hour, sku_id, channel, status, lines, units, total_minor, cost_minor)
	SELECT NEW.event_id, NEW.occurred_at / 3600000000, l.sku_id, NEW.channel, NEW.status, COUNT(*), SUM(l.quantity),
		SUM(l.quantity * l.unit_price_minor), SUM(l.quantity * l.unit_cost_minor)
	FROM order_lines l WHERE l.order_id = NEW.id GROUP BY l.sku_id
	ON CONFLICT (event_id, hour, sku_id, channel, status) DO UPDATE SET lines = lines + excluded.lines,
		units = units + excluded.units, total_minor = total_minor + excluded.total_minor, cost_minor = cost_minor + excluded.cost_minor;
END;

CREATE TRIGGER kpi_order_line_insert AFTER INSERT ON order_lines BEGIN
	INSERT INTO kpi_sku_sales_hourly (event_id, hour, sku_id, channel, status, lines, units, total_minor, cost_minor)
	SELECT o.event_id, o.occurred_at / 3600000000, NEW.sku_id, o.channel, o.status, 1, NEW.quantity,
		NEW.quantity * NEW.unit_price_minor, NEW.quantity * NEW.unit_cost_minor
	FROM orders o WHERE o.id = NEW.order_id
	ON CONFLICT (event_id, hour, sku_id, channel, status) DO UPDATE SET lines = lines + excluded.lines,
		units = units + excluded.units, total_minor = total_minor + excluded.total_minor, cost_minor = cost_minor + excluded.cost_minor;
END;

-- Same-day and next-day orders of an event by time, for the same-day KPIs.
CREATE INDEX orders_event_channel_occurred ON orders (event_id, channel, occurred_at);
