-- 0007-fulfilment (PostgreSQL): fulfilment nodes and their stock, the
-- delivery of same-day orders, fulfilment orders (one per order and node)
-- with their history, and shared bundles per node and dispatch wave.

CREATE TABLE nodes (
	id                    TEXT             PRIMARY KEY,
	name                  TEXT             NOT NULL,
	kind                  TEXT             NOT NULL,
	lat                   DOUBLE PRECISION NOT NULL,
	lon                   DOUBLE PRECISION NOT NULL,
	service_radius_km     DOUBLE PRECISION NOT NULL,
	time_zone             TEXT             NOT NULL,
	opening_hours         TEXT             NOT NULL, -- JSON array of fulfil.Opening
	same_day_cutoff       INTEGER          NOT NULL, -- minutes after local midnight
	capacity_per_hour     INTEGER          NOT NULL,
	capacity_per_day      INTEGER          NOT NULL,
	cold_chain            BOOLEAN          NOT NULL,
	makes                 TEXT             NOT NULL, -- JSON array of SKU ids
	cost_per_order_minor  BIGINT           NOT NULL,
	cost_per_bundle_minor BIGINT           NOT NULL,
	external              BOOLEAN          NOT NULL,
	created_at            TIMESTAMPTZ      NOT NULL,
	updated_at            TIMESTAMPTZ      NOT NULL
);

-- Stock at a node: on_hand units, of which reserved are held by open
-- fulfilment orders; available = on_hand − reserved.
CREATE TABLE node_stock (
	node_id    TEXT        NOT NULL REFERENCES nodes (id),
	sku_id     TEXT        NOT NULL REFERENCES skus (id),
	on_hand    BIGINT      NOT NULL CHECK (on_hand >= 0),
	reserved   BIGINT      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (node_id, sku_id),
	CHECK (reserved <= on_hand)
);

-- Delivery of same-day and next-day orders: to a point, or picked up at a
-- node. Empty for pos orders.
ALTER TABLE orders ADD COLUMN delivery_mode TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN delivery_lat DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN delivery_lon DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN pickup_node_id TEXT REFERENCES nodes (id);
ALTER TABLE orders ADD COLUMN routing_reasons TEXT NOT NULL DEFAULT ''; -- JSON: why no node could make same-day

CREATE TABLE bundles (
	id          TEXT        PRIMARY KEY,
	node_id     TEXT        NOT NULL REFERENCES nodes (id),
	wave_cutoff TIMESTAMPTZ NOT NULL, -- the wave's cutoff; the bundle locks then
	status      TEXT        NOT NULL, -- forming, locked, kitting, dispatched, delivered
	basis       TEXT        NOT NULL, -- units or weight
	cost_minor  BIGINT      NOT NULL,
	locked_at   TIMESTAMPTZ,
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX bundles_node_wave ON bundles (node_id, wave_cutoff);
CREATE INDEX bundles_status_cutoff ON bundles (status, wave_cutoff);

CREATE TABLE fulfilment_orders (
	id               TEXT        PRIMARY KEY,
	order_id         TEXT        NOT NULL REFERENCES orders (id),
	node_id          TEXT        NOT NULL REFERENCES nodes (id),
	status           TEXT        NOT NULL, -- fulfil.State
	held_from        TEXT        NOT NULL DEFAULT '', -- the state on_hold returns to
	perishable       BOOLEAN     NOT NULL,
	units            INTEGER     NOT NULL,
	weight_grams     BIGINT      NOT NULL,
	bundle_id        TEXT        REFERENCES bundles (id),
	cost_share_minor BIGINT      NOT NULL DEFAULT 0, -- this order's share of its bundle's cost
	failure_reason   TEXT        NOT NULL DEFAULT '',
	rerouted         BOOLEAN     NOT NULL DEFAULT FALSE, -- its lines were routed again (RerouteOrder)
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL,
	UNIQUE (order_id, node_id)
);
CREATE INDEX fulfilment_orders_order ON fulfilment_orders (order_id);
CREATE INDEX fulfilment_orders_node_status ON fulfilment_orders (node_id, status, id);
CREATE INDEX fulfilment_orders_bundle ON fulfilment_orders (bundle_id);
CREATE INDEX fulfilment_orders_node_created ON fulfilment_orders (node_id, created_at);

-- A bundle's members: one row per fulfilment order and brand (an order's
-- lines may span brands), each with its share of the bundle's cost; a
-- fulfilment order's cost_share_minor is the sum of its rows.
CREATE TABLE bundle_members (
	bundle_id           TEXT    NOT NULL REFERENCES bundles (id),
	fulfilment_order_id TEXT    NOT NULL REFERENCES fulfilment_orders (id),
	brand_id            TEXT    NOT NULL REFERENCES brands (id),
	units               INTEGER NOT NULL,
	weight_grams        BIGINT  NOT NULL,
	share_minor         BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (bundle_id, fulfilment_order_id, brand_id)
);

CREATE TABLE fulfilment_order_lines (
	fulfilment_order_id TEXT    NOT NULL REFERENCES fulfilment_orders (id),
	sku_id              TEXT    NOT NULL REFERENCES skus (id),
	quantity            INTEGER NOT NULL CHECK (quantity > 0),
	made                BOOLEAN NOT NULL, -- produced by the node rather than taken from its stock
	PRIMARY KEY (fulfilment_order_id, sku_id)
);

CREATE TABLE fulfilment_transitions (
	fulfilment_order_id TEXT        NOT NULL REFERENCES fulfilment_orders (id),
	seq                 INTEGER     NOT NULL,
	from_status         TEXT        NOT NULL,
	to_status           TEXT        NOT NULL,
	actor               TEXT        NOT NULL,
	reason              TEXT        NOT NULL,
	at                  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (fulfilment_order_id, seq)
);
