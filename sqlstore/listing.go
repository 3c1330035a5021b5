package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/popkit/popkit"
)

var _ popkit.ListingService = (*DB)(nil)

func scanListing(s scanner) (*popkit.Listing, error) {
	var l popkit.Listing
	var state, reason, status string
	var live *int64
	var working string
	var liveContent *string
	if err := s.Scan(&l.ID, &l.EventID, &l.Slug, &state, &l.WorkingRevision, &live,
		&reason, &l.RejectNote, scanNullTime(&l.PublishedAt), scanTime(&l.CreatedAt), scanTime(&l.UpdatedAt),
		&l.CityID, &l.VenueID, &l.TimeZone, &status, scanTime(&l.StartsAt), scanTime(&l.EndsAt),
		&working, &liveContent); err != nil {
		return nil, err
	}
	l.State, l.RejectReason, l.EventStatus = popkit.CurationState(state), popkit.RejectReason(reason), popkit.EventStatus(status)
	if err := json.Unmarshal([]byte(working), &l.Working); err != nil {
		return nil, fmt.Errorf("decode listing revision: %w", err)
	}
	l.Working.Normalize()
	switch {
	case live != nil && int(*live) == l.WorkingRevision:
		// Nothing pending: the live revision is the working one, read once.
		l.LiveRevision = l.WorkingRevision
		l.Live = cloneContent(&l.Working)
	case live != nil && liveContent != nil:
		l.LiveRevision = int(*live)
		l.Live = new(popkit.ListingContent)
		if err := json.Unmarshal([]byte(*liveContent), l.Live); err != nil {
			return nil, fmt.Errorf("decode listing revision: %w", err)
		}
		l.Live.Normalize()
	}
	l.EventBrandIDs = []string{}
	return &l, nil
}

// cloneContent returns a copy of c that shares nothing with it.
func cloneContent(c *popkit.ListingContent) *popkit.ListingContent {
	d := *c
	d.Images = slices.Clone(c.Images)
	d.BrandIDs = slices.Clone(c.BrandIDs)
	d.Categories = slices.Clone(c.Categories)
	d.Tags = slices.Clone(c.Tags)
	d.MemberOnlySessions = slices.Clone(c.MemberOnlySessions)
	if c.Price != nil {
		p := *c.Price
		d.Price = &p
	}
	if c.MembersFrom != nil {
		t := *c.MembersFrom
		d.MembersFrom = &t
	}
	if c.PublicFrom != nil {
		t := *c.PublicFrom
		d.PublicFrom = &t
	}
	return &d
}

// FindListingByID returns one listing. Returns ENOTFOUND.
func (db *DB) FindListingByID(ctx context.Context, id string) (*popkit.Listing, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("listing")
	}
	return db.findOneListing(ctx, "l.id = ?", id)
}

// FindListingBySlug returns the listing with this slug. Returns ENOTFOUND.
func (db *DB) FindListingBySlug(ctx context.Context, slug string) (*popkit.Listing, error) {
	if !popkit.ValidSlug(slug) {
		return nil, notFound("listing")
	}
	return db.findOneListing(ctx, "l.slug = ?", slug)
}

func (db *DB) findOneListing(ctx context.Context, cond string, arg any) (*popkit.Listing, error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findListing(ctx, tx, cond, arg)
}

func findListing(ctx context.Context, tx *txn, cond string, arg any) (*popkit.Listing, error) {
	var w where
	w.and(cond, arg)
	list, err := findListings(ctx, tx, &w, 1, false)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, notFound("listing")
	}
	return list[0], nil
}

