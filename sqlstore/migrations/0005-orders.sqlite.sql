-- 0005-orders (SQLite): orders, their lines and status history, and the
-- reserved stock of assortment items (available = stock − reserved).

ALTER TABLE assortment_items ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= stock);

CREATE TABLE orders (
	id                   TEXT    PRIMARY KEY,
	event_id             TEXT    NOT NULL REFERENCES events (id),
	channel              TEXT    NOT NULL,
	status               TEXT    NOT NULL,
	payment_method       TEXT    NOT NULL,
	payment_amount_minor INTEGER NOT NULL,
	payment_external_ref TEXT    NOT NULL,
	total_minor          INTEGER NOT NULL,
	cost_minor           INTEGER NOT NULL,
	occurred_at          INTEGER NOT NULL,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL
);
CREATE INDEX orders_event_id ON orders (event_id, id);
CREATE INDEX orders_status_id ON orders (status, id);

CREATE TABLE order_lines (
	order_id         TEXT    NOT NULL REFERENCES orders (id),
	line_no          INTEGER NOT NULL,
	sku_id           TEXT    NOT NULL REFERENCES skus (id),
	quantity         INTEGER NOT NULL CHECK (quantity > 0),
	unit_price_minor INTEGER NOT NULL,
	unit_cost_minor  INTEGER NOT NULL,
	PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE order_transitions (
	order_id    TEXT    NOT NULL REFERENCES orders (id),
	seq         INTEGER NOT NULL,
	from_status TEXT    NOT NULL,
	to_status   TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	reason      TEXT    NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
