// Package sim seeds and simulates a realistic pop-up program for
// `popkit demo`, benchmarks and tests.
//
// Seed writes a demo program through the domain services: four cities in
// four time zones, eight venues, eight microbrands with the 300 products of
// the embedded catalogue (real names and prices from the UCI Online Retail
// data set, see CATALOG.md), and eighteen events placed around a given
// instant: closed ones in the past, open ones whose session covers that
// instant in the venue's local time, scheduled ones ahead and one cancelled.
package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	_ "time/tzdata" // the demo's venues need their zones on machines without a zone database

	"github.com/popkit/popkit"
)

// Services is what Seed writes through. The sqlstore.DB implements all of
// them.
type Services struct {
	Program    popkit.ProgramService
	Cities     popkit.CityService
	Venues     popkit.VenueService
	Brands     popkit.BrandService
	Events     popkit.EventService
	SKUs       popkit.SKUService
	Assortment popkit.AssortmentService
	Devices    popkit.DeviceService
	// Prices sets the SKUs' prices in the cities' other currencies; nil
	// means SKUs when it is one. FX stores the demo's exchange rates; nil
	// means Program when it can. Without them the demo has GBP prices only
	// and no rates.
	Prices popkit.SKUPriceService
	FX     RateSetter
}

// RateSetter stores many exchange rates at once (sqlstore.DB is one).
type RateSetter interface {
	SetRates(ctx context.Context, rates []*popkit.FXRate) error
}

// SeedOptions control Seed. Seed and Now together determine everything the
// seed writes except ids and store-set times.
type SeedOptions struct {
	// Now places the events: past ones end before it, open ones have a
	// session that covers it, future ones start after it. The zero value
	// means time.Now().
	Now time.Time
	// Seed seeds the random choices: products, stock and costs per event.
	Seed int64
	// Log receives progress messages; nil discards them.
	Log func(format string, args ...any)
}

// SeedResult counts what Seed wrote.
type SeedResult struct {
	Cities, Venues, Brands, Events, SKUs, AssortmentItems, Devices int
	// Skipped is true when the program was already seeded and Seed wrote
	// nothing.
	Skipped bool
}

// Demo program settings.
const (
	ProgramName = "popkit demo program"
	// Currency is the demo program's reporting currency. Catalogue prices
	// are GBP in the source and are used in pence as they are; the other
	// cities' prices are derived from them (prices.go).
	Currency = "GBP"
)

// Opening hours of a regular session, in the venue's local time.
const (
	openHour     = 10
	sessionHours = 9 // 10:00-19:00
)

// Seed creates the demo program through the services. It is idempotent: when
// the program is already seeded (the brand with slug "pantry-lane" exists)
// it writes nothing and returns Skipped=true. Seed does not clean up after a
// failure; a failed seed is best retried on a fresh database.
//
// Events are created scheduled and then moved through the legal status
// transitions; an open event whose venue is outside 10:00-19:00 at Now gets
// nine-hour sessions that start two hours before Now's local hour, so that
// the demo always has events open right now.
func Seed(ctx context.Context, svc Services, opt SeedOptions) (*SeedResult, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	existing, _, err := svc.Brands.FindBrands(ctx, popkit.BrandFilter{Slug: markerSlug, Page: popkit.Page{Limit: 1}})
	if err != nil {
		return nil, fmt.Errorf("find demo brand: %w", err)
	}
	if len(existing) > 0 {
		logf("demo program already seeded (brand %s exists); nothing to do", markerSlug)
		return &SeedResult{Skipped: true}, nil
	}

	s := &seeder{svc: svc, opt: opt, logf: logf, res: &SeedResult{},
		rng:    rand.New(rand.NewPCG(uint64(opt.Seed), 0x706f706b6974)),
		venues: map[string]*venue{}, brands: map[string]*popkit.Brand{}, skus: map[string][]*popkit.SKU{}}
	for _, step := range []func(context.Context) error{s.program, s.places, s.catalogue, s.prices, s.fxRates, s.events} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return s.res, nil
}

// seeder carries the state of one Seed call.
type seeder struct {
	svc  Services
	opt  SeedOptions
	logf func(string, ...any)
	rng  *rand.Rand
	res  *SeedResult

	venues map[string]*venue        // by venuePlan.key
	brands map[string]*popkit.Brand // by slug
	skus   map[string][]*popkit.SKU // by brand slug, in catalogue order
}

