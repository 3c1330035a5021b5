package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// HistoryServices is what SeedHistory writes through. The sqlstore.DB
// implements all of them. Everything goes through the services as the
// live system would: events through their status transitions, telemetry
// and till sales as ingest batches from each event's edge device, refunds
// as order transitions, listings through curation, check-ins as the door
// records them. So whatever the store maintains on those paths (stock
// ledger, KPI aggregates) is filled as in production.
type HistoryServices struct {
	Venues     popkit.VenueService
	Brands     popkit.BrandService
	SKUs       popkit.SKUService
	Events     popkit.EventService
	Assortment popkit.AssortmentService
	Devices    popkit.DeviceService
	Telemetry  popkit.TelemetryService
	Orders     popkit.OrderService
	Listings   popkit.ListingService
	Tiers      popkit.TierService
	Members    popkit.MemberService
	Funnel     popkit.FunnelService
	// Fulfilment places the same-day orders' hubs and moves their
	// fulfilment orders; nil seeds no same-day orders.
	Fulfilment fulfil.Service
}

// HistoryOptions control SeedHistory.
type HistoryOptions struct {
	// Now ends the history: every seeded event closed at least nine weeks
	// before it. Zero means time.Now().
	Now  time.Time
	Seed int64
	// SetClock, when set, moves the store's clock (sqlstore.DB.Now) to the
	// instant each write happened in the past, so that store-set times —
	// a listing's publication, an order transition, a device's last
	// batch — fall where they would have. SeedHistory leaves it at the
	// last instant it set; the caller restores the real clock.
	SetClock func(time.Time)
	Log      func(format string, args ...any)
}

// HistoryResult counts what SeedHistory wrote.
type HistoryResult struct {
	Events, Days int
	// Entries are door entries (footfall in, both doors) during open
	// hours; Sales are the till sales among them.
	Entries, Sales int64
	Rollups        int
	Refunds        int
	// SameDay orders placed; Delivered (same day or, for a few, the next
	// morning) and Cancelled by the customer among them.
	SameDay, Delivered, Cancelled int
	Listings                      int // published part-way through their event
	Members                       int
	Checkins                      int
	// Concept names the pop-up run twice at one venue, and Iterations
	// its two events, first run first.
	Concept    string
	Iterations []string
	// First and Last are the first session's start and the last
	// session's end.
	First, Last time.Time
}

// historyEventsPerCity is how many closed events each city had over the
// year. Sized so that the whole history seeds in a few seconds on SQLite
// (see SeedHistory); raise it for a fuller year.
const historyEventsPerCity = 6

// historyPeakPerHour is a history pop-up's entries in the busiest hour of
// the week (the footfall profile's 1.0), before the event's own scale.
const historyPeakPerHour = 65

// listingUplift is the simulated effect of publishing a listing: footfall
// after publication is this much higher than the same hours would have
// been. The KPI engine should measure about this.
const listingUplift = 0.25

// historyConcept is the pop-up run twice at the same venue, so that the
// two iterations can be compared.
var historyConcept = struct {
	name, venue string
	brands      []string
	runs        [2]int // index of the city's history slot of each run
}{"Hearth & Pantry Lab", "mn", []string{"hearth-and-wick", "pantry-lane"}, [2]int{1, 4}}

// historyNames give history events their names, by city.
var historyNames = map[string][]string{
	"Berlin":    {"Neukölln Night Market", "Hearth & Pantry Lab", "Prenzlauer Paper Days", "Kreuzberg Tin & Sign", "Hearth & Pantry Lab", "Winter Felt Fair"},
	"London":    {"Spitalfields Spring Makers", "Coal Drops Picnic Club", "Brick Lane Bag Week", "King's Cross Cosy Home", "Spitalfields Paper Festival", "Granary Square Gifts"},
	"New York":  {"Chelsea Spring Pantry", "Sunset Park Sign Shop", "Chelsea Market Felt Week", "Industry City Candle Co-op", "Brooklyn Union Row Days", "Chelsea Winter Gifts"},
	"Melbourne": {"Queen Vic Autumn Makers", "Fed Square Winter Warmers", "Queen Vic Tea & Tins", "Fed Square Paper Parade", "Queen Vic Spring Market", "Fed Square Summer Picnic"},
}

