-- The SQL statements of service/storage, by name (loaded once by
-- service/storage/queries.py; migrations are in migrations/).
--
-- Each statement follows a `-- name: <name> --` marker and is static text: what is
-- here is what the server sends. Rules every statement keeps (docs/decisions.md,
-- "Storage"; tests/citus/test_distribution.py checks them from the statements sent):
-- every table filtered by `tenant = $1` (in subqueries and lateral joins too); a
-- statement reading across tenants starts with the marker
-- /* cross-tenant read: no locks, no transaction */ and runs outside any transaction.
-- A part several statements share is written once as a fragment (`-- fragment: <name>
-- --`), which a statement takes in with a line `-- include: <name> --`, replaced when
-- the file is read: still static text, fixed at load time. A statement that returns a
-- room selects `r.*` (or `*`): `service/storage/rows.py` reads a room's columns by name,
-- so a new setting's column is read by every statement without editing one; only
-- `create_room` and `update_room` name each setting's column.

-- ==== fragments ====

-- fragment: number_events --
-- A batch of events for one room, numbered after its last one: the including
-- statement defines `seq(room_id, event_seq)` (the room's row once its event_seq moved
-- past the batch, which orders concurrent writers by its row lock) and
-- `batch(types, data, at, actor)` (the events' types and JSON payloads in order, their
-- time, who wrote them); this defines `new_events` for record_events.
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT seq.room_id, seq.event_seq - cardinality(b.types) + t.ord, b.at, b.at,
               t.type, b.actor, t.data::jsonb
        FROM seq, batch AS b, unnest(b.types, b.data) WITH ORDINALITY AS t(type, data, ord)),

-- fragment: record_events --
-- The events of a write and their delivery (the transactional outbox, see
-- service/delivery), in the writer's statement: one round trip, one snapshot. The
-- including statement defines, before the include line,
--   new_events(room_id, revision, event_time, record_time, type, actor, data)
-- (the events, each numbered by its room's event_seq), and ends with its own SELECT.
-- This defines `written` (the events stored, RETURNING room_id, revision) and `outbox`
-- (each delivery destination of the tenant due up to the room's new last revision;
-- a room's cursor there is created just before its first new event). It refers to $1
-- (the tenant) and nothing else of the statement.
    written AS (
        INSERT INTO room_events
            (tenant, room_id, revision, event_time, record_time, type, actor, data)
        SELECT $1, room_id, revision, event_time, record_time, type, actor, data
        FROM new_events
        RETURNING room_id, revision),
    outbox AS (
        INSERT INTO delivery_cursors
            (tenant, destination, room_id, delivered_revision, latest_revision)
        SELECT $1, d.destination, n.room_id, n.first - 1, n.last
        FROM (SELECT room_id, min(revision) AS first, max(revision) AS last
              FROM new_events GROUP BY room_id) AS n,
             delivery_destinations d
        WHERE d.tenant = $1
          AND (cardinality(d.room_ids) = 0 OR n.room_id = ANY(d.room_ids))
        ON CONFLICT (tenant, destination, room_id)
        DO UPDATE SET latest_revision = EXCLUDED.latest_revision)

-- fragment: decision_holds --
-- Whether an allowed join decision still holds in the room's row `r` (locked): the
-- including statement defines `d(user_id, version)`, the identity and the room's
-- version the decision saw. It holds if the room is at that version, or if every
-- version since was a knock decision about another identity (migration 0014).
    (r.version = d.version
     OR (r.knock_run_version = r.version AND r.version > d.version
         AND r.version - d.version <= cardinality(r.knock_run_users)
         AND d.user_id <> ALL (r.knock_run_users[
             cardinality(r.knock_run_users) - (r.version - d.version) + 1:])))

-- fragment: knock_columns --
-- A knock's columns, each prefixed `k_` (what seats.knock_of(row, "k_") reads): the
-- including statement joins `knocks k` and ends its select list with these.
    k.user_id AS k_user_id, k.state AS k_state, k.role AS k_role,
    k.role_chosen AS k_role_chosen, k.display_name AS k_display_name,
    k.first_knock_time AS k_first_knock_time, k.last_knock_time AS k_last_knock_time,
    k.decide_time AS k_decide_time, k.sort_time AS k_sort_time

-- fragment: webhook_columns --
-- A webhook's columns as webhooks.py reads them (never its secret): the including
-- statement reads or writes `webhooks` and ends its select list with these.
    webhook_id, url, event_types, room_ids, create_time, update_time, version

-- ==== PgRoomStore: rooms, rosters, signing keys, knocks and seats ====

-- name: bump_epochs --
INSERT INTO membership_epochs AS m (tenant, room_id, user_id, epoch)
    SELECT $1, $2, u, 1 FROM unnest($3::text[]) AS t(u)
    ON CONFLICT (tenant, room_id, user_id)
    DO UPDATE SET epoch = m.epoch + 1, admit_time = NULL;

-- name: create_room --
-- $4..$15 are the settings in the order of service.domain.models.SETTING_TYPES (as in
-- update_room), $16 when the last occurrence ends, $17 the roster's size, $18..$19
-- its users and roles, $20..$22 the events, $23..$24 the users' own windows.
WITH seq AS (
        INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
            valid_until, pstn_dial_out_enabled, join_policy, metadata,
            open_join_role, early_entry, waiting_room_enabled, max_participants,
            role_capacity, recurrence, time_zone, series_until, participant_count,
            event_seq)
        VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                $16, $17, cardinality($20::text[]))
        ON CONFLICT (tenant, room_id) DO NOTHING
        RETURNING room_id, event_seq),
    roster AS (
        INSERT INTO participants
            (tenant, room_id, user_id, role, create_time, update_time, valid_from, valid_until)
        SELECT $1, seq.room_id, t.u, t.r, $3, $3, t.f, t.t
        FROM seq, unnest($18::text[], $19::text[], $23::timestamptz[], $24::timestamptz[])
             AS t(u, r, f, t)),
    batch (types, data, at, actor) AS (
        SELECT $20::text[], $21::text[], $3::timestamptz, $22::text),
