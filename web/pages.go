package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// card is one listing in a list.
type card struct {
	L         *Listing
	When      string
	Open      bool
	Cancelled bool
}

// group is one section of a list page (a city on the home page).
type group struct {
	Name, Href string
	Now, Next  []card
}

// listPage is the data of the home, city and brand pages.
type listPage struct {
	*pageData
	Heading string
	Groups  []group
	ICS     string
}

// sessionText formats a session in its venue's zone, e.g.
// "Sat 2 May 2026, 10:00–18:00".
func sessionText(s Session, loc *time.Location) string {
	st, en := s.Start.In(loc), s.End.In(loc)
	if st.Format("20060102") == en.Format("20060102") || (en.Sub(st) < 24*time.Hour && en.Hour() < 6) {
		return st.Format("Mon 2 Jan 2006, 15:04") + "–" + en.Format("15:04")
	}
	return st.Format("Mon 2 Jan 2006, 15:04") + " – " + en.Format("Mon 2 Jan, 15:04")
}

// window is the span a list page shows: now, or one local day.
type window struct {
	now time.Time
	day time.Time // zero: from now on
}

// cardsFor splits visible listings into open-now and coming-up cards.
func cardsFor(ls []*Listing, w window, limit int) (now, next []card) {
	for _, l := range ls {
		loc := l.Location()
		if !w.day.IsZero() {
			d0 := time.Date(w.day.Year(), w.day.Month(), w.day.Day(), 0, 0, 0, 0, loc)
			d1 := d0.AddDate(0, 0, 1)
			var hit *Session
			for i := range l.Sessions {
				s := &l.Sessions[i]
				if s.Start.Before(d1) && s.End.After(d0) {
					hit = s
					break
				}
			}
			if hit != nil && len(next) < limit {
				next = append(next, card{L: l, When: sessionText(*hit, loc), Cancelled: hit.Cancelled || l.Status == StatusCancelled})
			}
			continue
		}
		if s, ok := l.OpenAt(w.now); ok {
			if len(now) < limit {
				now = append(now, card{L: l, When: "until " + s.End.In(loc).Format("15:04"), Open: true})
			}
			continue
		}
		if s, ok := l.NextSession(w.now); ok && len(next) < limit {
			next = append(next, card{L: l, When: sessionText(s, loc), Cancelled: l.Status == StatusCancelled})
		}
	}
	return now, next
}

// visibleListings loads the listings the visitor may see.
func (h *Handler) visibleListings(r *http.Request, q ListingQuery, v visitor) ([]*Listing, error) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	return h.Source.PublishedListings(ctx, q, v.Viewer)
}

// listWindow parses a list page's query string.
func (h *Handler) listWindow(w http.ResponseWriter, r *http.Request) (pageQuery, window, ListingQuery, bool) {
	pq, err := parsePageQuery(r.URL.RawQuery)
	if err != nil {
		h.badRequest(w, r, err.Error())
		return pq, window{}, ListingQuery{}, false
	}
	win := window{now: h.now(), day: pq.Day}
	// Listings come soonest first; twice the limit leaves room for the
	// open-now and coming-up sections to fill.
	lq := ListingQuery{EndsAfter: win.now, Limit: 2 * pq.Limit}
	if !pq.Day.IsZero() {
		// Any zone: a day starts at most 14 hours before it does in UTC.
		lq.EndsAfter = pq.Day.Add(-14 * time.Hour)
	}
	return pq, win, lq, true
}

// privacy sets Cache-Control for pages that differ for members.
func privacy(w http.ResponseWriter, v visitor) {
	w.Header().Add("Vary", "Cookie")
	if v.member() {
		w.Header().Set("Cache-Control", "private, max-age=0")
	}
}

// homePerCity bounds each section of a city on the home page.
const homePerCity = 6

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	pq, win, lq, ok := h.listWindow(w, r)
	if !ok {
		return
	}
	v := h.visitorOf(r)
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	cities, err := h.Source.Cities(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := h.page(r, h.Site+": what's on", "/")
	p.Description = "Pop-up shops open now and coming up, by city."
	p.Member = v.member()
	p.OG = &openGraph{Type: "website", Title: p.Title, Description: p.Description, URL: p.Canonical, Site: h.Site}
	data := listPage{pageData: p, Heading: "What's on"}
	if !pq.Day.IsZero() {
		data.Heading = "What's on " + pq.Day.Format("Mon 2 Jan 2006")
		p.NoIndex = true
	}
	// The home page is a digest: a few listings per city, the city page
	// has the rest.
	perCity := min(pq.Limit, homePerCity)
	lq.Limit = 2 * perCity
	for _, c := range cities {
		lq.CitySlug = c.Slug
		ls, err := h.visibleListings(r, lq, v)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		now, next := cardsFor(ls, win, perCity)
		if len(now)+len(next) > 0 {
			data.Groups = append(data.Groups, group{Name: c.Name, Href: "/c/" + c.Slug, Now: now, Next: next})
		}
	}
	privacy(w, v)
	h.render(w, r, "list", data, time.Time{})
}

