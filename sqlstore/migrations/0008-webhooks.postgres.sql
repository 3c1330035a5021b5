-- 0008-webhooks (PostgreSQL): the partner endpoint of a fulfilment node and the
-- log of webhook deliveries to it.

-- A node's partner endpoint. The signing secret is stored as given (not
-- hashed): every delivery is signed with it (HMAC-SHA256, Standard
-- Webhooks), so it must be readable; it is shown to the admin only once,
-- when set, and never returned by a read.
CREATE TABLE webhook_endpoints (
	node_id    TEXT    PRIMARY KEY REFERENCES nodes (id),
	url        TEXT    NOT NULL,
	secret     TEXT    NOT NULL, -- "whsec_" + base64 of 32 random bytes
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

-- One webhook message and the state of its delivery. id is the
-- webhook-id header: a partner that sees it twice knows it is a retry.
-- payload is the exact body sent on every attempt.
CREATE TABLE webhook_deliveries (
	id              TEXT    PRIMARY KEY,
	node_id         TEXT    NOT NULL REFERENCES nodes (id),
	event_type      TEXT    NOT NULL,
	payload         TEXT    NOT NULL,
	status          TEXT    NOT NULL, -- pending, delivered, failed
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_status     INTEGER NOT NULL DEFAULT 0, -- HTTP status of the last attempt; 0 when none answered
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_at TIMESTAMPTZ,
	created_at      TIMESTAMPTZ NOT NULL,
	delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_node ON webhook_deliveries (node_id, id);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id);
