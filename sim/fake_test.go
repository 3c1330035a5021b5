package sim_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
)

// fakeStore is a minimal in-memory implementation of the services Seed uses.
// It validates what it is given with the domain's own checks and keeps the
// store-side rules Seed relies on (zones from venues, brands of SKUs in an
// assortment, unique slugs and codes). Writes counts every write call.
type fakeStore struct {
	mu      sync.Mutex
	writes  int
	program popkit.Program
	cities  map[string]*popkit.City
	venues  map[string]*popkit.Venue
	brands  map[string]*popkit.Brand
	events  map[string]*popkit.Event
	skus    map[string]*popkit.SKU
	items   map[[2]string]*popkit.AssortmentItem
	devices map[string]*popkit.Device
}

var (
	_ popkit.ProgramService    = (*fakeStore)(nil)
	_ popkit.CityService       = (*fakeStore)(nil)
	_ popkit.VenueService      = (*fakeStore)(nil)
	_ popkit.BrandService      = (*fakeStore)(nil)
	_ popkit.EventService      = (*fakeStore)(nil)
	_ popkit.SKUService        = (*fakeStore)(nil)
	_ popkit.AssortmentService = (*fakeStore)(nil)
	_ popkit.DeviceService     = (*fakeStore)(nil)
)

func newFakeStore() *fakeStore {
	return &fakeStore{
		program: popkit.DefaultProgram(),
		cities:  map[string]*popkit.City{},
		venues:  map[string]*popkit.Venue{},
		brands:  map[string]*popkit.Brand{},
		events:  map[string]*popkit.Event{},
		skus:    map[string]*popkit.SKU{},
		items:   map[[2]string]*popkit.AssortmentItem{},
		devices: map[string]*popkit.Device{},
	}
}

// services returns the fake as every service Seed writes through.
func (s *fakeStore) services() sim.Services {
	return sim.Services{Program: s, Cities: s, Venues: s, Brands: s, Events: s, SKUs: s, Assortment: s, Devices: s}
}

// Writes returns the number of write calls so far.
func (s *fakeStore) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *fakeStore) write() time.Time {
	s.writes++
	return time.Now().UTC()
}

// page returns one page of the matching values, ordered by id.
func page[T any](m map[string]*T, id func(*T) string, keep func(*T) bool, p popkit.Page) ([]*T, string, error) {
	limit, after, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	var all []*T
	for _, v := range m {
		if keep(v) && id(v) > after {
			all = append(all, v)
		}
	}
	slices.SortFunc(all, func(a, b *T) int { return cmp.Compare(id(a), id(b)) })
	next := ""
	if len(all) > limit {
		all = all[:limit]
		next = popkit.Cursor(id(all[limit-1]))
	}
	out := make([]*T, len(all))
	for i, v := range all {
		c := *v
		out[i] = &c
	}
	return out, next, nil
}

func notFound(what string) error { return popkit.Errorf(popkit.ENOTFOUND, "%s not found", what) }

func (s *fakeStore) FindProgram(ctx context.Context) (*popkit.Program, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.program
	return &p, nil
}

func (s *fakeStore) UpdateProgram(ctx context.Context, p *popkit.Program) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = s.write()
	s.program = *p
	return nil
}

func (s *fakeStore) FindCityByID(ctx context.Context, id string) (*popkit.City, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cities[id]
	if !ok {
		return nil, notFound("city")
	}
	cc := *c
	return &cc, nil
}

func (s *fakeStore) FindCities(ctx context.Context, f popkit.CityFilter) ([]*popkit.City, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.cities, func(c *popkit.City) string { return c.ID },
		func(c *popkit.City) bool { return f.Country == "" || c.Country == f.Country }, f.Page)
}

func (s *fakeStore) CreateCity(ctx context.Context, c *popkit.City) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := c.Validate(); err != nil {
		return err
	}
	c.ID = popkit.NewID()
	c.CreatedAt = s.write()
	c.UpdatedAt = c.CreatedAt
	cc := *c
	s.cities[c.ID] = &cc
	return nil
}

