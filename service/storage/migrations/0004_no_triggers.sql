-- No triggers: a distributed PostgreSQL (Citus) refuses them on distributed tables, and
-- a NOTIFY inside a write cannot be part of a two-phase commit. Writers now send the
-- "room X may have news" notification themselves, after their transaction commits
-- (service/storage/transaction.py). See docs/scaling.md.
DROP TRIGGER IF EXISTS room_events_notify ON room_events;
DROP FUNCTION IF EXISTS rooms_notify_event();
