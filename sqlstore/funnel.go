package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.FunnelService = (*DB)(nil)

// dayLayout names a UTC day in the funnel tables.
const dayLayout = "2006-01-02"

// RecordPageView counts one view of a listing page, as Plausible does
// without cookies: the visitor string is hashed with a salt that belongs
// to the current UTC day, the hash is kept only to tell whether this
// visitor was counted today, and salts and hashes of earlier days are
// deleted, so that no view can be linked to a person or across days.
// Returns ENOTFOUND for an unknown listing.
func (db *DB) RecordPageView(ctx context.Context, v popkit.PageView) error {
	if !popkit.ValidID(v.ListingID) {
		return notFound("listing")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM listings WHERE id = ?`, v.ListingID).Scan(&n); err != nil {
		return wrap("find listing", err)
	}
	if n == 0 {
		return notFound("listing")
	}
	day := tx.now.Format(dayLayout)
	for _, q := range []string{`DELETE FROM view_salts WHERE day < ?`, `DELETE FROM view_visitors WHERE day < ?`} {
		if _, err := tx.exec(ctx, q, day); err != nil {
			return wrap("forget old salts", err)
		}
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	if _, err := tx.exec(ctx, `INSERT INTO view_salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING`, day, salt); err != nil {
		return wrap("store salt", err)
	}
	if err := tx.queryRow(ctx, `SELECT salt FROM view_salts WHERE day = ?`, day).Scan(&salt); err != nil {
		return wrap("read salt", err)
	}
	mac := hmac.New(sha256.New, salt)
	mac.Write([]byte(v.ListingID + "\x00" + v.Visitor))
	hash := hex.EncodeToString(mac.Sum(nil)[:16])
	added, err := tx.execN(ctx, `INSERT INTO view_visitors (day, listing_id, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, day, v.ListingID, hash)
	if err != nil {
		return wrap("record visitor", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO listing_views (listing_id, day, views, uniques) VALUES (?, ?, 1, ?)
		ON CONFLICT (listing_id, day) DO UPDATE SET views = listing_views.views + 1, uniques = listing_views.uniques + excluded.uniques`,
		v.ListingID, day, added); err != nil {
		return wrap("count view", err)
	}
	return tx.commit()
}

// CreateNotifySignup stores a notify-me sign-up; signing up twice for one
// listing keeps the first. Returns EINVALID, ENOTFOUND for an unknown or
// unpublished listing.
func (db *DB) CreateNotifySignup(ctx context.Context, s *popkit.NotifySignup) error {
	s.Email = strings.TrimSpace(s.Email)
	if err := s.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM listings WHERE id = ? AND live_revision IS NOT NULL`, s.ListingID).Scan(&n); err != nil {
		return wrap("find listing", err)
	}
	if n == 0 {
		return notFound("listing")
	}
	s.ID, s.CreatedAt = popkit.NewID(), tx.now
	s.ConsentAt = s.ConsentAt.UTC().Truncate(time.Microsecond)
	if _, err := tx.exec(ctx, `INSERT INTO notify_signups (id, listing_id, email, consent_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (listing_id, email) DO NOTHING`, s.ID, s.ListingID, s.Email, tx.timeArg(s.ConsentAt), tx.timeArg(s.CreatedAt)); err != nil {
		return wrap("insert notify sign-up", err)
	}
	return tx.commit()
}

// CreateCheckin records a member at an event; At defaults to now. Returns
// EINVALID, EUNPROCESSABLE when the member or event does not exist,
// ECONFLICT when the membership is not active.
func (db *DB) CreateCheckin(ctx context.Context, c *popkit.Checkin) error {
	var v popkit.Validation
	v.Check(popkit.ValidID(c.MemberID), "member_id", "must be a member id")
	v.Check(popkit.ValidID(c.EventID), "event_id", "must be an event id")
	v.Check(c.Source.Valid(), "source", "must be pos or door")
	if err := v.Err(); err != nil {
		return err
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	m, err := findMember(ctx, tx, "id", c.MemberID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("member_id", "member")
	} else if err != nil {
		return err
	}
	if err := eventExists(ctx, tx, c.EventID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return missingRef("event_id", "event")
	} else if err != nil {
		return err
	}
	if c.At.IsZero() {
		c.At = tx.now
	}
	c.At = c.At.UTC().Truncate(time.Microsecond)
	if !m.Active(c.At) {
		return conflict("member_id", "the membership is not active")
	}
	c.ID = popkit.NewID()
	if _, err := tx.exec(ctx, `INSERT INTO checkins (id, member_id, event_id, source, at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.MemberID, c.EventID, string(c.Source), tx.timeArg(c.At)); err != nil {
		return wrap("insert check-in", err)
	}
	return tx.commit()
}

// FunnelCounts returns the daily counts of a listing for UTC days in
// [from, to), oldest first; days without activity are left out. Returns
// ENOTFOUND for an unknown listing, EINVALID for a bad window.
func (db *DB) FunnelCounts(ctx context.Context, listingID string, from, to time.Time) ([]popkit.FunnelDay, error) {
	if !popkit.ValidID(listingID) {
		return nil, notFound("listing")
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, popkit.InvalidField("to", "must be after from, at most 366 days later")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var eventID string
	if err := tx.queryRow(ctx, `SELECT event_id FROM listings WHERE id = ?`, listingID).Scan(&eventID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("listing")
		}
		return nil, wrap("find listing", err)
	}
	days := map[string]*popkit.FunnelDay{}
	get := func(day string) *popkit.FunnelDay {
		d := days[day]
		if d == nil {
			d = &popkit.FunnelDay{ListingID: listingID, Day: day}
			days[day] = d
		}
		return d
	}
	fromDay, toDay := from.UTC().Format(dayLayout), to.UTC().Format(dayLayout)
	rows, err := tx.query(ctx, `SELECT day, views, uniques FROM listing_views WHERE listing_id = ? AND day >= ? AND day < ?`, listingID, fromDay, toDay)
	if err != nil {
		return nil, wrap("find views", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var views, uniques int64
		if err := rows.Scan(&day, &views, &uniques); err != nil {
			return nil, wrap("scan views", err)
		}
		d := get(day)
		d.Views, d.Uniques = views, uniques
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find views", err)
	}
	rows.Close()
	count := func(q, id string, add func(*popkit.FunnelDay)) error {
		rows, err := tx.query(ctx, q, id, tx.timeArg(from), tx.timeArg(to))
		if err != nil {
			return wrap("count funnel", err)
		}
		defer rows.Close()
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(scanTime(&at)); err != nil {
				return wrap("scan funnel", err)
			}
			add(get(at.Format(dayLayout)))
		}
		if err := rows.Err(); err != nil {
			return wrap("count funnel", err)
		}
		return nil
	}
	if err := count(`SELECT created_at FROM notify_signups WHERE listing_id = ? AND created_at >= ? AND created_at < ?`, listingID,
		func(d *popkit.FunnelDay) { d.Notifies++ }); err != nil {
		return nil, err
	}
	if err := count(`SELECT at FROM checkins WHERE event_id = ? AND at >= ? AND at < ?`, eventID,
		func(d *popkit.FunnelDay) { d.Checkins++ }); err != nil {
		return nil, err
	}
	out := make([]popkit.FunnelDay, 0, len(days))
	for _, d := range days {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}