-- include: number_events --
-- include: record_events --
    SELECT count(*) FROM seq;

-- name: claim_idempotency_key --
INSERT INTO idempotency_keys (tenant, idempotency_key, request_hash, room_id, create_time)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true;

-- name: existing_request --
SELECT k.request_hash, r.*
    FROM idempotency_keys k
    LEFT JOIN rooms r ON r.tenant = k.tenant AND r.room_id = k.room_id
    WHERE k.tenant = $1 AND k.idempotency_key = $2;

-- name: delete_room --
SELECT version, delete_time FROM rooms
    WHERE tenant = $1 AND room_id = $2 FOR UPDATE;

-- name: mark_room_deleted --
UPDATE rooms SET delete_time = $3, update_time = $3, version = version + 1
    WHERE tenant = $1 AND room_id = $2;

-- name: lock_room --
SELECT version, participant_count FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL FOR UPDATE;

-- name: upsert_participants --
SELECT false AS ban, user_id, role, create_time, update_time, valid_from, valid_until
    FROM participants
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    UNION ALL
    SELECT true, user_id, NULL, NULL, NULL, NULL, NULL FROM participant_removals
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
      AND banned;

-- name: write_participants --
WITH lifted AS (
        UPDATE participant_removals SET banned = false
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($6::text[])
          AND banned),
    upserted AS (
        INSERT INTO participants AS p
            (tenant, room_id, user_id, role, create_time, update_time, valid_from, valid_until)
        SELECT $1, $2, u, r, $5, $5, f, t
        FROM unnest($3::text[], $4::text[], $11::timestamptz[], $12::timestamptz[])
             AS t(u, r, f, t)
        ON CONFLICT (tenant, room_id, user_id)
        DO UPDATE SET role = EXCLUDED.role, update_time = EXCLUDED.update_time,
            valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until,
            -- A window that changed ends again (PARTICIPANT_WINDOW_ENDED) at its new end.
            window_end_announced = p.window_end_announced
                AND p.valid_until IS NOT DISTINCT FROM EXCLUDED.valid_until),
    seq AS (
        UPDATE rooms SET participant_count = $7, update_time = $5,
               version = version + 1,
               event_seq = event_seq + cardinality($8::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, version, event_seq),
    batch (types, data, at, actor) AS (
        SELECT $8::text[], $9::text[], $5::timestamptz, $10::text),
-- include: number_events --
-- include: record_events --
    SELECT version FROM seq;

-- name: removal_facts --
-- Under the room's lock: the roster entries, bans, knock records and seats of the
-- identities named, for the removal plan (service/domain/roster.py, plan_removal). The
-- knock records and seats are locked too: a knock or a seat renewal does not take the
-- room's lock.
WITH knock AS (
        SELECT user_id, state FROM knocks
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
        FOR UPDATE),
    seat AS (
        SELECT seat_id, room_id, user_id, role, create_time, expire_time FROM seats
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
        FOR UPDATE)
    SELECT 'entry' AS kind, user_id, role, NULL::text AS state, NULL::text AS seat_id,
           NULL::text AS room_id, NULL::timestamptz AS create_time,
           NULL::timestamptz AS expire_time
    FROM participants
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    UNION ALL
    SELECT 'ban', user_id, NULL, NULL, NULL, NULL, NULL, NULL FROM participant_removals
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[]) AND banned
    UNION ALL
    SELECT 'knock', user_id, NULL, state, NULL, NULL, NULL, NULL FROM knock
    UNION ALL
    SELECT 'seat', user_id, role, NULL, seat_id, room_id, create_time, expire_time
    FROM seat;

