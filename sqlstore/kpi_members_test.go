package sqlstore_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestKPIRepeatMembers counts by hand: A checks in on 1 and 3 May (a
// repeat), B twice on 1 May (the same visit, not a repeat), C on 1 May and
// 10 June (40 days apart, not within 30).
func TestKPIRepeatMembers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		clk := newClock(db, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
		w := mkWorld(t, db)
		tier := &popkit.Tier{Name: "Member", Slug: uniq("member")}
		must(t, db.CreateTier(ctx, tier))
		member := func(email string) string {
			m := &popkit.Member{Email: email, TierID: tier.ID}
			must(t, db.CreateMember(ctx, m))
			return m.ID
		}
		a, b, c := member("a@example.com"), member("b@example.com"), member("c@example.com")
		checkin := func(id string) {
			must(t, db.CreateCheckin(ctx, &popkit.Checkin{MemberID: id, EventID: w.event.ID, Source: popkit.CheckinDoor}))
		}
		checkin(a)
		checkin(b)
		checkin(c)
		clk.Add(time.Hour)
		checkin(b)
		clk.Add(2 * 24 * time.Hour)
		checkin(a)
		clk.Add(38 * 24 * time.Hour)
		checkin(c)
		rep, err := db.FindKPIs(ctx, popkit.KPIFilter{Scope: popkit.ScopeEvent, ID: w.event.ID, Group: popkit.GroupDay,
			From: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)})
		must(t, err)
		wantKPI(t, rep.Total, "repeat_members", 1)
	})
}
