-- ==== knocks: the waiting room's records and decisions (knocks_and_seats.py, decisions.py) ====

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
