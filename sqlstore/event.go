package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.EventService = (*DB)(nil)

// FindEventByID returns one event with its sessions and brands. Returns
// ENOTFOUND.
func (db *DB) FindEventByID(ctx context.Context, id string) (*popkit.Event, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findEventByID(ctx, tx, id)
}

// FindEvents returns a page of events, ordered by id, and the next cursor.
// A page costs three queries whatever its size: the events, then the
// sessions and the brands of all of them. Returns EINVALID for a bad page,
// status or time window.
func (db *DB) FindEvents(ctx context.Context, f popkit.EventFilter) ([]*popkit.Event, string, error) {
	var w where
	if f.CityID != "" {
		w.and("e.city_id = ?", f.CityID)
	}
	if f.VenueID != "" {
		w.and("e.venue_id = ?", f.VenueID)
	}
	if f.BrandID != "" {
		w.and("EXISTS (SELECT 1 FROM event_brands eb WHERE eb.event_id = e.id AND eb.brand_id = ?)", f.BrandID)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, "", popkit.InvalidField("status", popkit.EventStatusMessage)
		}
		w.and("e.status = ?", string(f.Status))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, "", popkit.InvalidField("to", "must be after from")
	}
	if !f.From.IsZero() {
		w.and("e.ends_at > ?", db.timeArg(f.From))
	}
	if !f.To.IsZero() {
		w.and("e.starts_at < ?", db.timeArg(f.To))
	}
	limit, err := pageWhere(f.Page, &w, "e.id")
	if err != nil {
		return nil, "", err
	}

	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	events, err := findEvents(ctx, tx, &w, limit+1)
	if err != nil {
		return nil, "", err
	}
	events, next := nextPage(events, limit, func(e *popkit.Event) string { return e.ID })
	if err := loadEventDetails(ctx, tx, events); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// CreateEvent validates and stores a new event with its sessions and
