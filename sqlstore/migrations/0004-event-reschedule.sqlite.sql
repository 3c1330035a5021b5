-- 0004-event-reschedule (SQLite): the start an event had before its latest
-- move (schema.org previousStartDate), INTEGER microseconds since the Unix
-- epoch (UTC) like starts_at; NULL when the event never moved.

ALTER TABLE events ADD COLUMN previous_starts_at INTEGER;
