-- 0012-kpi (PostgreSQL): what the KPI engine needs (kpi.go in the root
-- package). The SQLite migration explains the tables; here the triggers
-- are PL/pgSQL functions. Hours are whole UTC hours since the Unix epoch.

ALTER TABLE telemetry_rollups ADD COLUMN dwell_stays BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_rollups ADD COLUMN dwell_little_seconds DOUBLE PRECISION NOT NULL DEFAULT 0;

CREATE TABLE sensor_roles (
	device_id  TEXT        NOT NULL REFERENCES devices (id),
	sensor     TEXT        NOT NULL,
	entrance   BOOLEAN     NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (device_id, sensor)
);

CREATE TABLE kpi_telemetry_hourly (
	event_id        TEXT             NOT NULL,
	hour            BIGINT           NOT NULL,
	device_id       TEXT             NOT NULL,
	sensor          TEXT             NOT NULL,
	kind            TEXT             NOT NULL,
	minutes         BIGINT           NOT NULL DEFAULT 0,
	in_count        BIGINT           NOT NULL DEFAULT 0,
	in_open         BIGINT           NOT NULL DEFAULT 0,
	out_count       BIGINT           NOT NULL DEFAULT 0,
	queue_samples   BIGINT           NOT NULL DEFAULT 0,
	queue_p95_wsum  DOUBLE PRECISION NOT NULL DEFAULT 0,
	queue_over_min  BIGINT           NOT NULL DEFAULT 0,
	visitors        BIGINT           NOT NULL DEFAULT 0,
	repeat_visitors BIGINT           NOT NULL DEFAULT 0,
	suppressed_min  BIGINT           NOT NULL DEFAULT 0,
	dwell_stays     BIGINT           NOT NULL DEFAULT 0,
	dwell_wsum      DOUBLE PRECISION NOT NULL DEFAULT 0,
	little_min      BIGINT           NOT NULL DEFAULT 0,
	little_sum      DOUBLE PRECISION NOT NULL DEFAULT 0,
	kwh             DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, device_id, sensor, kind)
);

CREATE FUNCTION kpi_hour(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS
	$$ SELECT floor(extract(epoch FROM t) / 3600)::bigint $$;

-- kpi_rollup_add adds (sign = 1) or takes out (sign = -1) one rollup's
-- contribution. The queue threshold is popkit.KPIQueueThreshold (5).
CREATE FUNCTION kpi_rollup_add(r telemetry_rollups, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	is_open BOOLEAN;
	stays BIGINT := 0;
BEGIN
	SELECT EXISTS (SELECT 1 FROM event_sessions s WHERE s.event_id = r.event_id AND NOT s.cancelled
		AND s.start_utc <= r.minute AND s.end_utc > r.minute) INTO is_open;
	IF r.dwell_median_seconds > 0 THEN
		stays := greatest(r.dwell_stays, 1);
	END IF;
	INSERT INTO kpi_telemetry_hourly AS h (event_id, hour, device_id, sensor, kind, minutes, in_count, in_open, out_count,
		queue_samples, queue_p95_wsum, queue_over_min, visitors, repeat_visitors, suppressed_min,
		dwell_stays, dwell_wsum, little_min, little_sum, kwh)
	VALUES (r.event_id, kpi_hour(r.minute), r.device_id, r.sensor, r.kind, sign, sign * r.in_count,
		CASE WHEN is_open THEN sign * r.in_count ELSE 0 END, sign * r.out_count,
		sign * r.queue_samples, sign * r.queue_p95 * r.queue_samples, CASE WHEN r.queue_p95 > 5 THEN sign ELSE 0 END,
		sign * r.visitors, sign * r.repeat_visitors, CASE WHEN r.suppressed THEN sign ELSE 0 END,
		sign * stays, sign * r.dwell_median_seconds * stays,
		CASE WHEN r.dwell_little_seconds > 0 THEN sign ELSE 0 END, sign * r.dwell_little_seconds, sign * r.kwh)
	ON CONFLICT (event_id, hour, device_id, sensor, kind) DO UPDATE SET
		minutes = h.minutes + excluded.minutes, in_count = h.in_count + excluded.in_count, in_open = h.in_open + excluded.in_open,
		out_count = h.out_count + excluded.out_count, queue_samples = h.queue_samples + excluded.queue_samples,
		queue_p95_wsum = h.queue_p95_wsum + excluded.queue_p95_wsum, queue_over_min = h.queue_over_min + excluded.queue_over_min,
		visitors = h.visitors + excluded.visitors, repeat_visitors = h.repeat_visitors + excluded.repeat_visitors,
		suppressed_min = h.suppressed_min + excluded.suppressed_min, dwell_stays = h.dwell_stays + excluded.dwell_stays,
		dwell_wsum = h.dwell_wsum + excluded.dwell_wsum, little_min = h.little_min + excluded.little_min,
		little_sum = h.little_sum + excluded.little_sum, kwh = h.kwh + excluded.kwh;
END $$;

CREATE FUNCTION kpi_rollup_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		PERFORM kpi_rollup_add(OLD, -1);
	END IF;
	PERFORM kpi_rollup_add(NEW, 1);
	RETURN NULL;
END $$;

CREATE TRIGGER kpi_rollup AFTER INSERT OR UPDATE ON telemetry_rollups
	FOR EACH ROW EXECUTE FUNCTION kpi_rollup_trigger();

CREATE TABLE kpi_orders_hourly (
	event_id    TEXT   NOT NULL,
	hour        BIGINT NOT NULL,
	channel     TEXT   NOT NULL,
	status      TEXT   NOT NULL,
	orders      BIGINT NOT NULL DEFAULT 0,
	total_minor BIGINT NOT NULL DEFAULT 0,
	cost_minor  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, channel, status)
);

CREATE TABLE kpi_sku_sales_hourly (
	event_id    TEXT   NOT NULL,
	hour        BIGINT NOT NULL,
	sku_id      TEXT   NOT NULL,
	channel     TEXT   NOT NULL,
	status      TEXT   NOT NULL,
	lines       BIGINT NOT NULL DEFAULT 0,
	units       BIGINT NOT NULL DEFAULT 0,
	total_minor BIGINT NOT NULL DEFAULT 0,
	cost_minor  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, hour, sku_id, channel, status)
);

