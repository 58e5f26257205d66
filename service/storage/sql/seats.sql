-- ==== seats: claims, counters, renewals and releases (knocks_and_seats.py, claims.py) ====

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

-- name: claim_seats_together --
-- The claims of one room queued in this process, in ONE statement run on its own (its
-- own transaction): the room's row lock is held from this statement's lock to its
-- commit, inside PostgreSQL, with no round trip to the server in between, and the
-- lock, the counters, the event numbering and the commit are paid once for the lot.
-- Claim i is ($3[i] identity, $4[i] role, $5[i] the room's version its decision saw,
-- $6[i] its new seat's id, $7[i] its now, $8[i] its seat's expiry, $10[i]/$11[i] its
-- SEAT_TAKEN event, $12[i] its actor), every identity once; $9: the server's ceiling.
-- The room locked; its counters locked (FOR UPDATE: a locking read returns each row's
-- latest committed version, not the statement's snapshot, so the counts are exact
-- although the snapshot predates the lock); then, in arrival order (`fold`, each step
-- seeing the counts its predecessors left), each claim whose decision still holds
-- (`decision_holds`) renews the identity's live seat or, if the capacity rules allow
-- (the role's own maximum, the room's seats, the other roles' unfilled reservations:
-- `seats.check_capacity`, which rereads the counts a refused claim saw, `seen`, to
-- explain it), takes a seat; the seats inserted, the counts moved, and their
-- SEAT_TAKEN events numbered in arrival order by one update of the room's row.
-- One row per claim (`n`): `state` 'seat' (see `inserted`), 'refused', or why it did
-- nothing and the caller decides otherwise: 'moved' (the decision no longer holds, or
-- no room), 'slow' (seats to free, a recurring room, a window ending within a seat's
-- lifetime: `claim_in_transaction`), 'setup' (a counter row missing: seat_count_rows).
WITH RECURSIVE c (user_id, role, version, seat_id, at, expire_time, type, data, actor, n) AS (
        SELECT * FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[],
                             $7::timestamptz[], $8::timestamptz[], $10::text[], $11::text[],
                             $12::text[]) WITH ORDINALITY),
    decided AS (
        SELECT d.n, r.max_participants, r.role_capacity,
-- include: decision_holds --
            AS holds,
            cardinality(r.recurrence) = 0
                AND r.valid_until >= (SELECT max(expire_time) FROM c)
                AND NOT COALESCE(
                    (SELECT s.expire_time FROM seats s WHERE s.tenant = $1 AND s.room_id = $2
                     ORDER BY s.expire_time LIMIT 1) <= (SELECT max(at) FROM c), false)
                AS plain,
            CASE WHEN r.max_participants > 0 THEN r.max_participants ELSE $9 END AS seats
        FROM rooms r, (SELECT generate_subscripts($3::text[], 1)::bigint AS n,
                              unnest($3::text[]) AS user_id,
                              unnest($5::bigint[])::bigint AS version) d
        WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL FOR UPDATE OF r),
    room AS (SELECT plain, seats, max_participants, role_capacity FROM decided LIMIT 1),
    counts AS (
        SELECT role, taken FROM seat_counts
        WHERE tenant = $1 AND room_id = $2 AND (SELECT plain FROM room) FOR UPDATE),
    roles (role, i) AS (
        SELECT * FROM unnest(ARRAY['presenter', 'attendee', 'consumer', 'collaborator'])
            WITH ORDINALITY),
    caps AS (
        SELECT array_agg(COALESCE(x.max, 0) ORDER BY roles.i) AS mx,
               array_agg(COALESCE(x.reserved, 0) ORDER BY roles.i) AS rs,
               array_agg(COALESCE(counts.taken, 0) ORDER BY roles.i) AS taken,
               count(counts.taken) AS present
        FROM roles
        LEFT JOIN (SELECT e->>'role' AS role, (e->>'max')::int AS max,
                          (e->>'reserved')::int AS reserved
                   FROM room, jsonb_array_elements(room.role_capacity) AS e) x USING (role)
        LEFT JOIN counts USING (role)),
    mine AS (
        SELECT c.n, f.seat_id FROM c, LATERAL (
            SELECT seat_id, room_id, user_id FROM seats
            WHERE tenant = $1 AND (room_id, user_id) >= ($2, c.user_id)
            ORDER BY room_id, user_id LIMIT 1) f
        WHERE f.room_id = $2 AND f.user_id = c.user_id),
    fold (n, taken, seen, verdict) AS (
        SELECT 0::bigint, caps.taken, caps.taken, NULL::text FROM caps, room
        WHERE room.plain AND caps.present = 4
        UNION ALL
        SELECT f.n + 1,
               CASE WHEN v.verdict = 'fits'
                    THEN f.taken[:v.k - 1] || (f.taken[v.k] + 1) || f.taken[v.k + 1:]
                    ELSE f.taken END,
               f.taken, v.verdict
        FROM fold f
        JOIN decided d ON d.n = f.n + 1
        CROSS JOIN caps CROSS JOIN room,
        LATERAL (SELECT array_position(ARRAY['presenter', 'attendee', 'consumer',
                                             'collaborator'], c.role) AS k
                 FROM c WHERE c.n = f.n + 1) w,
        LATERAL (SELECT CASE
            WHEN NOT d.holds THEN 'moved'
            WHEN EXISTS (SELECT 1 FROM mine WHERE mine.n = d.n) THEN 'renew'
            WHEN caps.mx[w.k] > 0 AND f.taken[w.k] >= caps.mx[w.k] THEN 'refused'
            WHEN (SELECT sum(t) FROM unnest(f.taken) AS t) >= room.seats THEN 'refused'
            WHEN (SELECT sum(t) FROM unnest(f.taken) AS t)
                 + (SELECT COALESCE(sum(GREATEST(0, caps.rs[i] - f.taken[i])), 0)
                    FROM generate_series(1, 4) AS i WHERE i <> w.k)
                 >= room.seats THEN 'refused'
            ELSE 'fits' END AS verdict, w.k) v),
    renewed AS (
        UPDATE seats SET expire_time = c.expire_time
        FROM c JOIN fold USING (n) JOIN mine USING (n)
        WHERE seats.tenant = $1 AND seats.seat_id = mine.seat_id AND fold.verdict = 'renew'
        RETURNING seats.seat_id, seats.room_id, seats.user_id, seats.role,
                  seats.create_time, seats.expire_time, false AS inserted),
    seated AS (
        INSERT INTO seats AS s
            (tenant, seat_id, room_id, user_id, role, create_time, expire_time)
        SELECT $1, c.seat_id, $2, c.user_id, c.role, c.at, c.expire_time
        FROM c JOIN fold USING (n) WHERE fold.verdict = 'fits'
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET expire_time = EXCLUDED.expire_time
        RETURNING s.seat_id, s.room_id, s.user_id, s.role, s.create_time, s.expire_time,
                  s.xmax = 0 AS inserted),
    counted AS (
        UPDATE seat_counts c SET taken = c.taken + x.added
        FROM (SELECT role, count(*) AS added FROM seated WHERE inserted GROUP BY role) x
        WHERE c.tenant = $1 AND c.room_id = $2 AND c.role = x.role),
    fresh AS (
        SELECT c.n, c.type, c.data, c.actor, c.at FROM c JOIN seated USING (user_id)
        WHERE seated.inserted),
    seq AS (
        UPDATE rooms SET event_seq = event_seq + (SELECT count(*) FROM fresh)
        WHERE tenant = $1 AND room_id = $2 AND EXISTS (SELECT 1 FROM fresh)
        RETURNING room_id, event_seq),
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT seq.room_id,
               seq.event_seq - (SELECT count(*) FROM fresh)
                   + row_number() OVER (ORDER BY fresh.n),
               fresh.at, fresh.at, fresh.type, fresh.actor, fresh.data::jsonb
        FROM seq, fresh),
