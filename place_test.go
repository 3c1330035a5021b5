package popkit_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

const (
	cityID  = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d5e"
	venueID = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d5f"
	brandA  = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d60"
	brandB  = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d61"
	eventID = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d62"
	skuID   = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d63"
	nodeID  = "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d64"
)

func TestCityValidate(t *testing.T) {
	t.Parallel()
	valid := func() popkit.City { return popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"} }
	tests := []struct {
		name   string
		change func(c *popkit.City)
		fields []string
	}{
		{"valid", func(*popkit.City) {}, nil},
		{"UTC zone", func(c *popkit.City) { c.TimeZone = "UTC" }, nil},
		{"empty name", func(c *popkit.City) { c.Name = "" }, []string{"name"}},
		{"blank name", func(c *popkit.City) { c.Name = " \t" }, []string{"name"}},
		{"name of 201 runes", func(c *popkit.City) { c.Name = strings.Repeat("ü", 201) }, []string{"name"}},
		{"name of 200 runes", func(c *popkit.City) { c.Name = strings.Repeat("ü", 200) }, nil},
		{"name not UTF-8", func(c *popkit.City) { c.Name = "Berl\xffin" }, []string{"name"}},
		{"lower-case country", func(c *popkit.City) { c.Country = "de" }, []string{"country", "currency"}},
		{"three-letter country", func(c *popkit.City) { c.Country = "DEU" }, []string{"country", "currency"}},
		{"digits in country", func(c *popkit.City) { c.Country = "D1" }, []string{"country", "currency"}},
		{"unknown time zone", func(c *popkit.City) { c.TimeZone = "Europe/Atlantis" }, []string{"time_zone"}},
		{"Local", func(c *popkit.City) { c.TimeZone = "Local" }, []string{"time_zone"}},
		{"empty zone", func(c *popkit.City) { c.TimeZone = "" }, []string{"time_zone"}},
		{"zone as a path", func(c *popkit.City) { c.TimeZone = "../../etc/passwd" }, []string{"time_zone"}},
		{"everything wrong", func(c *popkit.City) { *c = popkit.City{TimeZone: "Local"} }, []string{"name", "country", "time_zone", "currency"}},
		{"currency from country", func(c *popkit.City) { c.Country = "GB" }, nil},
		{"currency other than the country's", func(c *popkit.City) { c.Currency = "USD" }, nil},
		{"no default for the country", func(c *popkit.City) { c.Country = "ZZ" }, []string{"currency"}},
		{"lower-case currency", func(c *popkit.City) { c.Currency = "eur" }, []string{"currency"}},
		{"unknown currency", func(c *popkit.City) { c.Currency = "EUX" }, []string{"currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			checkFields(t, c.Validate(), tt.fields...)
		})
	}
}

func TestCityUpdateApply(t *testing.T) {
	t.Parallel()
	c := popkit.City{Name: "Berlin", Country: "DE", TimeZone: "Europe/Berlin"}
	name, zone := "Berlin-Mitte", "Europe/Paris"
	popkit.CityUpdate{Name: &name, TimeZone: &zone}.Apply(&c)
	if c != (popkit.City{Name: "Berlin-Mitte", Country: "DE", TimeZone: "Europe/Paris"}) {
		t.Errorf("after Apply: %+v", c)
	}
}

func TestVenueValidate(t *testing.T) {
	t.Parallel()
	valid := func() popkit.Venue {
		return popkit.Venue{CityID: cityID, Name: "Markthalle Neun", Address: "Eisenbahnstraße 42/43, 10997 Berlin",
			Lat: 52.50213, Lon: 13.43143, TimeZone: "Europe/Berlin"}
	}
	tests := []struct {
		name   string
		change func(v *popkit.Venue)
		fields []string
	}{
		{"valid", func(*popkit.Venue) {}, nil},
		{"corners of the map", func(v *popkit.Venue) { v.Lat, v.Lon = -90, 180 }, nil},
		{"no city", func(v *popkit.Venue) { v.CityID = "" }, []string{"city_id"}},
		{"city id not a uuid", func(v *popkit.Venue) { v.CityID = "berlin" }, []string{"city_id"}},
		{"no name", func(v *popkit.Venue) { v.Name = "" }, []string{"name"}},
		{"blank address", func(v *popkit.Venue) { v.Address = "  " }, []string{"address"}},
		{"long address", func(v *popkit.Venue) { v.Address = strings.Repeat("a", 501) }, []string{"address"}},
		{"lat above 90", func(v *popkit.Venue) { v.Lat = 90.0001 }, []string{"lat"}},
		{"lat below -90", func(v *popkit.Venue) { v.Lat = -91 }, []string{"lat"}},
		{"lat NaN", func(v *popkit.Venue) { v.Lat = math.NaN() }, []string{"lat"}},
		{"lon above 180", func(v *popkit.Venue) { v.Lon = 181 }, []string{"lon"}},
		{"lon infinite", func(v *popkit.Venue) { v.Lon = math.Inf(-1) }, []string{"lon"}},
		{"lon NaN", func(v *popkit.Venue) { v.Lon = math.NaN() }, []string{"lon"}},
		{"unknown time zone", func(v *popkit.Venue) { v.TimeZone = "Mars/Olympus_Mons" }, []string{"time_zone"}},
		{"Local", func(v *popkit.Venue) { v.TimeZone = "Local" }, []string{"time_zone"}},
		{"swapped lat and lon", func(v *popkit.Venue) { v.Lat, v.Lon = 144.95681, -37.80762 }, []string{"lat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := valid()
			tt.change(&v)
			checkFields(t, v.Validate(), tt.fields...)
		})
	}
}

func TestVenueLocation(t *testing.T) {
	t.Parallel()
	tests := []struct{ zone, want string }{
		{"Australia/Melbourne", "Australia/Melbourne"},
		{"Nowhere/Special", "UTC"},
		{"", "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			v := popkit.Venue{TimeZone: tt.zone}
			if got := v.Location().String(); got != tt.want {
				t.Errorf("Location() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestVenueUpdateApply(t *testing.T) {
	t.Parallel()
	v := popkit.Venue{Name: "A", Address: "B", Lat: 1, Lon: 2, TimeZone: "UTC"}
	lat, zone := 0.0, "Europe/London"
	popkit.VenueUpdate{Lat: &lat, TimeZone: &zone}.Apply(&v)
	if v != (popkit.Venue{Name: "A", Address: "B", Lat: 0, Lon: 2, TimeZone: "Europe/London"}) {
		t.Errorf("after Apply: %+v", v)
	}
}

func TestBrandValidate(t *testing.T) {
	t.Parallel()
	valid := func() popkit.Brand {
		return popkit.Brand{Name: "Pantry Lane", Slug: "pantry-lane", ContactEmail: "hello@pantrylane.example"}
	}
	tests := []struct {
		name   string
		change func(b *popkit.Brand)
		fields []string
	}{
		{"valid", func(*popkit.Brand) {}, nil},
		{"no email", func(b *popkit.Brand) { b.ContactEmail = "" }, nil},
		{"no name", func(b *popkit.Brand) { b.Name = "" }, []string{"name"}},
		{"upper-case slug", func(b *popkit.Brand) { b.Slug = "Pantry-Lane" }, []string{"slug"}},
		{"empty slug", func(b *popkit.Brand) { b.Slug = "" }, []string{"slug"}},
		{"email without at", func(b *popkit.Brand) { b.ContactEmail = "hello.example" }, []string{"contact_email"}},
		{"email with two ats", func(b *popkit.Brand) { b.ContactEmail = "a@b@c" }, []string{"contact_email"}},
		{"email with space", func(b *popkit.Brand) { b.ContactEmail = "a b@c.example" }, []string{"contact_email"}},
		{"email ending in at", func(b *popkit.Brand) { b.ContactEmail = "hello@" }, []string{"contact_email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := valid()
			tt.change(&b)
			checkFields(t, b.Validate(), tt.fields...)
		})
	}
}

func TestValidSlug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		slug string
		want bool
	}{
		{"a", true},
		{"pantry-lane-2026-05-11", true},
		{strings.Repeat("a", 80), true},
		{strings.Repeat("a", 81), false},
		{"", false},
		{"-lead", false},
		{"trail-", false},
		{"under_score", false},
		{"space d", false},
		{"Upper", false},
		{"umläut", false},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			if got := popkit.ValidSlug(tt.slug); got != tt.want {
				t.Errorf("ValidSlug(%q) = %t, want %t", tt.slug, got, tt.want)
			}
		})
	}
}

func TestProgramValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(p *popkit.Program)
		fields []string
	}{
		{"default", func(*popkit.Program) {}, nil},
		{"no name", func(p *popkit.Program) { p.Name = "" }, []string{"name"}},
		{"lower-case currency", func(p *popkit.Program) { p.Currency = "eur" }, []string{"currency"}},
		{"long currency", func(p *popkit.Program) { p.Currency = "EURO" }, []string{"currency"}},
		{"k of zero", func(p *popkit.Program) { p.KAnonymity = 0 }, []string{"k_anonymity"}},
		{"k above 100", func(p *popkit.Program) { p.KAnonymity = 101 }, []string{"k_anonymity"}},
		{"epoch of a year and a day", func(p *popkit.Program) { p.EpochDays = 367 }, []string{"epoch_days"}},
		{"epoch of zero", func(p *popkit.Program) { p.EpochDays = 0 }, []string{"epoch_days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := popkit.DefaultProgram()
			tt.change(&p)
			checkFields(t, p.Validate(), tt.fields...)
		})
	}
	if p := popkit.DefaultProgram(); p.KAnonymity != 5 || p.EpochDays != 30 || !p.UpdatedAt.Equal(time.Time{}) {
		t.Errorf("DefaultProgram() = %+v, want k=5 and 30-day epochs", p)
	}
}
