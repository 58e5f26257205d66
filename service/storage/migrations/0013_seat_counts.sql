-- A seat claim without counting seats (issue 26, "A webinar's opening minute").
-- `seat_counts` holds, per room and role, how many seats are taken: a claim reads a
-- handful of rows by primary key instead of counting the room's seats, so its cost does
-- not grow with how full the room is. Every statement that inserts or deletes seats
-- moves the counts in the same statement, under the room's row lock (as the seats
-- themselves): the counts are exact on any number of replicas.

CREATE TABLE seat_counts (
    tenant  text    COLLATE "C" NOT NULL,
    room_id text    COLLATE "C" NOT NULL,
    role    text    NOT NULL,
    taken   integer NOT NULL,
    CONSTRAINT seat_counts_pkey PRIMARY KEY (tenant, room_id, role),
    CONSTRAINT seat_counts_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE,
    CONSTRAINT seat_counts_taken_check CHECK (taken >= 0),
    CONSTRAINT seat_counts_role_check
        CHECK (role IN ('presenter', 'attendee', 'consumer', 'collaborator'))
);

INSERT INTO seat_counts (tenant, room_id, role, taken)
    SELECT tenant, room_id, role, count(*) FROM seats GROUP BY tenant, room_id, role;

-- A claim frees the room's expired seats first: by this index it reads only those.
CREATE INDEX seats_room_expire_idx ON seats (tenant, room_id, expire_time);