// findListings returns up to limit listings matching w, ordered by the
// event's start and the event id (one listing per event), with their
// event brands.
//
// The plans matter for the public pages (many published listings, a small
// page; byStart): they walk the events in start order on an index that
// covers the filter, probe each event's listing, and stop at the limit,
// reading the content of only the rows they return. SQLite is told that
// join order with a CROSS JOIN. Other SQLite lists choose the page on ids
// first, so that sorting never carries the revisions' content. The limit
// is written into the statement, so that PostgreSQL's generic plans for
// prepared statements know it.
func findListings(ctx context.Context, tx *txn, w *where, limit int, byStart bool) ([]*popkit.Listing, error) {
	const cols = `SELECT l.id, l.event_id, l.slug, l.state, l.working_revision, l.live_revision,
	l.reject_reason, l.reject_note, l.published_at, l.created_at, l.updated_at,
	e.city_id, e.venue_id, e.time_zone, e.status, e.starts_at, e.ends_at,
	w.content, lr.content`
	const content = `
JOIN listing_revisions w ON w.listing_id = l.id AND w.number = l.working_revision
LEFT JOIN listing_revisions lr ON lr.listing_id = l.id AND lr.number = l.live_revision AND l.live_revision <> l.working_revision`
	order := ` ORDER BY e.starts_at, e.id LIMIT ` + strconv.Itoa(limit)
	var q string
	switch {
	case tx.db.dialect == DialectPostgres:
		q = cols + ` FROM listings l JOIN events e ON e.id = l.event_id` + content + w.String() + order
	case byStart:
		inner := where{conds: append([]string{"l.event_id = e.id"}, w.conds...)}
		q = cols + ` FROM events e CROSS JOIN listings l` + content + inner.String() + order
	default:
		q = cols + ` FROM (SELECT l.id AS pid FROM listings l JOIN events e ON e.id = l.event_id` + w.String() + order + `) p
JOIN listings l ON l.id = p.pid
JOIN events e ON e.id = l.event_id` + content + `
ORDER BY e.starts_at, e.id`
	}
	rows, err := tx.query(ctx, q, w.args...)
	if err != nil {
		return nil, wrap("find listings", err)
	}
	list, err := collect(rows, scanListing)
	if err != nil {
		return nil, wrap("find listings", err)
	}
	if len(list) == 0 {
		return list, nil
	}
	byEvent := make(map[string]*popkit.Listing, len(list))
	ids := make([]string, len(list))
	for i, l := range list {
		byEvent[l.EventID], ids[i] = l, l.EventID
	}
	in, args := tx.db.inList("event_id", ids)
	rows, err = tx.query(ctx, `SELECT event_id, brand_id FROM event_brands WHERE `+in+` ORDER BY event_id, position`, args...)
	if err != nil {
		return nil, wrap("find event brands", err)
	}
	defer rows.Close()
	for rows.Next() {
		var eventID, brandID string
		if err := rows.Scan(&eventID, &brandID); err != nil {
			return nil, wrap("scan event brand", err)
		}
		byEvent[eventID].EventBrandIDs = append(byEvent[eventID].EventBrandIDs, brandID)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find event brands", err)
	}
	return list, nil
}