-- kpi_order_add adds (sign = 1) or takes out (sign = -1) one order and,
-- when with_lines, its stored lines.
CREATE FUNCTION kpi_order_add(o orders, sign BIGINT, with_lines BOOLEAN) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO kpi_orders_hourly AS h (event_id, hour, channel, status, orders, total_minor, cost_minor)
	VALUES (o.event_id, kpi_hour(o.occurred_at), o.channel, o.status, sign, sign * o.total_minor, sign * o.cost_minor)
	ON CONFLICT (event_id, hour, channel, status) DO UPDATE SET orders = h.orders + excluded.orders,
		total_minor = h.total_minor + excluded.total_minor, cost_minor = h.cost_minor + excluded.cost_minor;
	IF with_lines THEN
		INSERT INTO kpi_sku_sales_hourly AS h (event_id, hour, sku_id, channel, status, lines, units, total_minor, cost_minor)
		SELECT o.event_id, kpi_hour(o.occurred_at), l.sku_id, o.channel, o.status, sign * COUNT(*), sign * SUM(l.quantity),
			sign * SUM(l.quantity * l.unit_price_minor), sign * SUM(l.quantity * l.unit_cost_minor)
		FROM order_lines l WHERE l.order_id = o.id GROUP BY l.sku_id
		ON CONFLICT (event_id, hour, sku_id, channel, status) DO UPDATE SET lines = h.lines + excluded.lines,
			units = h.units + excluded.units, total_minor = h.total_minor + excluded.total_minor,
			cost_minor = h.cost_minor + excluded.cost_minor;
	END IF;
END $$;

CREATE FUNCTION kpi_order_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF OLD.status = NEW.status AND OLD.channel = NEW.channel AND OLD.total_minor = NEW.total_minor
			AND OLD.cost_minor = NEW.cost_minor AND OLD.occurred_at = NEW.occurred_at THEN
			RETURN NULL;
		END IF;
		PERFORM kpi_order_add(OLD, -1, true);
		PERFORM kpi_order_add(NEW, 1, true);
	ELSE
		PERFORM kpi_order_add(NEW, 1, false);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER kpi_order AFTER INSERT OR UPDATE ON orders
	FOR EACH ROW EXECUTE FUNCTION kpi_order_trigger();

CREATE FUNCTION kpi_order_line_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO kpi_sku_sales_hourly AS h (event_id, hour, sku_id, channel, status, lines, units, total_minor, cost_minor)
	SELECT o.event_id, kpi_hour(o.occurred_at), NEW.sku_id, o.channel, o.status, 1, NEW.quantity,
		NEW.quantity * NEW.unit_price_minor, NEW.quantity * NEW.unit_cost_minor
	FROM orders o WHERE o.id = NEW.order_id
	ON CONFLICT (event_id, hour, sku_id, channel, status) DO UPDATE SET lines = h.lines + excluded.lines,
		units = h.units + excluded.units, total_minor = h.total_minor + excluded.total_minor,
		cost_minor = h.cost_minor + excluded.cost_minor;
	RETURN NULL;
END $$;

CREATE TRIGGER kpi_order_line AFTER INSERT ON order_lines
	FOR EACH ROW EXECUTE FUNCTION kpi_order_line_trigger();

-- Same-day and next-day orders of an event by time, for the same-day KPIs.
CREATE INDEX orders_event_channel_occurred ON orders (event_id, channel, occurred_at);
