-- Waiting room and seats (issue 13).
-- Rooms gain their waiting-room and capacity settings; `knocks` holds who asked to
-- join a room with a waiting room and what a host decided; `seats` holds who is
-- present now. Both belong to one room of one tenant (tenant first in every key),
-- and every change to them runs under that room's row lock only.

ALTER TABLE rooms
    ADD COLUMN waiting_room_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN max_participants     integer NOT NULL DEFAULT 0,
    -- [{"role": "presenter", "max": 0, "reserved": 5}, ...]: each role at most once.
    ADD COLUMN role_capacity        jsonb   NOT NULL DEFAULT '[]',
    ADD CONSTRAINT rooms_max_participants_check CHECK (max_participants >= 0),
    ADD CONSTRAINT rooms_role_capacity_check CHECK (jsonb_typeof(role_capacity) = 'array');

CREATE TABLE knocks (
    tenant           text        COLLATE "C" NOT NULL,
    room_id          text        COLLATE "C" NOT NULL,
    user_id          text        COLLATE "C" NOT NULL,
    state            text        NOT NULL,
    -- The admitted role; for a waiting or denied identity, the role it would have had.
    role             text,
    -- Whether `role` was chosen by the host (otherwise it follows the roster and policy).
    role_chosen      boolean     NOT NULL DEFAULT false,
    display_name     text,
    first_knock_time timestamptz,
    last_knock_time  timestamptz,
    decide_time      timestamptz,
    -- The list order: first knock, or decision time for an identity decided in advance.
    sort_time        timestamptz NOT NULL,
    CONSTRAINT knocks_pkey PRIMARY KEY (tenant, room_id, user_id),
    CONSTRAINT knocks_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE,
    CONSTRAINT knocks_state_check CHECK (state IN ('waiting', 'admitted', 'denied')),
    CONSTRAINT knocks_role_check
        CHECK (role IS NULL OR role IN ('presenter', 'attendee', 'consumer', 'collaborator'))
);

-- ListKnocks: oldest first, keyset on (sort_time, user_id).
CREATE INDEX knocks_list_idx ON knocks (tenant, room_id, sort_time, user_id);

CREATE TABLE seats (
    tenant      text        COLLATE "C" NOT NULL,
    seat_id     text        COLLATE "C" NOT NULL,
    room_id     text        COLLATE "C" NOT NULL,
    user_id     text        COLLATE "C" NOT NULL,
    role        text        NOT NULL,
    create_time timestamptz NOT NULL,
    expire_time timestamptz NOT NULL,
    CONSTRAINT seats_pkey PRIMARY KEY (tenant, seat_id),
    -- One seat per identity and room: a second tab gets the same seat back.
    CONSTRAINT seats_user_key UNIQUE (tenant, room_id, user_id),
    CONSTRAINT seats_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE,
    CONSTRAINT seats_role_check
        CHECK (role IN ('presenter', 'attendee', 'consumer', 'collaborator'))
);

-- ListSeats (by create_time, seat_id) and the live-seat counts of a claim.
CREATE INDEX seats_room_idx ON seats (tenant, room_id, create_time, seat_id);
-- The lifecycle task finds rooms with expired seats without locking anything.
CREATE INDEX seats_expire_idx ON seats (expire_time);

-- The event vocabulary: main's plus issue 13's.
ALTER TABLE room_events DROP CONSTRAINT room_events_type_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_type_check CHECK (type IN (
    'created', 'settings_changed', 'participant_added', 'role_changed',
    'participant_removed', 'deleted', 'opened', 'ended',
    'participant_banned', 'participant_unbanned',
    'participant_knocked', 'participant_admitted', 'participant_denied',
    'seat_taken', 'seat_released', 'seat_expired', 'admission_revoked'));