-- name: write_removal --
-- The removal plan in one statement: the entries removed, the room's count, version
-- ($5: whether it moves) and event numbers in ONE update of its row, the removals (and
-- bans) remembered at the room's new version, the knock records and seats gone, the
-- events recorded.
WITH gone AS (
        DELETE FROM participants
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])),
    seq AS (
        UPDATE rooms SET participant_count = $4,
               update_time = CASE WHEN $5 THEN $6 ELSE update_time END,
               version = version + CASE WHEN $5 THEN 1 ELSE 0 END,
               event_seq = event_seq + cardinality($11::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, version, event_seq),
    removals AS (
        INSERT INTO participant_removals AS r
            (tenant, room_id, user_id, version, remove_time, banned)
        SELECT $1, seq.room_id, t.u, seq.version, $6, $8
        FROM seq, unnest($7::text[]) AS t(u)
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE
        SET version = EXCLUDED.version, remove_time = EXCLUDED.remove_time,
            banned = r.banned OR EXCLUDED.banned),
    knocks_gone AS (
        DELETE FROM knocks
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($9::text[])),
    seats_gone AS (
        DELETE FROM seats
        WHERE tenant = $1 AND room_id = $2 AND seat_id = ANY($10::text[])
        RETURNING role),
    seats_counted AS (
        UPDATE seat_counts c SET taken = c.taken - g.n
        FROM (SELECT role, count(*) AS n FROM seats_gone GROUP BY role) g
        WHERE c.tenant = $1 AND c.room_id = $2 AND c.role = g.role),
    batch (types, data, at, actor) AS (
        SELECT $11::text[], $12::text[], $6::timestamptz, $13::text),
-- include: number_events --
-- include: record_events --
    SELECT version FROM seq;

-- name: list_participants --
SELECT p.user_id, p.role, p.create_time, p.update_time, p.valid_from, p.valid_until
    FROM rooms r
    LEFT JOIN LATERAL (
        SELECT q.user_id, q.role, q.create_time, q.update_time, q.valid_from, q.valid_until
        FROM participants q
        WHERE q.tenant = $1 AND q.room_id = r.room_id AND q.user_id > $3
          AND ($4::text IS NULL OR q.role = $4)
        ORDER BY q.user_id
        LIMIT $5
    ) p ON true
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY p.user_id;

-- name: get_participant --
SELECT r.*, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until
    FROM rooms r
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = $3
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL;

-- name: signing_keys --
SELECT key_id, algorithm, private_key, public_jwk, create_time, activate_time
    FROM signing_keys ORDER BY activate_time DESC, key_id;

-- name: add_signing_key --
LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE;

-- name: any_signing_key --
SELECT EXISTS (SELECT 1 FROM signing_keys);

-- name: insert_signing_key --
INSERT INTO signing_keys
        (key_id, algorithm, private_key, public_jwk, create_time, activate_time)
    VALUES ($1, $2, $3, $4, $5, $6);

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

-- name: decide_knocks --
-- The facts of knock decisions about the identities $3, in one read, the room's row
-- locked: the room, and for each identity (`u_user_id`) its rostered role and its
-- knock (if any, `k_` columns).
SELECT r.*, u.user_id AS u_user_id, p.role AS p_role,
-- include: knock_columns --
    FROM rooms r
    CROSS JOIN unnest($3::text[]) AS u(user_id)
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = u.user_id
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = u.user_id
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    FOR UPDATE OF r;

-- name: write_knock_decisions --
-- Knock decisions, each about another identity ($3[i]; state $4[i], role $5[i],
-- chosen by the host $6[i], at $7[i], a new membership epoch if $8[i]: a denial,
-- event $9[i]/$10[i] by $11[i]), written in ONE statement under the room's row lock
-- (taken by decide_knocks): the knocks upserted, the epochs started, the room's
-- version (its etag) moved once per decision, the run of knock decisions that claims
-- decided earlier may hold through extended by these identities in order (migration
-- 0014: any other change of the version ends the run, since it leaves
-- knock_run_version behind; the last 256 are kept), and their events numbered by the
-- same update of the room's row.
WITH d (user_id, state, role, role_chosen, at, new_epoch, type, data, actor, n) AS (
        SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[],
                             $7::timestamptz[], $8::boolean[], $9::text[], $10::text[],
                             $11::text[]) WITH ORDINALITY),
    k AS (
        INSERT INTO knocks AS k (tenant, room_id, user_id, state, role, role_chosen,
                                 decide_time, sort_time)
        SELECT $1, $2, user_id, state, role, role_chosen, at, at FROM d
        ON CONFLICT (tenant, room_id, user_id) DO UPDATE SET
            state = EXCLUDED.state, role = EXCLUDED.role,
            role_chosen = EXCLUDED.role_chosen, decide_time = EXCLUDED.decide_time
        RETURNING user_id, state, role, role_chosen, display_name, first_knock_time,
                  last_knock_time, decide_time, sort_time),
    epoch AS (
        INSERT INTO membership_epochs AS m (tenant, room_id, user_id, epoch)
        SELECT $1, $2, user_id, 1 FROM d WHERE new_epoch
        ON CONFLICT (tenant, room_id, user_id)
        DO UPDATE SET epoch = m.epoch + 1, admit_time = NULL),
    seq AS (
        UPDATE rooms SET update_time = (SELECT max(at) FROM d),
            version = version + cardinality($3::text[]),
            knock_run_version = version + cardinality($3::text[]),
            knock_run_users = CASE
                WHEN knock_run_version = version
                    THEN (knock_run_users || $3::text[])[
                        GREATEST(1, cardinality(knock_run_users)
                                    + cardinality($3::text[]) - 255):]
                ELSE ($3::text[])[GREATEST(1, cardinality($3::text[]) - 255):] END,
            event_seq = event_seq + cardinality($3::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, event_seq, version),
    new_events (room_id, revision, event_time, record_time, type, actor, data) AS (
        SELECT seq.room_id, seq.event_seq - cardinality($3::text[]) + d.n, d.at, d.at,
               d.type, d.actor, d.data::jsonb
        FROM seq, d),
-- include: record_events --
    SELECT k.*, (SELECT version FROM seq) AS version FROM k;

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
-- needs no lock; claim_seats_together counts on every role's row being there.
INSERT INTO seat_counts (tenant, room_id, role, taken)
    SELECT $1, $2, role, 0
    FROM unnest(ARRAY['presenter', 'attendee', 'consumer', 'collaborator']) AS role
    WHERE EXISTS (SELECT 1 FROM rooms WHERE tenant = $1 AND room_id = $2)
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

-- ==== delivery.py ====

-- name: tenants_with_destinations --
/* cross-tenant read: no locks, no transaction */
    SELECT DISTINCT tenant FROM delivery_destinations WHERE failing_since IS NULL;

-- name: claim --
UPDATE delivery_cursors c SET leased_until = $4, lease_owner = $3
    FROM (SELECT c2.destination, c2.room_id, d.sink
          FROM delivery_cursors c2
          JOIN delivery_destinations d
            ON d.tenant = $1 AND d.destination = c2.destination
          WHERE c2.tenant = $1
            AND c2.latest_revision > c2.delivered_revision
            AND (c2.next_attempt_time IS NULL OR c2.next_attempt_time <= $2)
            AND (c2.leased_until IS NULL OR c2.leased_until <= $2)
            AND d.failing_since IS NULL
            AND d.sink = ANY($6::text[])
          ORDER BY c2.next_attempt_time NULLS FIRST
          LIMIT $5
          FOR UPDATE OF c2 SKIP LOCKED) due
    WHERE c.tenant = $1 AND c.destination = due.destination AND c.room_id = due.room_id
    RETURNING c.destination, c.room_id, c.delivered_revision, c.latest_revision,
              c.attempts, c.first_failure_time, due.sink;

-- name: read_events --
SELECT room_id, revision, event_time, record_time, type, actor, data
    FROM room_events
    WHERE tenant = $1 AND room_id = $2 AND revision > $3
    ORDER BY revision LIMIT $4;

-- name: advance_cursor --
-- `advance` without a success to note. (Not `advance` with a NULL time: PostgreSQL
-- folds that WHERE to false, its tenant filter with it, and Citus then plans the
-- statement as a nested distributed query, which it refuses.)
UPDATE delivery_cursors
    SET delivered_revision = $5, attempts = 0, first_failure_time = NULL,
        next_attempt_time = NULL, leased_until = $6
    WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4
      AND delivered_revision < $5;

-- name: advance --
WITH moved AS (
        UPDATE delivery_cursors
        SET delivered_revision = $5, attempts = 0, first_failure_time = NULL,
            next_attempt_time = NULL, leased_until = $6
        WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4
          AND delivered_revision < $5
        RETURNING 1),
    noted AS (
        UPDATE delivery_destinations
        SET last_success_time = $7
        WHERE tenant = $1 AND destination = $2
          AND (last_success_time IS NULL
               OR last_success_time < $7::timestamptz - interval '1 second')
          AND EXISTS (SELECT 1 FROM moved))
    SELECT count(*) FROM moved;

-- name: fail --
WITH failed AS (
        UPDATE delivery_cursors
        SET attempts = $5, first_failure_time = $6, next_attempt_time = $7,
            leased_until = NULL, lease_owner = NULL
        WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4
        RETURNING 1)
    UPDATE delivery_destinations
    SET last_error = $8, last_error_time = $9,
        failing_since = CASE WHEN $10 THEN COALESCE(failing_since, $9)
                             ELSE failing_since END
    WHERE tenant = $1 AND destination = $2 AND EXISTS (SELECT 1 FROM failed);

-- name: release --
UPDATE delivery_cursors SET leased_until = NULL, lease_owner = NULL
    WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4;

-- name: renew_owned --
UPDATE delivery_cursors SET leased_until = $3
    WHERE tenant = $1 AND lease_owner = ANY($2::text[]);

-- name: release_owned --
UPDATE delivery_cursors SET leased_until = NULL, lease_owner = NULL
    WHERE tenant = $1 AND lease_owner = ANY($2::text[]);

-- name: add_destination --
INSERT INTO delivery_destinations (tenant, destination, sink, room_ids, create_time)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (tenant, destination) DO UPDATE SET room_ids = EXCLUDED.room_ids;

-- name: resume --
UPDATE delivery_destinations SET failing_since = NULL
    WHERE tenant = $1 AND destination = $2;

-- name: reset_backoff --
UPDATE delivery_cursors
    SET attempts = 0, first_failure_time = NULL, next_attempt_time = NULL
    WHERE tenant = $1 AND destination = $2 AND latest_revision > delivered_revision;

-- name: remove_destination --
DELETE FROM delivery_destinations WHERE tenant = $1 AND destination = $2;

-- name: sync_sink --
/* cross-tenant read: no locks, no transaction */
    SELECT tenant FROM delivery_destinations WHERE sink = $1 AND destination = $2;

-- name: destination_state --
SELECT d.failing_since, d.last_success_time, d.last_error, d.last_error_time,
           p.pending, p.oldest
    FROM delivery_destinations d,
         LATERAL (
             SELECT COALESCE(sum(c.latest_revision - c.delivered_revision), 0)
                        AS pending,
                    min(e.record_time) AS oldest
             FROM delivery_cursors c
             LEFT JOIN room_events e
               ON e.tenant = $1 AND e.room_id = c.room_id
              AND e.revision = c.delivered_revision + 1
             WHERE c.tenant = $1 AND c.destination = d.destination
               AND c.latest_revision > c.delivered_revision) p
    WHERE d.tenant = $1 AND d.destination = $2;

-- name: sink_stats --
/* cross-tenant read: no locks, no transaction */
    SELECT d.sink,
           count(*) FILTER (WHERE d.failing_since IS NOT NULL) AS failing,
           COALESCE(sum(p.pending), 0) AS pending, min(p.oldest) AS oldest
    FROM delivery_destinations d,
         LATERAL (
             SELECT sum(c.latest_revision - c.delivered_revision) AS pending,
                    min(e.record_time) AS oldest
             FROM delivery_cursors c
             LEFT JOIN room_events e
               ON e.tenant = c.tenant AND e.room_id = c.room_id
              AND e.revision = c.delivered_revision + 1
             WHERE c.tenant = d.tenant AND c.destination = d.destination
               AND c.latest_revision > c.delivered_revision) p
    GROUP BY d.sink;

-- ==== webhooks.py ====

-- name: webhook_create --
SELECT pg_advisory_xact_lock(hashtextextended('rooms-webhooks:' || $1, 0));

-- name: webhook_count --
SELECT count(*) FROM webhooks WHERE tenant = $1;

-- name: webhook_insert --
INSERT INTO webhooks (tenant, webhook_id, url, event_types, room_ids,
                          secret, create_time, update_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
    RETURNING
    -- include: webhook_columns --

-- name: webhook_get --
SELECT
    -- include: webhook_columns --
    FROM webhooks WHERE tenant = $1 AND webhook_id = $2;

-- name: webhook_list --
SELECT
    -- include: webhook_columns --
    FROM webhooks
    WHERE tenant = $1 AND ($2::text IS NULL OR webhook_id > $2)
    ORDER BY webhook_id LIMIT $3;

-- name: webhook_update --
SELECT
    -- include: webhook_columns --
    FROM webhooks WHERE tenant = $1 AND webhook_id = $2
    FOR UPDATE;

-- name: webhook_write --
UPDATE webhooks
    SET url = $3, event_types = $4, room_ids = $5, update_time = $6,
        version = version + 1
    WHERE tenant = $1 AND webhook_id = $2
    RETURNING
    -- include: webhook_columns --

-- name: webhook_delete --
SELECT version FROM webhooks WHERE tenant = $1 AND webhook_id = $2 FOR UPDATE;

-- name: webhook_remove --
DELETE FROM webhooks WHERE tenant = $1 AND webhook_id = $2;

-- name: webhook_target --
SELECT url, secret, event_types, room_ids FROM webhooks
    WHERE tenant = $1 AND webhook_id = $2;

-- ==== janus.py ====

-- name: room_facts --
WITH ids AS (
        SELECT user_id FROM participants WHERE tenant = $1 AND room_id = $2
        UNION
        SELECT user_id FROM membership_epochs
        WHERE tenant = $1 AND room_id = $2 AND admit_time IS NOT NULL)
    SELECT r.*, ids.user_id AS c_user_id, p.role AS p_role,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           COALESCE(m.epoch, 0) AS m_epoch, COALESCE(x.banned, false) AS x_banned,
           -- include: knock_columns --
    FROM rooms r
    LEFT JOIN ids ON true
    LEFT JOIN participants p
           ON p.tenant = $1 AND p.room_id = $2 AND p.user_id = ids.user_id
    LEFT JOIN membership_epochs m
           ON m.tenant = $1 AND m.room_id = $2 AND m.user_id = ids.user_id
    LEFT JOIN participant_removals x
           ON x.tenant = $1 AND x.room_id = $2 AND x.user_id = ids.user_id
    LEFT JOIN knocks k
           ON k.tenant = $1 AND k.room_id = $2 AND k.user_id = ids.user_id
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY ids.user_id;

-- name: joinable_rooms --
SELECT room_id FROM rooms
    WHERE tenant = $1 AND delete_time IS NULL
      AND COALESCE(series_until, valid_until) > $2
      AND valid_from - early_entry <= $2 AND room_id > $3
    ORDER BY room_id LIMIT $4;

-- ==== acs_keys.py ====

-- name: acs_keys_in_force --
-- Every tenant's keys not revoked: what each replica verifies ACS requests with.
SELECT tenant, key_id, secret FROM acs_keys WHERE revoke_time IS NULL;

-- name: insert_acs_key --
INSERT INTO acs_keys (tenant, key_id, secret, create_time) VALUES ($1, $2, $3, $4);

-- name: acs_key_ids --
SELECT key_id FROM acs_keys
    WHERE tenant = $1 AND revoke_time IS NULL ORDER BY create_time, key_id;

-- name: revoke_acs_key --
UPDATE acs_keys SET revoke_time = $3
    WHERE tenant = $1 AND key_id = $2 AND revoke_time IS NULL RETURNING key_id;

-- ==== notify.py ====

-- name: notify_rooms --
-- After a commit, outside any transaction: one notification per room, its payload the
-- tenant and the room id separated by chr(31) (notify._SEPARATOR).
SELECT pg_notify($1, $2 || chr(31) || r) FROM unnest($3::text[]) AS t(r);

-- name: listen_ping --
-- The LISTEN connection's keepalive: it notices a dead socket.
SELECT 1;

-- ==== db.py ====

-- name: migration_lock --
SELECT pg_advisory_xact_lock($1);

-- name: create_migrations_table --
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());

-- name: migration_applied --
SELECT true FROM schema_migrations WHERE version = $1;

-- name: record_migration --
INSERT INTO schema_migrations (version, name) VALUES ($1, $2);

-- name: page_token_secret --
SELECT value FROM server_secrets WHERE name = 'page_token';

-- ==== coalesced primary-key reads (reads.py): one row, and many at once ====

-- name: room_one --
SELECT * FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL;

-- name: room_many --
SELECT * FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[]) AND delete_time IS NULL;

