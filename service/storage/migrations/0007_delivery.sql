-- Delivery of room events to other systems (webhooks, LiveKit), from the history
-- itself: a transactional outbox. See service/delivery/ and docs/decisions.md.
--
-- A destination is one receiver of a tenant's events (a webhook, the tenant's
-- LiveKit). A cursor is one (destination, room) pair: how far that room's history
-- has been delivered there. The writer of an event moves `latest_revision` of the
-- room's cursors in its own transaction, so an event can never be written without
-- its delivery being due; the delivery engine claims due cursors with a lease.

CREATE TABLE delivery_destinations (
    tenant            text        COLLATE "C" NOT NULL,
    destination       text        COLLATE "C" NOT NULL,
    sink              text        NOT NULL,
    -- Only events of these rooms are delivered (empty: every room).
    room_ids          text[]      COLLATE "C" NOT NULL DEFAULT '{}',
    create_time       timestamptz NOT NULL,
    -- Set when an event could not be delivered within the retry period: delivery to
    -- this destination stops until it is updated.
    failing_since     timestamptz,
    last_success_time timestamptz,
    last_error        text,
    last_error_time   timestamptz,
    CONSTRAINT delivery_destinations_pkey PRIMARY KEY (tenant, destination),
    CONSTRAINT delivery_destinations_sink_check CHECK (sink IN ('webhook', 'livekit'))
);

CREATE TABLE delivery_cursors (
    tenant             text        COLLATE "C" NOT NULL,
    destination        text        COLLATE "C" NOT NULL,
    room_id            text        COLLATE "C" NOT NULL,
    -- Every event up to this revision is done (delivered, or not wanted there).
    delivered_revision bigint      NOT NULL,
    -- The room's last revision, as written by the event's writer.
    latest_revision    bigint      NOT NULL,
    -- Failed attempts at the next event, since `first_failure_time`.
    attempts           integer     NOT NULL DEFAULT 0,
    first_failure_time timestamptz,
    -- Not before this time (backoff); NULL: as soon as possible.
    next_attempt_time  timestamptz,
    -- A replica working on the cursor holds it until `leased_until`.
    leased_until       timestamptz,
    lease_owner        text,
    CONSTRAINT delivery_cursors_pkey PRIMARY KEY (tenant, destination, room_id),
    CONSTRAINT delivery_cursors_destination_fkey FOREIGN KEY (tenant, destination)
        REFERENCES delivery_destinations (tenant, destination) ON DELETE CASCADE,
    CONSTRAINT delivery_cursors_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE
);

-- The engine looks for a tenant's due cursors: only those with work are indexed.
CREATE INDEX delivery_cursors_due_idx ON delivery_cursors (tenant, next_attempt_time)
    WHERE latest_revision > delivered_revision;

-- The webhook resources (rooms.v1.WebhooksService); each has the destination
-- 'webhook/<webhook_id>' with the same room filter.
CREATE TABLE webhooks (
    tenant      text        COLLATE "C" NOT NULL,
    webhook_id  text        COLLATE "C" NOT NULL,
    url         text        NOT NULL,
    event_types text[]      NOT NULL DEFAULT '{}',
    room_ids    text[]      COLLATE "C" NOT NULL DEFAULT '{}',
    secret      text        NOT NULL,
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    revision    bigint      NOT NULL DEFAULT 1,
    CONSTRAINT webhooks_pkey PRIMARY KEY (tenant, webhook_id)
);