// FindListings returns a page of listings ordered by the event's start and
// id, and the next cursor. Returns EINVALID for a bad filter.
func (db *DB) FindListings(ctx context.Context, f popkit.ListingFilter) ([]*popkit.Listing, string, error) {
	var w where
	if f.State != "" {
		if !f.State.Valid() {
			return nil, "", popkit.InvalidField("state", "must be one of draft, submitted, approved, rejected, published")
		}
		w.and("l.state = ?", string(f.State))
	}
	if f.BrandID != "" {
		w.and("EXISTS (SELECT 1 FROM event_brands eb WHERE eb.event_id = l.event_id AND eb.brand_id = ?)", f.BrandID)
	}
	if f.CityID != "" {
		w.and("e.city_id = ?", f.CityID)
	}
	if f.EventID != "" {
		w.and("l.event_id = ?", f.EventID)
	}
	if f.Published || !f.VisibleAt.IsZero() {
		w.and("l.live_revision IS NOT NULL")
	}
	if f.EarlyAccess < 0 {
		return nil, "", popkit.InvalidField("early_access", "must not be negative")
	}
	if t := f.VisibleAt; !t.IsZero() {
		if f.EarlyAccess == 0 {
			w.and("(l.live_public_from IS NULL OR l.live_public_from <= ?)", db.timeArg(t))
		} else {
			w.and(`(l.live_public_from IS NULL OR l.live_public_from <= ?
				OR (l.live_members_from IS NOT NULL AND l.live_members_from <= ?)
				OR (l.live_members_from IS NULL AND l.live_public_from <= ?))`,
				db.timeArg(t), db.timeArg(t), db.timeArg(t.Add(f.EarlyAccess)))
		}
	}
	if !f.EndsAfter.IsZero() {
		w.and("e.ends_at > ?", db.timeArg(f.EndsAfter))
	}
	limit, after, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if after != "" {
		const at = `(SELECT e2.%s FROM listings l2 JOIN events e2 ON e2.id = l2.event_id WHERE l2.id = ?)`
		w.and(`(e.starts_at > `+fmt.Sprintf(at, "starts_at")+` OR (e.starts_at = `+fmt.Sprintf(at, "starts_at")+` AND e.id > `+fmt.Sprintf(at, "id")+`))`,
			after, after, after)
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	list, err := findListings(ctx, tx, &w, limit+1, f.Published || !f.VisibleAt.IsZero())
	if err != nil {
		return nil, "", err
	}
	list, next := nextPage(list, limit, func(l *popkit.Listing) string { return l.ID })
	return list, next, nil
}

// CreateListing stores a new draft listing for l.EventID with content
// l.Working. Returns EINVALID; EUNPROCESSABLE when the event does not
// exist; ECONFLICT when the event already has a listing or the slug is
// taken.
func (db *DB) CreateListing(ctx context.Context, l *popkit.Listing) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ev *popkit.Event
	if popkit.ValidID(l.EventID) {
		ev, err = findEventByID(ctx, tx, l.EventID)
		if err != nil && popkit.ErrorCode(err) != popkit.ENOTFOUND {
			return err
		}
	}
	var v popkit.Validation
	v.Check(popkit.ValidID(l.EventID), "event_id", "must be an event id")
	if l.Slug != "" {
		v.Check(popkit.ValidSlug(l.Slug), "slug", "must be 1-80 lower-case letters, digits and hyphens")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := l.Working.Validate(ev); err != nil {
		return err
	}
	if ev == nil {
		return missingRef("event_id", "event")
	}
	if l.Slug == "" {
		l.Slug = ev.Slug
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM listings WHERE event_id = ?`, ev.ID).Scan(&n); err != nil {
		return wrap("find listing", err)
	}
	if n > 0 {
		return conflict("event_id", "the event already has a listing")
	}
	l.ID = popkit.NewID()
	l.State, l.WorkingRevision = popkit.ListingDraft, 1
	l.LiveRevision, l.Live, l.PublishedAt, l.RejectReason, l.RejectNote = 0, nil, nil, "", ""
	l.CreatedAt, l.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec(ctx, `INSERT INTO listings (id, event_id, slug, state, working_revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.EventID, l.Slug, string(l.State), l.WorkingRevision, tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		if isUniqueViolation(err) {
			return taken("slug")
		}
		return wrap("insert listing", err)
	}
	if err := insertRevision(ctx, tx, l.ID, 1, &l.Working); err != nil {
		return err
	}
	if err := logCuration(ctx, tx, l, popkit.ActionCreate, "", popkit.CurationStep{}); err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		return err
	}
	l.CityID, l.VenueID, l.TimeZone, l.EventStatus = ev.CityID, ev.VenueID, ev.TimeZone, ev.Status
	l.StartsAt, l.EndsAt, l.EventBrandIDs = ev.StartsAt, ev.EndsAt, slices.Clone(ev.BrandIDs)
	return nil
}

// UpdateListing applies u to the working revision. A draft is changed in
// place; a listing in any other state gets a new draft revision while the
// live revision stays live. Returns ENOTFOUND, EINVALID.
func (db *DB) UpdateListing(ctx context.Context, id string, u popkit.ListingUpdate) (*popkit.Listing, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("listing")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := findListing(ctx, tx, "l.id = ?", id)
	if err != nil {
		return nil, err
	}
	content, err := u.Apply(l.Working)
	if err != nil {
		return nil, err
	}
	ev, err := findEventByID(ctx, tx, l.EventID)
	if err != nil {
		return nil, fmt.Errorf("event of listing %s: %w", l.ID, err)
	}
	if err := content.Validate(ev); err != nil {
		return nil, err
	}
	from := l.State
	l.Working = content
	if l.State == popkit.ListingDraft {
		b, err := json.Marshal(&content)
		if err != nil {
			return nil, fmt.Errorf("encode listing revision: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE listing_revisions SET content = ?, created_at = ? WHERE listing_id = ? AND number = ?`,
			string(b), tx.timeArg(tx.now), l.ID, l.WorkingRevision); err != nil {
			return nil, wrap("update listing revision", err)
		}
	} else {
		l.WorkingRevision++
		if err := insertRevision(ctx, tx, l.ID, l.WorkingRevision, &content); err != nil {
			return nil, err
		}
	}
	l.State, l.RejectReason, l.RejectNote, l.UpdatedAt = popkit.ListingDraft, "", "", tx.now
	if err := updateListingRow(ctx, tx, l); err != nil {
		return nil, err
	}
	if err := logCuration(ctx, tx, l, popkit.ActionUpdate, from, popkit.CurationStep{}); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return l, nil
}

// CurateListing applies one review step to the working revision;
// publishing makes it the live revision. Returns ENOTFOUND, EINVALID, and
// ECONFLICT for an illegal transition.
func (db *DB) CurateListing(ctx context.Context, id string, step popkit.CurationStep) (*popkit.Listing, error) {
	if err := step.Validate(); err != nil {
		return nil, err
	}
	if !popkit.ValidID(id) {
		return nil, notFound("listing")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := findListing(ctx, tx, "l.id = ?", id)
	if err != nil {
		return nil, err
	}
	from := l.State
	next, err := from.Next(step.Action)
	if err != nil {
		return nil, err
	}
	l.State, l.UpdatedAt = next, tx.now
	l.RejectReason, l.RejectNote = "", ""
	switch step.Action {
	case popkit.ActionReject:
		l.RejectReason, l.RejectNote = step.Reason, step.Note
	case popkit.ActionPublish:
		live := l.Working
		l.Live, l.LiveRevision = cloneContent(&live), l.WorkingRevision
		if l.PublishedAt == nil {
			now := tx.now
			l.PublishedAt = &now
		}
	}
	if err := updateListingRow(ctx, tx, l); err != nil {
		return nil, err
	}
	if err := logCuration(ctx, tx, l, step.Action, from, step); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return l, nil
}

// FindCurationEvents returns the curation log of a listing, oldest first.
// Returns ENOTFOUND.
func (db *DB) FindCurationEvents(ctx context.Context, listingID string) ([]*popkit.CurationEvent, error) {
	if !popkit.ValidID(listingID) {
		return nil, notFound("listing")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM listings WHERE id = ?`, listingID).Scan(&n); err != nil {
		return nil, wrap("find listing", err)
	}
	if n == 0 {
		return nil, notFound("listing")
	}
	rows, err := tx.query(ctx, `SELECT id, listing_id, revision, action, from_state, to_state, actor_id, actor_role, reason, note, at
		FROM curation_events WHERE listing_id = ? ORDER BY id`, listingID)
	if err != nil {
		return nil, wrap("find curation events", err)
	}
	list, err := collect(rows, func(s scanner) (*popkit.CurationEvent, error) {
		var c popkit.CurationEvent
		var action, from, to, role, reason string
		err := s.Scan(&c.ID, &c.ListingID, &c.Revision, &action, &from, &to, &c.ActorID, &role, &reason, &c.Note, scanTime(&c.At))
		c.Action, c.FromState, c.ToState = popkit.CurationAction(action), popkit.CurationState(from), popkit.CurationState(to)
		c.ActorRole, c.Reason = popkit.Role(role), popkit.RejectReason(reason)
		return &c, err
	})
	if err != nil {
		return nil, wrap("find curation events", err)
	}
	return list, nil
}

func insertRevision(ctx context.Context, tx *txn, listingID string, number int, c *popkit.ListingContent) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode listing revision: %w", err)
	}
	actor := ""
	if t := popkit.TokenFromContext(ctx); t != nil {
		actor = t.ID
	}
	if _, err := tx.exec(ctx, `INSERT INTO listing_revisions (listing_id, number, content, created_at, created_by) VALUES (?, ?, ?, ?, ?)`,
		listingID, number, string(b), tx.timeArg(tx.now), actor); err != nil {
		return wrap("insert listing revision", err)
	}
	return nil
}

// updateListingRow writes the listing's own columns; the live visibility
// window is copied from the live revision so that lists filter on it.
func updateListingRow(ctx context.Context, tx *txn, l *popkit.Listing) error {
	var live, publicFrom, membersFrom any
	if l.Live != nil {
		live = l.LiveRevision
		publicFrom, membersFrom = tx.nullTimeArg(l.Live.PublicFrom), tx.nullTimeArg(l.Live.MembersFrom)
	}
	if _, err := tx.exec(ctx, `UPDATE listings SET state = ?, working_revision = ?, live_revision = ?, live_public_from = ?, live_members_from = ?,
		reject_reason = ?, reject_note = ?, published_at = ?, updated_at = ? WHERE id = ?`,
		string(l.State), l.WorkingRevision, live, publicFrom, membersFrom,
		string(l.RejectReason), l.RejectNote, tx.nullTimeArg(l.PublishedAt), tx.timeArg(l.UpdatedAt), l.ID); err != nil {
		return wrap("update listing", err)
	}
	return nil
}

// logCuration records one curation step by the calling token.
func logCuration(ctx context.Context, tx *txn, l *popkit.Listing, action popkit.CurationAction, from popkit.CurationState, step popkit.CurationStep) error {
	var actorID, role string
	if t := popkit.TokenFromContext(ctx); t != nil {
		actorID, role = t.ID, string(t.Role)
	}
	if _, err := tx.exec(ctx, `INSERT INTO curation_events (id, listing_id, revision, action, from_state, to_state, actor_id, actor_role, reason, note, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		popkit.NewID(), l.ID, l.WorkingRevision, string(action), string(from), string(l.State), actorID, role,
		string(step.Reason), step.Note, tx.timeArg(tx.now)); err != nil {
		return wrap("insert curation event", err)
	}
	return nil
}
