-- 0010-exceptions: an unknown_sku exception keeps the sale it stopped
-- (JSON of popkit.Sale), so that once its SKUs are in the assortment the
-- sale can be applied by resolving the exception with "apply"; an oversell
-- resolved by backorder names the fulfilment order that ships the units.

ALTER TABLE reconcile_exceptions ADD COLUMN sale TEXT;
ALTER TABLE reconcile_exceptions ADD COLUMN resolution_fulfilment_order_id TEXT REFERENCES fulfilment_orders (id);
