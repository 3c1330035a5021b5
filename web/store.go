package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/popkit/popkit"
)

// Store is the microsite's Source over the domain services: it joins each
// listing's live revision with its event, venue, city and brands, and
// applies the domain's visibility rules (popkit.Listing.VisibleTo and
// SessionVisibleTo) for the viewer. Cities, venues, brands and the program
// change rarely and are cached for CacheTTL.
type Store struct {
	Listings    popkit.ListingService
	Events      popkit.EventService
	Venues      popkit.VenueService
	CityService popkit.CityService
	Brands      popkit.BrandService
	Program     popkit.ProgramService
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL bounds how stale cached places and brands may be; zero
	// means 30 seconds.
	CacheTTL time.Duration

	mu     sync.Mutex
	venues map[string]cached[*popkit.Venue]
	brands map[string]cached[*popkit.Brand]
	cities cached[[]cityEntry]
	prog   cached[*popkit.Program]
}

var _ Source = (*Store)(nil)

type cached[T any] struct {
	val T
	exp time.Time
}

type cityEntry struct {
	City popkit.City
	Slug string
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) ttl() time.Duration {
	if s.CacheTTL > 0 {
		return s.CacheTTL
	}
	return 30 * time.Second
}

// slugify makes a URL segment of a name: lower-case letters and digits
// joined by hyphens.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "city"
	}
	return b.String()
}

// cityEntries returns every city with a unique slug: its name, or its
// name and country when two cities share a name.
func (s *Store) cityEntries(ctx context.Context) ([]cityEntry, error) {
	now := time.Now()
	s.mu.Lock()
	if now.Before(s.cities.exp) {
		c := s.cities.val
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	var all []*popkit.City
	after := ""
	for {
		cs, next, err := s.CityService.FindCities(ctx, popkit.CityFilter{Page: popkit.Page{Limit: popkit.MaxPageLimit, After: after}})
		if err != nil {
			return nil, fmt.Errorf("find cities: %w", err)
		}
		all = append(all, cs...)
		if next == "" {
			break
		}
		after = next
	}
	count := map[string]int{}
	for _, c := range all {
		count[slugify(c.Name)]++
	}
	out := make([]cityEntry, 0, len(all))
	used := map[string]bool{}
	for _, c := range all {
		slug := slugify(c.Name)
		if count[slug] > 1 {
			slug += "-" + strings.ToLower(c.Country)
		}
		if used[slug] {
			slug += "-" + strings.ToLower(c.ID[len(c.ID)-6:])
		}
		used[slug] = true
		out = append(out, cityEntry{City: *c, Slug: slug})
	}
	slices.SortFunc(out, func(a, b cityEntry) int { return strings.Compare(a.City.Name, b.City.Name) })
	s.mu.Lock()
	s.cities = cached[[]cityEntry]{out, now.Add(s.ttl())}
	s.mu.Unlock()
	return out, nil
}

func (s *Store) cityByID(ctx context.Context, id string) (cityEntry, error) {
	cs, err := s.cityEntries(ctx)
	if err != nil {
		return cityEntry{}, err
	}
	for _, c := range cs {
		if c.City.ID == id {
			return c, nil
		}
	}
	return cityEntry{}, popkit.Errorf(popkit.ENOTFOUND, "city not found")
}

// lookup returns a cached value or loads it.
func lookup[T any](s *Store, m *map[string]cached[T], id string, load func() (T, error)) (T, error) {
	now := time.Now()
	s.mu.Lock()
	if e, ok := (*m)[id]; ok && now.Before(e.exp) {
		s.mu.Unlock()
		return e.val, nil
	}
	s.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	s.mu.Lock()
	if *m == nil || len(*m) > 10000 {
		*m = map[string]cached[T]{}
	}
	(*m)[id] = cached[T]{v, now.Add(s.ttl())}
	s.mu.Unlock()
	return v, nil
}

func (s *Store) venue(ctx context.Context, id string) (*popkit.Venue, error) {
	return lookup(s, &s.venues, id, func() (*popkit.Venue, error) { return s.Venues.FindVenueByID(ctx, id) })
}

func (s *Store) brand(ctx context.Context, id string) (*popkit.Brand, error) {
	return lookup(s, &s.brands, id, func() (*popkit.Brand, error) { return s.Brands.FindBrandByID(ctx, id) })
}

func (s *Store) currency(ctx context.Context) (string, error) {
	now := time.Now()
	s.mu.Lock()
	if now.Before(s.prog.exp) {
		c := s.prog.val.Currency
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	p, err := s.Program.FindProgram(ctx)
	if err != nil {
		return "", fmt.Errorf("find program: %w", err)
	}
	s.mu.Lock()
	s.prog = cached[*popkit.Program]{p, now.Add(s.ttl())}
	s.mu.Unlock()
	return p.Currency, nil
}

// Cities returns every city of the program.
func (s *Store) Cities(ctx context.Context) ([]City, error) {
	cs, err := s.cityEntries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]City, len(cs))
	for i, c := range cs {
		out[i] = City{Slug: c.Slug, Name: c.City.Name}
	}
	return out, nil
}