// SeedHistory seeds a year of closed events in the four cities, with the
// telemetry and sales they produced, as ingest batches from each event's
// edge device: footfall at two entrance doors (in and out per 5-minute
// interval, as commercial people counters report), till queue, fridge
// temperature and energy per 15 minutes, and till sales following the
// shopper model (conversion in [ConversionLow, ConversionHigh], baskets
// weighted by UCI demand). About 1.5% of sales are refunded later. A few
// same-day orders a day go to each city's kitting hub and are delivered
// (a few only the next morning, a few cancelled by the customer; see
// history_sameday.go).
// Footfall follows the Melbourne weekly profile in each venue's local
// hours, only while a session is open. Half the events get a listing
// published on the morning of their second day, after which footfall is
// listingUplift higher; members check in at the door, some on two days or
// at two events within 30 days. One concept (historyConcept) runs twice
// at the same venue.
//
// It needs the program of Seed (venues, brands, SKUs) and is meant to run
// once, right after Seed on a fresh database.
func SeedHistory(ctx context.Context, svc HistoryServices, opt HistoryOptions) (*HistoryResult, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.SetClock == nil {
		opt.SetClock = func(time.Time) {}
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	h := &historian{svc: svc, opt: opt, res: &HistoryResult{Concept: historyConcept.name},
		rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x68697374))}
	if err := h.load(ctx); err != nil {
		return nil, err
	}
	if err := h.seedMembers(ctx); err != nil {
		return nil, err
	}
	if err := h.seedHubs(ctx); err != nil {
		return nil, err
	}
	plans := h.plan()
	for _, p := range plans {
		if err := h.event(ctx, p); err != nil {
			return nil, fmt.Errorf("history event %q: %w", p.name, err)
		}
	}
	logf("seeded a year of history: %d closed events (%d days) in 4 cities, %d door entries, %d till sales (%.1f%%), %d refunds, %d same-day orders (%d delivered, %d cancelled), %d rollups, %d listings published part-way, %d check-ins of %d members",
		h.res.Events, h.res.Days, h.res.Entries, h.res.Sales, 100*float64(h.res.Sales)/float64(max(1, h.res.Entries)),
		h.res.Refunds, h.res.SameDay, h.res.Delivered, h.res.Cancelled, h.res.Rollups, h.res.Listings, h.res.Checkins, h.res.Members)
	return h.res, nil
}

// historian carries the state of one SeedHistory call.
type historian struct {
	svc HistoryServices
	opt HistoryOptions
	rng *rand.Rand
	res *HistoryResult

	venues  map[string]*venue        // by venuePlan.key
	brands  map[string]*popkit.Brand // by slug
	skus    map[string][]*popkit.SKU // by brand id
	members []historyMember
}

// historyMember is a member with the city they live in.
type historyMember struct {
	*popkit.Member
	city string
}

// historyPlan is one closed event of the history.
type historyPlan struct {
	name    string
	venue   *venue
	first   time.Time // first local date, midnight UTC as a wall clock
	days    int
	brands  []string
	listing bool // published on the morning of the second day
}

