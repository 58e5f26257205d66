-- ==== events, history and the lifecycle (history.py) ====

-- name: append_events --
-- Events after the room's last one: numbering them updates the room's row, whose lock
-- orders concurrent writers.
WITH seq AS (
        UPDATE rooms SET event_seq = event_seq + cardinality($3::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, event_seq),
    batch (types, data, at, actor) AS (
        SELECT $3::text[], $4::text[], $5::timestamptz, $6::text),
-- include: number_events --
-- include: record_events --
    SELECT max(revision) FROM written;

-- name: history --
SELECT r.delete_time IS NOT NULL AS deleted, r.event_seq AS latest,
           COALESCE((SELECT min(e.revision) FROM room_events e
                     WHERE e.tenant = $1 AND e.room_id = r.room_id),
                    r.event_seq + 1) AS oldest
    FROM rooms r WHERE r.tenant = $1 AND r.room_id = $2;

-- name: lock_lifecycle --
SELECT pg_try_advisory_xact_lock($1);

-- name: due_transitions --
-- Rooms whose window reached a bound their announcement has not (announced_state: 0
-- scheduled, 1 open, 2 ended; the literals match the partial indexes rooms_to_open_idx
-- and rooms_to_end_idx), with what the domain plans their transitions from.
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id, announced_state, valid_from, valid_until FROM rooms
    WHERE delete_time IS NULL AND cardinality(recurrence) = 0
      AND ((announced_state = 0 AND valid_from <= $1)
           OR (announced_state < 2 AND valid_until <= $1))
    ORDER BY LEAST(valid_from, valid_until)
    LIMIT $2;

-- name: announce_transitions --
-- The transitions the domain planned (service/domain/transitions.py) for rooms that
-- due_transitions read without locks: a room moves only if it is still as read (its
-- announced state and window), under its row lock; one changed meanwhile is left to
-- the next round. $4..$9: per room (id, announced state read, window read, state
-- announced after, number of events); $10..$13: per event (room, type, time, its place
-- among the room's new events).
WITH moved AS (
        UPDATE rooms r
        SET announced_state = p.after, event_seq = r.event_seq + p.events
        FROM unnest($4::text[], $5::smallint[], $6::timestamptz[], $7::timestamptz[],
                    $8::smallint[], $9::integer[])
             AS p(room_id, before, valid_from, valid_until, after, events)
        WHERE r.tenant = $1 AND r.room_id = p.room_id AND r.delete_time IS NULL
          AND r.announced_state = p.before
          AND r.valid_from = p.valid_from AND r.valid_until = p.valid_until
        RETURNING r.room_id, r.event_seq, p.events),
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT m.room_id, m.event_seq - m.events + e.ord, e.event_time,
               $2::timestamptz, e.type, $3::text, '{}'::jsonb
        FROM moved m
        JOIN unnest($10::text[], $11::text[], $12::timestamptz[], $13::integer[])
             AS e(room_id, type, event_time, ord) ON e.room_id = m.room_id),
-- include: record_events --
    SELECT DISTINCT room_id FROM written;

-- name: due_window_ends --
-- Roster entries whose own window ended and whose end is not announced yet (the
-- partial index participants_window_end_idx), in live rooms.
/* cross-tenant read: no locks, no transaction */
    SELECT p.tenant, p.room_id, p.user_id FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.valid_until IS NOT NULL AND NOT p.window_end_announced
      AND p.valid_until <= $1 AND r.delete_time IS NULL
    ORDER BY p.valid_until
    LIMIT $2;

-- name: end_participant_windows --
-- Under the entries' row locks: those still due (a window changed meanwhile is left
-- to the next round) are marked announced; the caller appends their events.
UPDATE participants SET window_end_announced = true
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
      AND valid_until IS NOT NULL AND valid_until <= $4 AND NOT window_end_announced
    RETURNING user_id, role, valid_until;

-- name: purgeable_rooms --
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id FROM rooms WHERE delete_time < $1
    UNION
    SELECT tenant, room_id FROM rooms
        WHERE valid_until < $2 AND COALESCE(series_until, valid_until) < $2
    LIMIT $3;

-- name: purge_rooms --
DELETE FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[])
      AND (delete_time < $3
           OR (valid_until < $4 AND COALESCE(series_until, valid_until) < $4))
    RETURNING room_id;

-- name: purge_idempotency_keys --
DELETE FROM idempotency_keys WHERE tenant = $1 AND room_id = ANY($2::text[]);

-- name: old_events --
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id, max(revision) AS up_to
    FROM (SELECT tenant, room_id, revision FROM room_events
          WHERE record_time < $1 ORDER BY record_time LIMIT $2) AS old
    GROUP BY tenant, room_id;

-- name: purge_events --
DELETE FROM room_events
    WHERE tenant = $1 AND room_id = $2 AND revision <= $3 AND record_time < $4;