func (s *fakeStore) UpdateCity(ctx context.Context, id string, u popkit.CityUpdate) (*popkit.City, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cities[id]
	if !ok {
		return nil, notFound("city")
	}
	cc := *c
	u.Apply(&cc)
	if err := cc.Validate(); err != nil {
		return nil, err
	}
	cc.UpdatedAt = s.write()
	s.cities[id] = &cc
	out := cc
	return &out, nil
}

func (s *fakeStore) FindVenueByID(ctx context.Context, id string) (*popkit.Venue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.venues[id]
	if !ok {
		return nil, notFound("venue")
	}
	vv := *v
	return &vv, nil
}

func (s *fakeStore) FindVenues(ctx context.Context, f popkit.VenueFilter) ([]*popkit.Venue, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.venues, func(v *popkit.Venue) string { return v.ID },
		func(v *popkit.Venue) bool { return f.CityID == "" || v.CityID == f.CityID }, f.Page)
}

func (s *fakeStore) CreateVenue(ctx context.Context, v *popkit.Venue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cities[v.CityID]
	if v.TimeZone == "" && ok {
		v.TimeZone = c.TimeZone
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if !ok {
		return popkit.Errorf(popkit.EUNPROCESSABLE, "city does not exist")
	}
	v.ID = popkit.NewID()
	v.CreatedAt = s.write()
	v.UpdatedAt = v.CreatedAt
	vv := *v
	s.venues[v.ID] = &vv
	return nil
}

func (s *fakeStore) UpdateVenue(ctx context.Context, id string, u popkit.VenueUpdate) (*popkit.Venue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.venues[id]
	if !ok {
		return nil, notFound("venue")
	}
	vv := *v
	u.Apply(&vv)
	if err := vv.Validate(); err != nil {
		return nil, err
	}
	vv.UpdatedAt = s.write()
	s.venues[id] = &vv
	out := vv
	return &out, nil
}

func (s *fakeStore) FindBrandByID(ctx context.Context, id string) (*popkit.Brand, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.brands[id]
	if !ok {
		return nil, notFound("brand")
	}
	bb := *b
	return &bb, nil
}

func (s *fakeStore) FindBrands(ctx context.Context, f popkit.BrandFilter) ([]*popkit.Brand, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.brands, func(b *popkit.Brand) string { return b.ID },
		func(b *popkit.Brand) bool { return f.Slug == "" || b.Slug == f.Slug }, f.Page)
}

func (s *fakeStore) CreateBrand(ctx context.Context, b *popkit.Brand) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := b.Validate(); err != nil {
		return err
	}
	for _, x := range s.brands {
		if x.Slug == b.Slug {
			return popkit.Errorf(popkit.ECONFLICT, "brand slug %s is taken", b.Slug)
		}
	}
	b.ID = popkit.NewID()
	b.CreatedAt = s.write()
	b.UpdatedAt = b.CreatedAt
	bb := *b
	s.brands[b.ID] = &bb
	return nil
}

func (s *fakeStore) UpdateBrand(ctx context.Context, id string, u popkit.BrandUpdate) (*popkit.Brand, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.brands[id]
	if !ok {
		return nil, notFound("brand")
	}
	bb := *b
	u.Apply(&bb)
	if err := bb.Validate(); err != nil {
		return nil, err
	}
	bb.UpdatedAt = s.write()
	s.brands[id] = &bb
	out := bb
	return &out, nil
}

func cloneEvent(e *popkit.Event) *popkit.Event {
	c := *e
	c.BrandIDs = slices.Clone(e.BrandIDs)
	c.Sessions = slices.Clone(e.Sessions)
	return &c
}

func (s *fakeStore) FindEventByID(ctx context.Context, id string) (*popkit.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return nil, notFound("event")
	}
	return cloneEvent(e), nil
}