-- name: join_one --
SELECT r.*, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch,
           -- include: knock_columns --
    FROM rooms r
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = $3
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = $3
    LEFT JOIN participant_removals x
           ON x.tenant = r.tenant AND x.room_id = r.room_id AND x.user_id = $3
    LEFT JOIN membership_epochs m
           ON m.tenant = r.tenant AND m.room_id = r.room_id AND m.user_id = $3
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL;

-- name: join_many --
SELECT r.*, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch, q.user_id AS q_user_id,
           -- include: knock_columns --
    FROM unnest($2::text[], $3::text[]) AS q(room_id, user_id)
    JOIN rooms r ON r.tenant = $1 AND r.room_id = q.room_id AND r.delete_time IS NULL
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = q.user_id
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = q.user_id
    LEFT JOIN participant_removals x
           ON x.tenant = r.tenant AND x.room_id = r.room_id AND x.user_id = q.user_id
    LEFT JOIN membership_epochs m
           ON m.tenant = r.tenant AND m.room_id = r.room_id AND m.user_id = q.user_id;

-- ==== the Lists of rooms and memberships: one static statement per page position ====
-- $2..$5 filter by state: the window bounds of the domain (models.state_bounds: starts
-- after, starts by, ends after, ends by; NULL: no bound), so the rule stays there. A
-- recurring room is judged by the occurrence its lifecycle tracks (occurrence_from /
-- occurrence_until; NULL: its first, valid_from / valid_until).

