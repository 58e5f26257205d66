-- The SQL statements of service/storage, by name (loaded once by
-- service/storage/queries.py; migrations are in migrations/).
--
-- Each statement follows a `-- name: <name> --` marker and is static text: what is
-- here is what the server sends. Rules every statement keeps (docs/decisions.md,
-- "Storage"; tests/e2e/test_distribution.py checks them from the statements sent):
-- every table filtered by `tenant = $1` (in subqueries and lateral joins too); a
-- statement reading across tenants starts with the marker
-- /* cross-tenant read: no locks, no transaction */ and runs outside any transaction.
-- Repeated column lists are written out in each statement on purpose: the file is
-- the one source of each statement.

-- ==== PgRoomStore: rooms, rosters, signing keys, knocks and seats ====

-- name: bump_epochs --
INSERT INTO membership_epochs AS m (tenant, room_id, user_id, epoch)
    SELECT $1, $2, u, 1 FROM unnest($3::text[]) AS t(u)
    ON CONFLICT (tenant, room_id, user_id)
    DO UPDATE SET epoch = m.epoch + 1, admit_time = NULL;

-- name: create_room --
-- The events and outbox pair is the one of append_events (see there).
WITH room AS (
        INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
            valid_until, pstn_dial_out_enabled, join_policy, metadata,
            open_join_role, early_entry, participant_count,
            waiting_room_enabled, max_participants, role_capacity, event_seq)
        VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                cardinality($17::text[]))
        ON CONFLICT (tenant, room_id) DO NOTHING
        RETURNING room_id, event_seq),
    roster AS (
        INSERT INTO participants
            (tenant, room_id, user_id, role, create_time, update_time)
        SELECT $1, room.room_id, t.u, t.r, $3, $3
        FROM room, unnest($15::text[], $16::text[]) AS t(u, r)),
    written AS (
        INSERT INTO room_events
            (tenant, room_id, revision, event_time, record_time, type, actor, data)
        SELECT $1, room.room_id, room.event_seq - cardinality($17::text[]) + t.ord,
               $3, $3, t.type, $19, t.data::jsonb
        FROM room, unnest($17::text[], $18::text[])
             WITH ORDINALITY AS t(type, data, ord)
        RETURNING revision),
    outbox AS (
        INSERT INTO delivery_cursors
            (tenant, destination, room_id, delivered_revision, latest_revision)
        SELECT $1, d.destination, room.room_id,
               room.event_seq - cardinality($17::text[]), room.event_seq
        FROM room, delivery_destinations d
        WHERE d.tenant = $1
          AND (cardinality(d.room_ids) = 0 OR room.room_id = ANY(d.room_ids))
        ON CONFLICT (tenant, destination, room_id)
        DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
    SELECT count(*) FROM room;

-- name: claim_idempotency_key --
INSERT INTO idempotency_keys (tenant, idempotency_key, request_hash, room_id, create_time)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true;

-- name: existing_request --
SELECT k.request_hash, r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity
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

-- name: bump --
UPDATE rooms SET participant_count = $3, update_time = $4, version = version + 1
    WHERE tenant = $1 AND room_id = $2 RETURNING version;

-- name: upsert_participants --
SELECT false AS ban, user_id, role, create_time, update_time FROM participants
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    UNION ALL
    SELECT true, user_id, NULL, NULL, NULL FROM participant_removals
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
      AND banned;

-- name: write_participants --
-- The events and outbox pair is the one of append_events (see there).
WITH lifted AS (
        UPDATE participant_removals SET banned = false
        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($6::text[])
          AND banned),
    upserted AS (
        INSERT INTO participants AS p
            (tenant, room_id, user_id, role, create_time, update_time)
        SELECT $1, $2, u, r, $5, $5
        FROM unnest($3::text[], $4::text[]) AS t(u, r)
        ON CONFLICT (tenant, room_id, user_id)
        DO UPDATE SET role = EXCLUDED.role, update_time = EXCLUDED.update_time),
    seq AS (
        UPDATE rooms SET participant_count = $7, update_time = $5,
               version = version + 1,
               event_seq = event_seq + cardinality($8::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, version, event_seq),
    written AS (
        INSERT INTO room_events
            (tenant, room_id, revision, event_time, record_time, type, actor, data)
        SELECT $1, seq.room_id, seq.event_seq - cardinality($8::text[]) + t.ord,
               $5, $5, t.type, $10, t.data::jsonb
        FROM seq, unnest($8::text[], $9::text[])
             WITH ORDINALITY AS t(type, data, ord)
        RETURNING revision),
    outbox AS (
        INSERT INTO delivery_cursors
            (tenant, destination, room_id, delivered_revision, latest_revision)
        SELECT $1, d.destination, seq.room_id,
               seq.event_seq - cardinality($8::text[]), seq.event_seq
        FROM seq, delivery_destinations d
        WHERE d.tenant = $1
          AND (cardinality(d.room_ids) = 0 OR seq.room_id = ANY(d.room_ids))
        ON CONFLICT (tenant, destination, room_id)
        DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
    SELECT version FROM seq;

-- name: remove_participants --
DELETE FROM participants
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    RETURNING user_id, role;

-- name: banned_among --
SELECT user_id FROM participant_removals
    WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
      AND banned;

-- name: record_removals --
INSERT INTO participant_removals AS r
        (tenant, room_id, user_id, version, remove_time, banned)
    SELECT $1, $2, u, $4, $5, $6 FROM unnest($3::text[]) AS t(u)
    ON CONFLICT (tenant, room_id, user_id) DO UPDATE
    SET version = EXCLUDED.version, remove_time = EXCLUDED.remove_time,
        banned = r.banned OR EXCLUDED.banned;

-- name: list_participants --
SELECT p.user_id, p.role, p.create_time, p.update_time
    FROM rooms r
    LEFT JOIN LATERAL (
        SELECT q.user_id, q.role, q.create_time, q.update_time
        FROM participants q
        WHERE q.tenant = $1 AND q.room_id = r.room_id AND q.user_id > $3
          AND ($4::text IS NULL OR q.role = $4)
        ORDER BY q.user_id
        LIMIT $5
    ) p ON true
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY p.user_id;

-- name: get_participant --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time
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

-- name: bump_version --
UPDATE rooms SET update_time = $3, version = version + 1
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
        RETURNING r.event_seq)
    INSERT INTO room_events
        (tenant, room_id, revision, event_time, record_time, type, actor, data)
    SELECT $1, $2, seq.event_seq, $6, $6, $7, $8, $9::jsonb FROM seq;

-- name: decide_knock --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role FROM rooms r
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
SELECT version, valid_until, max_participants, role_capacity FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL FOR UPDATE;

-- name: extend_user_seat --
UPDATE seats SET expire_time = $4
    WHERE tenant = $1 AND room_id = $2 AND user_id = $3
    RETURNING seat_id, room_id, user_id, role, create_time, expire_time;

-- name: seats_by_role --
SELECT role, count(*) AS count FROM seats
    WHERE tenant = $1 AND room_id = $2 GROUP BY role;

-- name: insert_seat --
INSERT INTO seats
        (tenant, seat_id, room_id, user_id, role, create_time, expire_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: renew_seat --
UPDATE seats s SET expire_time = LEAST($4::timestamptz, r.valid_until)
    FROM rooms r
    WHERE s.tenant = $1 AND s.seat_id = $2 AND s.expire_time > $3
      AND r.tenant = $1 AND r.room_id = s.room_id AND r.delete_time IS NULL
    RETURNING s.seat_id, s.room_id, s.user_id, s.role, s.create_time,
              s.expire_time;

-- name: release_seat --
SELECT room_id FROM seats WHERE tenant = $1 AND seat_id = $2;

-- name: delete_seat --
DELETE FROM seats WHERE tenant = $1 AND seat_id = $2
    RETURNING seat_id, room_id, user_id, role, create_time, expire_time;

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
-- The `written` and `outbox` pair: the events, and each of the tenant's delivery
-- destinations due up to the new last revision. create_room, write_participants and
-- announce_transitions write the same pair after their own first step, in the same
-- statement (one round trip, one snapshot); a change here goes to all four. It is
-- written out in each because a statement here is static text (no assembly at run
-- time); the one other single source, a stored function, would move it out of this
-- file into a migration.
WITH seq AS (
        UPDATE rooms SET event_seq = event_seq + cardinality($3::text[])
        WHERE tenant = $1 AND room_id = $2
        RETURNING room_id, event_seq),
    written AS (
        INSERT INTO room_events
            (tenant, room_id, revision, event_time, record_time, type, actor, data)
        SELECT $1, seq.room_id, seq.event_seq - cardinality($3::text[]) + t.ord,
               $5, $5, t.type, $6, t.data::jsonb
        FROM seq, unnest($3::text[], $4::text[])
             WITH ORDINALITY AS t(type, data, ord)
        RETURNING revision),
    outbox AS (
        INSERT INTO delivery_cursors
            (tenant, destination, room_id, delivered_revision, latest_revision)
        SELECT $1, d.destination, seq.room_id,
               seq.event_seq - cardinality($3::text[]), seq.event_seq
        FROM seq, delivery_destinations d
        WHERE d.tenant = $1
          AND (cardinality(d.room_ids) = 0 OR seq.room_id = ANY(d.room_ids))
        ON CONFLICT (tenant, destination, room_id)
        DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
    SELECT revision FROM written;

-- name: history --
SELECT r.delete_time IS NOT NULL AS deleted, r.event_seq AS latest,
           COALESCE((SELECT min(e.revision) FROM room_events e
                     WHERE e.tenant = $1 AND e.room_id = r.room_id),
                    r.event_seq + 1) AS oldest
    FROM rooms r WHERE r.tenant = $1 AND r.room_id = $2;

-- name: lock_lifecycle --
SELECT pg_try_advisory_xact_lock($1);

-- name: due_transitions --
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id FROM rooms
    WHERE delete_time IS NULL
      AND ((announced_state = 0 AND valid_from <= $1)
           OR (announced_state < 2 AND valid_until <= $1))
    ORDER BY LEAST(valid_from, valid_until)
    LIMIT $2;

-- name: announce_transitions --
WITH due AS (
        SELECT room_id, announced_state AS before,
               CASE WHEN valid_until <= $2 THEN 2 ELSE 1 END AS after
        FROM rooms
        WHERE tenant = $1 AND room_id = ANY($3::text[]) AND delete_time IS NULL
          AND ((announced_state = 0 AND valid_from <= $2)
               OR (announced_state < 2 AND valid_until <= $2))
        FOR UPDATE),
    moved AS (
        UPDATE rooms r
        SET announced_state = d.after, event_seq = r.event_seq + (d.after - d.before)
        FROM due d WHERE r.tenant = $1 AND r.room_id = d.room_id
        RETURNING r.room_id, r.event_seq, r.valid_from, r.valid_until,
                  d.before, d.after),
    written AS (
        INSERT INTO room_events
            (tenant, room_id, revision, event_time, record_time, type, actor, data)
        SELECT $1, m.room_id, m.event_seq - (m.after - s.state),
               CASE s.state WHEN 1 THEN m.valid_from ELSE m.valid_until END, $2,
               CASE s.state WHEN 1 THEN 'opened' ELSE 'ended' END,
               $4, '{}'::jsonb
        FROM moved m, generate_series(m.before + 1, m.after) AS s(state)
        RETURNING room_id),
    -- Due at every delivery destination of the tenant, as in append_events.
    outbox AS (
        INSERT INTO delivery_cursors
            (tenant, destination, room_id, delivered_revision, latest_revision)
        SELECT $1, d.destination, m.room_id,
               m.event_seq - (m.after - m.before), m.event_seq
        FROM moved m, delivery_destinations d
        WHERE d.tenant = $1
          AND (cardinality(d.room_ids) = 0 OR m.room_id = ANY(d.room_ids))
        ON CONFLICT (tenant, destination, room_id)
        DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
    SELECT room_id FROM written;

-- name: purgeable_rooms --
/* cross-tenant read: no locks, no transaction */
    SELECT tenant, room_id FROM rooms WHERE delete_time < $1
    UNION
    SELECT tenant, room_id FROM rooms WHERE valid_until < $2
    LIMIT $3;

-- name: purge_rooms --
DELETE FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[])
      AND (delete_time < $3 OR valid_until < $4)
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
DELETE FROM seats WHERE tenant = $1 AND room_id = $2 AND expire_time <= $3
    RETURNING seat_id, room_id, user_id, role, create_time, expire_time;

-- name: revoke_presence --
DELETE FROM knocks WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    RETURNING user_id, state;

-- name: revoke_seats --
DELETE FROM seats WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
    RETURNING seat_id, room_id, user_id, role, create_time, expire_time;

-- name: free_all --
DELETE FROM seats WHERE tenant = $1 AND room_id = $2;

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
        WHERE $7::timestamptz IS NOT NULL AND tenant = $1 AND destination = $2
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
    RETURNING webhook_id, url, event_types, room_ids, create_time, update_time, version;

-- name: webhook_get --
SELECT webhook_id, url, event_types, room_ids, create_time, update_time, version FROM webhooks WHERE tenant = $1 AND webhook_id = $2;

-- name: webhook_list --
SELECT webhook_id, url, event_types, room_ids, create_time, update_time, version FROM webhooks
    WHERE tenant = $1 AND ($2::text IS NULL OR webhook_id > $2)
    ORDER BY webhook_id LIMIT $3;

-- name: webhook_update --
SELECT webhook_id, url, event_types, room_ids, create_time, update_time, version FROM webhooks WHERE tenant = $1 AND webhook_id = $2
    FOR UPDATE;

-- name: webhook_write --
UPDATE webhooks
    SET url = $3, event_types = $4, room_ids = $5, update_time = $6,
        version = version + 1
    WHERE tenant = $1 AND webhook_id = $2
    RETURNING webhook_id, url, event_types, room_ids, create_time, update_time, version;

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
    SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, ids.user_id AS c_user_id, p.role AS p_role,
           COALESCE(m.epoch, 0) AS m_epoch, COALESCE(x.banned, false) AS x_banned,
           k.user_id AS k_user_id, k.state AS k_state, k.role AS k_role, k.role_chosen AS k_role_chosen, k.display_name AS k_display_name, k.first_knock_time AS k_first_knock_time, k.last_knock_time AS k_last_knock_time, k.decide_time AS k_decide_time, k.sort_time AS k_sort_time
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

-- name: epoch_of --
SELECT epoch FROM membership_epochs
    WHERE tenant = $1 AND room_id = $2 AND user_id = $3;

-- name: joinable_rooms --
SELECT room_id FROM rooms
    WHERE tenant = $1 AND delete_time IS NULL AND valid_until > $2
      AND valid_from - early_entry <= $2 AND room_id > $3
    ORDER BY room_id LIMIT $4;

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
SELECT room_id, create_time, update_time, valid_from, valid_until, pstn_dial_out_enabled, join_policy, metadata, open_join_role, early_entry, version, participant_count, event_seq, waiting_room_enabled, max_participants, role_capacity FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL;

-- name: room_many --
SELECT room_id, create_time, update_time, valid_from, valid_until, pstn_dial_out_enabled, join_policy, metadata, open_join_role, early_entry, version, participant_count, event_seq, waiting_room_enabled, max_participants, role_capacity FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[]) AND delete_time IS NULL;

-- name: join_one --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           k.user_id AS k_user_id, k.state AS k_state, k.role AS k_role, k.role_chosen AS k_role_chosen, k.display_name AS k_display_name, k.first_knock_time AS k_first_knock_time, k.last_knock_time AS k_last_knock_time, k.decide_time AS k_decide_time, k.sort_time AS k_sort_time,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch
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
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           k.user_id AS k_user_id, k.state AS k_state, k.role AS k_role, k.role_chosen AS k_role_chosen, k.display_name AS k_display_name, k.first_knock_time AS k_first_knock_time, k.last_knock_time AS k_last_knock_time, k.decide_time AS k_decide_time, k.sort_time AS k_sort_time,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch, q.user_id AS q_user_id
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

-- ==== list_rooms: one static statement per page position (first, after) and state filter ====

-- name: list_rooms --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_scheduled --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND r.valid_from > $3
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_open --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND r.valid_from <= $3 AND r.valid_until > $3
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_ended --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND r.valid_until <= $3
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_after --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($3, $4)
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_after_scheduled --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($3, $4) AND r.valid_from > $5
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_after_open --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($3, $4) AND r.valid_from <= $5 AND r.valid_until > $5
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- name: list_rooms_after_ended --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity FROM rooms r WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($3, $4) AND r.valid_until <= $5
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2;

-- ==== list_memberships: one static statement per page position and state filter ====

-- name: list_memberships --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_scheduled --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND r.valid_from > $4
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_open --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND r.valid_from <= $4 AND r.valid_until > $4
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_ended --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND r.valid_until <= $4
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_after --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND (r.valid_from, r.room_id) > ($4, $5)
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_after_scheduled --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND (r.valid_from, r.room_id) > ($4, $5) AND r.valid_from > $6
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_after_open --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND (r.valid_from, r.room_id) > ($4, $5) AND r.valid_from <= $6 AND r.valid_until > $6
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- name: list_memberships_after_ended --
SELECT r.room_id, r.create_time, r.update_time, r.valid_from, r.valid_until, r.pstn_dial_out_enabled, r.join_policy, r.metadata, r.open_join_role, r.early_entry, r.version, r.participant_count, r.event_seq, r.waiting_room_enabled, r.max_participants, r.role_capacity, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $2 AND r.delete_time IS NULL AND (r.valid_from, r.room_id) > ($4, $5) AND r.valid_until <= $6
    ORDER BY r.valid_from, r.room_id LIMIT $3;

-- ==== update_room ====
-- $5 names the settings changed; $6.. are the settings in the order of
-- service.domain.models.SETTING_TYPES (a setting not named keeps its value). A window
-- moved later makes the room scheduled (or open) again: forget the transitions
-- announced for the old window, so they are announced anew.

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
    announced_state = LEAST(announced_state,
        CASE WHEN (CASE WHEN 'valid_from' = ANY($5::text[]) THEN $6::timestamptz
                        ELSE valid_from END) > $4::timestamptz THEN 0
             WHEN (CASE WHEN 'valid_until' = ANY($5::text[]) THEN $7::timestamptz
                        ELSE valid_until END) > $4::timestamptz THEN 1 ELSE 2 END)
WHERE tenant = $1 AND room_id = $2 AND version = $3 AND delete_time IS NULL
RETURNING room_id, create_time, update_time, valid_from, valid_until, pstn_dial_out_enabled, join_policy, metadata, open_join_role, early_entry, version, participant_count, event_seq, waiting_room_enabled, max_participants, role_capacity;

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

