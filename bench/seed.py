"""Seed a benchmark database with set-based SQL: `scale` rooms of tenant `default`
(the tenant of every caller when no API keys are configured), each with `per_room`
participants, all open now."""

from __future__ import annotations

from datetime import datetime

import asyncpg

TENANT = "default"
ROLES = ("presenter", "attendee", "consumer", "collaborator")


def room_id(i: int) -> str:
    return f"room-{i:07d}"


def user_id(i: int, k: int) -> str:
    return f"user-{i}-{k}"


async def seed(dsn: str, rooms: int, per_room: int, now: datetime) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        # Seeding only: skip the foreign-key triggers (needs a superuser) and the
        # wait for the WAL flush; the rows are consistent by construction.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '256MB'")
        await connection.execute(
            """INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
                                  valid_until, participant_count)
               SELECT $1, 'room-' || lpad(i::text, 7, '0'),
                      $2::timestamptz - make_interval(secs => i),
                      $2::timestamptz - make_interval(secs => i),
                      $2::timestamptz - interval '1 day', $2::timestamptz + interval '30 days',
                      $4
               FROM generate_series(1, $3::int) AS i""",
            TENANT,
            now,
            rooms,
            per_room,
        )
        await connection.execute(
            """INSERT INTO participants (tenant, room_id, user_id, role, create_time, update_time)
               SELECT $1, 'room-' || lpad(i::text, 7, '0'), 'user-' || i || '-' || k,
                      ($5::text[])[1 + k % 4], $2, $2
               FROM generate_series(1, $3::int) AS i, generate_series(1, $4::int) AS k""",
            TENANT,
            now,
            rooms,
            per_room,
            list(ROLES),
        )
        await connection.execute("ANALYZE rooms, participants")
    finally:
        await connection.close()
