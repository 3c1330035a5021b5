package web

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"github.com/popkit/popkit"
)

// uidDomain is the right-hand side of iCalendar UIDs. It is fixed, not
// the public host, so that a calendar that subscribed to a feed keeps its
// entries when the site moves to another address; the left-hand side (the
// listing's UUID and the session's start) makes each UID unique.
const uidDomain = "popkit"

func (h *Handler) writeCalendar(w http.ResponseWriter, r *http.Request, name string, ls []*Listing) {
	var mod time.Time
	for _, l := range ls {
		if l.UpdatedAt.After(mod) {
			mod = l.UpdatedAt
		}
	}
	c := Calendar{Name: name, Host: uidDomain, BaseURL: h.base(r), Listings: ls}
	body, err := c.Bytes()
	if err != nil {
		h.serverError(w, r, fmt.Errorf("calendar: %w", err))
		return
	}
	writeCached(w, r, "text/calendar; charset=utf-8", body, mod)
}

func (h *Handler) eventCalendar(w http.ResponseWriter, r *http.Request) {
	if err := parseNoQuery(r.URL.RawQuery); err != nil {
		h.badRequest(w, r, err.Error())
		return
	}
	// Feeds are public documents, fetched by calendar apps without cookies.
	l, ok := h.findVisible(w, r, visitor{})
	if !ok {
		return
	}
	h.writeCalendar(w, r, l.Title, []*Listing{l})
}

func (h *Handler) cityCalendar(w http.ResponseWriter, r *http.Request) {
	if err := parseNoQuery(r.URL.RawQuery); err != nil {
		h.badRequest(w, r, err.Error())
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	c, err := h.Source.City(ctx, r.PathValue("city"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Feeds keep a month of the past so that calendars do not lose events
	// as soon as they end.
	ls, err := h.Source.PublishedListings(ctx, ListingQuery{CitySlug: c.Slug, EndsAfter: h.now().AddDate(0, -1, 0), Limit: 1000}, popkit.Viewer{})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.writeCalendar(w, r, h.Site+": "+c.Name, ls)
}

type urlset struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// maxSitemapURLs is the sitemap protocol's limit per file.
const maxSitemapURLs = 50000

func (h *Handler) sitemap(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	now := h.now()
	ls, err := h.Source.PublishedListings(ctx, ListingQuery{EndsAfter: now, Limit: maxSitemapURLs - 1000}, popkit.Viewer{})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	cities, err := h.Source.Cities(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	base := h.base(r)
	set := urlset{NS: "http://www.sitemaps.org/schemas/sitemap/0.9"}
	set.URLs = append(set.URLs, sitemapURL{Loc: base + "/"})
	for _, c := range cities {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + "/c/" + c.Slug})
	}
	brands := map[string]bool{}
	var mod time.Time
	for _, l := range ls {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + "/e/" + l.Slug, LastMod: l.UpdatedAt.UTC().Format(time.RFC3339)})
		if l.UpdatedAt.After(mod) {
			mod = l.UpdatedAt
		}
		for _, b := range l.Brands {
			if !brands[b.Slug] && len(brands) < 1000 {
				brands[b.Slug] = true
				set.URLs = append(set.URLs, sitemapURL{Loc: base + "/b/" + b.Slug})
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(set); err != nil {
		h.serverError(w, r, fmt.Errorf("sitemap: %w", err))
		return
	}
	writeCached(w, r, "application/xml; charset=utf-8", buf.Bytes(), time.Time{})
}

func (h *Handler) robots(w http.ResponseWriter, r *http.Request) {
	body := "User-agent: *\nDisallow: /curator\nDisallow: /m/\nDisallow: /member\nDisallow: /*/notify\n\nSitemap: " + h.base(r) + "/sitemap.xml\n"
	writeCached(w, r, "text/plain; charset=utf-8", []byte(body), time.Time{})
}
