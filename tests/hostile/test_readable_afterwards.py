"""After the attacks (this file runs last in the package): health is SERVING, every
read of the tenant works, and rows stored as infinity before the range existed read
like the ends of the range."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.conftest import T0
from tests.hostile.calling import Target, assert_tenant_reads
from tests.shared.errors import LoggedErrors


async def test_afterwards_health_is_serving_and_every_read_of_the_tenant_works(
    target: Target,
) -> None:
    """Runs after the attacks above (file order)."""
    health: Any = health_pb2_grpc.HealthStub(target.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    await assert_tenant_reads(target.channel, target.auth)


async def test_rows_stored_as_infinity_are_read(
    target: Target, pool: asyncpg.Pool, server_errors: LoggedErrors
) -> None:
    """A room written before the range existed, with -infinity / infinity in its window
    and an opened event at -infinity, reads like one at the ends of the range."""
    tenant = await pool.fetchval("SELECT tenant FROM rooms WHERE room_id = $1", target.room_id)
    room_id = f"infinite-{uuid.uuid4().hex[:8]}"
    # Such rows can no longer be written: lift the constraints for this one.
    # One constraint a statement: Citus refuses several in one ALTER TABLE.
    await pool.execute("ALTER TABLE rooms DROP CONSTRAINT rooms_valid_from_finite_check")
    await pool.execute("ALTER TABLE rooms DROP CONSTRAINT rooms_valid_until_finite_check")
    await pool.execute(
        """INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
               valid_until, event_seq)
           VALUES ($1, $2, $3, $3, '-infinity', 'infinity', 2)""",
        tenant,
        room_id,
        T0 - timedelta(days=1),
    )
    await pool.execute(
        """INSERT INTO participants (tenant, room_id, user_id, role, create_time, update_time)
           VALUES ($1, $2, 'alice', 'presenter', '-infinity', 'infinity')""",
        tenant,
        room_id,
    )
    await pool.execute(
        """INSERT INTO room_events (tenant, room_id, revision, event_time, record_time,
               type, actor, data)
           VALUES ($1, $2, 1, $3, $3, 'created', 'k1', $4::jsonb),
                  ($1, $2, 2, '-infinity', $3, 'opened', 'system', '{}')""",
        tenant,
        room_id,
        T0 - timedelta(days=1),
        {
            "settings": {
                # What the created event of such a room held: naive datetime.min / max.
                "valid_from": "0001-01-01T00:00:00",
                "valid_until": "9999-12-31T23:59:59.999999",
                "pstn_dial_out_enabled": False,
                "join_policy": "invite_only",
                "metadata": {},
                "open_join_role": "attendee",
                "early_entry_seconds": 0,
            }
        },
    )
    try:
        assert room_id in await assert_tenant_reads(target.channel, target.auth)
        room = await target.channel.unary_unary(
            "/rooms.v1.RoomsService/GetRoom",
            request_serializer=rs.GetRoomRequest.SerializeToString,
            response_deserializer=room_pb2.Room.FromString,
        )(rs.GetRoomRequest(room_id=room_id), metadata=target.auth)
        assert room.valid_from.ToJsonString() == "1970-01-01T00:00:00Z"
        assert room.valid_until.ToJsonString() == "9999-01-01T00:00:00Z"
    finally:
        await pool.execute("DELETE FROM rooms WHERE room_id = $1", room_id)
        await pool.execute(
            "ALTER TABLE rooms"
            " ADD CONSTRAINT rooms_valid_from_finite_check CHECK (isfinite(valid_from))"
        )
        await pool.execute(
            "ALTER TABLE rooms"
            " ADD CONSTRAINT rooms_valid_until_finite_check CHECK (isfinite(valid_until))"
        )
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]