func (s *fakeStore) FindEvents(ctx context.Context, f popkit.EventFilter) ([]*popkit.Event, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, next, err := page(s.events, func(e *popkit.Event) string { return e.ID }, func(e *popkit.Event) bool {
		return (f.CityID == "" || e.CityID == f.CityID) &&
			(f.VenueID == "" || e.VenueID == f.VenueID) &&
			(f.BrandID == "" || e.HasBrand(f.BrandID)) &&
			(f.Status == "" || e.Status == f.Status) &&
			(f.From.IsZero() || e.EndsAt.After(f.From)) &&
			(f.To.IsZero() || e.StartsAt.Before(f.To))
	}, f.Page)
	for i, e := range es {
		es[i] = cloneEvent(e)
	}
	return es, next, err
}

// resolve checks e against the store: its venue gives the zone, its brands
// must exist and its slug must be free.
func (s *fakeStore) resolve(e *popkit.Event) error {
	v, ok := s.venues[e.VenueID]
	loc := time.UTC
	if ok {
		loc = v.Location()
	}
	if err := e.Resolve(loc); err != nil {
		return err
	}
	if !ok {
		return popkit.Errorf(popkit.EUNPROCESSABLE, "venue does not exist")
	}
	for _, id := range e.BrandIDs {
		if s.brands[id] == nil {
			return popkit.Errorf(popkit.EUNPROCESSABLE, "brand %s does not exist", id)
		}
	}
	for _, x := range s.events {
		if x.Slug == e.Slug && x.ID != e.ID {
			return popkit.Errorf(popkit.ECONFLICT, "event slug %s is taken", e.Slug)
		}
	}
	e.CityID, e.TimeZone = v.CityID, v.TimeZone
	return nil
}

func (s *fakeStore) CreateEvent(ctx context.Context, e *popkit.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resolve(e); err != nil {
		return err
	}
	e.ID = popkit.NewID()
	e.CreatedAt = s.write()
	e.UpdatedAt = e.CreatedAt
	s.events[e.ID] = cloneEvent(e)
	return nil
}

func (s *fakeStore) UpdateEvent(ctx context.Context, id string, u popkit.EventUpdate) (*popkit.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return nil, notFound("event")
	}
	c := cloneEvent(e)
	if err := u.Apply(c); err != nil {
		return nil, err
	}
	if err := s.resolve(c); err != nil {
		return nil, err
	}
	c.UpdatedAt = s.write()
	s.events[id] = c
	return cloneEvent(c), nil
}

func (s *fakeStore) FindSKUByID(ctx context.Context, id string) (*popkit.SKU, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.skus[id]
	if !ok {
		return nil, notFound("SKU")
	}
	kk := *k
	return &kk, nil
}

func (s *fakeStore) FindSKUs(ctx context.Context, f popkit.SKUFilter) ([]*popkit.SKU, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.skus, func(k *popkit.SKU) string { return k.ID },
		func(k *popkit.SKU) bool { return f.BrandID == "" || k.BrandID == f.BrandID }, f.Page)
}

func (s *fakeStore) CreateSKU(ctx context.Context, k *popkit.SKU) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := k.Validate(); err != nil {
		return err
	}
	if s.brands[k.BrandID] == nil {
		return popkit.Errorf(popkit.EUNPROCESSABLE, "brand does not exist")
	}
	for _, x := range s.skus {
		if x.BrandID == k.BrandID && x.Code == k.Code {
			return popkit.Errorf(popkit.ECONFLICT, "brand already has code %s", k.Code)
		}
	}
	k.ID = popkit.NewID()
	k.CreatedAt = s.write()
	k.UpdatedAt = k.CreatedAt
	kk := *k
	s.skus[k.ID] = &kk
	return nil
}

