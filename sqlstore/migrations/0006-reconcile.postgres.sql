-- 0006-reconcile (PostgreSQL): the stock ledger of events, physical stock
-- counts, and the exceptions of offline-sale reconciliation (see
-- popkit/reconcile.go for the rules).

CREATE TABLE stock_movements (
	id          TEXT    PRIMARY KEY,
	event_id    TEXT    NOT NULL REFERENCES events (id),
	sku_id      TEXT    NOT NULL REFERENCES skus (id),
	brand_id    TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	occurred_at TIMESTAMPTZ NOT NULL,
	quantity    BIGINT  NOT NULL,
	delta       BIGINT  NOT NULL,
	ref         TEXT    NOT NULL,
	recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_movements_item ON stock_movements (event_id, sku_id, kind, occurred_at);
CREATE INDEX stock_movements_event ON stock_movements (event_id, id);

CREATE TABLE stock_counts (
	id         TEXT    PRIMARY KEY,
	event_id   TEXT    NOT NULL REFERENCES events (id),
	counted_at TIMESTAMPTZ NOT NULL,
	actor      TEXT    NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE stock_count_lines (
	count_id TEXT    NOT NULL REFERENCES stock_counts (id),
	line_no  INTEGER NOT NULL,
	sku_id   TEXT    NOT NULL REFERENCES skus (id),
	quantity BIGINT  NOT NULL CHECK (quantity >= 0),
	on_hand  BIGINT  NOT NULL,
	applied  BOOLEAN NOT NULL,
	PRIMARY KEY (count_id, line_no)
);

CREATE TABLE reconcile_exceptions (
	id                  TEXT    PRIMARY KEY,
	event_id            TEXT    NOT NULL REFERENCES events (id),
	kind                TEXT    NOT NULL,
	sale_id             TEXT    NOT NULL,
	order_id            TEXT    REFERENCES orders (id),
	sku_id              TEXT    NOT NULL, -- may name a SKU that does not exist (unknown_sku)
	brand_id            TEXT,
	shortfall           BIGINT  NOT NULL,
	unit_price_minor    BIGINT  NOT NULL,
	detail              TEXT    NOT NULL,
	occurred_at         TIMESTAMPTZ NOT NULL,
	status              TEXT    NOT NULL,
	resolution_kind     TEXT,
	resolution_node_id  TEXT,
	resolution_sku_id   TEXT,
	resolution_quantity BIGINT,
	refund_amount_minor BIGINT,
	resolution_note     TEXT,
	resolved_by         TEXT,
	resolved_at         TIMESTAMPTZ,
	created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX reconcile_exceptions_event ON reconcile_exceptions (event_id, id);
CREATE INDEX reconcile_exceptions_order ON reconcile_exceptions (order_id);