// brands. The sessions are resolved in the venue's time zone; CityID and
// TimeZone are taken from the venue. Returns EINVALID; EUNPROCESSABLE when
// the venue or a brand does not exist; ECONFLICT when the slug is taken.
func (db *DB) CreateEvent(ctx context.Context, e *popkit.Event) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var venue *popkit.Venue
	if popkit.ValidID(e.VenueID) {
		venue, err = findVenueByID(ctx, tx, e.VenueID)
		if err != nil && popkit.ErrorCode(err) != popkit.ENOTFOUND {
			return err
		}
	}
	// Without a venue the zone is unknown; resolve in UTC anyway so that
	// bad input is reported before the missing venue.
	loc := time.UTC
	if venue != nil {
		loc = venue.Location()
	}
	if err := e.Resolve(loc); err != nil {
		return err
	}
	if venue == nil {
		return missingRef("venue_id", "venue")
	}
	if err := checkBrandsExist(ctx, tx, e.BrandIDs); err != nil {
		return err
	}

	e.ID = popkit.NewID()
	e.CityID, e.TimeZone = venue.CityID, venue.TimeZone
	if e.Currency, err = cityCurrency(ctx, tx, e.CityID); err != nil {
		return err
	}
	e.PreviousStartsAt = nil // a new event has not moved
	e.CreatedAt, e.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO events (`+eventCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.VenueID, e.CityID, e.TimeZone, e.Name, e.Slug, string(e.Status),
		e.Costs.RentMinor, e.Costs.StaffMinor, e.Costs.TransportMinor, e.Costs.EnergyTariffMinorKWh,
		tx.timeArg(e.StartsAt), tx.timeArg(e.EndsAt), tx.nullTimeArg(e.PreviousStartsAt), tx.timeArg(e.CreatedAt), tx.timeArg(e.UpdatedAt)); err != nil {
		if isUniqueViolation(err) {
			return taken("slug")
		}
		return wrap("insert event", err)
	}
	if err := insertSessions(ctx, tx, e); err != nil {
		return err
	}
	if err := upsertEventBrands(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		return err
	}
	db.eventsCreated(1)
	return nil
}

// UpdateEvent changes an event and resolves its sessions again in the
// venue's time zone. When that moves the event's start, PreviousStartsAt
// becomes the start before this move. Returns ENOTFOUND, EINVALID, EUNPROCESSABLE when a new
// brand does not exist, and ECONFLICT for an illegal status change, a taken
// slug, or when a brand that still has SKUs in the assortment is removed.
func (db *DB) UpdateEvent(ctx context.Context, id string, u popkit.EventUpdate) (*popkit.Event, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := findEventByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	oldBrands := slices.Clone(e.BrandIDs)
	oldSessions := slices.Clone(e.Sessions)
	oldStart := e.StartsAt
	if err := u.Apply(e); err != nil {
		return nil, err
	}
	venue, err := findVenueByID(ctx, tx, e.VenueID)
	if err != nil {
		return nil, fmt.Errorf("venue of event %s: %w", e.ID, err)
	}
	if err := e.Resolve(venue.Location()); err != nil {
		return nil, err
	}
	if !e.StartsAt.Equal(oldStart) {
		e.PreviousStartsAt = &oldStart
	}
	if err := checkBrandsExist(ctx, tx, e.BrandIDs); err != nil {
		return nil, err
	}
	var removed []string
	for _, b := range oldBrands {
		if !e.HasBrand(b) {
			removed = append(removed, b)
		}
	}
	if err := checkBrandsUnstocked(ctx, tx, e.ID, removed); err != nil {
		return nil, err
	}

	e.CityID, e.TimeZone, e.UpdatedAt = venue.CityID, venue.TimeZone, tx.now
	if e.Currency, err = cityCurrency(ctx, tx, e.CityID); err != nil {
		return nil, err
	}
	if err := updateEventRow(ctx, tx, e); err != nil {
		return nil, err
	}
	if !sameSessions(oldSessions, e.Sessions) {
		if err := replaceSessions(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	if len(removed) > 0 {
		in, args := tx.db.inList("brand_id", removed)
		if _, err := tx.exec(ctx, `DELETE FROM event_brands WHERE event_id = ? AND `+in, append([]any{e.ID}, args...)...); err != nil {
			return nil, wrap("delete event brands", err)
		}
	}
	if !slices.Equal(oldBrands, e.BrandIDs) {
		if err := upsertEventBrands(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return e, nil
}

const eventCols = `id, venue_id, city_id, time_zone, name, slug, status, rent_minor, staff_minor, transport_minor, energy_tariff_minor_kwh, starts_at, ends_at, previous_starts_at, created_at, updated_at`

// eventColsE is eventCols qualified with the alias e.
var eventColsE = prefixCols("e.", eventCols)

func scanEvent(s scanner) (*popkit.Event, error) {
	var e popkit.Event
	var status string
	if err := s.Scan(&e.ID, &e.VenueID, &e.CityID, &e.TimeZone, &e.Name, &e.Slug, &status,
		&e.Costs.RentMinor, &e.Costs.StaffMinor, &e.Costs.TransportMinor, &e.Costs.EnergyTariffMinorKWh,
		scanTime(&e.StartsAt), scanTime(&e.EndsAt), scanNullTime(&e.PreviousStartsAt), scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt), &e.Currency); err != nil {
		return nil, err
	}
	e.Status = popkit.EventStatus(status)
	return &e, nil
}

// findEvents returns up to limit event rows matching w, without sessions
// and brands. Conditions in w refer to the events table as e.
func findEvents(ctx context.Context, tx *txn, w *where, limit int) ([]*popkit.Event, error) {
	q := `SELECT ` + eventColsE + `, (SELECT currency FROM cities c WHERE c.id = e.city_id) FROM events e` + w.String() + ` ORDER BY e.id LIMIT ?`
	rows, err := tx.query(ctx, q, append(slices.Clip(w.args), limit)...)
	if err != nil {
		return nil, wrap("find events", err)
	}
	events, err := collect(rows, scanEvent)
	if err != nil {
		return nil, wrap("find events", err)
	}
	return events, nil
}

func findEventByID(ctx context.Context, tx *txn, id string) (*popkit.Event, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("event")
	}
	var w where
	w.and("e.id = ?", id)
	events, err := findEvents(ctx, tx, &w, 1)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, notFound("event")
	}
	if err := loadEventDetails(ctx, tx, events); err != nil {
		return nil, err
	}
	return events[0], nil
}

// cityCurrency returns the currency of a city, the currency of every
// amount at its events.
func cityCurrency(ctx context.Context, tx *txn, cityID string) (string, error) {
	var c string
	if err := tx.queryRow(ctx, `SELECT currency FROM cities WHERE id = ?`, cityID).Scan(&c); err != nil {
		return "", wrap("find city currency", err)
	}
	return c, nil
}

// eventExists returns ENOTFOUND unless the event exists.
func eventExists(ctx context.Context, tx *txn, id string) error {
	if !popkit.ValidID(id) {
		return notFound("event")
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM events WHERE id = ?`, id).Scan(&n); err != nil {
		return wrap("find event", err)
	}
	if n == 0 {
		return notFound("event")
	}
	return nil
}

