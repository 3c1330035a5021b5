-- 0011-money: each city has its ISO 4217 currency; SKUs have a price per
-- currency; exchange rates are stored per day.
--
-- Existing data. Every amount stored before this migration (SKU list
-- prices, assortment price overrides, event costs, orders, payments) was in
-- the program currency, so no stored amount changes meaning:
--   * a city that already has an event keeps the program currency, with
--     every amount of its events as it was (an admin may switch it with
--     PATCH /api/v1/cities/{id} while none of its events has orders; the
--     event costs and price overrides then read in the new currency);
--   * a city without events takes its country's currency where the country
--     has one obvious currency (the table below, the same as
--     popkit.CountryCurrency); any other city takes the program currency.
-- Each SKU's list price and unit cost become its price row in the program
-- currency (sku_prices); SKUs have no price in other currencies until one
-- is set, and an order at an event in such a currency is refused naming
-- the line.

ALTER TABLE cities ADD COLUMN currency TEXT NOT NULL DEFAULT '';
UPDATE cities SET currency = (SELECT currency FROM program WHERE id = 1)
	WHERE id IN (SELECT city_id FROM events);
UPDATE cities SET currency = CASE country
	WHEN 'AT' THEN 'EUR' WHEN 'BE' THEN 'EUR' WHEN 'CY' THEN 'EUR' WHEN 'DE' THEN 'EUR'
	WHEN 'EE' THEN 'EUR' WHEN 'ES' THEN 'EUR' WHEN 'FI' THEN 'EUR' WHEN 'FR' THEN 'EUR'
	WHEN 'GR' THEN 'EUR' WHEN 'HR' THEN 'EUR' WHEN 'IE' THEN 'EUR' WHEN 'IT' THEN 'EUR'
	WHEN 'LT' THEN 'EUR' WHEN 'LU' THEN 'EUR' WHEN 'LV' THEN 'EUR' WHEN 'MT' THEN 'EUR'
	WHEN 'NL' THEN 'EUR' WHEN 'PT' THEN 'EUR' WHEN 'SI' THEN 'EUR' WHEN 'SK' THEN 'EUR'
	WHEN 'AE' THEN 'AED' WHEN 'AU' THEN 'AUD' WHEN 'BG' THEN 'BGN' WHEN 'BH' THEN 'BHD'
	WHEN 'BR' THEN 'BRL' WHEN 'CA' THEN 'CAD' WHEN 'CH' THEN 'CHF' WHEN 'CN' THEN 'CNY'
	WHEN 'CZ' THEN 'CZK' WHEN 'DK' THEN 'DKK' WHEN 'GB' THEN 'GBP' WHEN 'HK' THEN 'HKD'
	WHEN 'HU' THEN 'HUF' WHEN 'IL' THEN 'ILS' WHEN 'IN' THEN 'INR' WHEN 'IS' THEN 'ISK'
	WHEN 'JP' THEN 'JPY' WHEN 'KR' THEN 'KRW' WHEN 'KW' THEN 'KWD' WHEN 'MX' THEN 'MXN'
	WHEN 'NO' THEN 'NOK' WHEN 'NZ' THEN 'NZD' WHEN 'PL' THEN 'PLN' WHEN 'RO' THEN 'RON'
	WHEN 'SA' THEN 'SAR' WHEN 'SE' THEN 'SEK' WHEN 'SG' THEN 'SGD' WHEN 'TR' THEN 'TRY'
	WHEN 'TW' THEN 'TWD' WHEN 'US' THEN 'USD' WHEN 'ZA' THEN 'ZAR'
	ELSE (SELECT currency FROM program WHERE id = 1) END
	WHERE currency = '';

CREATE TABLE sku_prices (
	sku_id          TEXT   NOT NULL REFERENCES skus (id),
	currency        TEXT   NOT NULL,
	price_minor     INTEGER NOT NULL CHECK (price_minor >= 0),
	unit_cost_minor INTEGER NOT NULL CHECK (unit_cost_minor >= 0),
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (sku_id, currency)
);
INSERT INTO sku_prices (sku_id, currency, price_minor, unit_cost_minor, updated_at)
	SELECT id, (SELECT currency FROM program WHERE id = 1), price_minor, unit_cost_minor, updated_at FROM skus;

-- One rate per day and direction, as published: 1 base = rate quote. The
-- rate is kept as the decimal text it was given in, so that conversions are
-- exact (popkit.ConvertMinor); days are YYYY-MM-DD and sort as text.
CREATE TABLE fx_rates (
	day        TEXT NOT NULL,
	base       TEXT NOT NULL,
	quote      TEXT NOT NULL,
	rate       TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (day, base, quote)
);
CREATE INDEX fx_rates_pair_day ON fx_rates (base, quote, day);
