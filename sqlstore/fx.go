package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"github.com/popkit/popkit"
)

var _ popkit.FXService = (*DB)(nil)

// fxPivot is the currency RateOn crosses through when neither direction
// of a pair is stored: the ECB publishes every reference rate against it.
const fxPivot = "EUR"

// SetRate stores a rate, replacing the one of the same day, base and
// quote. Returns EINVALID.
func (db *DB) SetRate(ctx context.Context, r *popkit.FXRate) error {
	if err := r.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r.Derived, r.UpdatedAt = "", tx.now
	if _, err := tx.exec(ctx, `INSERT INTO fx_rates (day, base, quote, rate, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (day, base, quote) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at`,
		r.Day, r.Base, r.Quote, r.Rate, tx.timeArg(r.UpdatedAt)); err != nil {
		return wrap("upsert fx rate", err)
	}
	return tx.commit()
}

// SetRates stores many rates in one transaction, as SetRate does each: all
// or none. Returns EINVALID naming the index of the first bad rate.
func (db *DB) SetRates(ctx context.Context, rates []*popkit.FXRate) error {
	for i, r := range rates {
		if err := r.Validate(); err != nil {
			f := popkit.ErrorFields(err)
			for j := range f {
				f[j].Field = "rates[" + strconv.Itoa(i) + "]." + f[j].Field
			}
			return &popkit.Error{Code: popkit.EINVALID, Message: "invalid rate at index " + strconv.Itoa(i), Fields: f}
		}
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Many rows a statement; a day, base and quote named twice keeps the
	// last, as one SetRate after another would.
	last := make(map[[3]string]int, len(rates))
	for i, r := range rates {
		r.Derived, r.UpdatedAt = "", tx.now
		last[[3]string{r.Day, r.Base, r.Quote}] = i
	}
	const perStatement = 500
	var q strings.Builder
	args := make([]any, 0, 5*perStatement)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		q.WriteString(` ON CONFLICT (day, base, quote) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at`)
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return wrap("upsert fx rates", err)
		}
		q.Reset()
		args = args[:0]
		return nil
	}
	for i, r := range rates {
		if last[[3]string{r.Day, r.Base, r.Quote}] != i {
			continue
		}
		if len(args) == 0 {
			q.WriteString(`INSERT INTO fx_rates (day, base, quote, rate, updated_at) VALUES (?, ?, ?, ?, ?)`)
		} else {
			q.WriteString(`, (?, ?, ?, ?, ?)`)
		}
		args = append(args, r.Day, r.Base, r.Quote, r.Rate, tx.timeArg(r.UpdatedAt))
		if len(args) == 5*perStatement {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return tx.commit()
}

// RateOn returns the rate converting base into quote on day: stored,
// inverse, or crossed through EUR, each the latest not after day (see
// popkit.FXService). Returns ENOTFOUND, EINVALID.
func (db *DB) RateOn(ctx context.Context, day, base, quote string) (*popkit.FXRate, error) {
	var v popkit.Validation
	v.Check(popkit.ValidDay(day), "day", "must be a day written YYYY-MM-DD")
	v.Check(popkit.ValidCurrency(base), "base", popkit.CurrencyMessage)
	v.Check(popkit.ValidCurrency(quote), "quote", popkit.CurrencyMessage)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if base == quote {
		return &popkit.FXRate{Day: day, Base: base, Quote: quote, Rate: "1"}, nil
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := directRate(ctx, tx, day, base, quote)
	if err == nil || popkit.ErrorCode(err) != popkit.ENOTFOUND || base == fxPivot || quote == fxPivot {
		return r, err
	}
	leg1, err := directRate(ctx, tx, day, base, fxPivot)
	if err != nil {
		return nil, noRate(day, base, quote)
	}
	leg2, err := directRate(ctx, tx, day, fxPivot, quote)
	if err != nil {
		return nil, noRate(day, base, quote)
	}
	q1, err := leg1.ParseRate()
	if err != nil {
		return nil, err
	}
	q2, err := leg2.ParseRate()
	if err != nil {
		return nil, err
	}
	out := &popkit.FXRate{Day: min(leg1.Day, leg2.Day), Base: base, Quote: quote,
		Rate: ratString(new(big.Rat).Mul(q1, q2)), Derived: "cross:" + fxPivot, UpdatedAt: leg1.UpdatedAt}
	if leg2.UpdatedAt.After(out.UpdatedAt) {
		out.UpdatedAt = leg2.UpdatedAt
	}
	return out, nil
}

// directRate returns the latest rate not after day stored for base→quote
// or, inverted, for quote→base; the later day wins, the asked direction
// on a tie.
func directRate(ctx context.Context, tx *txn, day, base, quote string) (*popkit.FXRate, error) {
	fwd, err := latestRate(ctx, tx, day, base, quote)
	if err != nil {
		return nil, err
	}
	inv, err := latestRate(ctx, tx, day, quote, base)
	if err != nil {
		return nil, err
	}
	switch {
	case fwd != nil && (inv == nil || fwd.Day >= inv.Day):
		return fwd, nil
	case inv != nil:
		q, err := inv.ParseRate()
		if err != nil {
			return nil, err
		}
		return &popkit.FXRate{Day: inv.Day, Base: base, Quote: quote, Rate: ratString(q.Inv(q)), Derived: "inverse", UpdatedAt: inv.UpdatedAt}, nil
	}
	return nil, noRate(day, base, quote)
}

func latestRate(ctx context.Context, tx *txn, day, base, quote string) (*popkit.FXRate, error) {
	r, err := scanFXRate(tx.queryRow(ctx, `SELECT day, base, quote, rate, updated_at FROM fx_rates
		WHERE base = ? AND quote = ? AND day <= ? ORDER BY day DESC LIMIT 1`, base, quote, day))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, wrap("find fx rate", err)
	}
	return r, nil
}

func noRate(day, base, quote string) error {
	return popkit.Errorf(popkit.ENOTFOUND, "no %s/%s exchange rate on or before %s", base, quote, day)
}

// ratString writes q as a decimal when it is one exactly (its denominator
// is 2^a·5^b, which needs max(a, b) digits), else as the fraction p/q.
func ratString(q *big.Rat) string {
	d := new(big.Int).Set(q.Denom())
	digits := 0
	for _, f := range []*big.Int{big.NewInt(2), big.NewInt(5)} {
		n := 0
		for m := new(big.Int); m.Mod(d, f).Sign() == 0; n++ {
			d.Quo(d, f)
		}
		digits = max(digits, n)
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return q.String()
	}
	return q.FloatString(digits)
}

// FindRates returns a page of stored rates ordered by day, base and quote.
// Returns EINVALID for a bad filter or cursor.
func (db *DB) FindRates(ctx context.Context, f popkit.FXRateFilter) ([]*popkit.FXRate, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit == 0 {
		limit = popkit.DefaultPageLimit
	}
	var w where
	if f.From != "" {
		w.and("day >= ?", f.From)
	}
	if f.To != "" {
		w.and("day <= ?", f.To)
	}
	if f.Base != "" {
		w.and("base = ?", f.Base)
	}
	if f.Quote != "" {
		w.and("quote = ?", f.Quote)
	}
	if f.After != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.After)
		parts := strings.Split(string(b), "|")
		if err != nil || len(parts) != 3 || !popkit.ValidDay(parts[0]) || !popkit.ValidCurrency(parts[1]) || !popkit.ValidCurrency(parts[2]) {
			return nil, "", popkit.InvalidField("cursor", "is not a cursor returned by this API")
		}
		w.and("(day > ? OR (day = ? AND (base > ? OR (base = ? AND quote > ?))))", parts[0], parts[0], parts[1], parts[1], parts[2])
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	rows, err := tx.query(ctx, `SELECT day, base, quote, rate, updated_at FROM fx_rates`+w.String()+` ORDER BY day, base, quote LIMIT ?`,
		append(w.args, limit+1)...)
	if err != nil {
		return nil, "", wrap("find fx rates", err)
	}
	rates, err := collect(rows, scanFXRate)
	if err != nil {
		return nil, "", wrap("find fx rates", err)
	}
	next := ""
	if len(rates) > limit {
		rates = rates[:limit]
		last := rates[limit-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.Day + "|" + last.Base + "|" + last.Quote))
	}
	return rates, next, nil
}

func scanFXRate(s scanner) (*popkit.FXRate, error) {
	var r popkit.FXRate
	if err := s.Scan(&r.Day, &r.Base, &r.Quote, &r.Rate, scanTime(&r.UpdatedAt)); err != nil {
		return nil, err
	}
	return &r, nil
}
