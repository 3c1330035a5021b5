package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// ListingServices is what SeedListings writes through. The sqlstore.DB
// implements all of them.
type ListingServices struct {
	Brands   popkit.BrandService
	Events   popkit.EventService
	Listings popkit.ListingService
	Tiers    popkit.TierService
	Members  popkit.MemberService
}

// ListingSeedResult says what SeedListings wrote, and names the objects the
// demo points at.
type ListingSeedResult struct {
	Listings, Published, Tiers, Members int
	// InReview is a published listing with a newer revision submitted for
	// review; MembersOnly is published with a members-only window;
	// Cancelled presents the cancelled event.
	InReview, MembersOnly, Cancelled *popkit.Listing
	// Member is an active member past the early-access hold, whose link
	// the demo prints.
	Member *popkit.Member
	// Skipped is true when the listings were already seeded and nothing
	// was written; the names above are then looked up.
	Skipped bool
}

// Demo membership: three tiers and a few members.
var (
	demoTiers = []popkit.Tier{
		{Name: "Free", Slug: "free", Hold: popkit.DefaultMemberHold},
		{Name: "Member", Slug: "member", EarlyAccess: 48 * time.Hour, MemberOnlySessions: true, Hold: popkit.DefaultMemberHold},
		{Name: "Patron", Slug: "patron", EarlyAccess: 96 * time.Hour, MemberOnlySessions: true, Hold: popkit.DefaultMemberHold},
	}
	demoMembers = []struct {
		email, tier string
		age         time.Duration // how long ago the membership started
		status      popkit.MemberStatus
	}{
		{"ada@example.com", "member", 30 * 24 * time.Hour, popkit.MemberActive},
		{"grace@example.com", "patron", 90 * 24 * time.Hour, popkit.MemberActive},
		{"linus@example.com", "member", time.Hour, popkit.MemberActive}, // still on hold
		{"ken@example.com", "free", 10 * 24 * time.Hour, popkit.MemberActive},
		{"barbara@example.com", "member", 200 * 24 * time.Hour, popkit.MemberCancelled},
	}
)

// demoMemberEmail is the member whose link the demo prints.
const demoMemberEmail = "ada@example.com"

// SeedListings gives every seeded event a listing and sets up membership
// tiers and members. Most listings are published; the cancelled event's is
// published too (the microsite shows it as cancelled); one published
// listing has a newer revision in review; one has a members-only window
// (members from now, the public three days later) with its last session
// for members only; one stays a draft. It is idempotent: when the "member"
// tier exists it writes nothing and looks the demo's objects up.
func SeedListings(ctx context.Context, svc ListingServices, opt SeedOptions) (*ListingSeedResult, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	now := opt.Now.UTC().Truncate(time.Second)
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	tiers, err := svc.Tiers.FindTiers(ctx)
	if err != nil {
		return nil, fmt.Errorf("find tiers: %w", err)
	}
	if len(tiers) > 0 {
		logf("listings and members already seeded; nothing to do")
		return lookUpListings(ctx, svc)
	}
	res := &ListingSeedResult{}
	bySlug := map[string]*popkit.Tier{}
	for _, t := range demoTiers {
		t := t
		if err := svc.Tiers.CreateTier(ctx, &t); err != nil {
			return nil, fmt.Errorf("create tier %s: %w", t.Slug, err)
		}
		bySlug[t.Slug] = &t
		res.Tiers++
	}
	for _, dm := range demoMembers {
		m := &popkit.Member{Email: dm.email, TierID: bySlug[dm.tier].ID, Status: dm.status, StartsAt: now.Add(-dm.age),
			ExternalRef: "demo_sub_" + strings.SplitN(dm.email, "@", 2)[0]}
		if err := svc.Members.CreateMember(ctx, m); err != nil {
			return nil, fmt.Errorf("create member %s: %w", dm.email, err)
		}
		if dm.email == demoMemberEmail {
			res.Member = m
		}
		res.Members++
	}

	events, err := allEvents(ctx, svc.Events)
	if err != nil {
		return nil, err
	}
	brandNames := map[string]string{}
	for _, e := range events {
		for _, id := range e.BrandIDs {
			if _, ok := brandNames[id]; !ok {
				b, err := svc.Brands.FindBrandByID(ctx, id)
				if err != nil {
					return nil, fmt.Errorf("find brand: %w", err)
				}
				brandNames[id] = b.Name
			}
		}
	}
	// Roles of the scheduled (future) events, in start order.
	var future []*popkit.Event
	for _, e := range events {
		if e.Status == popkit.EventScheduled {
			future = append(future, e)
		}
	}
	role := map[string]string{}
	if len(future) >= 3 {
		role[future[0].ID] = "review"
		role[future[1].ID] = "members"
		role[future[len(future)-1].ID] = "draft"
	}
	for _, e := range events {
		l, err := seedListing(ctx, svc.Listings, e, brandNames, role[e.ID], now)
		if err != nil {
			return nil, fmt.Errorf("listing of %s: %w", e.Slug, err)
		}
		res.Listings++
		if l.Live != nil {
			res.Published++
		}
		switch {
		case role[e.ID] == "review":
			res.InReview = l
		case role[e.ID] == "members":
			res.MembersOnly = l
		case e.Status == popkit.EventCancelled:
			res.Cancelled = l
		}
	}
	logf("seeded %d listings (%d published), %d tiers and %d members", res.Listings, res.Published, res.Tiers, res.Members)
	return res, nil
}

