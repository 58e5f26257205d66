-- Join credentials and bans (issue 12).
--
-- signing_keys: the keys that sign rooms' own credentials (ES256). The server makes
-- the first one on its first start, so every replica signs with the same key; a
-- rotation adds a newer one. The key with the latest activate_time <= now signs; a key
-- stays published until its successor took over more than a credential's lifetime ago.
CREATE TABLE signing_keys (
    key_id        text        COLLATE "C" PRIMARY KEY,
    algorithm     text        NOT NULL,
    private_key   text        NOT NULL,
    public_jwk    jsonb       NOT NULL,
    create_time   timestamptz NOT NULL,
    activate_time timestamptz NOT NULL,
    CONSTRAINT signing_keys_algorithm_check CHECK (algorithm IN ('ES256')),
    CONSTRAINT signing_keys_public_jwk_check CHECK (jsonb_typeof(public_jwk) = 'object')
);

CREATE INDEX signing_keys_activate_idx ON signing_keys (activate_time DESC);

-- participant_removals: the last removal (and the ban) of an identity from a room,
-- whether or not it was on the roster. `revision` is the room's revision after the
-- removal: a credential issued at an earlier revision was issued before it. An
-- AddOrUpdateParticipants of the identity lifts the ban but keeps the row, so a
-- credential of the earlier membership stays inactive after a re-add.
CREATE TABLE participant_removals (
    tenant      text        COLLATE "C" NOT NULL,
    room_id     text        COLLATE "C" NOT NULL,
    user_id     text        COLLATE "C" NOT NULL,
    revision    bigint      NOT NULL,
    remove_time timestamptz NOT NULL,
    banned      boolean     NOT NULL DEFAULT false,
    CONSTRAINT participant_removals_pkey PRIMARY KEY (tenant, room_id, user_id),
    CONSTRAINT participant_removals_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE
);

-- The ban events join the event vocabulary.
ALTER TABLE room_events DROP CONSTRAINT room_events_type_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_type_check CHECK (type IN (
    'created', 'settings_changed', 'participant_added', 'role_changed',
    'participant_removed', 'deleted', 'opened', 'ended',
    'participant_banned', 'participant_unbanned'));
