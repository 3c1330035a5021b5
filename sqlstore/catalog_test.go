package sqlstore_test

import (
	"slices"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func ptr[T any](v T) *T { return &v }

func TestCities(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		var de, fr []string
		for i := range 5 {
			c := &popkit.City{Name: uniq("city"), Country: "DE", TimeZone: "Europe/Berlin"}
			if i%2 == 1 {
				c.Country, c.TimeZone = "FR", "Europe/Paris"
			}
			must(t, db.CreateCity(ctx, c))
			if !popkit.ValidID(c.ID) || c.CreatedAt.IsZero() {
				t.Fatalf("CreateCity left %+v", c)
			}
			if c.Country == "DE" {
				de = append(de, c.ID)
			} else {
				fr = append(fr, c.ID)
			}
		}

		t.Run("find", func(t *testing.T) {
			got, err := db.FindCityByID(ctx, de[0])
			must(t, err)
			if got.ID != de[0] || got.Country != "DE" || got.TimeZone != "Europe/Berlin" {
				t.Errorf("FindCityByID = %+v", got)
			}
		})
		t.Run("list pages", func(t *testing.T) {
			all, pages := allPages(t, 2, func(c *popkit.City) string { return c.ID }, func(p popkit.Page) ([]*popkit.City, string, error) {
				return db.FindCities(ctx, popkit.CityFilter{Page: p})
			})
			if len(all) != 5 || pages != 3 {
				t.Errorf("got %d cities in %d pages, want 5 in 3", len(all), pages)
			}
		})
		t.Run("filter country", func(t *testing.T) {
			got, next, err := db.FindCities(ctx, popkit.CityFilter{Country: "FR"})
			must(t, err)
			if next != "" || !slices.Equal(ids(got, func(c *popkit.City) string { return c.ID }), sortedIDs(fr...)) {
				t.Errorf("FR cities = %v (next %q), want %v", got, next, fr)
			}
		})
		t.Run("update", func(t *testing.T) {
			got, err := db.UpdateCity(ctx, de[1], popkit.CityUpdate{Name: ptr("Hamburg")})
			must(t, err)
			again, err := db.FindCityByID(ctx, de[1])
			must(t, err)
			if got.Name != "Hamburg" || again.Name != "Hamburg" || again.TimeZone != "Europe/Berlin" {
				t.Errorf("after update: %+v / %+v", got, again)
			}
		})

		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"create invalid country", popkit.EINVALID, "country", func() error {
				return db.CreateCity(ctx, &popkit.City{Name: "X", Country: "de", TimeZone: "Europe/Berlin"})
			}},
			{"create invalid zone", popkit.EINVALID, "time_zone", func() error {
				return db.CreateCity(ctx, &popkit.City{Name: "X", Country: "DE", TimeZone: "Mars/Base"})
			}},
			{"find missing", popkit.ENOTFOUND, "", func() error { _, err := db.FindCityByID(ctx, popkit.NewID()); return err }},
			{"find malformed id", popkit.ENOTFOUND, "", func() error { _, err := db.FindCityByID(ctx, "nope"); return err }},
			{"update missing", popkit.ENOTFOUND, "", func() error {
				_, err := db.UpdateCity(ctx, popkit.NewID(), popkit.CityUpdate{Name: ptr("X")})
				return err
			}},
			{"update invalid", popkit.EINVALID, "name", func() error {
				_, err := db.UpdateCity(ctx, de[0], popkit.CityUpdate{Name: ptr(" ")})
				return err
			}},
			{"bad cursor", popkit.EINVALID, "cursor", func() error {
				_, _, err := db.FindCities(ctx, popkit.CityFilter{Page: popkit.Page{After: "!!"}})
				return err
			}},
			{"bad limit", popkit.EINVALID, "limit", func() error {
				_, _, err := db.FindCities(ctx, popkit.CityFilter{Page: popkit.Page{Limit: 1000}})
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "cities"); n != 5 {
			t.Errorf("%d cities stored after failed calls, want 5", n)
		}
		got, err := db.FindCityByID(ctx, de[0])
		must(t, err)
		if got.Name == " " {
			t.Error("invalid update was written")
		}
	})
}

