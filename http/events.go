package http

import (
	"context"
	"net/http"

	"github.com/popkit/popkit"
)

// sessionInput is one session in an event body, in the venue's local time.
type sessionInput struct {
	Start     popkit.LocalTime `json:"start"`
	End       popkit.LocalTime `json:"end"`
	Cancelled bool             `json:"cancelled"`
}

func sessions(in []sessionInput) []popkit.Session {
	out := make([]popkit.Session, len(in))
	for i, s := range in {
		out[i] = popkit.Session{Start: s.Start, End: s.End, Cancelled: s.Cancelled}
	}
	return out
}

// eventInput is the body of POST /api/v1/events.
type eventInput struct {
	VenueID  string             `json:"venue_id"`
	Name     string             `json:"name"`
	Slug     string             `json:"slug"`
	Status   popkit.EventStatus `json:"status"`
	BrandIDs []string           `json:"brand_ids"`
	Sessions []sessionInput     `json:"sessions"`
	Costs    popkit.Costs       `json:"costs"`
}

// eventPatch is the body of PATCH /api/v1/events/{id}. Lists and costs
// replace the stored ones when present.
type eventPatch struct {
	Name     *string             `json:"name"`
	Slug     *string             `json:"slug"`
	Status   *popkit.EventStatus `json:"status"`
	BrandIDs *[]string           `json:"brand_ids"`
	Sessions *[]sessionInput     `json:"sessions"`
	Costs    *popkit.Costs       `json:"costs"`
}

func (p eventPatch) update() popkit.EventUpdate {
	u := popkit.EventUpdate{Name: p.Name, Slug: p.Slug, Status: p.Status, BrandIDs: p.BrandIDs, Costs: p.Costs}
	if p.Sessions != nil {
		s := sessions(*p.Sessions)
		u.Sessions = &s
	}
	return u
}

func validStatus(s string) bool { return popkit.EventStatus(s).Valid() }

func (s *Server) listEvents() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.EventFilter, error) {
		f := popkit.EventFilter{
			CityID:  q.id("city"),
			VenueID: q.id("venue_id"),
			BrandID: q.id("brand_id"),
			Status:  popkit.EventStatus(q.str("status", validStatus, popkit.EventStatusMessage)),
			From:    q.time("from"),
			To:      q.time("to"),
			Page:    q.page(),
		}
		if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
			q.fail("to", "must be after from")
		}
		return f, nil
	}, s.Events.FindEvents)
}

func (s *Server) getEvent() http.HandlerFunc {
	find := func(ctx context.Context, id string) (*popkit.Event, error) {
		if err := useEvent(tokenOf(ctx), id); err != nil {
			return nil, err // a device token learns nothing about other events
		}
		return s.Events.FindEventByID(ctx, id)
	}
	return handleGet(s, "event", find, nil)
}

func (s *Server) createEvent() http.HandlerFunc {
	return handleCreate(s, "/api/v1/events", func(_ *popkit.Token, in *eventInput) (*popkit.Event, error) {
		return &popkit.Event{
			VenueID:  in.VenueID,
			Name:     in.Name,
			Slug:     in.Slug,
			Status:   in.Status,
			BrandIDs: in.BrandIDs,
			Sessions: sessions(in.Sessions),
			Costs:    in.Costs,
		}, nil
	}, s.Events.CreateEvent, func(e *popkit.Event) string { return e.ID })
}

func (s *Server) patchEvent() http.HandlerFunc {
	return handlePatch(s, "event", s.Events.FindEventByID, nil, func(ctx context.Context, id string, p eventPatch) (*popkit.Event, error) {
		return s.Events.UpdateEvent(ctx, id, p.update())
	})
}
