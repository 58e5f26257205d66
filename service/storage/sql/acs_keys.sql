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
