package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func listingContent(brandIDs ...string) popkit.ListingContent {
	return popkit.ListingContent{
		Title:    "Night market",
		Summary:  "Street food and records",
		BrandIDs: brandIDs,
		Images:   []popkit.Image{{URL: "https://img.example/a.jpg", Width: 800, Height: 600, Alt: "stalls"}},
		Tags:     []string{"food"},
		Price:    &popkit.PriceRange{MinMinor: 500, MaxMinor: 4000},
	}
}

func mkListing(t testing.TB, db *sqlstore.DB, ev *popkit.Event) *popkit.Listing {
	t.Helper()
	l := &popkit.Listing{EventID: ev.ID, Working: listingContent(ev.BrandIDs[0])}
	must(t, db.CreateListing(context.Background(), l))
	return l
}

// curate runs the steps in order and fails on the first error.
func curate(t testing.TB, db *sqlstore.DB, id string, actions ...popkit.CurationAction) *popkit.Listing {
	t.Helper()
	var l *popkit.Listing
	for _, a := range actions {
		step := popkit.CurationStep{Action: a}
		if a == popkit.ActionReject {
			step.Reason = popkit.RejectIncomplete
		}
		var err error
		l, err = db.CurateListing(context.Background(), id, step)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	return l
}

func TestListingStateMachine(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		w := mkWorld(t, db)
		ctx := context.Background()
		// paths leads a new listing to each state.
		paths := map[popkit.CurationState][]popkit.CurationAction{
			popkit.ListingDraft:     nil,
			popkit.ListingSubmitted: {popkit.ActionSubmit},
			popkit.ListingApproved:  {popkit.ActionSubmit, popkit.ActionApprove},
			popkit.ListingRejected:  {popkit.ActionSubmit, popkit.ActionReject},
			popkit.ListingPublished: {popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish},
		}
		legal := map[popkit.CurationState]map[popkit.CurationAction]popkit.CurationState{
			popkit.ListingDraft:     {popkit.ActionSubmit: popkit.ListingSubmitted},
			popkit.ListingSubmitted: {popkit.ActionApprove: popkit.ListingApproved, popkit.ActionReject: popkit.ListingRejected},
			popkit.ListingApproved:  {popkit.ActionPublish: popkit.ListingPublished, popkit.ActionReject: popkit.ListingRejected},
			popkit.ListingRejected:  {},
			popkit.ListingPublished: {},
		}
		actions := []popkit.CurationAction{popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionReject, popkit.ActionPublish}
		for from, path := range paths {
			for _, a := range actions {
				t.Run(fmt.Sprintf("%s_%s", from, a), func(t *testing.T) {
					ev := mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID})
					l := mkListing(t, db, ev)
					if got := curate(t, db, l.ID, path...); got != nil && got.State != from {
						t.Fatalf("path led to %s, want %s", got.State, from)
					}
					step := popkit.CurationStep{Action: a}
					if a == popkit.ActionReject {
						step.Reason = popkit.RejectPolicy
					}
					got, err := db.CurateListing(ctx, l.ID, step)
					want, ok := legal[from][a]
					if !ok {
						wantCode(t, err, popkit.ECONFLICT, "")
						again, err := db.FindListingByID(ctx, l.ID)
						must(t, err)
						if again.State != from {
							t.Fatalf("refused %s changed state to %s", a, again.State)
						}
						return
					}
					must(t, err)
					if got.State != want {
						t.Fatalf("state = %s, want %s", got.State, want)
					}
					stored, err := db.FindListingByID(ctx, l.ID)
					must(t, err)
					if stored.State != want {
						t.Fatalf("stored state = %s, want %s", stored.State, want)
					}
				})
			}
		}
	})
}

func TestListingRevisionFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		w := mkWorld(t, db)
		curator := &popkit.Token{ID: popkit.NewID(), Role: popkit.RoleCurator}
		brand := &popkit.Token{ID: popkit.NewID(), Role: popkit.RoleBrand, BrandID: w.brands[0].ID}
		bctx := popkit.NewContextWithToken(context.Background(), brand)
		cctx := popkit.NewContextWithToken(context.Background(), curator)
		l := &popkit.Listing{EventID: w.event.ID, Working: listingContent(w.brands[0].ID)}
		must(t, db.CreateListing(bctx, l))
		if l.Slug != w.event.Slug {
			t.Fatalf("slug = %q, want the event's %q", l.Slug, w.event.Slug)
		}
		if _, err := db.CurateListing(bctx, l.ID, popkit.CurationStep{Action: popkit.ActionSubmit}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []popkit.CurationAction{popkit.ActionApprove, popkit.ActionPublish} {
			if _, err := db.CurateListing(cctx, l.ID, popkit.CurationStep{Action: a}); err != nil {
				t.Fatal(err)
			}
		}
		title := "Night market, second edition"
		got, err := db.UpdateListing(bctx, l.ID, popkit.ListingUpdate{Title: &title})
		must(t, err)
		if got.State != popkit.ListingDraft || got.WorkingRevision != 2 || got.LiveRevision != 1 {
			t.Fatalf("after edit: state %s working %d live %d, want draft 2 1", got.State, got.WorkingRevision, got.LiveRevision)
		}
		if got.Live == nil || got.Live.Title != "Night market" || got.Working.Title != title {
			t.Fatalf("live %+v working %q: the published revision must stay live", got.Live, got.Working.Title)
		}
		diff := popkit.DiffListingContent(got.Live, &got.Working)
		if len(diff) != 1 || diff[0].Field != "title" {
			t.Fatalf("diff = %+v, want only title", diff)
		}
		// Public lists still show revision 1 while revision 2 is reviewed.
		must2 := func(a popkit.CurationAction, ctx context.Context) {
			t.Helper()
			_, err := db.CurateListing(ctx, l.ID, popkit.CurationStep{Action: a})
			must(t, err)
		}
		must2(popkit.ActionSubmit, bctx)
		pub, _, err := db.FindListings(context.Background(), popkit.ListingFilter{VisibleAt: time.Now()})
		must(t, err)
		if len(pub) != 1 || pub[0].Live.Title != "Night market" {
			t.Fatalf("public list during review = %+v", pub)
		}
		_, err = db.CurateListing(cctx, l.ID, popkit.CurationStep{Action: popkit.ActionReject, Reason: popkit.RejectInaccurate, Note: "dates"})
		must(t, err)
		again, err := db.FindListingBySlug(context.Background(), l.Slug)
		must(t, err)
		if again.State != popkit.ListingRejected || again.RejectReason != popkit.RejectInaccurate || again.Live.Title != "Night market" {
			t.Fatalf("after reject: %+v", again)
		}
		// Fix and resubmit; the second publication replaces the live revision.
		title = "Night market II"
		_, err = db.UpdateListing(bctx, l.ID, popkit.ListingUpdate{Title: &title})
		must(t, err)
		must2(popkit.ActionSubmit, bctx)
		must2(popkit.ActionApprove, cctx)
		final, err := db.CurateListing(cctx, l.ID, popkit.CurationStep{Action: popkit.ActionPublish})
		must(t, err)
		if final.Live.Title != title || final.LiveRevision != 3 || final.Pending() {
			t.Fatalf("after second publish: live %q rev %d pending %v", final.Live.Title, final.LiveRevision, final.Pending())
		}

		log, err := db.FindCurationEvents(context.Background(), l.ID)
		must(t, err)
		wantLog := []struct {
			action popkit.CurationAction
			role   popkit.Role
			to     popkit.CurationState
		}{
			{popkit.ActionCreate, popkit.RoleBrand, popkit.ListingDraft},
			{popkit.ActionSubmit, popkit.RoleBrand, popkit.ListingSubmitted},
			{popkit.ActionApprove, popkit.RoleCurator, popkit.ListingApproved},
			{popkit.ActionPublish, popkit.RoleCurator, popkit.ListingPublished},
			{popkit.ActionUpdate, popkit.RoleBrand, popkit.ListingDraft},
			{popkit.ActionSubmit, popkit.RoleBrand, popkit.ListingSubmitted},
			{popkit.ActionReject, popkit.RoleCurator, popkit.ListingRejected},
			{popkit.ActionUpdate, popkit.RoleBrand, popkit.ListingDraft},
			{popkit.ActionSubmit, popkit.RoleBrand, popkit.ListingSubmitted},
			{popkit.ActionApprove, popkit.RoleCurator, popkit.ListingApproved},
			{popkit.ActionPublish, popkit.RoleCurator, popkit.ListingPublished},
		}
		if len(log) != len(wantLog) {
			t.Fatalf("log has %d entries, want %d", len(log), len(wantLog))
		}
		for i, want := range wantLog {
			e := log[i]
			if e.Action != want.action || e.ActorRole != want.role || e.ToState != want.to || e.At.IsZero() || e.ActorID == "" {
				t.Errorf("log[%d] = %+v, want %v by %s to %s", i, e, want.action, want.role, want.to)
			}
		}
		if log[6].Reason != popkit.RejectInaccurate || log[6].Note != "dates" {
			t.Errorf("reject entry lost why: %+v", log[6])
		}
	})
}

func TestListingValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		w := mkWorld(t, db)
		other := mkBrand(t, db)
		long := make([]byte, 161)
		for i := range long {
			long[i] = 'a'
		}
		tests := []struct {
			name  string
			l     popkit.Listing
			code  string
			field string
		}{
			{"no title", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Summary: "s"}}, popkit.EINVALID, "title"},
			{"long summary", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Title: "t", Summary: string(long)}}, popkit.EINVALID, "summary"},
			{"brand not in event", popkit.Listing{EventID: w.event.ID, Working: listingContent(other.ID)}, popkit.EINVALID, "brand_ids[0]"},
			{"image without size", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Title: "t", Summary: "s", Images: []popkit.Image{{URL: "https://x.example/a.png", Alt: "a"}}}}, popkit.EINVALID, "images[0].width"},
			{"javascript image", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Title: "t", Summary: "s", Images: []popkit.Image{{URL: "javascript:alert(1)", Width: 1, Height: 1, Alt: "a"}}}}, popkit.EINVALID, "images[0].url"},
			{"unknown session", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Title: "t", Summary: "s", MemberOnlySessions: []popkit.LocalTime{"2020-01-01T10:00"}}}, popkit.EINVALID, "member_only_sessions[0]"},
			{"bad price", popkit.Listing{EventID: w.event.ID, Working: popkit.ListingContent{Title: "t", Summary: "s", Price: &popkit.PriceRange{MinMinor: 5, MaxMinor: 1}}}, popkit.EINVALID, "price.max_minor"},
			{"unknown event", popkit.Listing{EventID: popkit.NewID(), Working: listingContent()}, popkit.EUNPROCESSABLE, "event_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := tt.l
				wantCode(t, db.CreateListing(context.Background(), &l), tt.code, tt.field)
			})
		}
		mkListing(t, db, w.event)
		t.Run("second listing for one event", func(t *testing.T) {
			wantCode(t, db.CreateListing(context.Background(), &popkit.Listing{EventID: w.event.ID, Working: listingContent()}), popkit.ECONFLICT, "event_id")
		})
		t.Run("reject without reason", func(t *testing.T) {
			l := mkListing(t, db, mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}))
			curate(t, db, l.ID, popkit.ActionSubmit)
			_, err := db.CurateListing(context.Background(), l.ID, popkit.CurationStep{Action: popkit.ActionReject})
			wantCode(t, err, popkit.EINVALID, "reason")
		})
	})
}

