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
