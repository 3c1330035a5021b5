-- 0010-exception-sale: an unknown_sku exception keeps the sale it stopped
-- (JSON of popkit.Sale), so that once its SKUs are in the assortment the
-- sale can be applied by resolving the exception with "apply".

ALTER TABLE reconcile_exceptions ADD COLUMN sale TEXT;