-- name: list_rooms --
SELECT r.* FROM rooms r
    WHERE r.tenant = $1 AND r.delete_time IS NULL
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $6;

-- name: list_rooms_after --
SELECT r.* FROM rooms r
    WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($7, $8)
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $6;

-- name: list_memberships --
SELECT r.*, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $6 AND r.delete_time IS NULL
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.valid_from, r.room_id LIMIT $7;

-- name: list_memberships_after --
SELECT r.*, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $6 AND r.delete_time IS NULL
      AND (r.valid_from, r.room_id) > ($8, $9)
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.valid_from, r.room_id LIMIT $7;

-- ==== update_room ====
-- $5 names the settings changed; $6..$15 are the settings in the order of
-- service.domain.models.SETTING_TYPES (a setting not named keeps its value). $16 is the
-- room's state at $4 once changed (as rooms.announced_state codes it): a window moved
-- later makes the room scheduled (or open) again, so the transitions announced for the
-- old window are forgotten and announced anew.

-- name: update_room --
UPDATE rooms SET update_time = $4, version = version + 1,
    valid_from = CASE WHEN 'valid_from' = ANY($5::text[]) THEN $6::timestamptz ELSE valid_from END,
    valid_until = CASE WHEN 'valid_until' = ANY($5::text[]) THEN $7::timestamptz ELSE valid_until END,
    pstn_dial_out_enabled = CASE WHEN 'pstn_dial_out_enabled' = ANY($5::text[]) THEN $8::boolean ELSE pstn_dial_out_enabled END,
    join_policy = CASE WHEN 'join_policy' = ANY($5::text[]) THEN $9::text ELSE join_policy END,
    metadata = CASE WHEN 'metadata' = ANY($5::text[]) THEN $10::jsonb ELSE metadata END,
    open_join_role = CASE WHEN 'open_join_role' = ANY($5::text[]) THEN $11::text ELSE open_join_role END,
    early_entry = CASE WHEN 'early_entry' = ANY($5::text[]) THEN $12::interval ELSE early_entry END,
    waiting_room_enabled = CASE WHEN 'waiting_room_enabled' = ANY($5::text[]) THEN $13::boolean ELSE waiting_room_enabled END,
    max_participants = CASE WHEN 'max_participants' = ANY($5::text[]) THEN $14::integer ELSE max_participants END,
    role_capacity = CASE WHEN 'role_capacity' = ANY($5::text[]) THEN $15::jsonb ELSE role_capacity END,
    recurrence = CASE WHEN 'recurrence' = ANY($5::text[]) THEN $16::text[] ELSE recurrence END,
    time_zone = CASE WHEN 'time_zone' = ANY($5::text[]) THEN $17::text ELSE time_zone END,
    series_until = COALESCE($18::timestamptz, series_until),
    -- A recurring room tracks the occurrence that counts now ($18 NULL: unchanged).
    occurrence_from = CASE WHEN $18::timestamptz IS NULL THEN occurrence_from ELSE $20::timestamptz END,
    occurrence_until = CASE WHEN $18::timestamptz IS NULL THEN occurrence_until ELSE $21::timestamptz END,
    announced_state = LEAST(announced_state, $19::smallint)