// City returns a city by slug. Returns ENOTFOUND.
func (s *Store) City(ctx context.Context, slug string) (*City, error) {
	cs, err := s.cityEntries(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Slug == slug {
			return &City{Slug: c.Slug, Name: c.City.Name}, nil
		}
	}
	return nil, popkit.Errorf(popkit.ENOTFOUND, "city not found")
}

// Brand returns a brand by slug. Returns ENOTFOUND.
func (s *Store) Brand(ctx context.Context, slug string) (*Brand, error) {
	if !popkit.ValidSlug(slug) {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "brand not found")
	}
	bs, _, err := s.Brands.FindBrands(ctx, popkit.BrandFilter{Slug: slug, Page: popkit.Page{Limit: 1}})
	if err != nil {
		return nil, fmt.Errorf("find brand: %w", err)
	}
	if len(bs) == 0 || bs[0].Slug != slug {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "brand not found")
	}
	return &Brand{Slug: bs[0].Slug, Name: bs[0].Name}, nil
}

// PublishedListing returns the listing with this slug if the viewer may
// see it now. Returns ENOTFOUND otherwise, so that nothing unpublished or
// not yet public can be told apart from nothing.
func (s *Store) PublishedListing(ctx context.Context, slug string, v popkit.Viewer) (*Listing, error) {
	now := s.now()
	l, err := s.Listings.FindListingBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !l.VisibleTo(now, v) {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "listing not found")
	}
	return s.view(ctx, l, v, now)
}

// PublishedListings returns the listings the viewer may see now, soonest
// first.
func (s *Store) PublishedListings(ctx context.Context, q ListingQuery, v popkit.Viewer) ([]*Listing, error) {
	now := s.now()
	f := popkit.ListingFilter{VisibleAt: now, EndsAfter: q.EndsAfter}
	if v.EarlyAccess(now) {
		f.EarlyAccess = v.Tier.EarlyAccess
	}
	if q.CitySlug != "" {
		cs, err := s.cityEntries(ctx)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(cs, func(c cityEntry) bool { return c.Slug == q.CitySlug })
		if i < 0 {
			return nil, nil
		}
		f.CityID = cs[i].City.ID
	}
	if q.BrandSlug != "" {
		bs, _, err := s.Brands.FindBrands(ctx, popkit.BrandFilter{Slug: q.BrandSlug, Page: popkit.Page{Limit: 1}})
		if err != nil {
			return nil, fmt.Errorf("find brand: %w", err)
		}
		if len(bs) == 0 {
			return nil, nil
		}
		f.BrandID = bs[0].ID
	}
	limit := q.Limit
	if limit <= 0 {
		limit = popkit.DefaultPageLimit
	}
	var out []*Listing
	for len(out) < limit {
		f.Page = popkit.Page{Limit: min(popkit.MaxPageLimit, limit-len(out)), After: f.After}
		ls, next, err := s.Listings.FindListings(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("find listings: %w", err)
		}
		for _, l := range ls {
			if !l.VisibleTo(now, v) {
				continue // the filter should have left it out; never show it
			}
			vl, err := s.view(ctx, l, v, now)
			if popkit.ErrorCode(err) == popkit.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, vl)
		}
		if next == "" {
			break
		}
		f.After = next
	}
	return out, nil
}

