package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/popkit/popkit"
)

var _ popkit.VenueService = (*DB)(nil)

// FindVenueByID returns one venue. Returns ENOTFOUND.
func (db *DB) FindVenueByID(ctx context.Context, id string) (*popkit.Venue, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findVenueByID(ctx, tx, id)
}

// FindVenues returns a page of venues, ordered by id, and the next cursor.
// Returns EINVALID for a bad page.
func (db *DB) FindVenues(ctx context.Context, f popkit.VenueFilter) ([]*popkit.Venue, string, error) {
	var w where
	if f.CityID != "" {
		w.and("city_id = ?", f.CityID)
	}
	return findPage(ctx, db, "find venues", f.Page, &w, venueCols, "venues", scanVenue, func(x *popkit.Venue) string { return x.ID })
}

// CreateVenue stores a new venue. When TimeZone is empty the city's zone is
// used. Returns EINVALID, or EUNPROCESSABLE when the city does not exist.
func (db *DB) CreateVenue(ctx context.Context, v *popkit.Venue) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var city *popkit.City
	if popkit.ValidID(v.CityID) {
		city, err = findCityByID(ctx, tx, v.CityID)
		if err != nil && popkit.ErrorCode(err) != popkit.ENOTFOUND {
			return err
		}
	}
	if city != nil && v.TimeZone == "" {
		v.TimeZone = city.TimeZone
	}
	// Report bad input first; a missing city leaves the zone unknown, so
	// an empty zone is then not the client's fault.
	check := *v
	if city == nil && check.TimeZone == "" {
		check.TimeZone = "UTC"
	}
	if err := check.Validate(); err != nil {
		return err
	}
	if city == nil {
		return missingRef("city_id", "city")
	}

	v.ID = popkit.NewID()
	v.CreatedAt, v.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO venues (`+venueCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.CityID, v.Name, v.Address, v.Lat, v.Lon, v.TimeZone, tx.timeArg(v.CreatedAt), tx.timeArg(v.UpdatedAt)); err != nil {
		return wrap("insert venue", err)
	}
	return tx.commit()
}

// UpdateVenue changes a venue. When its time zone changes, the sessions of
// its events are resolved again in the new zone. Returns ENOTFOUND,
// EINVALID (also when an event's sessions do not fit the new zone).
func (db *DB) UpdateVenue(ctx context.Context, id string, u popkit.VenueUpdate) (*popkit.Venue, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v, err := findVenueByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	oldZone := v.TimeZone
	u.Apply(v)
	if err := v.Validate(); err != nil {
		return nil, err
	}
	v.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE venues SET name = ?, address = ?, lat = ?, lon = ?, time_zone = ?, updated_at = ? WHERE id = ?`,
		v.Name, v.Address, v.Lat, v.Lon, v.TimeZone, tx.timeArg(v.UpdatedAt), v.ID); err != nil {
		return nil, wrap("update venue", err)
	}
	if v.TimeZone != oldZone {
		if err := reresolveVenueEvents(ctx, tx, v); err != nil {
			return nil, err
		}
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return v, nil
}

// reresolveVenueEvents resolves the sessions of every event at venue v in
// the venue's (new) time zone and stores the new UTC instants.
func reresolveVenueEvents(ctx context.Context, tx *txn, v *popkit.Venue) error {
	rows, err := tx.query(ctx, `SELECT id FROM events WHERE venue_id = ? ORDER BY id`, v.ID)
	if err != nil {
		return wrap("find venue events", err)
	}
	ids, err := collect(rows, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
	if err != nil {
		return wrap("find venue events", err)
	}
	loc := v.Location()
	for _, id := range ids {
		e, err := findEventByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := e.Resolve(loc); err != nil {
			return popkit.InvalidField("time_zone", "the sessions of event %s do not fit this time zone", e.Slug)
		}
		// PreviousStartsAt stays: correcting the zone moves the instants
		// but does not reschedule the event.
		e.CityID, e.TimeZone, e.UpdatedAt = v.CityID, v.TimeZone, tx.now
		if err := updateEventRow(ctx, tx, e); err != nil {
			return err
		}
		if err := replaceSessions(ctx, tx, e); err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	return nil
}

const venueCols = `id, city_id, name, address, lat, lon, time_zone, created_at, updated_at`

func scanVenue(s scanner) (*popkit.Venue, error) {
	var v popkit.Venue
	if err := s.Scan(&v.ID, &v.CityID, &v.Name, &v.Address, &v.Lat, &v.Lon, &v.TimeZone, scanTime(&v.CreatedAt), scanTime(&v.UpdatedAt)); err != nil {
		return nil, err
	}
	return &v, nil
}

func findVenueByID(ctx context.Context, tx *txn, id string) (*popkit.Venue, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("venue")
	}
	v, err := scanVenue(tx.queryRow(ctx, `SELECT `+venueCols+` FROM venues WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("venue")
	} else if err != nil {
		return nil, wrap("find venue", err)
	}
	return v, nil
}
