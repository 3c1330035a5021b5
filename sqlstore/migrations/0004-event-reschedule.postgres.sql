-- 0004-event-reschedule (PostgreSQL): the start an event had before its
-- latest move (schema.org previousStartDate); NULL when the event never
-- moved.

ALTER TABLE events ADD COLUMN previous_starts_at TIMESTAMPTZ;
