-- ==== calendar.py ====

-- name: create_calendar_feed --
INSERT INTO calendar_feeds (tenant, feed_id, secret_hash, room_id, user_id, create_time)
    VALUES ($1, $2, $3, $4, $5, $6);

-- name: list_calendar_feeds --
SELECT feed_id, room_id, user_id, create_time FROM calendar_feeds
    WHERE tenant = $1
      AND ($2::timestamptz IS NULL OR (create_time, feed_id) < ($2::timestamptz, $3::text))
    ORDER BY create_time DESC, feed_id DESC LIMIT $4;

-- name: delete_calendar_feed --
DELETE FROM calendar_feeds WHERE tenant = $1 AND feed_id = $2 RETURNING feed_id;

-- name: find_calendar_feed --
SELECT feed_id, room_id, user_id, create_time, secret_hash FROM calendar_feeds
    WHERE tenant = $1 AND feed_id = $2;

-- name: calendar_room --
-- A room as its feed shows it: deleted ones too, while their tombstone lasts.
SELECT r.*, false AS removed FROM rooms r WHERE r.tenant = $1 AND r.room_id = $2;

-- name: calendar_user_rooms --
-- The rooms an identity is on the roster of, and those it was removed from (shown
-- cancelled), deleted ones included while their tombstone lasts; at most $3.
SELECT r.*, false AS removed
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND r.tenant = $1 AND p.user_id = $2
UNION ALL
SELECT r.*, true AS removed
    FROM participant_removals x
    JOIN rooms r ON r.tenant = x.tenant AND r.room_id = x.room_id
    WHERE x.tenant = $1 AND r.tenant = $1 AND x.user_id = $2
      AND NOT EXISTS (SELECT 1 FROM participants q
                      WHERE q.tenant = $1 AND q.room_id = x.room_id AND q.user_id = $2)
LIMIT $3;

-- ==== occurrences.py ====

-- name: due_occurrences --
-- Recurring rooms whose tracked occurrence (NULL: the first, valid_from..valid_until)
-- reached a bound its announcement has not; with what the domain plans from.
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id, version, announced_state, valid_from, valid_until, recurrence,
           time_zone, COALESCE(occurrence_from, valid_from) AS tracked_from,
           COALESCE(occurrence_until, valid_until) AS tracked_until
    FROM rooms
    WHERE delete_time IS NULL AND cardinality(recurrence) > 0
      AND ((announced_state = 0 AND COALESCE(occurrence_from, valid_from) <= $1)
           OR (announced_state < 2 AND COALESCE(occurrence_until, valid_until) <= $1))
    LIMIT $2;

-- name: announce_occurrences --
-- The transitions the domain planned (service/domain/transitions.py,
-- owed_occurrence_transitions) for recurring rooms still at the version read, under
-- their row lock; $4..$9 per room (id, version read, occurrence tracked after, state
-- announced after, number of events); $10..$13 per event as in announce_transitions.
WITH moved AS (
        UPDATE rooms r
        SET announced_state = p.after, occurrence_from = p.occ_from,
            occurrence_until = p.occ_until, event_seq = r.event_seq + p.events
        FROM unnest($4::text[], $5::bigint[], $6::timestamptz[], $7::timestamptz[],
                    $8::smallint[], $9::integer[])
             AS p(room_id, version, occ_from, occ_until, after, events)
        WHERE r.tenant = $1 AND r.room_id = p.room_id AND r.delete_time IS NULL
          AND r.version = p.version
        RETURNING r.room_id, r.event_seq, p.events),
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT m.room_id, m.event_seq - m.events + e.ord, e.event_time,
               $2::timestamptz, e.type, $3::text, '{}'::jsonb
        FROM moved m
        JOIN unnest($10::text[], $11::text[], $12::timestamptz[], $13::integer[])
             AS e(room_id, type, event_time, ord) ON e.room_id = m.room_id),
-- include: record_events --
    SELECT DISTINCT room_id FROM written;
