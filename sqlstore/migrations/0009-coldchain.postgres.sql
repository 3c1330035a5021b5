-- 0009-coldchain (PostgreSQL): temperature sensors bound to fulfilment nodes,
-- the excursions detected from their rollups, and the fulfilment orders
-- each excursion put on hold (with the state to return them to).

CREATE TABLE sensor_bindings (
	id          TEXT    PRIMARY KEY,
	node_id     TEXT    NOT NULL REFERENCES nodes (id),
	cold_box    TEXT    NOT NULL DEFAULT '',
	device_id   TEXT    NOT NULL REFERENCES devices (id),
	sensor      TEXT    NOT NULL,
	limit_c     DOUBLE PRECISION NOT NULL,
	min_minutes INTEGER NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	UNIQUE (device_id, sensor)
);
CREATE INDEX sensor_bindings_node ON sensor_bindings (node_id, id);

-- binding_id has no foreign key: excursions outlive their binding.
CREATE TABLE excursions (
	id                TEXT    PRIMARY KEY,
	binding_id        TEXT    NOT NULL,
	node_id           TEXT    NOT NULL REFERENCES nodes (id),
	cold_box          TEXT    NOT NULL,
	device_id         TEXT    NOT NULL,
	sensor            TEXT    NOT NULL,
	limit_c           DOUBLE PRECISION NOT NULL,
	started_at        TIMESTAMPTZ NOT NULL, -- first minute above the limit
	last_minute       TIMESTAMPTZ NOT NULL, -- last minute seen above the limit
	ended_at          TIMESTAMPTZ,          -- first minute back at or under the limit
	max_c             DOUBLE PRECISION NOT NULL,
	status            TEXT    NOT NULL, -- active, ended, resolved
	held_orders       INTEGER NOT NULL,
	resolution_action TEXT    NOT NULL DEFAULT '',
	resolution_note   TEXT    NOT NULL DEFAULT '',
	resolution_actor  TEXT    NOT NULL DEFAULT '',
	resolved_at       TIMESTAMPTZ,
	written_off_units BIGINT  NOT NULL DEFAULT 0,
	created_at        TIMESTAMPTZ NOT NULL,
	updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX excursions_binding_start ON excursions (binding_id, started_at);
CREATE INDEX excursions_node_status ON excursions (node_id, status, id);
CREATE INDEX excursions_status ON excursions (status, id);

CREATE TABLE excursion_holds (
	excursion_id        TEXT NOT NULL REFERENCES excursions (id),
	fulfilment_order_id TEXT NOT NULL REFERENCES fulfilment_orders (id),
	held_from           TEXT NOT NULL,
	PRIMARY KEY (excursion_id, fulfilment_order_id)
);
