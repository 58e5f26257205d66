-- The statements the migration runner (service/storage/db.py) sends when the database
-- has the Citus extension: every table a migration creates is distributed as
-- docs/scaling.md says. Same format as sql/*.sql; kept apart because all but
-- `citus_present` name Citus's catalog, settings and functions, which plain PostgreSQL
-- has not, and every statement of sql/*.sql must prepare there.

-- name: citus_present --
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus');

-- name: rooms_distributed --
SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass('rooms'));

-- name: sequential_ddl --
-- A migration's DDL over one connection per worker: Citus refuses some statements (a
-- function, for one) after a parallel operation in the same transaction.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- name: undistributed_tables --
-- The tables of the schema that Citus does not distribute yet (none, or a Citus
-- local table it made by itself), whether each has a `tenant` column, and the other
-- tables its foreign keys reference. schema_migrations stays local (docs/scaling.md).
SELECT c.relname AS name,
       EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = 'tenant'
                  AND a.attnum > 0 AND NOT a.attisdropped) AS has_tenant,
       ARRAY(SELECT r.relname::text FROM pg_constraint f JOIN pg_class r ON r.oid = f.confrelid
              WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS refs
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.relname <> 'schema_migrations'
  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d
                   WHERE d.logicalrelid = c.oid
                     AND NOT (d.partmethod = 'n' AND d.repmodel = 's'))
ORDER BY c.relname;

-- name: distribute_rooms --
SELECT create_distributed_table('rooms', 'tenant');

-- name: distribute_by_tenant --
SELECT create_distributed_table(quote_ident($1)::regclass, 'tenant', colocate_with => 'rooms');

-- name: make_reference_table --
SELECT create_reference_table(quote_ident($1)::regclass);