// view joins a visible listing's live revision with its event and places.
func (s *Store) view(ctx context.Context, l *popkit.Listing, v popkit.Viewer, now time.Time) (*Listing, error) {
	live := l.Live
	if live == nil {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "listing not found")
	}
	ev, err := s.Events.FindEventByID(ctx, l.EventID)
	if err != nil {
		return nil, fmt.Errorf("find event: %w", err)
	}
	ve, err := s.venue(ctx, ev.VenueID)
	if err != nil {
		return nil, fmt.Errorf("find venue: %w", err)
	}
	city, err := s.cityByID(ctx, ve.CityID)
	if err != nil {
		return nil, fmt.Errorf("find city: %w", err)
	}
	loc := ve.Location()
	out := &Listing{
		ID: l.ID, EventID: l.EventID, Slug: l.Slug,
		Title: live.Title, Summary: live.Summary, Description: live.Description,
		Venue:    Venue{Name: ve.Name, Street: ve.Address, Country: city.City.Country, Lat: ve.Lat, Lon: ve.Lon},
		City:     City{Slug: city.Slug, Name: city.City.Name},
		TimeZone: ve.TimeZone,
		Status:   StatusScheduled,
		Revision: l.LiveRevision,
	}
	switch {
	case ev.Status == popkit.EventCancelled:
		out.Status = StatusCancelled
		// Cancelling is a change calendars must see: bump SEQUENCE.
		out.Revision++
	case ev.Status == popkit.EventPostponed:
		out.Status = StatusPostponed
		// So is postponing (STATUS:TENTATIVE).
		out.Revision++
	case ev.PreviousStartsAt != nil:
		out.Status = StatusRescheduled
		out.PreviousStart = ev.PreviousStartsAt.In(loc)
	}
	out.UpdatedAt = l.UpdatedAt
	if ev.UpdatedAt.After(out.UpdatedAt) {
		out.UpdatedAt = ev.UpdatedAt
	}
	if l.PublishedAt != nil && l.PublishedAt.After(out.UpdatedAt) {
		out.UpdatedAt = *l.PublishedAt
	}
	for _, im := range live.Images {
		out.Images = append(out.Images, Image{URL: im.URL, Width: im.Width, Height: im.Height, Alt: im.Alt})
	}
	for _, id := range live.BrandIDs {
		b, err := s.brand(ctx, id)
		if popkit.ErrorCode(err) == popkit.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("find brand: %w", err)
		}
		out.Brands = append(out.Brands, Brand{Slug: b.Slug, Name: b.Name})
	}
	out.Categories = append(out.Categories, live.Categories...)
	for _, t := range live.Tags {
		if !slices.Contains(out.Categories, t) {
			out.Categories = append(out.Categories, t)
		}
	}
	for _, se := range ev.Sessions {
		if !l.SessionVisibleTo(se, now, v) {
			continue
		}
		out.Sessions = append(out.Sessions, Session{
			Start: se.StartUTC.In(loc), End: se.EndUTC.In(loc), Cancelled: se.Cancelled,
			MembersOnly: slices.Contains(live.MemberOnlySessions, se.Start),
		})
	}
	if live.Price != nil {
		// Prices at an event are in its city's currency; a store that
		// does not say it (an older one) means the program's.
		cur := ev.Currency
		if cur == "" {
			if cur, err = s.currency(ctx); err != nil {
				return nil, err
			}
		}
		out.Price = &Price{MinMinor: live.Price.MinMinor, MaxMinor: live.Price.MaxMinor, Currency: cur}
	}
	return out, nil
}