// seedListing writes the listing of e and curates it by its role.
func seedListing(ctx context.Context, ls popkit.ListingService, e *popkit.Event, brandNames map[string]string, role string, now time.Time) (*popkit.Listing, error) {
	names := make([]string, len(e.BrandIDs))
	for i, id := range e.BrandIDs {
		names[i] = brandNames[id]
	}
	c := popkit.ListingContent{
		Title:       e.Name,
		Summary:     fmt.Sprintf("%s: %d days of %s.", e.Name, len(e.Sessions), strings.Join(names, ", ")),
		Description: fmt.Sprintf("%s brings %s together for %d days. Come early: small batches sell out.", e.Name, strings.Join(names, ", "), len(e.Sessions)),
		BrandIDs:    slices.Clone(e.BrandIDs),
		Categories:  []string{"pop-up"},
		Tags:        []string{"local", "small-batch"},
		Price:       &popkit.PriceRange{MinMinor: listPriceIn(250, e.Currency), MaxMinor: listPriceIn(4500, e.Currency)},
	}
	if len([]rune(c.Summary)) > popkit.MaxSummaryRunes {
		c.Summary = string([]rune(c.Summary)[:popkit.MaxSummaryRunes-1]) + "…"
	}
	if role == "members" {
		members, public := now, now.Add(72*time.Hour)
		c.MembersFrom, c.PublicFrom = &members, &public
		if len(e.Sessions) > 1 {
			c.MemberOnlySessions = []popkit.LocalTime{e.Sessions[len(e.Sessions)-1].Start}
		}
	}
	l := &popkit.Listing{EventID: e.ID, Working: c}
	if err := ls.CreateListing(ctx, l); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if role == "draft" {
		return l, nil
	}
	var err error
	for _, a := range []popkit.CurationAction{popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish} {
		if l, err = ls.CurateListing(ctx, l.ID, popkit.CurationStep{Action: a}); err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
	}
	if role == "review" {
		summary := "Now with late openings on Friday. " + c.Summary
		if len([]rune(summary)) > popkit.MaxSummaryRunes {
			summary = string([]rune(summary)[:popkit.MaxSummaryRunes-1]) + "…"
		}
		title := e.Name + " (extended)"
		if _, err := ls.UpdateListing(ctx, l.ID, popkit.ListingUpdate{Title: &title, Summary: &summary}); err != nil {
			return nil, fmt.Errorf("revise: %w", err)
		}
		if l, err = ls.CurateListing(ctx, l.ID, popkit.CurationStep{Action: popkit.ActionSubmit, Note: "extended hours"}); err != nil {
			return nil, fmt.Errorf("submit revision: %w", err)
		}
	}
	return l, nil
}

// allEvents returns every event, in start order.
func allEvents(ctx context.Context, es popkit.EventService) ([]*popkit.Event, error) {
	var out []*popkit.Event
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		page, next, err := es.FindEvents(ctx, popkit.EventFilter{Page: p})
		if err != nil {
			return nil, fmt.Errorf("find events: %w", err)
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		p.After = next
	}
	slices.SortStableFunc(out, func(a, b *popkit.Event) int { return a.StartsAt.Compare(b.StartsAt) })
	return out, nil
}

// lookUpListings finds the demo's named objects in an already seeded
// database.
func lookUpListings(ctx context.Context, svc ListingServices) (*ListingSeedResult, error) {
	res := &ListingSeedResult{Skipped: true}
	ms, _, err := svc.Members.FindMembers(ctx, popkit.MemberFilter{Email: demoMemberEmail, Page: popkit.Page{Limit: 1}})
	if err != nil {
		return nil, fmt.Errorf("find demo member: %w", err)
	}
	if len(ms) > 0 {
		res.Member = ms[0]
	}
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		page, next, err := svc.Listings.FindListings(ctx, popkit.ListingFilter{Page: p})
		if err != nil {
			return nil, fmt.Errorf("find listings: %w", err)
		}
		for _, l := range page {
			res.Listings++
			if l.Live != nil {
				res.Published++
			}
			switch {
			case l.Live != nil && l.State == popkit.ListingSubmitted:
				res.InReview = l
			case l.Live != nil && l.Live.MembersFrom != nil:
				res.MembersOnly = l
			case l.EventStatus == popkit.EventCancelled:
				res.Cancelled = l
			}
		}
		if next == "" {
			break
		}
		p.After = next
	}
	return res, nil
}
