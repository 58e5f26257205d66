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
