-- name: bump_version_for_knock --
-- A knock decision about $4 bumps the room's version (its etag) and extends the run of
-- knock decisions that claims decided earlier may hold through (migration 0014); any
-- other change of the version ends the run, since it leaves knock_run_version behind.
UPDATE rooms SET update_time = $3, version = version + 1, knock_run_version = version + 1,
    knock_run_users = CASE
        WHEN knock_run_version = version
            THEN (knock_run_users || $4::text)[
                GREATEST(1, cardinality(knock_run_users) + 1 - 255):]
        ELSE ARRAY[$4::text] END
    WHERE tenant = $1 AND room_id = $2 RETURNING version;

-- name: record_janus_admission --
WITH room AS (
        SELECT 1 FROM rooms
        WHERE tenant = $1 AND room_id = $2 AND version = $4
          AND delete_time IS NULL AND announced_state < 2
        FOR SHARE)
    INSERT INTO membership_epochs AS m (tenant, room_id, user_id, admit_time)
    SELECT $1, $2, $3, $5 FROM room
    ON CONFLICT (tenant, room_id, user_id)
    DO UPDATE SET admit_time = EXCLUDED.admit_time
    RETURNING true;

-- name: record_knock --
-- The first knock (inserted, not updated) appends its event and makes it due.
WITH k AS (
        INSERT INTO knocks AS k (tenant, room_id, user_id, state, role, display_name,
                                 first_knock_time, last_knock_time, sort_time)
        VALUES ($1, $2, $3, 'waiting', $4, $5, $6, $6, $6)
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET
            last_knock_time = EXCLUDED.last_knock_time,
            first_knock_time =
                COALESCE(k.first_knock_time, EXCLUDED.first_knock_time),
            display_name = COALESCE(EXCLUDED.display_name, k.display_name),
            role = CASE WHEN k.role_chosen THEN k.role ELSE EXCLUDED.role END
        RETURNING (xmax = 0) AS inserted),
    seq AS (
        UPDATE rooms r SET event_seq = r.event_seq + 1
        FROM k WHERE k.inserted AND r.tenant = $1 AND r.room_id = $2
        RETURNING r.room_id, r.event_seq),
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT seq.room_id, seq.event_seq, $6::timestamptz, $6::timestamptz,
               $7::text, $8::text, $9::jsonb
        FROM seq),
-- include: record_events --
    SELECT count(*) FROM written;

-- name: decide_knock --
SELECT r.*, p.role AS p_role FROM rooms r
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = $3
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    FOR UPDATE OF r;

-- name: get_knock --
SELECT user_id, state, role, role_chosen, display_name, first_knock_time, last_knock_time, decide_time, sort_time FROM knocks
    WHERE tenant = $1 AND room_id = $2 AND user_id = $3;

