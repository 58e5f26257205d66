-- Rooms, rosters, idempotency keys, and the server's shared secret.
-- Every row carries its tenant: a room belongs to the tenant that created it.
-- Identifiers use the "C" collation: byte order, case-sensitive, stable for keyset paging.

CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) >= 16)
);

-- 32 random bytes, from PostgreSQL's strong random source, shared by all replicas.
INSERT INTO server_secrets (name, value)
VALUES ('page_token', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

CREATE TABLE rooms (
    tenant                text        COLLATE "C" NOT NULL,
    room_id               text        COLLATE "C" NOT NULL,
    create_time           timestamptz NOT NULL,
    update_time           timestamptz NOT NULL,
    delete_time           timestamptz,
    valid_from            timestamptz NOT NULL,
    valid_until           timestamptz NOT NULL,
    pstn_dial_out_enabled boolean     NOT NULL DEFAULT false,
    join_policy           text        NOT NULL DEFAULT 'invite_only',
    open_join_role        text        NOT NULL DEFAULT 'attendee',
    early_entry           interval    NOT NULL DEFAULT '0',
    metadata              jsonb       NOT NULL DEFAULT '{}',
    revision              bigint      NOT NULL DEFAULT 1,
    participant_count     integer     NOT NULL DEFAULT 0,
    CONSTRAINT rooms_pkey PRIMARY KEY (tenant, room_id),
    CONSTRAINT rooms_window_check CHECK (valid_until > valid_from),
    CONSTRAINT rooms_join_policy_check CHECK (join_policy IN ('invite_only', 'open')),
    CONSTRAINT rooms_open_join_role_check
        CHECK (open_join_role IN ('presenter', 'attendee', 'consumer', 'collaborator')),
    CONSTRAINT rooms_early_entry_check CHECK (early_entry >= '0'),
    CONSTRAINT rooms_participant_count_check CHECK (participant_count >= 0),
    CONSTRAINT rooms_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);

-- ListRooms: newest first, keyset on (create_time, room_id), live rooms only.
CREATE INDEX rooms_list_idx ON rooms (tenant, create_time DESC, room_id DESC)
    WHERE delete_time IS NULL;

CREATE TABLE participants (
    tenant      text        COLLATE "C" NOT NULL,
    room_id     text        COLLATE "C" NOT NULL,
    user_id     text        COLLATE "C" NOT NULL,
    role        text        NOT NULL,
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    CONSTRAINT participants_pkey PRIMARY KEY (tenant, room_id, user_id),
    CONSTRAINT participants_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE,
    CONSTRAINT participants_role_check
        CHECK (role IN ('presenter', 'attendee', 'consumer', 'collaborator')),
    CONSTRAINT participants_user_id_check
        CHECK (length(user_id) BETWEEN 1 AND 256 AND user_id !~ '[[:space:][:cntrl:]]')
);

-- ListRoomsForParticipant: the rooms an identity is on the roster of.
CREATE INDEX participants_user_idx ON participants (tenant, user_id);

CREATE TABLE idempotency_keys (
    tenant       text        COLLATE "C" NOT NULL,
    request_id   text        COLLATE "C" NOT NULL,
    request_hash text        NOT NULL,
    room_id      text        NOT NULL,
    create_time  timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant, request_id)
);