func TestListingVisibilityFilter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		w := mkWorld(t, db)
		ctx := context.Background()
		t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
		public := t0.Add(72 * time.Hour)
		members := t0
		// a: published, public now. b: members window. c: submitted only.
		a := mkListing(t, db, mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}))
		curate(t, db, a.ID, popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish)
		b := mkListing(t, db, mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}))
		_, err := db.UpdateListing(ctx, b.ID, popkit.ListingUpdate{PublicFrom: &public, MembersFrom: &members})
		must(t, err)
		curate(t, db, b.ID, popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish)
		c := mkListing(t, db, mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID}))
		curate(t, db, c.ID, popkit.ActionSubmit)
		tests := []struct {
			name string
			f    popkit.ListingFilter
			want []string
		}{
			{"public before window", popkit.ListingFilter{VisibleAt: public.Add(-time.Microsecond)}, []string{a.ID}},
			{"public at window", popkit.ListingFilter{VisibleAt: public}, []string{a.ID, b.ID}},
			{"member at members_from", popkit.ListingFilter{VisibleAt: members, EarlyAccess: 48 * time.Hour}, []string{a.ID, b.ID}},
			{"member before members_from", popkit.ListingFilter{VisibleAt: members.Add(-time.Microsecond), EarlyAccess: 48 * time.Hour}, []string{a.ID}},
			{"published", popkit.ListingFilter{Published: true}, []string{a.ID, b.ID}},
			{"submitted queue", popkit.ListingFilter{State: popkit.ListingSubmitted}, []string{c.ID}},
			{"city", popkit.ListingFilter{CityID: w.city.ID, VisibleAt: public}, []string{a.ID, b.ID}},
			{"other brand", popkit.ListingFilter{BrandID: w.brands[1].ID}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, _, err := db.FindListings(ctx, tt.f)
				must(t, err)
				if ids := ids(got, func(l *popkit.Listing) string { return l.ID }); fmt.Sprint(sortedIDs(ids...)) != fmt.Sprint(sortedIDs(tt.want...)) {
					t.Fatalf("got %v, want %v", ids, tt.want)
				}
			})
		}
		for _, pt := range []struct {
			name string
			f    popkit.ListingFilter
			want int
		}{
			{"pages", popkit.ListingFilter{}, 3},
			{"pages of published", popkit.ListingFilter{Published: true}, 2},
		} {
			t.Run(pt.name, func(t *testing.T) {
				f := pt.f
				all, _, err := db.FindListings(ctx, f)
				must(t, err)
				var paged []*popkit.Listing
				f.Page = popkit.Page{Limit: 1}
				for {
					got, next, err := db.FindListings(ctx, f)
					must(t, err)
					paged = append(paged, got...)
					if next == "" {
						break
					}
					f.After = next
				}
				if len(paged) != len(all) || len(all) != pt.want {
					t.Fatalf("paged %d listings, unpaged %d, want %d", len(paged), len(all), pt.want)
				}
				for i := range all {
					if paged[i].ID != all[i].ID {
						t.Fatalf("page order differs at %d", i)
					}
				}
			})
		}
	})
}

func TestMembersAndBilling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := newClock(db, time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
		tier := &popkit.Tier{Name: "Member", Slug: "member", EarlyAccess: 48 * time.Hour, Hold: popkit.DefaultMemberHold}
		must(t, db.CreateTier(ctx, tier))
		wantCode(t, db.CreateTier(ctx, &popkit.Tier{Name: "x", Slug: "member"}), popkit.ECONFLICT, "slug")
		m := &popkit.Member{Email: "a@example.com", TierID: tier.ID}
		must(t, db.CreateMember(ctx, m))
		if want := clk.Now().Add(48 * time.Hour); !m.EligibleAt.Equal(want) {
			t.Fatalf("eligible at %v, want %v", m.EligibleAt, want)
		}
		wantCode(t, db.CreateMember(ctx, &popkit.Member{Email: "b@example.com", TierID: popkit.NewID()}), popkit.EUNPROCESSABLE, "tier_id")

		created := &popkit.BillingEvent{WebhookID: "msg_1", Type: popkit.BillingCreated, ExternalRef: "sub_1", Email: "c@example.com", TierSlug: "member"}
		bm, err := db.ApplyBillingEvent(ctx, created)
		must(t, err)
		if bm.Status != popkit.MemberActive || bm.ExternalRef != "sub_1" {
			t.Fatalf("member from webhook = %+v", bm)
		}
		_, err = db.ApplyBillingEvent(ctx, created)
		wantCode(t, err, popkit.ECONFLICT, "webhook-id")
		_, err = db.ApplyBillingEvent(ctx, &popkit.BillingEvent{WebhookID: "msg_2", Type: popkit.BillingUpdated, ExternalRef: "sub_404", Email: "c@example.com", TierSlug: "member"})
		wantCode(t, err, popkit.EUNPROCESSABLE, "subscription_id")
		cancelled, err := db.ApplyBillingEvent(ctx, &popkit.BillingEvent{WebhookID: "msg_3", Type: popkit.BillingCancelled, ExternalRef: "sub_1"})
		must(t, err)
		if cancelled.ID != bm.ID || cancelled.Status != popkit.MemberCancelled {
			t.Fatalf("after cancel: %+v", cancelled)
		}
		// A refused event leaves no trace: msg_2 may be delivered again later.
		if n := count(t, db, "billing_webhooks"); n != 2 {
			t.Fatalf("billing_webhooks holds %d ids, want 2", n)
		}

		s1, err := db.Secret(ctx, popkit.SecretMemberLink)
		must(t, err)
		s2, err := db.Secret(ctx, popkit.SecretMemberLink)
		must(t, err)
		if len(s1) != 32 || string(s1) != string(s2) {
			t.Fatalf("secret not stable: %x vs %x", s1, s2)
		}
	})
}