// load reads the program Seed wrote: venues, brands and SKUs.
func (h *historian) load(ctx context.Context) error {
	h.venues, h.brands, h.skus = map[string]*venue{}, map[string]*popkit.Brand{}, map[string][]*popkit.SKU{}
	vs, err := pages(func(p popkit.Page) ([]*popkit.Venue, string, error) {
		return h.svc.Venues.FindVenues(ctx, popkit.VenueFilter{Page: p})
	})
	if err != nil {
		return fmt.Errorf("find venues: %w", err)
	}
	for i := range cityPlans {
		cp := &cityPlans[i]
		loc, err := time.LoadLocation(cp.zone)
		if err != nil {
			return err
		}
		for _, vp := range cp.venues {
			for _, v := range vs {
				if v.Name == vp.name {
					h.venues[vp.key] = &venue{Venue: v, city: cp, loc: loc}
				}
			}
			if h.venues[vp.key] == nil {
				return fmt.Errorf("venue %s is not seeded: run Seed first", vp.name)
			}
		}
	}
	bs, err := pages(func(p popkit.Page) ([]*popkit.Brand, string, error) {
		return h.svc.Brands.FindBrands(ctx, popkit.BrandFilter{Page: p})
	})
	if err != nil {
		return fmt.Errorf("find brands: %w", err)
	}
	for _, b := range bs {
		h.brands[b.Slug] = b
	}
	ks, err := pages(func(p popkit.Page) ([]*popkit.SKU, string, error) {
		return h.svc.SKUs.FindSKUs(ctx, popkit.SKUFilter{Page: p})
	})
	if err != nil {
		return fmt.Errorf("find SKUs: %w", err)
	}
	for _, k := range ks {
		h.skus[k.BrandID] = append(h.skus[k.BrandID], k)
	}
	return nil
}

