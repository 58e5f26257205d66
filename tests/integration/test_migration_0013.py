"""Migration 0013 on a database that already holds seats: the counts it creates are
those of the seats, per room and role."""

from __future__ import annotations

from service.storage.db import migrate, migrations
from tests.integration.test_migrations import before_migration


async def test_migration_0013_counts_the_seats_already_taken(admin_url: str) -> None:
    async with before_migration(admin_url, 13) as connection:
        await connection.execute(
            """INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
                   valid_until)
               SELECT t, r, now(), now(), now(), now() + interval '1 day'
               FROM unnest(ARRAY['a', 'a', 'b']) WITH ORDINALITY AS x(t, n),
                    LATERAL (SELECT 'room-' || n AS r) AS y;
               INSERT INTO seats (tenant, seat_id, room_id, user_id, role, create_time,
                   expire_time)
               SELECT 'a', 's' || i, 'room-1', 'u' || i,
                      CASE WHEN i <= 3 THEN 'presenter' ELSE 'attendee' END,
                      now(), now() + interval '1 hour'
               FROM generate_series(1, 10) AS i;
               INSERT INTO seats (tenant, seat_id, room_id, user_id, role, create_time,
                   expire_time)
               VALUES ('b', 's1', 'room-3', 'u1', 'consumer', now(), now())"""
        )
        assert await migrate(connection) == [m.version for m in migrations()][12:]
        counts = await connection.fetch(
            "SELECT tenant, room_id, role, taken FROM seat_counts ORDER BY 1, 2, 3"
        )
        assert [tuple(row) for row in counts] == [
            ("a", "room-1", "attendee", 7),
            ("a", "room-1", "presenter", 3),
            ("b", "room-3", "consumer", 1),
        ]
