-- 0003-discovery (PostgreSQL): listings with their revisions and curation log,
-- membership tiers, members, billing webhook ids, server secrets, and the
-- discovery funnel (page-view counts, notify-me sign-ups, check-ins).
-- Times are TIMESTAMPTZ; durations are BIGINT seconds.

CREATE TABLE listings (
	id                TEXT    PRIMARY KEY,
	event_id          TEXT    NOT NULL UNIQUE REFERENCES events (id),
	slug              TEXT    NOT NULL UNIQUE,
	state             TEXT    NOT NULL,
	working_revision  INTEGER NOT NULL,
	live_revision     INTEGER,
	live_public_from  TIMESTAMPTZ,
	live_members_from TIMESTAMPTZ,
	reject_reason     TEXT    NOT NULL DEFAULT '',
	reject_note       TEXT    NOT NULL DEFAULT '',
	published_at      TIMESTAMPTZ,
	created_at        TIMESTAMPTZ NOT NULL,
	updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX listings_state_id ON listings (state, id);
-- The city and home pages list published listings by their event's start
-- (then id), skipping events that have ended: the events indexes give that
-- order and cover the filter; the listings index covers the visibility
-- check, so that a page reads only the rows it shows.
CREATE INDEX listings_event_live ON listings (event_id, live_revision, live_public_from, live_members_from);
CREATE INDEX events_starts_at_id ON events (starts_at, id, ends_at);
CREATE INDEX events_city_id_starts_at_id ON events (city_id, starts_at, id, ends_at);

CREATE TABLE listing_revisions (
	listing_id TEXT    NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
	number     INTEGER NOT NULL,
	content    TEXT    NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (listing_id, number)
);

CREATE TABLE curation_events (
	id         TEXT    PRIMARY KEY,
	listing_id TEXT    NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
	revision   INTEGER NOT NULL,
	action     TEXT    NOT NULL,
	from_state TEXT    NOT NULL,
	to_state   TEXT    NOT NULL,
	actor_id   TEXT    NOT NULL,
	actor_role TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	note       TEXT    NOT NULL,
	at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX curation_events_listing_id ON curation_events (listing_id, id);

CREATE TABLE tiers (
	id                   TEXT    PRIMARY KEY,
	name                 TEXT    NOT NULL,
	slug                 TEXT    NOT NULL UNIQUE,
	early_access_s       BIGINT  NOT NULL,
	member_only_sessions BOOLEAN NOT NULL,
	hold_s               BIGINT  NOT NULL,
	valid_from           TIMESTAMPTZ,
	valid_until          TIMESTAMPTZ,
	created_at           TIMESTAMPTZ NOT NULL,
	updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
	id           TEXT    PRIMARY KEY,
	email        TEXT    NOT NULL,
	tier_id      TEXT    NOT NULL REFERENCES tiers (id),
	status       TEXT    NOT NULL,
	starts_at    TIMESTAMPTZ NOT NULL,
	ends_at      TIMESTAMPTZ,
	external_ref TEXT    UNIQUE,
	eligible_at  TIMESTAMPTZ NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX members_email ON members (email);
CREATE INDEX members_tier_id_id ON members (tier_id, id);

CREATE TABLE billing_webhooks (
	webhook_id  TEXT    PRIMARY KEY,
	received_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE secrets (
	name       TEXT    PRIMARY KEY,
	value      BYTEA   NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

-- Page views: counts only. The salt of the day and the salted visitor
-- hashes of the day are deleted once the day is over.
CREATE TABLE listing_views (
	listing_id TEXT    NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
	day        TEXT    NOT NULL,
	views      BIGINT  NOT NULL,
	uniques    BIGINT  NOT NULL,
	PRIMARY KEY (listing_id, day)
);
CREATE TABLE view_salts (
	day  TEXT PRIMARY KEY,
	salt BYTEA NOT NULL
);
CREATE TABLE view_visitors (
	day        TEXT NOT NULL,
	listing_id TEXT NOT NULL,
	hash       TEXT NOT NULL,
	PRIMARY KEY (day, listing_id, hash)
);

CREATE TABLE notify_signups (
	id         TEXT    PRIMARY KEY,
	listing_id TEXT    NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
	email      TEXT    NOT NULL,
	consent_at TIMESTAMPTZ NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	UNIQUE (listing_id, email)
);
CREATE INDEX notify_signups_listing_created ON notify_signups (listing_id, created_at);

CREATE TABLE checkins (
	id        TEXT    PRIMARY KEY,
	member_id TEXT    NOT NULL REFERENCES members (id),
	event_id  TEXT    NOT NULL REFERENCES events (id),
	source    TEXT    NOT NULL,
	at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkins_event_at ON checkins (event_id, at);
CREATE INDEX checkins_member_at ON checkins (member_id, at);