// pages collects every page of a list.
func pages[T any](find func(popkit.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	p := popkit.Page{Limit: popkit.MaxPageLimit}
	for {
		page, next, err := find(p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}

// historyMembers is how many members the history's check-ins come from.
const historyMembers = 48

// seedMembers creates the members who check in: a history tier and members
// who joined before the year began, each living in one of the cities.
func (h *historian) seedMembers(ctx context.Context) error {
	start := h.opt.Now.AddDate(-1, -1, 0).UTC().Truncate(time.Second)
	h.opt.SetClock(start)
	t := &popkit.Tier{Name: "Regular", Slug: "regular", Hold: popkit.DefaultMemberHold}
	if err := h.svc.Tiers.CreateTier(ctx, t); err != nil {
		return fmt.Errorf("create history tier: %w", err)
	}
	for i := range historyMembers {
		city := cityPlans[i%len(cityPlans)].name
		m := &popkit.Member{Email: fmt.Sprintf("regular-%02d@example.com", i+1), TierID: t.ID, Status: popkit.MemberActive, StartsAt: start,
			ExternalRef: fmt.Sprintf("demo_sub_regular_%02d", i+1)}
		if err := h.svc.Members.CreateMember(ctx, m); err != nil {
			return fmt.Errorf("create history member: %w", err)
		}
		h.members = append(h.members, historyMember{Member: m, city: city})
		h.res.Members++
	}
	return nil
}

// plan spreads historyEventsPerCity events over each city's year, from 52
// to 9 weeks before Now, alternating the city's venues; odd slots get a
// listing published part-way through.
func (h *historian) plan() []historyPlan {
	var out []historyPlan
	for ci := range cityPlans {
		cp := &cityPlans[ci]
		nowLocal := h.opt.Now.In(h.venues[cp.venues[0].key].loc)
		today := time.Date(nowLocal.Year(), nowLocal.Month(), nowLocal.Day(), 0, 0, 0, 0, time.UTC)
		names := historyNames[cp.name]
		for slot := range historyEventsPerCity {
			// Slots every ~8 weeks from 364 to 75 days back; cities
			// start a few days apart.
			startDay := -364 + slot*(364-75)/(historyEventsPerCity-1) + ci*2 + h.rng.IntN(3)
			p := historyPlan{name: names[slot%len(names)], venue: h.venues[cp.venues[slot%2].key],
				first: today.AddDate(0, 0, startDay), days: 2 + h.rng.IntN(2), listing: slot%2 == 1}
			if p.listing {
				p.days = 3 // a day before publication, two after
			}
			p.brands = h.pickBrands()
			if cp.name == "Berlin" && (slot == historyConcept.runs[0] || slot == historyConcept.runs[1]) {
				p.name, p.venue, p.brands, p.days, p.listing = historyConcept.name, h.venues[historyConcept.venue], historyConcept.brands, 3, slot == historyConcept.runs[1]
			}
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b historyPlan) int { return a.first.Compare(b.first) })
	return out
}

// pickBrands picks two or three distinct brands.
func (h *historian) pickBrands() []string {
	n := 2 + h.rng.IntN(2)
	var out []string
	for _, i := range h.rng.Perm(len(brandPlans))[:n] {
		out = append(out, brandPlans[i].slug)
	}
	return out
}

// historyStockLeft is the most units of an item left after a history
// event: the stock is what sold plus 0 to this many, so no sale oversells.
const historyStockLeft = 8

// event writes one closed event and everything it produced.
func (h *historian) event(ctx context.Context, p historyPlan) error {
	v := p.venue
	sessions := localSessions(p.first, p.days, v.city)
	opensAt, err := sessionUTC(sessions[0].Start, v.loc)
	if err != nil {
		return err
	}
	h.opt.SetClock(opensAt.AddDate(0, 0, -21)) // created three weeks ahead
	e := &popkit.Event{VenueID: v.ID, Name: p.name, Slug: slugify(p.name) + "-" + string(sessions[0].Start[:len("2006-01-02")]),
		Status: popkit.EventScheduled, Sessions: sessions}
	e.Costs = popkit.Costs{
		RentMinor:            v.city.rentPerDay * int64(p.days) * int64(90+h.rng.IntN(21)) / 100 / 100 * 100,
		StaffMinor:           int64(p.days) * 2 * int64(v.city.close-v.city.open) * 1450,
		TransportMinor:       int64(15000 + h.rng.IntN(201)*100),
		EnergyTariffMinorKWh: v.city.tariff,
	}
	for _, slug := range p.brands {
		e.BrandIDs = append(e.BrandIDs, h.brands[slug].ID)
	}
	if err := h.svc.Events.CreateEvent(ctx, e); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	d := &popkit.Device{EventID: e.ID, Name: "Edge agent at " + v.Name}
	if err := h.svc.Devices.CreateDevice(ctx, d); err != nil {
		return fmt.Errorf("create device: %w", err)
	}
	items := h.assortmentOf(p.brands)

	// What happened, simulated first: the stock packed is what sold plus
	// a little left over, so the history has no oversell.
	var publishedAt time.Time
	if p.listing {
		publishedAt, err = sessionUTC(sessions[1].Start, v.loc)
		if err != nil {
			return err
		}
		publishedAt = publishedAt.Add(-2 * time.Hour)
	}
	tr := h.traffic(e, d, v, items, publishedAt)
	planned := h.planSameDay(e, v, items)
	sold := map[string]int{}
	for _, s := range tr.sales {
		for _, l := range s.Lines {
			sold[l.SKUID] += l.Quantity
		}
	}
	for _, p := range planned {
		for _, l := range p.lines {
			sold[l.SKUID] += l.Quantity
		}
	}
	for _, it := range items {
		a := &popkit.AssortmentItem{EventID: e.ID, SKUID: it.ID, Stock: sold[it.ID] + h.rng.IntN(historyStockLeft+1)}
		if err := h.svc.Assortment.SetAssortmentItem(ctx, a); err != nil {
			return fmt.Errorf("set assortment item %s: %w", it.Code, err)
		}
	}
	h.opt.SetClock(opensAt.Add(-time.Hour))
	open := popkit.EventOpen
	if _, err := h.svc.Events.UpdateEvent(ctx, e.ID, popkit.EventUpdate{Status: &open}); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if p.listing {
		if err := h.publish(ctx, e, publishedAt); err != nil {
			return err
		}
	}
	if err := h.ingest(ctx, e.ID, d.ID, tr); err != nil {
		return err
	}
	if err := h.sameDay(ctx, e.ID, planned); err != nil {
		return err
	}
	if err := h.refunds(ctx, tr); err != nil {
		return err
	}
	if err := h.checkins(ctx, e, v, sessions); err != nil {
		return err
	}
	closesAt, err := sessionUTC(sessions[len(sessions)-1].End, v.loc)
	if err != nil {
		return err
	}
	h.opt.SetClock(closesAt.Add(time.Hour))
	closed := popkit.EventClosed
	if _, err := h.svc.Events.UpdateEvent(ctx, e.ID, popkit.EventUpdate{Status: &closed}); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	h.res.Events++
	h.res.Days += p.days
	if p.name == historyConcept.name {
		h.res.Iterations = append(h.res.Iterations, e.ID)
	}
	if h.res.First.IsZero() || opensAt.Before(h.res.First) {
		h.res.First = opensAt
	}
	if closesAt.After(h.res.Last) {
		h.res.Last = closesAt
	}
	return nil
}

// sessionUTC resolves a session's local time in loc.
func sessionUTC(t popkit.LocalTime, loc *time.Location) (time.Time, error) {
	lt, err := time.ParseInLocation(popkit.LocalLayout, string(t), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("session time %s: %w", t, err)
	}
	return lt, nil
}

// assortmentOf picks 8-14 SKUs of the brands, in turn, preferring the
// products the UCI data sell most.
func (h *historian) assortmentOf(brands []string) []*popkit.SKU {
	n := 8 + h.rng.IntN(7)
	var lists [][]*popkit.SKU
	for _, slug := range brands {
		all := h.skus[h.brands[slug].ID]
		w := make([]float64, len(all))
		for i, k := range all {
			w[i] = demandWeight(k.Name)
		}
		var l []*popkit.SKU
		for _, i := range pickWeighted(h.rng, w, n) {
			l = append(l, all[i])
		}
		lists = append(lists, l)
	}
	var out []*popkit.SKU
	for turn := 0; len(out) < n; turn++ {
		added := false
		for _, l := range lists {
			if turn < len(l) && len(out) < n {
				out = append(out, l[turn])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// publish gives the event a listing and publishes it at the instant at.
func (h *historian) publish(ctx context.Context, e *popkit.Event, at time.Time) error {
	names := make([]string, len(e.BrandIDs))
	for i, id := range e.BrandIDs {
		for _, b := range h.brands {
			if b.ID == id {
				names[i] = b.Name
			}
		}
	}
	h.opt.SetClock(at.Add(-10 * time.Minute))
	c := popkit.ListingContent{
		Title:       e.Name,
		Summary:     fmt.Sprintf("%s: %d days of %s.", e.Name, len(e.Sessions), strings.Join(names, ", ")),
		Description: fmt.Sprintf("%s brings %s together. Small batches, made nearby.", e.Name, strings.Join(names, ", ")),
		BrandIDs:    slices.Clone(e.BrandIDs),
		Categories:  []string{"pop-up"},
		Tags:        []string{"local", "small-batch"},
	}
	l := &popkit.Listing{EventID: e.ID, Working: c}
	if err := h.svc.Listings.CreateListing(ctx, l); err != nil {
		return fmt.Errorf("create listing: %w", err)
	}
	for i, a := range []popkit.CurationAction{popkit.ActionSubmit, popkit.ActionApprove, popkit.ActionPublish} {
		h.opt.SetClock(at.Add(time.Duration(i-2) * time.Minute))
		if _, err := h.svc.Listings.CurateListing(ctx, l.ID, popkit.CurationStep{Action: a}); err != nil {
			return fmt.Errorf("listing %s: %w", a, err)
		}
	}
	h.res.Listings++
	return nil
}

// Clock is a settable clock for a store seeded with history: give its Now
// to the store (sqlstore.DB.Now) before the store is used and its Set to
// HistoryOptions.SetClock. Unset (or after Reset) it tells the real time.
// It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	set time.Time
}

// Now returns the instant last set, or time.Now() when none is.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set.IsZero() {
		return time.Now()
	}
	return c.set
}

// Set makes Now return t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.set = t
	c.mu.Unlock()
}

// Reset makes Now tell the real time again.
func (c *Clock) Reset() { c.Set(time.Time{}) }