func TestVenues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		berlin := mkCity(t, db, "Europe/Berlin")
		lisbon := mkCity(t, db, "Europe/Lisbon")

		t.Run("zone defaults to the city's", func(t *testing.T) {
			v := mkVenue(t, db, berlin.ID, "")
			got, err := db.FindVenueByID(ctx, v.ID)
			must(t, err)
			if got.TimeZone != "Europe/Berlin" || got.CityID != berlin.ID || got.Lat != 52.5 {
				t.Errorf("venue = %+v", got)
			}
		})
		t.Run("own zone", func(t *testing.T) {
			v := mkVenue(t, db, berlin.ID, "Europe/Zurich")
			if v.TimeZone != "Europe/Zurich" {
				t.Errorf("zone = %q", v.TimeZone)
			}
		})
		t.Run("list by city with pages", func(t *testing.T) {
			var want []string
			for range 3 {
				want = append(want, mkVenue(t, db, lisbon.ID, "").ID)
			}
			got, _ := allPages(t, 2, func(v *popkit.Venue) string { return v.ID }, func(p popkit.Page) ([]*popkit.Venue, string, error) {
				return db.FindVenues(ctx, popkit.VenueFilter{CityID: lisbon.ID, Page: p})
			})
			if !slices.Equal(ids(got, func(v *popkit.Venue) string { return v.ID }), sortedIDs(want...)) {
				t.Errorf("Lisbon venues %v, want %v", got, want)
			}
		})
		t.Run("update", func(t *testing.T) {
			v := mkVenue(t, db, berlin.ID, "")
			got, err := db.UpdateVenue(ctx, v.ID, popkit.VenueUpdate{Name: ptr("Kiosk"), Lat: ptr(48.1)})
			must(t, err)
			again, err := db.FindVenueByID(ctx, v.ID)
			must(t, err)
			if got.Name != "Kiosk" || again.Name != "Kiosk" || again.Lat != 48.1 || again.Lon != 13.4 {
				t.Errorf("after update %+v", again)
			}
		})

		before := count(t, db, "venues")
		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"missing city", popkit.EUNPROCESSABLE, "city_id", func() error {
				return db.CreateVenue(ctx, &popkit.Venue{CityID: popkit.NewID(), Name: "V", Address: "A"})
			}},
			{"invalid before missing city", popkit.EINVALID, "address", func() error {
				return db.CreateVenue(ctx, &popkit.Venue{CityID: popkit.NewID(), Name: "V"})
			}},
			{"malformed city id", popkit.EINVALID, "city_id", func() error {
				return db.CreateVenue(ctx, &popkit.Venue{CityID: "berlin", Name: "V", Address: "A", TimeZone: "UTC"})
			}},
			{"bad latitude", popkit.EINVALID, "lat", func() error {
				return db.CreateVenue(ctx, &popkit.Venue{CityID: berlin.ID, Name: "V", Address: "A", Lat: 91})
			}},
			{"find missing", popkit.ENOTFOUND, "", func() error { _, err := db.FindVenueByID(ctx, popkit.NewID()); return err }},
			{"update missing", popkit.ENOTFOUND, "", func() error {
				_, err := db.UpdateVenue(ctx, popkit.NewID(), popkit.VenueUpdate{})
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "venues"); n != before {
			t.Errorf("%d venues after failed calls, want %d", n, before)
		}
	})
}

func TestBrands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		a := &popkit.Brand{Name: "Alpha", Slug: "alpha", ContactEmail: "hi@alpha.example"}
		must(t, db.CreateBrand(ctx, a))
		b := &popkit.Brand{Name: "Beta", Slug: "beta"}
		must(t, db.CreateBrand(ctx, b))
		var created []string
		for range 3 {
			created = append(created, mkBrand(t, db).ID)
		}

		t.Run("find", func(t *testing.T) {
			got, err := db.FindBrandByID(ctx, a.ID)
			must(t, err)
			if got.Slug != "alpha" || got.ContactEmail != "hi@alpha.example" {
				t.Errorf("brand = %+v", got)
			}
		})
		t.Run("filter slug", func(t *testing.T) {
			got, _, err := db.FindBrands(ctx, popkit.BrandFilter{Slug: "beta"})
			must(t, err)
			if len(got) != 1 || got[0].ID != b.ID {
				t.Errorf("slug filter = %v", got)
			}
		})
		t.Run("list pages", func(t *testing.T) {
			got, pages := allPages(t, 2, func(b *popkit.Brand) string { return b.ID }, func(p popkit.Page) ([]*popkit.Brand, string, error) {
				return db.FindBrands(ctx, popkit.BrandFilter{Page: p})
			})
			want := sortedIDs(append([]string{a.ID, b.ID}, created...)...)
			if !slices.Equal(ids(got, func(b *popkit.Brand) string { return b.ID }), want) || pages != 3 {
				t.Errorf("brands %v in %d pages, want %v in 3", got, pages, want)
			}
		})
		t.Run("update", func(t *testing.T) {
			got, err := db.UpdateBrand(ctx, b.ID, popkit.BrandUpdate{Slug: ptr("beta-two")})
			must(t, err)
			if got.Slug != "beta-two" {
				t.Errorf("slug = %q", got.Slug)
			}
		})

		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"duplicate slug", popkit.ECONFLICT, "slug", func() error { return db.CreateBrand(ctx, &popkit.Brand{Name: "A2", Slug: "alpha"}) }},
			{"update to taken slug", popkit.ECONFLICT, "slug", func() error {
				_, err := db.UpdateBrand(ctx, b.ID, popkit.BrandUpdate{Slug: ptr("alpha")})
				return err
			}},
			{"invalid slug", popkit.EINVALID, "slug", func() error { return db.CreateBrand(ctx, &popkit.Brand{Name: "A", Slug: "Not A Slug"}) }},
			{"invalid email", popkit.EINVALID, "contact_email", func() error {
				return db.CreateBrand(ctx, &popkit.Brand{Name: "A", Slug: "a", ContactEmail: "nope"})
			}},
			{"find missing", popkit.ENOTFOUND, "", func() error { _, err := db.FindBrandByID(ctx, popkit.NewID()); return err }},
			{"update missing", popkit.ENOTFOUND, "", func() error {
				_, err := db.UpdateBrand(ctx, popkit.NewID(), popkit.BrandUpdate{})
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "brands"); n != 5 {
			t.Errorf("%d brands after failed calls, want 5", n)
		}
		got, err := db.FindBrandByID(ctx, b.ID)
		must(t, err)
		if got.Slug != "beta-two" {
			t.Errorf("failed update changed the slug to %q", got.Slug)
		}
	})
}

