package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// tableText returns every value of every row of table as text.
func tableText(t testing.TB, db *sqlstore.DB, table string) string {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), "SELECT * FROM "+table)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		for _, v := range vals {
			switch x := v.(type) {
			case []byte:
				b.Write(x)
			case string:
				b.WriteString(x)
			}
			b.WriteByte('\n')
		}
	}
	must(t, rows.Err())
	return b.String()
}

func TestFunnelCounting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		day1 := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
		clk := newClock(db, day1)
		w := mkWorld(t, db)
		l := mkListing(t, db, w.event)
		curate(t, db, l.ID, popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish)

		const ip, ua = "203.0.113.77", "Mozilla/5.0 (SecretPhone 9)"
		visitors := []string{ip + " " + ua, ip + " " + ua, "198.51.100.4 " + ua, ip + " " + ua}
		for _, v := range visitors {
			must(t, db.RecordPageView(ctx, popkit.PageView{ListingID: l.ID, Visitor: v}))
		}
		wantCode(t, db.RecordPageView(ctx, popkit.PageView{ListingID: popkit.NewID(), Visitor: "x"}), popkit.ENOTFOUND, "")
		must(t, db.CreateNotifySignup(ctx, &popkit.NotifySignup{ListingID: l.ID, Email: "fan@example.com", ConsentAt: clk.Now()}))
		must(t, db.CreateNotifySignup(ctx, &popkit.NotifySignup{ListingID: l.ID, Email: "fan@example.com", ConsentAt: clk.Now()}))
		wantCode(t, db.CreateNotifySignup(ctx, &popkit.NotifySignup{ListingID: l.ID, Email: "not-an-email"}), popkit.EINVALID, "email")

		tier := &popkit.Tier{Name: "Member", Slug: "member", EarlyAccess: 48 * time.Hour}
		must(t, db.CreateTier(ctx, tier))
		m := &popkit.Member{Email: "m@example.com", TierID: tier.ID}
		must(t, db.CreateMember(ctx, m))
		must(t, db.CreateCheckin(ctx, &popkit.Checkin{MemberID: m.ID, EventID: w.event.ID, Source: popkit.CheckinDoor}))
		wantCode(t, db.CreateCheckin(ctx, &popkit.Checkin{MemberID: m.ID, EventID: w.event.ID, Source: "laser"}), popkit.EINVALID, "source")
		wantCode(t, db.CreateCheckin(ctx, &popkit.Checkin{MemberID: popkit.NewID(), EventID: w.event.ID, Source: popkit.CheckinPOS}), popkit.EUNPROCESSABLE, "member_id")

		// The next day: the first day's salt and hashes are gone.
		clk.Add(24 * time.Hour)
		must(t, db.RecordPageView(ctx, popkit.PageView{ListingID: l.ID, Visitor: ip + " " + ua}))
		var n int
		must(t, db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM view_visitors WHERE day = '2026-04-01'").Scan(&n))
		if n != 0 {
			t.Fatalf("%d visitor hashes of a past day are still stored", n)
		}
		if got := count(t, db, "view_salts"); got != 1 {
			t.Fatalf("view_salts holds %d salts, want only today's", got)
		}

		got, err := db.FunnelCounts(ctx, l.ID, day1.Add(-time.Hour), day1.Add(72*time.Hour))
		must(t, err)
		want := []popkit.FunnelDay{
			{ListingID: l.ID, Day: "2026-04-01", Views: 4, Uniques: 2, Notifies: 1, Checkins: 1},
			{ListingID: l.ID, Day: "2026-04-02", Views: 1, Uniques: 1},
		}
		if len(got) != len(want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("day %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		for _, table := range []string{"listing_views", "view_visitors", "view_salts"} {
			text := tableText(t, db, table)
			for _, personal := range []string{ip, "198.51.100.4", "SecretPhone", "Mozilla"} {
				if strings.Contains(text, personal) {
					t.Errorf("table %s stores %q", table, personal)
				}
			}
		}
	})
}
