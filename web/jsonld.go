package web

import (
	"encoding/json"
	"fmt"
	"time"
)

// jsonLDEvent is a schema.org Event as JSON-LD.
type jsonLDEvent struct {
	Context             string          `json:"@context"`
	Type                string          `json:"@type"`
	Name                string          `json:"name"`
	Description         string          `json:"description,omitempty"`
	URL                 string          `json:"url"`
	StartDate           string          `json:"startDate"`
	EndDate             string          `json:"endDate,omitempty"`
	PreviousStartDate   string          `json:"previousStartDate,omitempty"`
	EventStatus         string          `json:"eventStatus"`
	EventAttendanceMode string          `json:"eventAttendanceMode"`
	Location            jsonLDPlace     `json:"location"`
	Image               []string        `json:"image,omitempty"`
	Organizer           []jsonLDOrg     `json:"organizer,omitempty"`
	Offers              *jsonLDOffer    `json:"offers,omitempty"`
	Keywords            string          `json:"keywords,omitempty"`
	SubEvent            []jsonLDSession `json:"subEvent,omitempty"`
}

type jsonLDPlace struct {
	Type    string        `json:"@type"`
	Name    string        `json:"name"`
	Address jsonLDAddress `json:"address"`
	Geo     *jsonLDGeo    `json:"geo,omitempty"`
}

type jsonLDAddress struct {
	Type            string `json:"@type"`
	StreetAddress   string `json:"streetAddress,omitempty"`
	AddressLocality string `json:"addressLocality,omitempty"`
	AddressCountry  string `json:"addressCountry,omitempty"`
}

type jsonLDGeo struct {
	Type      string  `json:"@type"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type jsonLDOrg struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonLDOffer struct {
	Type          string `json:"@type"`
	LowPrice      string `json:"lowPrice"`
	HighPrice     string `json:"highPrice"`
	PriceCurrency string `json:"priceCurrency"`
	URL           string `json:"url"`
	Availability  string `json:"availability"`
}

type jsonLDSession struct {
	Type        string `json:"@type"`
	Name        string `json:"name"`
	StartDate   string `json:"startDate"`
	EndDate     string `json:"endDate"`
	EventStatus string `json:"eventStatus"`
}

const schemaOrg = "https://schema.org/"

// eventStatusType maps a listing status onto schema.org EventStatusType.
func eventStatusType(s Status) string {
	switch s {
	case StatusCancelled:
		return schemaOrg + "EventCancelled"
	case StatusPostponed:
		return schemaOrg + "EventPostponed"
	case StatusRescheduled:
		return schemaOrg + "EventRescheduled"
	default:
		return schemaOrg + "EventScheduled"
	}
}

// EventJSONLD returns the schema.org Event of a listing as JSON. The JSON
// escapes <, > and & (encoding/json does), so it is safe inside a script
// element. url is the listing's canonical URL; brandURL maps a brand slug
// to its page.
func EventJSONLD(l *Listing, url string, brandURL func(slug string) string) ([]byte, error) {
	loc := l.Location()
	e := jsonLDEvent{
		Context:             "https://schema.org",
		Type:                "Event",
		Name:                l.Title,
		Description:         l.Summary,
		URL:                 url,
		StartDate:           l.Start().In(loc).Format(time.RFC3339),
		EventStatus:         eventStatusType(l.Status),
		EventAttendanceMode: schemaOrg + "OfflineEventAttendanceMode",
		Location: jsonLDPlace{
			Type: "Place",
			Name: l.Venue.Name,
			Address: jsonLDAddress{
				Type:            "PostalAddress",
				StreetAddress:   l.Venue.Street,
				AddressLocality: l.City.Name,
				AddressCountry:  l.Venue.Country,
			},
		},
	}
	if !l.End().IsZero() {
		e.EndDate = l.End().In(loc).Format(time.RFC3339)
	}
	if (l.Status == StatusRescheduled || l.Status == StatusPostponed) && !l.PreviousStart.IsZero() {
		e.PreviousStartDate = l.PreviousStart.In(loc).Format(time.RFC3339)
	}
	if l.Venue.Lat != 0 || l.Venue.Lon != 0 {
		e.Location.Geo = &jsonLDGeo{Type: "GeoCoordinates", Latitude: l.Venue.Lat, Longitude: l.Venue.Lon}
	}
	for _, img := range l.Images {
		e.Image = append(e.Image, img.URL)
	}
	for _, b := range l.Brands {
		o := jsonLDOrg{Type: "Organization", Name: b.Name}
		if brandURL != nil && b.Slug != "" {
			o.URL = brandURL(b.Slug)
		}
		e.Organizer = append(e.Organizer, o)
	}
	if p := l.Price; p != nil && p.Currency != "" {
		e.Offers = &jsonLDOffer{
			Type:          "AggregateOffer",
			LowPrice:      formatMinor(p.MinMinor, p.Currency),
			HighPrice:     formatMinor(p.MaxMinor, p.Currency),
			PriceCurrency: p.Currency,
			URL:           url,
			Availability:  schemaOrg + "InStock",
		}
	}
	for i, c := range l.Categories {
		if i > 0 {
			e.Keywords += ","
		}
		e.Keywords += c
	}
	if len(l.Sessions) > 1 {
		for _, s := range l.Sessions {
			st := l.Status
			if s.Cancelled {
				st = StatusCancelled
			}
			e.SubEvent = append(e.SubEvent, jsonLDSession{
				Type: "Event", Name: l.Title,
				StartDate:   s.Start.In(loc).Format(time.RFC3339),
				EndDate:     s.End.In(loc).Format(time.RFC3339),
				EventStatus: eventStatusType(st),
			})
		}
	}
	return json.Marshal(e)
}

// minorDigits gives the ISO 4217 minor-unit digits where they are not 2.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "HUF": 2,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// formatMinor formats an amount in minor units as a decimal string.
func formatMinor(minor int64, currency string) string {
	d, ok := minorDigits[currency]
	if !ok {
		d = 2
	}
	if d == 0 {
		return fmt.Sprint(minor)
	}
	neg := ""
	if minor < 0 {
		neg, minor = "-", -minor
	}
	div := int64(1)
	for range d {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", neg, minor/div, d, minor%div)
}
