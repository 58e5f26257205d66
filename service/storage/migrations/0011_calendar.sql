-- The calendar function (issue 27): recurring rooms and calendar feeds.
--
-- A room's recurrence: RFC 5545 lines (RRULE, EXDATE, RDATE) expanded in time_zone
-- ('' means UTC) from its first occurrence, valid_from..valid_until. Empty: the room
-- is its one window, as before.
ALTER TABLE rooms
    ADD COLUMN recurrence text[] NOT NULL DEFAULT '{}',
    ADD COLUMN time_zone text NOT NULL DEFAULT '',
    -- When the last occurrence ends (valid_until for a room that does not repeat):
    -- what the purge counts a room's end from.
    ADD COLUMN series_until timestamptz;

-- calendar_feeds: capability URLs serving one room, or every room of one identity's
-- roster, as iCalendar. The URL carries the tenant, the feed id and a secret; only
-- the secret's SHA-256 is kept.
CREATE TABLE calendar_feeds (
    tenant      text        COLLATE "C" NOT NULL,
    feed_id     text        COLLATE "C" NOT NULL,
    secret_hash bytea       NOT NULL,
    room_id     text        COLLATE "C",
    user_id     text        COLLATE "C",
    create_time timestamptz NOT NULL,
    CONSTRAINT calendar_feeds_pkey PRIMARY KEY (tenant, feed_id),
    CONSTRAINT calendar_feeds_subject_check CHECK ((room_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX calendar_feeds_list_idx ON calendar_feeds (tenant, create_time DESC, feed_id DESC);

-- A recurring room's transitions are announced per occurrence: announced_state is then
-- the state of the occurrence occurrence_from..occurrence_until (NULL: the first one,
-- valid_from..valid_until). Rooms that do not repeat keep them NULL.
ALTER TABLE rooms
    ADD COLUMN occurrence_from timestamptz,
    ADD COLUMN occurrence_until timestamptz;
CREATE INDEX rooms_occurrence_to_open_idx ON rooms ((COALESCE(occurrence_from, valid_from)))
    WHERE delete_time IS NULL AND cardinality(recurrence) > 0 AND announced_state = 0;
CREATE INDEX rooms_occurrence_to_end_idx ON rooms ((COALESCE(occurrence_until, valid_until)))
    WHERE delete_time IS NULL AND cardinality(recurrence) > 0 AND announced_state < 2;