// loadEventDetails fills the sessions and brands of events with one query
// each.
func loadEventDetails(ctx context.Context, tx *txn, events []*popkit.Event) error {
	if len(events) == 0 {
		return nil
	}
	byID := make(map[string]*popkit.Event, len(events))
	ids := make([]string, len(events))
	for i, e := range events {
		byID[e.ID] = e
		ids[i] = e.ID
		e.Sessions = []popkit.Session{}
		e.BrandIDs = []string{}
	}
	in, args := tx.db.inList("event_id", ids)

	rows, err := tx.query(ctx, `SELECT event_id, start_local, end_local, start_utc, end_utc, cancelled FROM event_sessions WHERE `+in+` ORDER BY event_id, start_utc`, args...)
	if err != nil {
		return wrap("find event sessions", err)
	}
	defer rows.Close()
	for rows.Next() {
		var eventID, start, end string
		var s popkit.Session
		if err := rows.Scan(&eventID, &start, &end, scanTime(&s.StartUTC), scanTime(&s.EndUTC), &s.Cancelled); err != nil {
			return wrap("scan event session", err)
		}
		s.Start, s.End = popkit.LocalTime(start), popkit.LocalTime(end)
		e := byID[eventID]
		e.Sessions = append(e.Sessions, s)
	}
	if err := rows.Err(); err != nil {
		return wrap("find event sessions", err)
	}
	rows.Close()

	rows, err = tx.query(ctx, `SELECT event_id, brand_id FROM event_brands WHERE `+in+` ORDER BY event_id, position`, args...)
	if err != nil {
		return wrap("find event brands", err)
	}
	defer rows.Close()
	for rows.Next() {
		var eventID, brandID string
		if err := rows.Scan(&eventID, &brandID); err != nil {
			return wrap("scan event brand", err)
		}
		e := byID[eventID]
		e.BrandIDs = append(e.BrandIDs, brandID)
	}
	if err := rows.Err(); err != nil {
		return wrap("find event brands", err)
	}
	return nil
}

// checkBrandsExist returns EUNPROCESSABLE naming each brand_ids entry that
// refers to no brand.
func checkBrandsExist(ctx context.Context, tx *txn, ids []string) error {
	missing, err := missingBrands(ctx, tx, ids)
	if err != nil || len(missing) == 0 {
		return err
	}
	e := &popkit.Error{Code: popkit.EUNPROCESSABLE}
	for i, id := range ids {
		if slices.Contains(missing, id) {
			e.Fields = append(e.Fields, popkit.FieldError{Field: fmt.Sprintf("brand_ids[%d]", i), Message: "brand does not exist"})
		}
	}
	e.Message = e.Fields[0].Field + ": brand does not exist"
	return e
}