WHERE tenant = $1 AND room_id = $2 AND version = $3 AND delete_time IS NULL
RETURNING *;

-- name: list_knocks --
SELECT r.version AS room_version, k.user_id, k.state, k.role, k.role_chosen, k.display_name, k.first_knock_time, k.last_knock_time, k.decide_time, k.sort_time
    FROM rooms r
    LEFT JOIN LATERAL (
        SELECT user_id, state, role, role_chosen, display_name, first_knock_time, last_knock_time, decide_time, sort_time FROM knocks q
        WHERE q.tenant = $1 AND q.room_id = r.room_id
          AND ($3::text IS NULL OR q.state = $3)
          AND ($4::timestamptz IS NULL OR (q.sort_time, q.user_id) > ($4, $5))
        ORDER BY q.sort_time, q.user_id
        LIMIT $6
    ) k ON true
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY k.sort_time, k.user_id;

-- name: room_events --
SELECT room_id, revision, event_time, type, actor, data FROM room_events
    WHERE tenant = $1 AND room_id = $2 AND revision > $3
      AND (cardinality($5::text[]) = 0 OR type = ANY($5::text[]))
    ORDER BY revision ASC LIMIT $4;

-- name: room_events_newest_first --
SELECT room_id, revision, event_time, type, actor, data FROM room_events
    WHERE tenant = $1 AND room_id = $2 AND revision < $3
      AND (cardinality($5::text[]) = 0 OR type = ANY($5::text[]))
    ORDER BY revision DESC LIMIT $4;


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