// venue is a stored venue with the plan of its city and its zone.
type venue struct {
	*popkit.Venue
	city *cityPlan
	loc  *time.Location
}

func (s *seeder) program(ctx context.Context) error {
	p, err := s.svc.Program.FindProgram(ctx)
	if err != nil {
		return fmt.Errorf("find program: %w", err)
	}
	p.Name, p.Currency = ProgramName, Currency
	if err := s.svc.Program.UpdateProgram(ctx, p); err != nil {
		return fmt.Errorf("update program: %w", err)
	}
	return nil
}

func (s *seeder) places(ctx context.Context) error {
	for i := range cityPlans {
		cp := &cityPlans[i]
		loc, err := time.LoadLocation(cp.zone)
		if err != nil {
			return fmt.Errorf("load zone of %s: %w", cp.name, err)
		}
		c := &popkit.City{Name: cp.name, Country: cp.country, TimeZone: cp.zone, Currency: cp.currency}
		if err := s.svc.Cities.CreateCity(ctx, c); err != nil {
			return fmt.Errorf("create city %s: %w", cp.name, err)
		}
		s.res.Cities++
		for _, vp := range cp.venues {
			v := &popkit.Venue{CityID: c.ID, Name: vp.name, Address: vp.address, Lat: vp.lat, Lon: vp.lon, TimeZone: cp.zone}
			if err := s.svc.Venues.CreateVenue(ctx, v); err != nil {
				return fmt.Errorf("create venue %s: %w", vp.name, err)
			}
			s.res.Venues++
			s.venues[vp.key] = &venue{Venue: v, city: cp, loc: loc}
		}
	}
	s.logf("seeded %d cities and %d venues", s.res.Cities, s.res.Venues)
	return nil
}

func (s *seeder) catalogue(ctx context.Context) error {
	for _, bp := range brandPlans {
		b := &popkit.Brand{Name: bp.name, Slug: bp.slug, ContactEmail: bp.email}
		if err := s.svc.Brands.CreateBrand(ctx, b); err != nil {
			return fmt.Errorf("create brand %s: %w", bp.slug, err)
		}
		s.res.Brands++
		s.brands[bp.slug] = b
	}
	for _, it := range Catalog() {
		b := s.brands[it.BrandSlug]
		sku := &popkit.SKU{BrandID: b.ID, Code: it.Code, Name: it.Name, PriceMinor: it.PriceMinor,
			UnitCostMinor: it.UnitCostMinor, Perishable: it.Perishable, WeightGrams: it.WeightGrams}
		if err := s.svc.SKUs.CreateSKU(ctx, sku); err != nil {
			return fmt.Errorf("create SKU %s: %w", it.Code, err)
		}
		s.res.SKUs++
		s.skus[it.BrandSlug] = append(s.skus[it.BrandSlug], sku)
	}
	s.logf("seeded %d brands and %d SKUs", s.res.Brands, s.res.SKUs)
	return nil
}

func (s *seeder) events(ctx context.Context) error {
	for _, ep := range eventPlans {
		if err := s.event(ctx, ep); err != nil {
			return fmt.Errorf("event %q: %w", ep.name, err)
		}
	}
	s.logf("seeded %d events with %d assortment items and %d devices", s.res.Events, s.res.AssortmentItems, s.res.Devices)
	return nil
}

func (s *seeder) event(ctx context.Context, ep eventPlan) error {
	v := s.venues[ep.venue]
	sessions := s.sessions(ep, s.opt.Now.In(v.loc))
	e := &popkit.Event{
		VenueID:  v.ID,
		Name:     ep.name,
		Slug:     slugify(ep.name) + "-" + string(sessions[0].Start[:len("2006-01-02")]),
		Status:   popkit.EventScheduled,
		Sessions: sessions,
		Costs:    s.costs(v.city, ep.days),
	}
	for _, slug := range ep.brands {
		e.BrandIDs = append(e.BrandIDs, s.brands[slug].ID)
	}
	if err := s.svc.Events.CreateEvent(ctx, e); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	s.res.Events++

	for _, sku := range s.pick(ep.brands) {
		a := &popkit.AssortmentItem{EventID: e.ID, SKUID: sku.ID, Stock: s.stock(ep.kind, sku.Perishable)}
		if err := s.svc.Assortment.SetAssortmentItem(ctx, a); err != nil {
			return fmt.Errorf("set assortment item %s: %w", sku.Code, err)
		}
		s.res.AssortmentItems++
	}

	var path []popkit.EventStatus
	switch ep.kind {
	case past:
		path = []popkit.EventStatus{popkit.EventOpen, popkit.EventClosed}
	case current:
		path = []popkit.EventStatus{popkit.EventOpen}
	case cancelled:
		path = []popkit.EventStatus{popkit.EventCancelled}
	}
	for _, st := range path {
		if _, err := s.svc.Events.UpdateEvent(ctx, e.ID, popkit.EventUpdate{Status: &st}); err != nil {
			return fmt.Errorf("set status %s: %w", st, err)
		}
	}

	if ep.kind == current {
		d := &popkit.Device{EventID: e.ID, Name: "Edge agent at " + v.Name}
		if err := s.svc.Devices.CreateDevice(ctx, d); err != nil {
			return fmt.Errorf("create device: %w", err)
		}
		s.res.Devices++
	}
	return nil
}

