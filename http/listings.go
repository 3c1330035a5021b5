package http

import (
	"context"
	"net/http"
	"time"

	"github.com/popkit/popkit"
)

// Listing scope rules, used by the handlers below and by the route table:
// brand tokens see and change only listings of events their brand takes
// part in (any other listing is 404, as if it did not exist), may create
// listings only for such events (403 otherwise), and may only submit;
// curators approve, reject and publish; admins do everything.
const (
	brandListings  = "Brand tokens see only listings of events their brand takes part in; any other listing, draft or not, is 404."
	brandListWrite = brandListings + " A brand token may create a listing only for an event its brand takes part in (403 otherwise)."
	curationNote   = brandListings + " Brand tokens may only submit; approve, reject and publish are for curators and admins (403)."
)

// Role sets of the discovery routes.
var (
	rolesListingRead  = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleBrand}
	rolesListingWrite = []popkit.Role{popkit.RoleAdmin, popkit.RoleBrand}
	rolesCurate       = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleBrand}
	rolesTierRead     = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator}
	rolesCheckin      = []popkit.Role{popkit.RoleAdmin, popkit.RoleDevice}
)

// readListing hides listings outside a brand token's brand.
func readListing(t *popkit.Token, l *popkit.Listing) error {
	if t.Role == popkit.RoleBrand && !l.HasEventBrand(t.BrandID) {
		return popkit.Errorf(popkit.ENOTFOUND, "listing not found")
	}
	return nil
}

// listingContentInput is the content part of a listing body.
type listingInput struct {
	EventID            string             `json:"event_id"`
	Slug               string             `json:"slug"`
	Title              string             `json:"title"`
	Summary            string             `json:"summary"`
	Description        string             `json:"description"`
	Images             []popkit.Image     `json:"images"`
	BrandIDs           []string           `json:"brand_ids"`
	Categories         []string           `json:"categories"`
	Tags               []string           `json:"tags"`
	Price              *popkit.PriceRange `json:"price"`
	MemberOnlySessions []popkit.LocalTime `json:"member_only_sessions"`
	MembersFrom        *time.Time         `json:"members_from"`
	PublicFrom         *time.Time         `json:"public_from"`
}

func (in *listingInput) listing() *popkit.Listing {
	return &popkit.Listing{EventID: in.EventID, Slug: in.Slug, Working: popkit.ListingContent{
		Title: in.Title, Summary: in.Summary, Description: in.Description, Images: in.Images,
		BrandIDs: in.BrandIDs, Categories: in.Categories, Tags: in.Tags, Price: in.Price,
		MemberOnlySessions: in.MemberOnlySessions, MembersFrom: in.MembersFrom, PublicFrom: in.PublicFrom,
	}}
}

func validState(s string) bool { return popkit.CurationState(s).Valid() }

func (s *Server) listListings() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.ListingFilter, error) {
		brand, err := scopeFilter(t, "brand_id", q.id("brand_id"))
		f := popkit.ListingFilter{
			State:     popkit.CurationState(q.str("state", validState, "must be one of draft, submitted, approved, rejected, published")),
			BrandID:   brand,
			CityID:    q.id("city"),
			EventID:   q.id("event_id"),
			Published: q.bool("published"),
			VisibleAt: q.time("visible_at"),
			Page:      q.page(),
		}
		return f, err
	}, s.Listings.FindListings)
}

func (s *Server) getListing() http.HandlerFunc {
	return handleGet(s, "listing", s.Listings.FindListingByID, readListing)
}

func (s *Server) createListing() http.HandlerFunc {
	create := func(ctx context.Context, l *popkit.Listing) error {
		if t := tokenOf(ctx); t.Role == popkit.RoleBrand && popkit.ValidID(l.EventID) {
			ev, err := s.Events.FindEventByID(ctx, l.EventID)
			if err != nil && popkit.ErrorCode(err) != popkit.ENOTFOUND {
				return err
			}
			if err == nil && !ev.HasBrand(t.BrandID) {
				return forbidden("a brand token may create listings only for events its brand takes part in")
			}
		}
		return s.Listings.CreateListing(ctx, l)
	}
	return handleCreate(s, "/api/v1/listings", func(_ *popkit.Token, in *listingInput) (*popkit.Listing, error) {
		return in.listing(), nil
	}, create, func(l *popkit.Listing) string { return l.ID })
}

