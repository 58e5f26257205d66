-- ==== notify.py ====

-- name: notify_rooms --
-- After a commit, outside any transaction: one notification per room, its payload the
-- tenant and the room id separated by chr(31) (notify._SEPARATOR).
SELECT pg_notify($1, $2 || chr(31) || r) FROM unnest($3::text[]) AS t(r);

-- name: listen_ping --
-- The LISTEN connection's keepalive: it notices a dead socket.
SELECT 1;