func (s *fakeStore) UpdateSKU(ctx context.Context, id string, u popkit.SKUUpdate) (*popkit.SKU, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.skus[id]
	if !ok {
		return nil, notFound("SKU")
	}
	kk := *k
	u.Apply(&kk)
	if err := kk.Validate(); err != nil {
		return nil, err
	}
	kk.UpdatedAt = s.write()
	s.skus[id] = &kk
	out := kk
	return &out, nil
}

func (s *fakeStore) FindAssortment(ctx context.Context, f popkit.AssortmentFilter) ([]*popkit.AssortmentItem, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events[f.EventID] == nil {
		return nil, "", notFound("event")
	}
	m := map[string]*popkit.AssortmentItem{}
	for k, a := range s.items {
		if k[0] == f.EventID && (f.BrandID == "" || a.BrandID == f.BrandID) {
			m[k[1]] = a
		}
	}
	return page(m, func(a *popkit.AssortmentItem) string { return a.SKUID }, func(*popkit.AssortmentItem) bool { return true }, f.Page)
}

func (s *fakeStore) FindAssortmentItem(ctx context.Context, eventID, skuID string) (*popkit.AssortmentItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.items[[2]string{eventID, skuID}]
	if !ok {
		return nil, notFound("assortment item")
	}
	aa := *a
	return &aa, nil
}

func (s *fakeStore) SetAssortmentItem(ctx context.Context, a *popkit.AssortmentItem) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := a.Validate(); err != nil {
		return err
	}
	e, k := s.events[a.EventID], s.skus[a.SKUID]
	if e == nil {
		return notFound("event")
	} else if k == nil {
		return notFound("SKU")
	}
	if !e.HasBrand(k.BrandID) {
		return popkit.InvalidField("sku_id", "belongs to a brand that does not take part in the event")
	}
	a.BrandID = k.BrandID
	a.UpdatedAt = s.write()
	aa := *a
	s.items[[2]string{a.EventID, a.SKUID}] = &aa
	return nil
}

func (s *fakeStore) AdjustStock(ctx context.Context, eventID, skuID string, delta int) (*popkit.AssortmentItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.items[[2]string{eventID, skuID}]
	if !ok {
		return nil, notFound("assortment item")
	}
	if a.Stock+delta < 0 {
		return nil, popkit.Errorf(popkit.ECONFLICT, "stock would go below zero")
	}
	a.Stock += delta
	a.UpdatedAt = s.write()
	aa := *a
	return &aa, nil
}

func (s *fakeStore) RemoveAssortmentItem(ctx context.Context, eventID, skuID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[[2]string{eventID, skuID}]; !ok {
		return notFound("assortment item")
	}
	s.write()
	delete(s.items, [2]string{eventID, skuID})
	return nil
}

func (s *fakeStore) FindDeviceByID(ctx context.Context, id string) (*popkit.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, notFound("device")
	}
	dd := *d
	return &dd, nil
}

func (s *fakeStore) FindDevices(ctx context.Context, f popkit.DeviceFilter) ([]*popkit.Device, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.devices, func(d *popkit.Device) string { return d.ID },
		func(d *popkit.Device) bool { return f.EventID == "" || d.EventID == f.EventID }, f.Page)
}

func (s *fakeStore) CreateDevice(ctx context.Context, d *popkit.Device) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := d.Validate(); err != nil {
		return err
	}
	if s.events[d.EventID] == nil {
		return popkit.Errorf(popkit.EUNPROCESSABLE, "event does not exist")
	}
	d.ID = popkit.NewID()
	d.CreatedAt = s.write()
	d.UpdatedAt = d.CreatedAt
	dd := *d
	s.devices[d.ID] = &dd
	return nil
}

func (s *fakeStore) UpdateDevice(ctx context.Context, id string, u popkit.DeviceUpdate) (*popkit.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, notFound("device")
	}
	dd := *d
	if u.Name != nil {
		dd.Name = *u.Name
	}
	if err := dd.Validate(); err != nil {
		return nil, err
	}
	dd.UpdatedAt = s.write()
	s.devices[id] = &dd
	out := dd
	return &out, nil
}
