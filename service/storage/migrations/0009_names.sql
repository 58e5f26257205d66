-- Names that say one thing (issue 11).
--
-- `version` is the counter behind an etag: a room's (and, at a removal, the room's
-- version it produced) and a webhook's. `revision` is left to an event's number in its
-- room's history (room_events.revision, the delivery cursors' *_revision), as in the
-- public API (Event.revision, after_revision, last_event_revision).
ALTER TABLE rooms RENAME COLUMN revision TO version;
ALTER TABLE webhooks RENAME COLUMN revision TO version;
ALTER TABLE participant_removals RENAME COLUMN revision TO version;

-- `idempotency_key` is the key a create is made idempotent by (the API's
-- CreateRoomRequest.request_id, AIP-155's name); inside the service `request_id` is
-- only a call's correlation id (x-request-id, logs, RequestInfo).
ALTER TABLE idempotency_keys RENAME COLUMN request_id TO idempotency_key;
