package web

import (
	"context"
	"time"

	"github.com/popkit/popkit"
)

// fakeSource publishes one listing in Berlin; internal tests and fuzzing
// use it where a database would only slow them down.
type fakeSource struct{}

var fakeListing = &Listing{
	ID: "l1", EventID: "e1", Slug: "kaffee", Title: "Kaffee", Summary: "Coffee.",
	City: City{Slug: "berlin", Name: "Berlin"}, TimeZone: "Europe/Berlin",
	Venue:     Venue{Name: "Halle", Street: "Str. 1", Country: "DE"},
	Brands:    []Brand{{Slug: "kiez", Name: "Kiez"}},
	Sessions:  []Session{{Start: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC)}},
	UpdatedAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
}

func (fakeSource) PublishedListings(ctx context.Context, q ListingQuery, v popkit.Viewer) ([]*Listing, error) {
	if q.CitySlug != "" && q.CitySlug != "berlin" || q.BrandSlug != "" && q.BrandSlug != "kiez" {
		return nil, nil
	}
	return []*Listing{fakeListing}, nil
}

func (fakeSource) PublishedListing(ctx context.Context, slug string, v popkit.Viewer) (*Listing, error) {
	if slug != fakeListing.Slug {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "listing not found")
	}
	return fakeListing, nil
}

func (fakeSource) Cities(ctx context.Context) ([]City, error) {
	return []City{fakeListing.City}, nil
}

func (fakeSource) City(ctx context.Context, slug string) (*City, error) {
	if slug != "berlin" {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "city not found")
	}
	return &fakeListing.City, nil
}

func (fakeSource) Brand(ctx context.Context, slug string) (*Brand, error) {
	if slug != "kiez" {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "brand not found")
	}
	return &fakeListing.Brands[0], nil
}