// checkBrandsUnstocked returns ECONFLICT when a brand in removed still has
// SKUs in the event's assortment.
func checkBrandsUnstocked(ctx context.Context, tx *txn, eventID string, removed []string) error {
	if len(removed) == 0 {
		return nil
	}
	in, args := tx.db.inList("brand_id", removed)
	rows, err := tx.query(ctx, `SELECT DISTINCT brand_id FROM assortment_items WHERE event_id = ? AND `+in+` ORDER BY brand_id`, append([]any{eventID}, args...)...)
	if err != nil {
		return wrap("check assortment", err)
	}
	stocked, err := collect(rows, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
	if err != nil {
		return wrap("check assortment", err)
	}
	if len(stocked) > 0 {
		return conflict("brand_ids", "brand %s still has SKUs in the event's assortment; remove them first", stocked[0])
	}
	return nil
}

// updateEventRow writes the event's own columns.
func updateEventRow(ctx context.Context, tx *txn, e *popkit.Event) error {
	if _, err := tx.exec(ctx, `UPDATE events SET city_id = ?, time_zone = ?, name = ?, slug = ?, status = ?,
		rent_minor = ?, staff_minor = ?, transport_minor = ?, energy_tariff_minor_kwh = ?,
		starts_at = ?, ends_at = ?, previous_starts_at = ?, updated_at = ? WHERE id = ?`,
		e.CityID, e.TimeZone, e.Name, e.Slug, string(e.Status),
		e.Costs.RentMinor, e.Costs.StaffMinor, e.Costs.TransportMinor, e.Costs.EnergyTariffMinorKWh,
		tx.timeArg(e.StartsAt), tx.timeArg(e.EndsAt), tx.nullTimeArg(e.PreviousStartsAt), tx.timeArg(e.UpdatedAt), e.ID); err != nil {
		if isUniqueViolation(err) {
			return taken("slug")
		}
		return wrap("update event", err)
	}
	return nil
}

// sessionBatch is how many sessions one INSERT writes.
const sessionBatch = 100

// insertSessions writes the sessions of e, many rows per statement.
func insertSessions(ctx context.Context, tx *txn, e *popkit.Event) error {
	for chunk := range slices.Chunk(e.Sessions, sessionBatch) {
		args := make([]any, 0, len(chunk)*6)
		rows := make([]string, len(chunk))
		for i, s := range chunk {
			rows[i] = "(?, ?, ?, ?, ?, ?)"
			args = append(args, e.ID, string(s.Start), string(s.End), tx.timeArg(s.StartUTC), tx.timeArg(s.EndUTC), s.Cancelled)
		}
		q := `INSERT INTO event_sessions (event_id, start_local, end_local, start_utc, end_utc, cancelled) VALUES ` + strings.Join(rows, ", ")
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return wrap("insert event sessions", err)
		}
	}
	return nil
}

// replaceSessions deletes the stored sessions of e and writes its current
// ones.
func replaceSessions(ctx context.Context, tx *txn, e *popkit.Event) error {
	if _, err := tx.exec(ctx, `DELETE FROM event_sessions WHERE event_id = ?`, e.ID); err != nil {
		return wrap("delete event sessions", err)
	}
	return insertSessions(ctx, tx, e)
}

// upsertEventBrands stores the brands of e in their order, adding missing
// rows and renumbering existing ones.
func upsertEventBrands(ctx context.Context, tx *txn, e *popkit.Event) error {
	args := make([]any, 0, len(e.BrandIDs)*3)
	rows := make([]string, len(e.BrandIDs))
	for i, id := range e.BrandIDs {
		rows[i] = "(?, ?, ?)"
		args = append(args, e.ID, id, i)
	}
	q := `INSERT INTO event_brands (event_id, brand_id, position) VALUES ` + strings.Join(rows, ", ") +
		` ON CONFLICT (event_id, brand_id) DO UPDATE SET position = excluded.position`
	if _, err := tx.exec(ctx, q, args...); err != nil {
		return wrap("insert event brands", err)
	}
	return nil
}

// sameSessions reports whether two resolved session lists are equal.
func sameSessions(a, b []popkit.Session) bool {
	return slices.EqualFunc(a, b, func(x, y popkit.Session) bool {
		return x.Start == y.Start && x.End == y.End && x.Cancelled == y.Cancelled &&
			x.StartUTC.Equal(y.StartUTC) && x.EndUTC.Equal(y.EndUTC)
	})
}

// prefixCols qualifies each column of a comma-separated list with prefix.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = prefix + p
	}
	return strings.Join(parts, ", ")
}