-- include: record_events --
    SELECT c.n,
           CASE WHEN g.seat_id IS NOT NULL THEN 'seat'
                WHEN d.n IS NULL OR NOT d.holds THEN 'moved'
                WHEN NOT room.plain THEN 'slow'
                WHEN f.verdict IS NULL THEN 'setup'
                WHEN f.verdict = 'refused' THEN 'refused'
                ELSE 'slow' END AS state,
           f.verdict, f.seen,
           g.seat_id, g.room_id, g.user_id, g.role, g.create_time, g.expire_time,
           COALESCE(g.inserted, false) AS inserted,
           room.max_participants, room.role_capacity
    FROM c
    LEFT JOIN decided d USING (n)
    LEFT JOIN room ON true
    LEFT JOIN fold f USING (n)
    LEFT JOIN (SELECT * FROM renewed UNION ALL SELECT * FROM seated) g USING (user_id)
    ORDER BY c.n;

-- name: seat_count_rows --
-- A room's counter row for every role (0 seats), where missing: adds no seat, so it
-- needs no lock; claim_seats_together counts on every role's row being there. The rows
-- come from the room's own (a co-located INSERT ... SELECT on Citus).
INSERT INTO seat_counts (tenant, room_id, role, taken)
    SELECT r.tenant, r.room_id, role.name, 0
    FROM rooms r,
         unnest(ARRAY['presenter', 'attendee', 'consumer', 'collaborator']) AS role(name)
    WHERE r.tenant = $1 AND r.room_id = $2
    ON CONFLICT (tenant, room_id, role) DO NOTHING;

-- name: seated_users --
-- Which of the identities $3 hold a seat in the room (each found as extend_user_seat
-- finds it): read after claim_seats_together refused them, in a snapshot of its own.
SELECT f.user_id FROM unnest($3::text[]) AS u(user_id), LATERAL (
    SELECT seat_id, room_id, user_id FROM seats
    WHERE tenant = $1 AND (room_id, user_id) >= ($2, u.user_id)
    ORDER BY room_id, user_id LIMIT 1) f
WHERE f.room_id = $2 AND f.user_id = u.user_id;

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