-- name: write_decision --
INSERT INTO knocks AS k (tenant, room_id, user_id, state, role, role_chosen,
                             decide_time, sort_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
    ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET
        state = EXCLUDED.state, role = EXCLUDED.role,
        role_chosen = EXCLUDED.role_chosen, decide_time = EXCLUDED.decide_time
    RETURNING user_id, state, role, role_chosen, display_name, first_knock_time, last_knock_time, decide_time, sort_time;

-- name: claim_seat --
-- The room locked, and whether it holds seats expired by $3: a hint, the first entry of
-- seats_room_expire_idx (the one index in that order, whatever the statistics say);
-- only when it says so does the claim run delete_expired. `holds`: whether the decision
-- made at version $5 for the identity $4 still holds (`decision_holds`).
SELECT r.valid_from, r.valid_until, r.recurrence, r.time_zone, r.max_participants,
       r.role_capacity,
       (SELECT s.expire_time FROM seats s WHERE s.tenant = $1 AND s.room_id = $2
        ORDER BY s.expire_time LIMIT 1) <= $3 AS expired,
-- include: decision_holds --
       AS holds
    FROM rooms r, (SELECT $4::text AS user_id, $5::bigint AS version) d
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL FOR UPDATE OF r;

-- name: claim_seat_at_once --
-- A whole claim in ONE statement, run on its own (its own transaction): the room's row
-- lock is held from this statement's lock to its commit, inside PostgreSQL, with no
-- round trip to the server in between. The room locked at the version the decision
-- saw ($6); then its counters locked (FOR UPDATE: a locking read returns each row's
-- latest committed version, not the statement's snapshot, so the counts are exact
-- although the snapshot predates the lock); then the identity's live seat renewed, or
-- a new seat inserted if the capacity rules allow it (the role's own maximum, the
-- room's seats, the other roles' unfilled reservations: `seats.check_capacity`, which
-- rereads the counts returned here to explain a refusal), its count moved and
-- SEAT_TAKEN recorded. `state` says which: 'seat' (see `inserted`), 'refused', or why
-- it did nothing and the caller runs `claim_seat` instead: 'moved' (the decision
-- no longer holds; no room), 'slow' (seats to free, a recurring room, or a window ending within the
-- seat's lifetime $8), 'setup' (a role's counter row missing: `seat_count_rows`).
-- $7: the server's ceiling, $9: the new seat's id, $10/$11: its SEAT_TAKEN event.
WITH decided AS (
        SELECT
-- include: decision_holds --
            AS holds,
            cardinality(r.recurrence) = 0 AND r.valid_until >= $8
                AND NOT COALESCE(
                    (SELECT s.expire_time FROM seats s WHERE s.tenant = $1 AND s.room_id = $2
                     ORDER BY s.expire_time LIMIT 1) <= $5, false) AS plain,
            CASE WHEN r.max_participants > 0 THEN r.max_participants ELSE $7 END AS seats,
            r.max_participants, r.role_capacity
        FROM rooms r, (SELECT $3::text AS user_id, $6::bigint AS version) d
        WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL FOR UPDATE OF r),
    room AS (
        SELECT holds AS current, holds AND plain AS fast, seats, max_participants,
               role_capacity
        FROM decided),
    counts AS (
        SELECT role, taken FROM seat_counts
        WHERE tenant = $1 AND room_id = $2 AND (SELECT fast FROM room) FOR UPDATE),
    caps AS (
        SELECT e->>'role' AS role, (e->>'max')::int AS max, (e->>'reserved')::int AS reserved
        FROM room, jsonb_array_elements(room.role_capacity) AS e),
    verdict AS (
        SELECT CASE
            WHEN NOT COALESCE((SELECT current FROM room), false) THEN 'moved'
            WHEN NOT (SELECT fast FROM room) THEN 'slow'
            WHEN (SELECT count(*) FROM counts) < 4 THEN 'setup'
            WHEN EXISTS (SELECT 1 FROM caps WHERE caps.role = $4 AND caps.max > 0 AND
                         (SELECT taken FROM counts WHERE counts.role = $4) >= caps.max)
                 THEN 'refused'
            WHEN (SELECT sum(taken) FROM counts) >= (SELECT seats FROM room) THEN 'refused'
            WHEN (SELECT sum(taken) FROM counts)
                 + (SELECT COALESCE(sum(GREATEST(0, caps.reserved - counts.taken)), 0)
                    FROM caps JOIN counts USING (role) WHERE caps.role <> $4)
                 >= (SELECT seats FROM room) THEN 'refused'
            ELSE 'fits' END AS state),
    mine AS (
        UPDATE seats SET expire_time = $8
        WHERE tenant = $1 AND seat_id = (
            SELECT f.seat_id FROM (
                SELECT seat_id, room_id, user_id FROM seats
                WHERE tenant = $1 AND (room_id, user_id) >= ($2, $3)
                ORDER BY room_id, user_id LIMIT 1) f
            WHERE f.room_id = $2 AND f.user_id = $3)
          AND (SELECT state FROM verdict) IN ('fits', 'refused')
        RETURNING seat_id, room_id, user_id, role, create_time, expire_time, false AS inserted),
    seat AS (
        INSERT INTO seats AS s
            (tenant, seat_id, room_id, user_id, role, create_time, expire_time)
        SELECT $1, $9, $2, $3, $4, $5, $8
        WHERE (SELECT state FROM verdict) = 'fits' AND NOT EXISTS (SELECT 1 FROM mine)
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET expire_time = EXCLUDED.expire_time
        RETURNING s.seat_id, s.room_id, s.user_id, s.role, s.create_time, s.expire_time,
                  s.xmax = 0 AS inserted),
    counted AS (
        UPDATE seat_counts c SET taken = c.taken + 1
        WHERE c.tenant = $1 AND c.room_id = $2 AND c.role = $4
          AND (SELECT inserted FROM seat)),
    batch (types, data, at, actor) AS (
        SELECT $10::text[], $11::text[], $5::timestamptz, $12::text
        WHERE (SELECT inserted FROM seat)),
    seq AS (
        UPDATE rooms SET event_seq = event_seq + (SELECT cardinality(types) FROM batch)
        WHERE tenant = $1 AND room_id = $2 AND EXISTS (SELECT 1 FROM batch)
        RETURNING room_id, event_seq),
-- include: number_events --
-- include: record_events --
    SELECT CASE WHEN g.seat_id IS NOT NULL THEN 'seat'
                WHEN v.state = 'fits' THEN 'slow' ELSE v.state END AS state,
           g.seat_id, g.room_id, g.user_id, g.role, g.create_time, g.expire_time,
           COALESCE(g.inserted, false) AS inserted,
           (SELECT max_participants FROM room) AS max_participants,
           (SELECT role_capacity FROM room) AS role_capacity,
           (SELECT array_agg(role) FROM counts) AS count_roles,
           (SELECT array_agg(taken) FROM counts) AS count_taken
    FROM verdict v LEFT JOIN (SELECT * FROM mine UNION ALL SELECT * FROM seat) g ON true;

-- name: seat_count_rows --
-- A room's counter row for every role (0 seats), where missing: adds no seat, so it
-- needs no lock; claim_seat_at_once counts on every role's row being there. The rows
-- come from the room's own (a co-located INSERT ... SELECT on Citus).
INSERT INTO seat_counts (tenant, room_id, role, taken)
    SELECT r.tenant, r.room_id, role.name, 0
    FROM rooms r,
         unnest(ARRAY['presenter', 'attendee', 'consumer', 'collaborator']) AS role(name)
    WHERE r.tenant = $1 AND r.room_id = $2
    ON CONFLICT (tenant, room_id, role) DO NOTHING;

-- name: seat_of_user --
-- Whether the identity holds a seat in the room (found as extend_user_seat finds it).
SELECT f.seat_id FROM (
    SELECT seat_id, room_id, user_id FROM seats
    WHERE tenant = $1 AND (room_id, user_id) >= ($2, $3)
    ORDER BY room_id, user_id LIMIT 1) f
WHERE f.room_id = $2 AND f.user_id = $3;

-- name: extend_user_seat --
-- The identity's seat found in (room_id, user_id) order: by its unique key, the one
-- index in that order, whatever the statistics say (while they still describe an empty
-- table, an equality on (tenant, room_id, user_id) costs the same on every index on
-- (tenant, room_id), and one of those reads all the room's seats).
UPDATE seats SET expire_time = $4
    WHERE tenant = $1 AND seat_id = (
        SELECT f.seat_id FROM (
            SELECT seat_id, room_id, user_id FROM seats
            WHERE tenant = $1 AND (room_id, user_id) >= ($2, $3)
            ORDER BY room_id, user_id LIMIT 1) f
        WHERE f.room_id = $2 AND f.user_id = $3)
    RETURNING seat_id, room_id, user_id, role, create_time, expire_time;

-- name: seat_counts --
-- The room's seats taken per role (kept by every statement inserting or deleting seats,
-- under the room's row lock): a few rows by primary key, however full the room.
SELECT role, taken FROM seat_counts
    WHERE tenant = $1 AND room_id = $2 AND taken > 0;

-- name: take_seat --
-- A seat for the identity, or its live one renewed (the unique key (tenant, room_id,
-- user_id) is the arbiter: no plan to choose), the count of its role moved when the
-- seat is new, and the claim's events recorded in the same statement: the seats that
-- expired ($8, $10), then SEAT_TAKEN ($9, $11) only when the seat is new. One round
-- trip under the room's lock instead of two.
WITH seat AS (
        INSERT INTO seats AS s
            (tenant, seat_id, room_id, user_id, role, create_time, expire_time)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET expire_time = EXCLUDED.expire_time
        RETURNING s.seat_id, s.room_id, s.user_id, s.role, s.create_time, s.expire_time,
                  s.xmax = 0 AS inserted),
    counted AS (
        INSERT INTO seat_counts AS c (tenant, room_id, role, taken)
        SELECT $1, room_id, role, 1 FROM seat WHERE inserted
        ON CONFLICT (tenant, room_id, role) DO UPDATE SET taken = c.taken + 1),
    batch (types, data, at, actor) AS (
        SELECT $8::text[] || CASE WHEN (SELECT inserted FROM seat) THEN $9::text[]
                                  ELSE '{}'::text[] END,
               $10::text[] || CASE WHEN (SELECT inserted FROM seat) THEN $11::text[]
                                   ELSE '{}'::text[] END,
               $6::timestamptz, $12::text),
    seq AS (
        UPDATE rooms SET event_seq = event_seq + (SELECT cardinality(types) FROM batch)
        WHERE tenant = $1 AND room_id = $3 AND (SELECT cardinality(types) FROM batch) > 0
        RETURNING room_id, event_seq),
-- include: number_events --
-- include: record_events --
    SELECT seat_id, room_id, user_id, role, create_time, expire_time, inserted,
           EXISTS (SELECT 1 FROM seq) AS recorded
    FROM seat;

-- name: renew_seat --
UPDATE seats s SET expire_time = LEAST($4::timestamptz, COALESCE(r.series_until, r.valid_until))
    FROM rooms r
    WHERE s.tenant = $1 AND s.seat_id = $2 AND s.expire_time > $3
      AND r.tenant = $1 AND r.room_id = s.room_id AND r.delete_time IS NULL
    RETURNING s.seat_id, s.room_id, s.user_id, s.role, s.create_time,
              s.expire_time;

-- name: release_seat --
SELECT room_id FROM seats WHERE tenant = $1 AND seat_id = $2;

-- name: delete_seat --
WITH gone AS (
        DELETE FROM seats WHERE tenant = $1 AND seat_id = $2
        RETURNING seat_id, room_id, user_id, role, create_time, expire_time),
    counted AS (
        UPDATE seat_counts c SET taken = c.taken - 1 FROM gone
        WHERE c.tenant = $1 AND c.room_id = gone.room_id AND c.role = gone.role)
    SELECT seat_id, room_id, user_id, role, create_time, expire_time FROM gone;

-- name: list_seats --
SELECT s.* FROM rooms r
    LEFT JOIN LATERAL (
        SELECT seat_id, room_id, user_id, role, create_time, expire_time FROM seats q
        WHERE q.tenant = $1 AND q.room_id = r.room_id AND q.expire_time > $3
          AND ($4::timestamptz IS NULL OR (q.create_time, q.seat_id) > ($4, $5))
        ORDER BY q.create_time, q.seat_id
        LIMIT $6
    ) s ON true
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY s.create_time, s.seat_id;


-- ==== seats.py ====

-- name: delete_expired --
-- The room's expired seats gone, and the counts of their roles moved. They are found
-- in expiry order: by seats_room_expire_idx, the one index in that order, which reads
-- only them whatever the statistics say (a room filling in its first minute has none).
WITH doomed AS MATERIALIZED (
        SELECT seat_id FROM seats
        WHERE tenant = $1 AND room_id = $2 AND expire_time <= $3
        ORDER BY expire_time),
    gone AS (
        DELETE FROM seats d USING doomed
        WHERE d.tenant = $1 AND d.seat_id = doomed.seat_id AND d.expire_time <= $3
        RETURNING d.seat_id, d.room_id, d.user_id, d.role, d.create_time, d.expire_time),
    counted AS (
        UPDATE seat_counts c SET taken = c.taken - g.n
        FROM (SELECT role, count(*) AS n FROM gone GROUP BY role) g
        WHERE c.tenant = $1 AND c.room_id = $2 AND c.role = g.role)
    SELECT seat_id, room_id, user_id, role, create_time, expire_time FROM gone;

-- name: free_all --
WITH gone AS (DELETE FROM seats WHERE tenant = $1 AND room_id = $2)
    DELETE FROM seat_counts WHERE tenant = $1 AND room_id = $2;

-- name: rooms_with_expired_seats --
/* cross-tenant read: no locks, no transaction */
    SELECT DISTINCT tenant, room_id FROM seats WHERE expire_time <= $1 LIMIT $2;

-- name: lock_room_if_live --
SELECT delete_time IS NULL FROM rooms
    WHERE tenant = $1 AND room_id = $2 FOR UPDATE;