func TestSKUs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		a, b := mkBrand(t, db), mkBrand(t, db)
		s := &popkit.SKU{BrandID: a.ID, Code: "TEE-1", Name: "Tee", PriceMinor: 2500, UnitCostMinor: 800, Perishable: true, WeightGrams: 180}
		must(t, db.CreateSKU(ctx, s))
		var aSKUs = []string{s.ID}
		for range 4 {
			aSKUs = append(aSKUs, mkSKU(t, db, a.ID).ID)
		}
		bSKU := &popkit.SKU{BrandID: b.ID, Code: "TEE-1", Name: "Other tee"}
		must(t, db.CreateSKU(ctx, bSKU)) // the same code at another brand is fine

		t.Run("find", func(t *testing.T) {
			got, err := db.FindSKUByID(ctx, s.ID)
			must(t, err)
			g, w := *got, *s
			if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
				t.Errorf("times %v %v, want %v %v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
			}
			g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
			if g != w {
				t.Errorf("FindSKUByID = %+v, want %+v", g, w)
			}
		})
		t.Run("list by brand with pages", func(t *testing.T) {
			got, pages := allPages(t, 2, func(s *popkit.SKU) string { return s.ID }, func(p popkit.Page) ([]*popkit.SKU, string, error) {
				return db.FindSKUs(ctx, popkit.SKUFilter{BrandID: a.ID, Page: p})
			})
			if !slices.Equal(ids(got, func(s *popkit.SKU) string { return s.ID }), sortedIDs(aSKUs...)) || pages != 3 {
				t.Errorf("brand A SKUs %v in %d pages", got, pages)
			}
		})
		t.Run("update", func(t *testing.T) {
			got, err := db.UpdateSKU(ctx, s.ID, popkit.SKUUpdate{PriceMinor: ptr(int64(2900)), Perishable: ptr(false)})
			must(t, err)
			again, err := db.FindSKUByID(ctx, s.ID)
			must(t, err)
			if got.PriceMinor != 2900 || again.PriceMinor != 2900 || again.Perishable || again.Code != "TEE-1" {
				t.Errorf("after update %+v", again)
			}
		})

		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"duplicate code", popkit.ECONFLICT, "code", func() error {
				return db.CreateSKU(ctx, &popkit.SKU{BrandID: a.ID, Code: "TEE-1", Name: "Again"})
			}},
			{"update to taken code", popkit.ECONFLICT, "code", func() error {
				_, err := db.UpdateSKU(ctx, aSKUs[1], popkit.SKUUpdate{Code: ptr("TEE-1")})
				return err
			}},
			{"missing brand", popkit.EUNPROCESSABLE, "brand_id", func() error {
				return db.CreateSKU(ctx, &popkit.SKU{BrandID: popkit.NewID(), Code: "X", Name: "X"})
			}},
			{"negative price", popkit.EINVALID, "price_minor", func() error {
				return db.CreateSKU(ctx, &popkit.SKU{BrandID: a.ID, Code: "X", Name: "X", PriceMinor: -1})
			}},
			{"update invalid", popkit.EINVALID, "weight_grams", func() error {
				_, err := db.UpdateSKU(ctx, s.ID, popkit.SKUUpdate{WeightGrams: ptr(-5)})
				return err
			}},
			{"find missing", popkit.ENOTFOUND, "", func() error { _, err := db.FindSKUByID(ctx, popkit.NewID()); return err }},
			{"update missing", popkit.ENOTFOUND, "", func() error {
				_, err := db.UpdateSKU(ctx, popkit.NewID(), popkit.SKUUpdate{})
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "skus"); n != 6 {
			t.Errorf("%d SKUs after failed calls, want 6", n)
		}
	})
}
