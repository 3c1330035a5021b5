package http

import (
	"net/http"

	"github.com/popkit/popkit"
)

// programInput is the body of PUT /api/v1/program.
type programInput struct {
	Name       string `json:"name"`
	Currency   string `json:"currency"`
	KAnonymity int    `json:"k_anonymity"`
	EpochDays  int    `json:"epoch_days"`
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request) {
	p, err := s.Program.FindProgram(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) putProgram(w http.ResponseWriter, r *http.Request) {
	var in programInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := &popkit.Program{Name: in.Name, Currency: in.Currency, KAnonymity: in.KAnonymity, EpochDays: in.EpochDays}
	if err := s.Program.UpdateProgram(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.getProgram(w, r)
}

// cityInput is the body of POST /api/v1/cities.
type cityInput struct {
	Name     string `json:"name"`
	Country  string `json:"country"`
	TimeZone string `json:"time_zone"`
	Currency string `json:"currency"` // empty: the country's
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func (s *Server) listCities() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.CityFilter, error) {
		return popkit.CityFilter{
			Country: q.str("country", validCountry, "must be a two-letter ISO 3166-1 code in upper case"),
			Page:    q.page(),
		}, nil
	}, s.Cities.FindCities)
}

func (s *Server) getCity() http.HandlerFunc {
	return handleGet(s, "city", s.Cities.FindCityByID, nil)
}

func (s *Server) createCity() http.HandlerFunc {
	return handleCreate(s, "/api/v1/cities", func(_ *popkit.Token, in *cityInput) (*popkit.City, error) {
		return &popkit.City{Name: in.Name, Country: in.Country, TimeZone: in.TimeZone, Currency: in.Currency}, nil
	}, s.Cities.CreateCity, func(c *popkit.City) string { return c.ID })
}

func (s *Server) patchCity() http.HandlerFunc {
	return handlePatch(s, "city", s.Cities.FindCityByID, nil, s.Cities.UpdateCity)
}

// venueInput is the body of POST /api/v1/venues. The coordinates are
// required (0 is a real latitude); an empty time zone means the city's.
type venueInput struct {
	CityID   string   `json:"city_id"`
	Name     string   `json:"name"`
	Address  string   `json:"address"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	TimeZone string   `json:"time_zone"`
}

func (s *Server) listVenues() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.VenueFilter, error) {
		return popkit.VenueFilter{CityID: q.id("city_id"), Page: q.page()}, nil
	}, s.Venues.FindVenues)
}

func (s *Server) getVenue() http.HandlerFunc {
	return handleGet(s, "venue", s.Venues.FindVenueByID, nil)
}

func (s *Server) createVenue() http.HandlerFunc {
	return handleCreate(s, "/api/v1/venues", func(_ *popkit.Token, in *venueInput) (*popkit.Venue, error) {
		var v popkit.Validation
		v.Check(in.Lat != nil, "lat", "is required")
		v.Check(in.Lon != nil, "lon", "is required")
		if err := v.Err(); err != nil {
			return nil, err
		}
		return &popkit.Venue{CityID: in.CityID, Name: in.Name, Address: in.Address, Lat: *in.Lat, Lon: *in.Lon, TimeZone: in.TimeZone}, nil
	}, s.Venues.CreateVenue, func(v *popkit.Venue) string { return v.ID })
}

func (s *Server) patchVenue() http.HandlerFunc {
	return handlePatch(s, "venue", s.Venues.FindVenueByID, nil, s.Venues.UpdateVenue)
}

// brandInput is the body of POST /api/v1/brands.
type brandInput struct {
	Name         string `json:"name"`
	Slug         string `json:"slug"`
	ContactEmail string `json:"contact_email"`
}

func (s *Server) listBrands() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.BrandFilter, error) {
		return popkit.BrandFilter{
			Slug: q.str("slug", popkit.ValidSlug, "must be 1-80 lower-case letters, digits and hyphens"),
			Page: q.page(),
		}, nil
	}, s.Brands.FindBrands)
}

func (s *Server) getBrand() http.HandlerFunc {
	return handleGet(s, "brand", s.Brands.FindBrandByID, nil)
}

func (s *Server) createBrand() http.HandlerFunc {
	return handleCreate(s, "/api/v1/brands", func(_ *popkit.Token, in *brandInput) (*popkit.Brand, error) {
		return &popkit.Brand{Name: in.Name, Slug: in.Slug, ContactEmail: in.ContactEmail}, nil
	}, s.Brands.CreateBrand, func(b *popkit.Brand) string { return b.ID })
}

func (s *Server) patchBrand() http.HandlerFunc {
	return handlePatch(s, "brand", s.Brands.FindBrandByID, nil, s.Brands.UpdateBrand)
}
