-- 0001-foundation (PostgreSQL): the catalogue, events, devices, tokens and
-- idempotency keys. Times are TIMESTAMPTZ; ids are UUIDv7 strings kept as
-- TEXT; every number a client sets is BIGINT so that no input overflows.

CREATE TABLE program (
	id          INTEGER     PRIMARY KEY CHECK (id = 1),
	name        TEXT        NOT NULL,
	currency    TEXT        NOT NULL,
	k_anonymity BIGINT      NOT NULL,
	epoch_days  BIGINT      NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
INSERT INTO program (id, name, currency, k_anonymity, epoch_days, updated_at)
VALUES (1, 'popkit program', 'EUR', 5, 30, now());

CREATE TABLE cities (
	id         TEXT        PRIMARY KEY,
	name       TEXT        NOT NULL,
	country    TEXT        NOT NULL,
	time_zone  TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX cities_country_id ON cities (country, id);

CREATE TABLE venues (
	id         TEXT             PRIMARY KEY,
	city_id    TEXT             NOT NULL REFERENCES cities (id),
	name       TEXT             NOT NULL,
	address    TEXT             NOT NULL,
	lat        DOUBLE PRECISION NOT NULL,
	lon        DOUBLE PRECISION NOT NULL,
	time_zone  TEXT             NOT NULL,
	created_at TIMESTAMPTZ      NOT NULL,
	updated_at TIMESTAMPTZ      NOT NULL
);
CREATE INDEX venues_city_id_id ON venues (city_id, id);

CREATE TABLE brands (
	id            TEXT        PRIMARY KEY,
	name          TEXT        NOT NULL,
	slug          TEXT        NOT NULL UNIQUE,
	contact_email TEXT        NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE events (
	id                      TEXT        PRIMARY KEY,
	venue_id                TEXT        NOT NULL REFERENCES venues (id),
	city_id                 TEXT        NOT NULL REFERENCES cities (id),
	time_zone               TEXT        NOT NULL,
	name                    TEXT        NOT NULL,
	slug                    TEXT        NOT NULL UNIQUE,
	status                  TEXT        NOT NULL,
	rent_minor              BIGINT      NOT NULL,
	staff_minor             BIGINT      NOT NULL,
	transport_minor         BIGINT      NOT NULL,
	energy_tariff_minor_kwh BIGINT      NOT NULL,
	starts_at               TIMESTAMPTZ NOT NULL,
	ends_at                 TIMESTAMPTZ NOT NULL,
	created_at              TIMESTAMPTZ NOT NULL,
	updated_at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_city_id_id ON events (city_id, id);
CREATE INDEX events_venue_id_id ON events (venue_id, id);
CREATE INDEX events_status_id ON events (status, id);
CREATE INDEX events_starts_at ON events (starts_at);
CREATE INDEX events_ends_at ON events (ends_at);

CREATE TABLE event_sessions (
	event_id    TEXT        NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	start_local TEXT        NOT NULL,
	end_local   TEXT        NOT NULL,
	start_utc   TIMESTAMPTZ NOT NULL,
	end_utc     TIMESTAMPTZ NOT NULL,
	cancelled   BOOLEAN     NOT NULL DEFAULT false,
	PRIMARY KEY (event_id, start_utc)
);

CREATE TABLE event_brands (
	event_id TEXT   NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	brand_id TEXT   NOT NULL REFERENCES brands (id),
	position BIGINT NOT NULL,
	PRIMARY KEY (event_id, brand_id)
);
CREATE INDEX event_brands_brand_id ON event_brands (brand_id, event_id);

CREATE TABLE skus (
	id              TEXT        PRIMARY KEY,
	brand_id        TEXT        NOT NULL REFERENCES brands (id),
	code            TEXT        NOT NULL,
	name            TEXT        NOT NULL,
	price_minor     BIGINT      NOT NULL,
	unit_cost_minor BIGINT      NOT NULL,
	perishable      BOOLEAN     NOT NULL,
	weight_grams    BIGINT      NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	updated_at      TIMESTAMPTZ NOT NULL,
	UNIQUE (brand_id, code)
);
CREATE INDEX skus_brand_id_id ON skus (brand_id, id);

-- An item's brand must take part in the event: the composite key into
-- event_brands keeps that true even if a check in Go were missed.
CREATE TABLE assortment_items (
	event_id    TEXT        NOT NULL REFERENCES events (id),
	sku_id      TEXT        NOT NULL REFERENCES skus (id),
	brand_id    TEXT        NOT NULL,
	price_minor BIGINT,
	stock       BIGINT      NOT NULL CHECK (stock >= 0),
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (event_id, sku_id),
	FOREIGN KEY (event_id, brand_id) REFERENCES event_brands (event_id, brand_id)
);
CREATE INDEX assortment_items_event_brand ON assortment_items (event_id, brand_id, sku_id);

CREATE TABLE devices (
	id           TEXT        PRIMARY KEY,
	event_id     TEXT        NOT NULL REFERENCES events (id),
	name         TEXT        NOT NULL,
	last_seen_at TIMESTAMPTZ,
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX devices_event_id_id ON devices (event_id, id);

CREATE TABLE tokens (
	id           TEXT        PRIMARY KEY,
	name         TEXT        NOT NULL,
	role         TEXT        NOT NULL,
	brand_id     TEXT        REFERENCES brands (id),
	event_id     TEXT        REFERENCES events (id),
	node_id      TEXT,
	prefix       TEXT        NOT NULL,
	hash         TEXT        NOT NULL UNIQUE,
	created_at   TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ
);
CREATE INDEX tokens_role_id ON tokens (role, id);

CREATE TABLE idempotency_keys (
	token_id     TEXT        NOT NULL,
	key          TEXT        NOT NULL,
	method       TEXT        NOT NULL,
	path         TEXT        NOT NULL,
	request_hash TEXT        NOT NULL,
	status       BIGINT      NOT NULL DEFAULT 0,
	content_type TEXT        NOT NULL DEFAULT '',
	location     TEXT        NOT NULL DEFAULT '',
	body         BYTEA,
	created_at   TIMESTAMPTZ NOT NULL,
	completed_at TIMESTAMPTZ,
	PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
