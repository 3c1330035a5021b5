package sqlstore_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestKPIMoneyFixture checks unit economics in each city's currency and in
// the reporting currency (EUR): a London sale converted at the day's rate,
// a New York sale with no USD rate flagged missing_rate, never taken at 1.0.
func TestKPIMoneyFixture(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		brand := mkBrand(t, db)
		mk := func(country, tz string) (*popkit.City, *popkit.Event) {
			c := &popkit.City{Name: uniq("city"), Country: country, TimeZone: tz}
			must(t, db.CreateCity(ctx, c))
			v := mkVenue(t, db, c.ID, "")
			e := newEvent(v.ID, []string{brand.ID}, session("2026-05-01", "10:00", "18:00"))
			e.Costs = popkit.Costs{RentMinor: 8000}
			must(t, db.CreateEvent(ctx, e))
			return c, e
		}
		london, lev := mk("GB", "Europe/London")
		ny, nev := mk("US", "America/New_York")
		if london.Currency != "GBP" || ny.Currency != "USD" {
			t.Fatalf("city currencies %s %s, want GBP USD", london.Currency, ny.Currency)
		}
		// 1 EUR = 0.8 GBP on 2026-04-30: the latest rate not after 1 May.
		must(t, db.SetRate(ctx, &popkit.FXRate{Day: "2026-04-30", Base: "EUR", Quote: "GBP", Rate: "0.8"}))
		sale := func(ev *popkit.Event, at time.Time, total int64) {
			execFixture(t, db, `INSERT INTO orders (id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref,
					total_minor, cost_minor, occurred_at, created_at, updated_at)
				VALUES (?, ?, 'pos', 'completed', 'cash', ?, '', ?, ?, ?, ?, ?)`,
				popkit.NewID(), ev.ID, total, total, total/4, timeFixture(db, at), timeFixture(db, at), timeFixture(db, at))
		}
		sale(lev, time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), 1200) // £12.00
		sale(nev, time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC), 1000) // $10.00

		rep, err := db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeProgram, Group: popkit.GroupCity,
			From: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)})
		must(t, err)
		if rep.Currency != "EUR" || len(rep.Rows) != 2 {
			t.Fatalf("report currency %s, %d rows", rep.Currency, len(rep.Rows))
		}
		for _, row := range rep.Rows {
			rev, rent := kpiValue(t, row, "revenue"), kpiValue(t, row, "rent")
			switch row.Key {
			case london.ID:
				// £12.00 ÷ 0.8 = €15.00; rent £80.00 ÷ 0.8 = €100.00.
				wantKPI(t, row, "revenue", 1500)
				wantKPI(t, row, "rent", 10000)
				if rev.LocalValue == nil || *rev.LocalValue != 1200 || rev.LocalCurrency != "GBP" || *rent.LocalValue != 8000 {
					t.Errorf("London local revenue %v %s, rent %v", rev.LocalValue, rev.LocalCurrency, rent.LocalValue)
				}
			case ny.ID:
				if rev.Value != nil || !hasFlag(rev, popkit.FlagMissingRate) {
					t.Errorf("New York revenue %v flags %v, want missing_rate and no value", rev.Value, rev.Flags)
				}
				if rev.LocalValue == nil || *rev.LocalValue != 1000 || rev.LocalCurrency != "USD" {
					t.Errorf("New York local revenue %v %s", rev.LocalValue, rev.LocalCurrency)
				}
			default:
				t.Fatalf("unexpected row %s", row.Key)
			}
		}
		total := kpiValue(t, rep.Total, "revenue")
		if total.Value != nil || !hasFlag(total, popkit.FlagMissingRate) || total.LocalValue != nil {
			t.Errorf("program revenue %v flags %v local %v: want missing_rate, no value, no single local currency", total.Value, total.Flags, total.LocalValue)
		}
		// Once a USD rate exists (1 EUR = 1.25 USD), the program adds up:
		// €15.00 + $10.00 ÷ 1.25 = €23.00.
		must(t, db.SetRate(ctx, &popkit.FXRate{Day: "2026-05-01", Base: "EUR", Quote: "USD", Rate: "1.25"}))
		rep, err = db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeProgram, Group: popkit.GroupDay,
			From: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)})
		must(t, err)
		wantKPI(t, rep.Total, "revenue", 2300)
	})
}
