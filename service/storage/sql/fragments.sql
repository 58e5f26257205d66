-- The fragments the statements of this folder take in (`-- include: <name> --`).

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
