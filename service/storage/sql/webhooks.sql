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
