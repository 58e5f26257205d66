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
