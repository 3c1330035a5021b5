package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/popkit/popkit"
)

var _ popkit.CityService = (*DB)(nil)

// FindCityByID returns one city. Returns ENOTFOUND.
func (db *DB) FindCityByID(ctx context.Context, id string) (*popkit.City, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findCityByID(ctx, tx, id)
}

// FindCities returns a page of cities, ordered by id, and the cursor of the
// next page ("" on the last page). Returns EINVALID for a bad page.
func (db *DB) FindCities(ctx context.Context, f popkit.CityFilter) ([]*popkit.City, string, error) {
	var w where
	if f.Country != "" {
		w.and("country = ?", f.Country)
	}
	return findPage(ctx, db, "find cities", f.Page, &w, cityCols, "cities", scanCity, func(x *popkit.City) string { return x.ID })
}

// CreateCity validates and stores a new city, setting its id and times.
// Returns EINVALID.
func (db *DB) CreateCity(ctx context.Context, c *popkit.City) error {
	if err := c.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c.ID = popkit.NewID()
	c.CreatedAt, c.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO cities (`+cityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Country, c.TimeZone, c.Currency, tx.timeArg(c.CreatedAt), tx.timeArg(c.UpdatedAt)); err != nil {
		return wrap("insert city", err)
	}
	return tx.commit()
}

// UpdateCity changes a city. Returns ENOTFOUND, EINVALID, and ECONFLICT
// (field currency) when the currency would change while an event in the
// city has orders.
func (db *DB) UpdateCity(ctx context.Context, id string, u popkit.CityUpdate) (*popkit.City, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findCityByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	was := c.Currency
	u.Apply(c)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Currency != was {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM orders o JOIN events e ON e.id = o.event_id WHERE e.city_id = ?`, c.ID).Scan(&n); err != nil {
			return nil, wrap("count city orders", err)
		}
		if n > 0 {
			return nil, &popkit.Error{Code: popkit.ECONFLICT, Message: "the city's events have orders in " + was,
				Fields: []popkit.FieldError{{Field: "currency", Message: fmt.Sprintf("cannot change: %d orders are in %s", n, was)}}}
		}
	}
	c.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE cities SET name = ?, country = ?, time_zone = ?, currency = ?, updated_at = ? WHERE id = ?`,
		c.Name, c.Country, c.TimeZone, c.Currency, tx.timeArg(c.UpdatedAt), c.ID); err != nil {
		return nil, wrap("update city", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return c, nil
}

const cityCols = `id, name, country, time_zone, currency, created_at, updated_at`

func scanCity(s scanner) (*popkit.City, error) {
	var c popkit.City
	if err := s.Scan(&c.ID, &c.Name, &c.Country, &c.TimeZone, &c.Currency, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt)); err != nil {
		return nil, err
	}
	return &c, nil
}

func findCityByID(ctx context.Context, tx *txn, id string) (*popkit.City, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("city")
	}
	c, err := scanCity(tx.queryRow(ctx, `SELECT `+cityCols+` FROM cities WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("city")
	} else if err != nil {
		return nil, wrap("find city", err)
	}
	return c, nil
}