func (h *Handler) city(w http.ResponseWriter, r *http.Request) {
	pq, win, lq, ok := h.listWindow(w, r)
	if !ok {
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	c, err := h.Source.City(ctx, r.PathValue("city"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := h.visitorOf(r)
	lq.CitySlug = c.Slug
	ls, err := h.visibleListings(r, lq, v)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := h.page(r, "Pop-ups in "+c.Name, "/c/"+c.Slug)
	p.Description = "Pop-up shops open now and coming up in " + c.Name + "."
	p.Member = v.member()
	p.OG = &openGraph{Type: "website", Title: p.Title, Description: p.Description, URL: p.Canonical, Site: h.Site}
	now, next := cardsFor(ls, win, pq.Limit)
	data := listPage{pageData: p, Heading: "Pop-ups in " + c.Name, ICS: "/c/" + c.Slug + "/calendar.ics"}
	if len(now)+len(next) > 0 {
		data.Groups = []group{{Now: now, Next: next}}
	}
	privacy(w, v)
	h.render(w, r, "list", data, time.Time{})
}

func (h *Handler) brand(w http.ResponseWriter, r *http.Request) {
	pq, win, lq, ok := h.listWindow(w, r)
	if !ok {
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	b, err := h.Source.Brand(ctx, r.PathValue("brand"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := h.visitorOf(r)
	lq.BrandSlug = b.Slug
	ls, err := h.visibleListings(r, lq, v)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := h.page(r, b.Name+" pop-ups", "/b/"+b.Slug)
	p.Description = "Where to find " + b.Name + " at pop-up shops."
	p.Member = v.member()
	p.OG = &openGraph{Type: "website", Title: p.Title, Description: p.Description, URL: p.Canonical, Site: h.Site}
	now, next := cardsFor(ls, win, pq.Limit)
	data := listPage{pageData: p, Heading: b.Name}
	if len(now)+len(next) > 0 {
		data.Groups = []group{{Now: now, Next: next}}
	}
	privacy(w, v)
	h.render(w, r, "list", data, time.Time{})
}

// findVisible loads the listing of the request's slug, or answers 404 when
// there is none the visitor may see.
func (h *Handler) findVisible(w http.ResponseWriter, r *http.Request, v visitor) (*Listing, bool) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	l, err := h.Source.PublishedListing(ctx, r.PathValue("slug"), v.Viewer)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return l, true
}

// sessionRow is one session line on the event page.
type sessionRow struct {
	Text                   string
	Cancelled, MembersOnly bool
}

// eventPage is the data of the event page.
type eventPage struct {
	*pageData
	L          *Listing
	Hero       *Image
	More       []Image
	OpenNow    bool
	NextText   string
	StatusNote string // that the event was postponed or rescheduled
	Sessions   []sessionRow
	PriceText  string
	Paragraphs []string
}

// changedAt is when the rendering of l last changed: its publication or the
// latest session boundary passed (where "open now" flips).
func changedAt(l *Listing, now time.Time) time.Time {
	t := l.UpdatedAt
	for _, s := range l.Sessions {
		for _, b := range []time.Time{s.Start, s.End} {
			if !b.After(now) && b.After(t) {
				t = b
			}
		}
	}
	return t
}

func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	if err := parseNoQuery(r.URL.RawQuery); err != nil {
		h.badRequest(w, r, err.Error())
		return
	}
	v := h.visitorOf(r)
	l, ok := h.findVisible(w, r, v)
	if !ok {
		return
	}
	now := h.now()
	loc := l.Location()
	canonical := "/e/" + l.Slug
	p := h.page(r, l.Title+" · "+l.City.Name, canonical)
	p.Description = l.Summary
	p.Member = v.member()
	p.Islands = true
	og := &openGraph{Type: "website", Title: l.Title, Description: l.Summary, URL: p.Canonical, Site: h.Site}
	data := eventPage{pageData: p, L: l}
	if len(l.Images) > 0 {
		data.Hero = &l.Images[0]
		data.More = l.Images[1:]
		og.Image = data.Hero
	}
	p.OG = og
	base := h.base(r)
	ld, err := EventJSONLD(l, p.Canonical, func(slug string) string { return base + "/b/" + slug })
	if err != nil {
		h.serverError(w, r, fmt.Errorf("json-ld: %w", err))
		return
	}
	p.JSONLD = template.JS(ld)
	switch l.Status {
	case StatusPostponed:
		data.StatusNote = "Postponed — new dates to follow"
	case StatusRescheduled:
		data.StatusNote = "Rescheduled from " + l.PreviousStart.In(loc).Format("Mon 2 Jan 2006, 15:04")
	}
	if _, open := l.OpenAt(now); open {
		data.OpenNow = true
	} else if l.Status == StatusPostponed {
		data.NextText = "Postponed"
	} else if s, ok := l.NextSession(now); ok && l.Status != StatusCancelled {
		data.NextText = "Next open " + sessionText(s, loc)
	} else if l.Status == StatusCancelled {
		data.NextText = "Cancelled"
	} else {
		data.NextText = "This pop-up has ended"
	}
	for _, s := range l.Sessions {
		data.Sessions = append(data.Sessions, sessionRow{Text: sessionText(s, loc), Cancelled: s.Cancelled, MembersOnly: s.MembersOnly})
	}
	if pr := l.Price; pr != nil && pr.Currency != "" {
		data.PriceText = formatMinor(pr.MinMinor, pr.Currency) + "–" + formatMinor(pr.MaxMinor, pr.Currency) + " " + pr.Currency
	}
	for _, para := range strings.Split(strings.ReplaceAll(l.Description, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			data.Paragraphs = append(data.Paragraphs, para)
		}
	}
	privacy(w, v)
	h.countView(r, l)
	h.render(w, r, "event", data, changedAt(l, now))
}

// liveStatus is the JSON the live badge island fetches.
type liveStatus struct {
	Open        bool   `json:"open"`
	QueueMinute *int   `json:"queue_minutes,omitempty"`
	Text        string `json:"text"`
}

func (h *Handler) live(w http.ResponseWriter, r *http.Request) {
	v := h.visitorOf(r)
	l, ok := h.findVisible(w, r, v)
	if !ok {
		return
	}
	now := h.now()
	st := liveStatus{}
	if s, open := l.OpenAt(now); open {
		st.Open = true
		st.Text = "Open now until " + s.End.In(l.Location()).Format("15:04")
		if h.Queue != nil {
			ctx, cancel := ctxTimeout(r)
			wait, ok, err := h.Queue.QueueWait(ctx, l.EventID, now)
			cancel()
			if err != nil {
				h.logger().WarnContext(r.Context(), "queue wait", "event", l.EventID, "error", err)
			} else if ok {
				m := int((wait + 30*time.Second) / time.Minute)
				st.QueueMinute = &m
				if m < 1 {
					st.Text += " · no queue"
				} else {
					st.Text += fmt.Sprintf(" · queue about %d min", m)
				}
			}
		}
	} else if l.Status == StatusPostponed {
		st.Text = "Postponed"
	} else if s, ok := l.NextSession(now); ok && l.Status != StatusCancelled {
		st.Text = "Closed now · next open " + sessionText(s, l.Location())
	} else {
		st.Text = "Closed"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=30")
	json.NewEncoder(w).Encode(st)
}

func (h *Handler) notify(w http.ResponseWriter, r *http.Request) {
	v := h.visitorOf(r)
	l, ok := h.findVisible(w, r, v)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		h.badRequest(w, r, "Please enter a valid email address.")
		return
	}
	if h.Funnel == nil {
		h.message(w, r, http.StatusServiceUnavailable, "Not available", "Sign-ups are not open right now.")
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	now := h.now()
	err = h.Funnel.CreateNotifySignup(ctx, &popkit.NotifySignup{ListingID: l.ID, Email: email, ConsentAt: now})
	if code := popkit.ErrorCode(err); code == popkit.EINVALID {
		h.badRequest(w, r, "Please enter a valid email address.")
		return
	} else if err != nil {
		h.fail(w, r, fmt.Errorf("notify: %w", err))
		return
	}
	msg := "Thanks! We will email you about " + l.Title + "."
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
		return
	}
	h.message(w, r, http.StatusOK, "You're on the list", msg)
}
