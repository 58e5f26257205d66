-- Room history: one row per change, written in the same transaction as the change.
-- `event_seq` numbers a room's events; `announced_state` records which time-based
-- transitions (0 none, 1 opened, 2 ended) have been written as events.

ALTER TABLE rooms
    ADD COLUMN event_seq       bigint   NOT NULL DEFAULT 0,
    ADD COLUMN announced_state smallint NOT NULL DEFAULT 0,
    ADD CONSTRAINT rooms_announced_state_check CHECK (announced_state BETWEEN 0 AND 2);

CREATE TABLE room_events (
    tenant     text        COLLATE "C" NOT NULL,
    room_id    text        COLLATE "C" NOT NULL,
    revision   bigint      NOT NULL,
    event_time  timestamptz NOT NULL,
    record_time timestamptz NOT NULL,
    type        text        NOT NULL,
    actor      text        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT room_events_pkey PRIMARY KEY (tenant, room_id, revision),
    CONSTRAINT room_events_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE,
    CONSTRAINT room_events_type_check CHECK (type IN (
        'created', 'settings_changed', 'participant_added', 'role_changed',
        'participant_removed', 'deleted', 'opened', 'ended'))
);

-- Retention purges by the time an event was written (`record_time`), which grows with
-- the revision, so the retained history of a room is always a suffix without gaps.
-- (`event_time` is when the change took effect: a transition's is its window bound.)
CREATE INDEX room_events_record_time_idx ON room_events (record_time);

-- The lifecycle task finds rooms whose window opened or ended since it last looked.
CREATE INDEX rooms_to_open_idx ON rooms (valid_from)
    WHERE delete_time IS NULL AND announced_state = 0;
CREATE INDEX rooms_to_end_idx ON rooms (valid_until)
    WHERE delete_time IS NULL AND announced_state < 2;
-- Purge finds tombstones and long-ended rooms.
CREATE INDEX rooms_deleted_idx ON rooms (delete_time) WHERE delete_time IS NOT NULL;
CREATE INDEX rooms_valid_until_idx ON rooms (valid_until);

-- Watchers on every replica learn of new events through LISTEN rooms_events. The
-- payload names the room; PostgreSQL folds repeats within one transaction.
CREATE FUNCTION rooms_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rooms_events', NEW.tenant || chr(31) || NEW.room_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER room_events_notify AFTER INSERT ON room_events
    FOR EACH ROW EXECUTE FUNCTION rooms_notify_event();