func (s *Server) patchListing() http.HandlerFunc {
	return handlePatch(s, "listing", s.Listings.FindListingByID, readListing, s.Listings.UpdateListing)
}

// curateListing serves POST /api/v1/listings/{id}/curation.
func (s *Server) curateListing(w http.ResponseWriter, r *http.Request) {
	if _, err := load(r, "id", "listing", s.Listings.FindListingByID, readListing); err != nil {
		s.writeError(w, r, err)
		return
	}
	var step popkit.CurationStep
	if err := decode(r, &step); err != nil {
		s.writeError(w, r, err)
		return
	}
	t := token(r)
	if t.Role == popkit.RoleBrand && step.Action != popkit.ActionSubmit {
		s.writeError(w, r, forbidden("a brand token may only submit; curators approve, reject and publish"))
		return
	}
	if t.Role == popkit.RoleCurator && step.Action == popkit.ActionSubmit {
		s.writeError(w, r, forbidden("curators review listings; the brand or an admin submits them"))
		return
	}
	l, err := s.Listings.CurateListing(r.Context(), r.PathValue("id"), step)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, l)
}

// curationLog serves GET /api/v1/listings/{id}/curation.
func (s *Server) curationLog(w http.ResponseWriter, r *http.Request) {
	if _, err := load(r, "id", "listing", s.Listings.FindListingByID, readListing); err != nil {
		s.writeError(w, r, err)
		return
	}
	events, err := s.Listings.FindCurationEvents(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.CurationEvent]{Items: events})
}

// listingDiff is the body of GET /api/v1/listings/{id}/diff.
type listingDiff struct {
	LiveRevision    int                    `json:"live_revision"`
	WorkingRevision int                    `json:"working_revision"`
	State           popkit.CurationState   `json:"state"`
	Changes         []popkit.ListingChange `json:"changes"`
}

func (s *Server) getListingDiff(w http.ResponseWriter, r *http.Request) {
	l, err := load(r, "id", "listing", s.Listings.FindListingByID, readListing)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, listingDiff{LiveRevision: l.LiveRevision, WorkingRevision: l.WorkingRevision, State: l.State,
		Changes: popkit.DiffListingContent(l.Live, &l.Working)})
}

// notifyInput is the body of POST /api/v1/listings/{id}/notify.
type notifyInput struct {
	Email   string `json:"email"`
	Consent bool   `json:"consent"`
}

// notify serves the public notify-me sign-up. Only published listings
// accept sign-ups; others are 404, so that nothing unpublished shows.
func (s *Server) notify(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "listing")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in notifyInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !in.Consent {
		s.writeError(w, r, popkit.InvalidField("consent", "must be true: we email only people who agreed"))
		return
	}
	n := &popkit.NotifySignup{ListingID: id, Email: in.Email, ConsentAt: s.now()}
	if err := s.Funnel.CreateNotifySignup(r.Context(), n); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusAccepted, notifyAccepted{Status: "subscribed"})
}

// notifyAccepted is the answer to a sign-up; it does not say whether the
// address had signed up before.
type notifyAccepted struct {
	Status string `json:"status"`
}

func (s *Server) getFunnel(w http.ResponseWriter, r *http.Request) {
	if _, err := load(r, "id", "listing", s.Listings.FindListingByID, readListing); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := &query{r: r}
	now := s.now()
	from, to := q.time("from"), q.time("to")
	if q.err != nil {
		s.writeError(w, r, q.err)
		return
	}
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	days, err := s.Funnel.FunnelCounts(r.Context(), r.PathValue("id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]*popkit.FunnelDay, len(days))
	for i := range days {
		items[i] = &days[i]
	}
	writeJSON(w, r, http.StatusOK, list[popkit.FunnelDay]{Items: items})
}

// now returns the server's current time.
func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
