package popkit

import (
	"context"
	"math"
	"strings"
	"time"
)

// City is a city the program runs pop-ups in. Its TimeZone is the default
// for new venues in the city.
type City struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Country  string `json:"country"` // ISO 3166-1 alpha-2, e.g. "DE"
	TimeZone string `json:"time_zone"`
	// Currency is the ISO 4217 currency of everything sold or spent in the
	// city: SKU prices at its events, assortment overrides, event costs,
	// orders and payments. It cannot change once an event in the city has
	// orders (their amounts are in it).
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a city before it is stored. An empty Currency is first
// set to the currency of the city's country when CountryCurrency knows it.
func (c *City) Validate() error {
	var v Validation
	if c.Currency == "" {
		c.Currency, _ = CountryCurrency(c.Country)
	}
	checkName(&v, "name", c.Name)
	v.Check(len(c.Country) == 2 && strings.ToUpper(c.Country) == c.Country && isLetters(c.Country), "country", "must be a two-letter ISO 3166-1 code in upper case")
	checkTimeZone(&v, "time_zone", c.TimeZone)
	v.Check(ValidCurrency(c.Currency), "currency", CurrencyMessage)
	return v.Err()
}

// CityFilter selects cities. Zero fields do not filter.
type CityFilter struct {
	Country string
	Page
}

// CityUpdate holds the fields a city update may change; nil leaves a field.
type CityUpdate struct {
	Name     *string `json:"name"`
	Country  *string `json:"country"`
	TimeZone *string `json:"time_zone"`
	Currency *string `json:"currency"`
}

// CityService manages cities.
type CityService interface {
	// FindCityByID returns one city. Returns ENOTFOUND.
	FindCityByID(ctx context.Context, id string) (*City, error)
	// FindCities returns a page of cities and the cursor of the next page
	// ("" when this is the last).
	FindCities(ctx context.Context, f CityFilter) ([]*City, string, error)
	// CreateCity validates and stores a new city, setting its id and times.
	// Returns EINVALID.
	CreateCity(ctx context.Context, c *City) error
	// UpdateCity changes a city. Returns ENOTFOUND, EINVALID, and
	// ECONFLICT (field currency) when the currency would change while an
	// event in the city has orders.
	UpdateCity(ctx context.Context, id string, u CityUpdate) (*City, error)
}

// Apply copies the set fields of u onto c.
func (u CityUpdate) Apply(c *City) {
	setString(&c.Name, u.Name)
	setString(&c.Country, u.Country)
	setString(&c.TimeZone, u.TimeZone)
	setString(&c.Currency, u.Currency)
}

// Venue is a place pop-ups happen at. Every venue has its own IANA time zone:
// "same day" and "per hour" are in the venue's local time.
type Venue struct {
	ID        string    `json:"id"`
	CityID    string    `json:"city_id"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Lat       float64   `json:"lat"`
	Lon       float64   `json:"lon"`
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a venue before it is stored. It does not check that the
// city exists; the store does.
func (ve *Venue) Validate() error {
	var v Validation
	v.Check(ValidID(ve.CityID), "city_id", "must be a city id")
	checkName(&v, "name", ve.Name)
	v.Check(strings.TrimSpace(ve.Address) != "" && len(ve.Address) <= 500, "address", "is required (at most 500 characters)")
	v.Check(!math.IsNaN(ve.Lat) && ve.Lat >= -90 && ve.Lat <= 90, "lat", "must be between -90 and 90")
	v.Check(!math.IsNaN(ve.Lon) && ve.Lon >= -180 && ve.Lon <= 180, "lon", "must be between -180 and 180")
	checkTimeZone(&v, "time_zone", ve.TimeZone)
	return v.Err()
}

// Location returns the venue's time zone. The zone was validated when the
// venue was stored; an unloadable zone falls back to UTC.
func (ve *Venue) Location() *time.Location {
	loc, err := time.LoadLocation(ve.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// VenueFilter selects venues. Zero fields do not filter.
type VenueFilter struct {
	CityID string
	Page
}

// VenueUpdate holds the fields a venue update may change.
type VenueUpdate struct {
	Name     *string  `json:"name"`
	Address  *string  `json:"address"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	TimeZone *string  `json:"time_zone"`
}

// Apply copies the set fields of u onto ve.
func (u VenueUpdate) Apply(ve *Venue) {
	setString(&ve.Name, u.Name)
	setString(&ve.Address, u.Address)
	if u.Lat != nil {
		ve.Lat = *u.Lat
	}
	if u.Lon != nil {
		ve.Lon = *u.Lon
	}
	setString(&ve.TimeZone, u.TimeZone)
}

// VenueService manages venues.
type VenueService interface {
	// FindVenueByID returns one venue. Returns ENOTFOUND.
	FindVenueByID(ctx context.Context, id string) (*Venue, error)
	// FindVenues returns a page of venues and the next cursor.
	FindVenues(ctx context.Context, f VenueFilter) ([]*Venue, string, error)
	// CreateVenue stores a new venue. When TimeZone is empty the city's zone
	// is used. Returns EINVALID, or EUNPROCESSABLE when the city does not
	// exist.
	CreateVenue(ctx context.Context, v *Venue) error
	// UpdateVenue changes a venue. Returns ENOTFOUND, EINVALID.
	UpdateVenue(ctx context.Context, id string, u VenueUpdate) (*Venue, error)
}

// Brand is a microbrand that takes part in pop-ups.
type Brand struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Slug         string    `json:"slug"`
	ContactEmail string    `json:"contact_email,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Validate checks a brand before it is stored.
func (b *Brand) Validate() error {
	var v Validation
	checkName(&v, "name", b.Name)
	v.Check(ValidSlug(b.Slug), "slug", "must be 1-80 lower-case letters, digits and hyphens")
	v.Check(b.ContactEmail == "" || validEmail(b.ContactEmail), "contact_email", "must be an email address")
	return v.Err()
}

// BrandFilter selects brands.
type BrandFilter struct {
	Slug string
	Page
}

// BrandUpdate holds the fields a brand update may change.
type BrandUpdate struct {
	Name         *string `json:"name"`
	Slug         *string `json:"slug"`
	ContactEmail *string `json:"contact_email"`
}

// Apply copies the set fields of u onto b.
func (u BrandUpdate) Apply(b *Brand) {
	setString(&b.Name, u.Name)
	setString(&b.Slug, u.Slug)
	setString(&b.ContactEmail, u.ContactEmail)
}

// BrandService manages brands.
type BrandService interface {
	// FindBrandByID returns one brand. Returns ENOTFOUND.
	FindBrandByID(ctx context.Context, id string) (*Brand, error)
	// FindBrands returns a page of brands and the next cursor.
	FindBrands(ctx context.Context, f BrandFilter) ([]*Brand, string, error)
	// CreateBrand stores a new brand. Returns EINVALID, or ECONFLICT when
	// the slug is taken.
	CreateBrand(ctx context.Context, b *Brand) error
	// UpdateBrand changes a brand. Returns ENOTFOUND, EINVALID, ECONFLICT.
	UpdateBrand(ctx context.Context, id string, u BrandUpdate) (*Brand, error)
}
