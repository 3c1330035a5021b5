package popkit

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Money in popkit is an int64 number of minor units of an ISO 4217
// currency: cents of EUR, pence of GBP, yen of JPY (which has no minor
// unit), fils of BHD (a thousandth of a dinar). Each city has its currency
// and everything sold or spent there is in it: SKU prices at the city's
// events, assortment overrides, event costs, orders and payments. The
// program has a reporting currency (Program.Currency); amounts are turned
// into it only by ConvertMinor with a dated FXRate, never at an assumed 1.0.
//
// Rounding: ConvertMinor computes the exact rational result and rounds it
// to the nearest minor unit of the target currency, ties to even (banker's
// rounding), so rounding errors over many amounts have no bias. One
// conversion is off by at most half a minor unit; converting n parts one by
// one and adding them differs from converting their sum by at most
// ⌊(n+1)/2⌋ minor units. Where parts must add up exactly (a city's revenue
// split into events, say), ConvertParts converts the sum and hands it out
// by largest remainder, so the parts add up to ConvertMinor of the sum to
// the minor unit.

// currencyExponents maps ISO 4217 codes of currencies in circulation to
// their number of minor-unit digits (the "E" column of the ISO 4217 table).
var currencyExponents = map[string]int{
	// No minor unit.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
	"XAF": 0, "XOF": 0, "XPF": 0,
	// Three digits.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Four digits (units of account).
	"CLF": 4, "UYW": 4,
	// Two digits.
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2,
	"AUD": 2, "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2,
	"BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2,
	"BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CNY": 2, "COP": 2,
	"CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2,
	"GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GTQ": 2, "GYD": 2, "HKD": 2,
	"HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IRR": 2,
	"JMD": 2, "KES": 2, "KGS": 2, "KHR": 2, "KYD": 2, "KZT": 2, "LAK": 2,
	"LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "MAD": 2, "MDL": 2, "MGA": 2,
	"MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2,
	"MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2,
	"NOK": 2, "NPR": 2, "NZD": 2, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2,
	"PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "SAR": 2,
	"SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2,
	"SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
	"TZS": 2, "UAH": 2, "USD": 2, "UYU": 2, "UZS": 2, "VES": 2, "WST": 2,
	"XCD": 2, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// CurrencyExponent returns the number of minor-unit digits of an ISO 4217
// currency (JPY 0, EUR 2, BHD 3) and whether the code is known. Codes are
// upper case.
func CurrencyExponent(code string) (int, bool) {
	e, ok := currencyExponents[code]
	return e, ok
}

// ValidCurrency reports whether code is a known ISO 4217 code in upper case.
func ValidCurrency(code string) bool {
	_, ok := currencyExponents[code]
	return ok
}

// countryCurrencies maps ISO 3166-1 alpha-2 codes to the one currency the
// country uses, for the countries a program is likely to run pop-ups in.
var countryCurrencies = map[string]string{
	"AT": "EUR", "BE": "EUR", "CY": "EUR", "DE": "EUR", "EE": "EUR", "ES": "EUR",
	"FI": "EUR", "FR": "EUR", "GR": "EUR", "HR": "EUR", "IE": "EUR", "IT": "EUR",
	"LT": "EUR", "LU": "EUR", "LV": "EUR", "MT": "EUR", "NL": "EUR", "PT": "EUR",
	"SI": "EUR", "SK": "EUR",
	"AE": "AED", "AU": "AUD", "BG": "BGN", "BH": "BHD", "BR": "BRL", "CA": "CAD",
	"CH": "CHF", "CN": "CNY", "CZ": "CZK", "DK": "DKK", "GB": "GBP", "HK": "HKD",
	"HU": "HUF", "IL": "ILS", "IN": "INR", "IS": "ISK", "JP": "JPY", "KR": "KRW",
	"KW": "KWD", "MX": "MXN", "NO": "NOK", "NZ": "NZD", "PL": "PLN", "RO": "RON",
	"SA": "SAR", "SE": "SEK", "SG": "SGD", "TR": "TRY", "TW": "TWD", "US": "USD",
	"ZA": "ZAR",
}

// CountryCurrency returns the currency of an ISO 3166-1 alpha-2 country
// code and whether the table knows it. It is a default for new cities and
// for migrating existing ones, not a rule: a city may set another.
func CountryCurrency(country string) (string, bool) {
	c, ok := countryCurrencies[country]
	return c, ok
}

// CurrencyMessage is the validation message for a bad currency field.
const CurrencyMessage = "must be an ISO 4217 currency code in upper case, e.g. EUR"

// DayLayout is the layout of a calendar day (YYYY-MM-DD).
const DayLayout = "2006-01-02"

// ValidDay reports whether s is a calendar day written YYYY-MM-DD.
func ValidDay(s string) bool {
	t, err := time.Parse(DayLayout, s)
	return err == nil && t.Format(DayLayout) == s
}

// FXRate is an exchange rate of one day: 1 unit (major, not minor) of Base
// is worth Rate units of Quote. ECB reference rates are stored as published,
// with Base EUR ("1 EUR = 0.8571 GBP" is Base EUR, Quote GBP, Rate
// "0.8571").
type FXRate struct {
	Day   string `json:"day"`   // YYYY-MM-DD, the day the rate applies to
	Base  string `json:"base"`  // ISO 4217
	Quote string `json:"quote"` // ISO 4217
	// Rate is the price of one Base in Quote: a positive decimal as
	// published ("1.0827"). A rate RateOn derives (Derived not empty) may
	// be an exact fraction "p/q" instead; ParseRate reads both.
	Rate string `json:"rate"`
	// Derived is empty for a stored rate. RateOn sets it to "inverse" when
	// it answered from the stored Quote→Base rate, and to "cross:XXX" when
	// it combined two rates through the currency XXX.
	Derived   string    `json:"derived,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxRateDigits bounds the significant digits of a stored rate.
const MaxRateDigits = 24

// Validate checks a rate before it is stored: a real day, two different
// known currencies, and a positive decimal rate (no exponent, no fraction).
func (r *FXRate) Validate() error {
	var v Validation
	v.Check(ValidDay(r.Day), "day", "must be a day written YYYY-MM-DD")
	v.Check(ValidCurrency(r.Base), "base", CurrencyMessage)
	v.Check(ValidCurrency(r.Quote), "quote", CurrencyMessage)
	if r.Base == r.Quote && ValidCurrency(r.Base) {
		v.Add("quote", "must differ from base")
	}
	v.Check(validDecimal(r.Rate), "rate", "must be a positive decimal number such as 1.0827 (at most %d digits)", MaxRateDigits)
	return v.Err()
}

// validDecimal reports whether s is a plain positive decimal: digits, at
// most one point, not zero.
func validDecimal(s string) bool {
	digits, nonzero, point := 0, false, false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
			nonzero = nonzero || c != '0'
		case c == '.' && !point && i > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0 && digits <= MaxRateDigits && nonzero
}

// ParseRate returns the rate as an exact rational number of Quote per
// Base. Returns EINVALID when Rate is not a positive decimal or fraction.
func (r *FXRate) ParseRate() (*big.Rat, error) {
	q, ok := new(big.Rat).SetString(r.Rate)
	if !ok || q.Sign() <= 0 || strings.ContainsAny(r.Rate, "eE") {
		return nil, InvalidField("rate", "must be a positive decimal number")
	}
	return q, nil
}

// ConvertMinor converts amount minor units of from into minor units of to
// at rate, exactly, rounding the result to the nearest minor unit of to,
// ties to even. The rate must join the two currencies in either direction:
// Base from and Quote to (multiply), or Base to and Quote from (divide).
// When from equals to the amount is returned unchanged and rate may be nil.
// Returns EINVALID for an unknown currency, a nil or unrelated rate, and
// ECONFLICT when the result does not fit in an int64.
func ConvertMinor(amount int64, from, to string, rate *FXRate) (int64, error) {
	q, err := exactConvert(amount, from, to, rate)
	if err != nil {
		return 0, err
	}
	return roundHalfEven(q)
}

// ConvertParts converts each of parts from from into to so that the
// results add up exactly to ConvertMinor of their sum: the sum is converted
// and rounded once, and handed out by largest remainder of each part's
// exact converted value (ties to the earlier part). Each result is within
// one minor unit of its part's exact value. Parts may be negative (a
// refund); the sum must fit in an int64.
func ConvertParts(parts []int64, from, to string, rate *FXRate) ([]int64, error) {
	var sum int64
	for _, p := range parts {
		s := sum + p
		if (p > 0 && s < sum) || (p < 0 && s > sum) {
			return nil, Errorf(ECONFLICT, "sum of amounts overflows")
		}
		sum = s
	}
	exact := make([]*big.Rat, len(parts))
	for i, p := range parts {
		q, err := exactConvert(p, from, to, rate)
		if err != nil {
			return nil, err
		}
		exact[i] = q
	}
	total, err := ConvertMinor(sum, from, to, rate)
	if err != nil {
		return nil, err
	}
	return allocateRats(total, exact)
}

// AllocateMinor splits total into len(weights) integer shares proportional
// to the weights by largest remainder: every share is the floor of its
// exact value, and the units left over go one each to the largest
// fractional remainders (ties to the earlier share). The shares add up to
// total exactly. Weights must not be negative and must not all be zero.
func AllocateMinor(total int64, weights []int64) ([]int64, error) {
	var sum big.Int
	for _, w := range weights {
		if w < 0 {
			return nil, InvalidField("weights", "must not be negative")
		}
		sum.Add(&sum, big.NewInt(w))
	}
	if sum.Sign() == 0 {
		return nil, InvalidField("weights", "must not all be zero")
	}
	exact := make([]*big.Rat, len(weights))
	for i, w := range weights {
		q := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(total), big.NewInt(w)), &sum)
		exact[i] = q
	}
	return allocateRats(total, exact)
}

// allocateRats rounds exact values whose sum is within len(exact) units of
// total down to integers and hands the difference out by largest remainder
// (or takes it back from the smallest remainders when the floors overshoot).
func allocateRats(total int64, exact []*big.Rat) ([]int64, error) {
	out := make([]int64, len(exact))
	rem := make([]*big.Rat, len(exact))
	var floorSum int64
	for i, q := range exact {
		f := new(big.Int).Div(q.Num(), q.Denom()) // Euclidean: floor for a positive denominator
		if !f.IsInt64() {
			return nil, Errorf(ECONFLICT, "converted amount does not fit in 64 bits")
		}
		out[i] = f.Int64()
		rem[i] = new(big.Rat).Sub(q, new(big.Rat).SetInt(f))
		floorSum += out[i]
	}
	left := total - floorSum
	if left < 0 || left > int64(len(exact)) {
		return nil, Errorf(EINTERNAL, "allocation out of range: %d units for %d parts", left, len(exact))
	}
	order := make([]int, len(exact))
	for i := range order {
		order[i] = i
	}
	// Largest remainder first; ties keep the earlier part first.
	slices.SortStableFunc(order, func(a, b int) int { return rem[b].Cmp(rem[a]) })
	for k := int64(0); k < left; k++ {
		out[order[k]]++
	}
	return out, nil
}

// exactConvert returns amount in to's minor units as an exact rational.
func exactConvert(amount int64, from, to string, rate *FXRate) (*big.Rat, error) {
	ef, ok := CurrencyExponent(from)
	if !ok {
		return nil, InvalidField("from", CurrencyMessage)
	}
	et, ok := CurrencyExponent(to)
	if !ok {
		return nil, InvalidField("to", CurrencyMessage)
	}
	q := new(big.Rat).SetInt64(amount)
	if from != to {
		if rate == nil {
			return nil, InvalidField("rate", "is required to convert %s to %s", from, to)
		}
		r, err := rate.ParseRate()
		if err != nil {
			return nil, err
		}
		switch {
		case rate.Base == from && rate.Quote == to:
			q.Mul(q, r)
		case rate.Base == to && rate.Quote == from:
			q.Quo(q, r)
		default:
			return nil, InvalidField("rate", "converts %s to %s, not %s to %s", rate.Base, rate.Quote, from, to)
		}
	}
	// minor(to) = minor(from) / 10^ef × rate × 10^et
	if d := et - ef; d > 0 {
		q.Mul(q, new(big.Rat).SetInt(pow10(d)))
	} else if d < 0 {
		q.Quo(q, new(big.Rat).SetInt(pow10(-d)))
	}
	return q, nil
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// roundHalfEven rounds q to the nearest integer, ties to the even one.
func roundHalfEven(q *big.Rat) (int64, error) {
	num, den := q.Num(), q.Denom()
	fl, m := new(big.Int).DivMod(num, den, new(big.Int)) // fl = floor, 0 <= m < den
	twice := new(big.Int).Lsh(m, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && fl.Bit(0) == 1:
		fl.Add(fl, big.NewInt(1))
	}
	if !fl.IsInt64() {
		return 0, Errorf(ECONFLICT, "converted amount does not fit in 64 bits")
	}
	return fl.Int64(), nil
}

// FXRateFilter selects stored rates. Zero fields do not filter; From and
// To are days (YYYY-MM-DD), both inclusive.
type FXRateFilter struct {
	From, To    string
	Base, Quote string
	// Limit is 1..MaxPageLimit, 0 for DefaultPageLimit; After is the cursor
	// returned with the previous page. Rates are listed by day, base, quote.
	Limit int
	After string
}

// Validate checks the filter.
func (f FXRateFilter) Validate() error {
	var v Validation
	v.Check(f.From == "" || ValidDay(f.From), "from", "must be a day written YYYY-MM-DD")
	v.Check(f.To == "" || ValidDay(f.To), "to", "must be a day written YYYY-MM-DD")
	v.Check(f.From == "" || f.To == "" || f.From <= f.To, "to", "must not be before from")
	v.Check(f.Base == "" || ValidCurrency(f.Base), "base", CurrencyMessage)
	v.Check(f.Quote == "" || ValidCurrency(f.Quote), "quote", CurrencyMessage)
	v.Check(f.Limit >= 0 && f.Limit <= MaxPageLimit, "limit", "must be between 1 and %d", MaxPageLimit)
	return v.Err()
}

// FXService stores dated exchange rates and answers which rate applies on
// a day.
type FXService interface {
	// RateOn returns the rate converting base into quote that applies on
	// day: the rate stored for that day, else the latest earlier one (the
	// returned Day says which day it is). Lookup order, each taking the
	// latest day not after day: (1) the stored base→quote rate; (2) the
	// stored quote→base rate, returned with Base and Quote as asked, the
	// exact reciprocal as Rate ("p/q") and Derived "inverse" — when both
	// directions are stored the later day wins, the stored direction on a
	// tie; (3) a cross through EUR (the ECB publishes every rate against
	// EUR), Rate the exact product of the two legs, Day the earlier of the
	// two legs' days, Derived "cross:EUR". base equal to quote answers Rate
	// "1" for day. Returns ENOTFOUND when no such rate exists on or before
	// day, EINVALID for a bad day or currency.
	RateOn(ctx context.Context, day string, base, quote string) (*FXRate, error)
	// SetRate stores a rate, replacing the one stored for the same day,
	// base and quote. Returns EINVALID.
	SetRate(ctx context.Context, r *FXRate) error
	// FindRates returns a page of stored rates ordered by day, base and
	// quote, and the cursor of the next page ("" when this is the last).
	// Returns EINVALID for a bad filter or cursor.
	FindRates(ctx context.Context, f FXRateFilter) ([]*FXRate, string, error)
}

// SKUPrice is the price of a SKU in one currency: the price at events in
// cities with that currency (unless an assortment item overrides it) and
// the unit cost of goods sold there.
type SKUPrice struct {
	SKUID         string    `json:"sku_id"`
	Currency      string    `json:"currency"`
	PriceMinor    int64     `json:"price_minor"`
	UnitCostMinor int64     `json:"unit_cost_minor"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate checks a SKU price before it is stored.
func (p *SKUPrice) Validate() error {
	var v Validation
	v.Check(ValidID(p.SKUID), "sku_id", "must be a SKU id")
	v.Check(ValidCurrency(p.Currency), "currency", CurrencyMessage)
	v.Check(p.PriceMinor >= 0 && p.PriceMinor <= MaxUnitPrice, "price_minor", "must be between 0 and %d", int64(MaxUnitPrice))
	v.Check(p.UnitCostMinor >= 0 && p.UnitCostMinor <= MaxUnitPrice, "unit_cost_minor", "must be between 0 and %d", int64(MaxUnitPrice))
	return v.Err()
}

// SKUPriceService manages the prices of SKUs per currency. A SKU's
// PriceMinor and UnitCostMinor are its price in the program currency and
// are the same as its SKUPrice row in that currency: setting either sets
// the other.
type SKUPriceService interface {
	// FindSKUPrices returns every price of a SKU, ordered by currency.
	// Returns ENOTFOUND when the SKU does not exist.
	FindSKUPrices(ctx context.Context, skuID string) ([]*SKUPrice, error)
	// SetSKUPrice stores the price of a SKU in a currency, replacing any.
	// Returns EINVALID, ENOTFOUND when the SKU does not exist.
	SetSKUPrice(ctx context.Context, p *SKUPrice) error
	// DeleteSKUPrice removes the price of a SKU in a currency. Returns
	// ENOTFOUND, and ECONFLICT for the program currency's price (that one
	// is the SKU's list price and always exists).
	DeleteSKUPrice(ctx context.Context, skuID, currency string) error
}

// FormatMinor formats an amount of minor units in currency as a plain decimal
// with the currency's digits ("12.50 EUR", "1200 JPY", "-0.125 BHD").
func FormatMinor(amount int64, currency string) string {
	e, ok := CurrencyExponent(currency)
	if !ok {
		e = 2
	}
	sign := ""
	u := uint64(amount)
	if amount < 0 {
		sign, u = "-", uint64(-amount)
	}
	s := fmt.Sprintf("%0*d", e+1, u)
	if e > 0 {
		s = s[:len(s)-e] + "." + s[len(s)-e:]
	}
	return sign + s + " " + currency
}