// sessions returns one session a day in the venue's local time. nowLocal is
// Now in the venue's zone.
func (s *seeder) sessions(ep eventPlan, nowLocal time.Time) []popkit.Session {
	// Wall-clock arithmetic in UTC, where every day has 24 hours; the
	// store resolves the local times in the venue's zone.
	today := time.Date(nowLocal.Year(), nowLocal.Month(), nowLocal.Day(), 0, 0, 0, 0, time.UTC)
	startHour := openHour
	if h := nowLocal.Hour(); ep.kind == current && (h < openHour || h >= openHour+sessionHours) {
		startHour = h - 2
	}
	out := make([]popkit.Session, ep.days)
	for d := range out {
		start := today.AddDate(0, 0, ep.startDay+d).Add(time.Duration(startHour) * time.Hour)
		end := start.Add(sessionHours * time.Hour)
		out[d] = popkit.Session{
			Start: popkit.LocalTime(start.Format(popkit.LocalLayout)),
			End:   popkit.LocalTime(end.Format(popkit.LocalLayout)),
		}
	}
	return out
}

// costs returns an event's fixed costs in the city's currency: rent of
// ±10% around the city's day rate, two staff for the opening hours at the
// city's hourly rate, a van, and the city's energy tariff.
func (s *seeder) costs(c *cityPlan, days int) popkit.Costs {
	perDay := c.rentPerDay * int64(90+s.rng.IntN(21)) / 100 / 100 * 100
	return popkit.Costs{
		RentMinor:            perDay * int64(days),
		StaffMinor:           int64(days) * 2 * sessionHours * c.staffHour,
		TransportMinor:       int64(15000 + s.rng.IntN(201)*100),
		EnergyTariffMinorKWh: c.tariff,
	}
}

// pick chooses 6-20 SKUs of the event's brands, taking from the brands in
// turn so that each brand brings some. An event whose brands sell perishable
// SKUs sells at least one of them.
func (s *seeder) pick(brands []string) []*popkit.SKU {
	lists := make([][]*popkit.SKU, len(brands))
	total := 0
	for i, slug := range brands {
		all := s.skus[slug]
		l := make([]*popkit.SKU, len(all))
		for j, k := range s.rng.Perm(len(all)) {
			l[j] = all[k]
		}
		for j, sku := range l {
			if sku.Perishable {
				l[0], l[j] = l[j], l[0]
				break
			}
		}
		lists[i] = l
		total += len(l)
	}
	n := min(6+s.rng.IntN(15), total)
	out := make([]*popkit.SKU, 0, n)
	for turn := 0; len(out) < n; turn++ {
		for _, l := range lists {
			if turn < len(l) && len(out) < n {
				out = append(out, l[turn])
			}
		}
	}
	return out
}

// stock returns an item's stock: what is left after a past event, what is
// on the shelf at an open one, what is packed for a future one. Perishable
// items are stocked thinner.
func (s *seeder) stock(kind eventKind, perishable bool) int {
	lo, hi := 12, 60
	switch kind {
	case past:
		lo, hi = 0, 12
	case current:
		lo, hi = 4, 40
	}
	if perishable {
		hi = max(lo, hi/2)
	}
	return lo + s.rng.IntN(hi-lo+1)
}

// slugify turns a name into a slug: lower-case letters and digits, other
// runs as one hyphen, apostrophes dropped.
func slugify(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case r == '\'':
		default:
			hyphen = true
		}
	}
	return b.String()
}
