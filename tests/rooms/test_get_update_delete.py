"""GetRoom, UpdateRoom and DeleteRoom end to end: unknown and deleted rooms, update
masks, and etags as preconditions."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import field_mask_pb2
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.shared.calls import Rooms, ts
from tests.shared.errors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


# ---- GetRoom / DeleteRoom --------------------------------------------------


async def test_get_unknown_room(rooms: Rooms) -> None:
    error = await expect_error(
        rooms.GetRoom(rs.GetRoomRequest(room_id="nope")),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": "nope"}
    await expect_error(rooms.GetRoom(rs.GetRoomRequest(room_id="")), INVALID, "INVALID_ARGUMENT")


async def test_delete_twice_succeeds_and_unknown_is_not_found(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    await expect_error(
        rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id)),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    await expect_error(
        rooms.DeleteRoom(rs.DeleteRoomRequest(room_id="never-was")),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    # A deleted room's id is not reused.
    await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(room_id=room.room_id)),
        grpc.StatusCode.ALREADY_EXISTS,
        "ROOM_ALREADY_EXISTS",
    )


async def test_delete_with_etag(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    changed = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, pstn_dial_out_enabled=True),
            update_mask=field_mask_pb2.FieldMask(paths=["pstn_dial_out_enabled"]),
        )
    )
    error = await expect_error(
        rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id, etag=room.etag)),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata["etag"] == changed.etag
    assert error.preconditions[0].type == "ETAG"
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id, etag=changed.etag))


# ---- UpdateRoom ------------------------------------------------------------


async def test_update_with_a_mask(rooms: Rooms, clock: ManualClock) -> None:
    room = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room=room_pb2.Room(metadata={"a": "1"}, valid_until=ts(timedelta(days=1)))
        )
    )
    clock.advance(timedelta(minutes=1))
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room.room_id,
                etag=room.etag,
                valid_until=ts(timedelta(days=2)),
                metadata={"b": "2"},
                pstn_dial_out_enabled=True,  # not in the mask: ignored
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until", "metadata"]),
        )
    )
    assert updated.valid_until == ts(timedelta(days=2))
    assert dict(updated.metadata) == {"b": "2"}
    assert not updated.pstn_dial_out_enabled
    assert updated.etag != room.etag
    assert updated.update_time == ts(timedelta(minutes=1))
    assert updated.create_time == room.create_time
    assert await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id)) == updated


async def test_update_without_mask_changes_populated_fields(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest(room=room_pb2.Room(metadata={"keep": "me"})))
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, join_policy=room_pb2.JOIN_POLICY_OPEN)
        )
    )
    assert updated.join_policy == room_pb2.JOIN_POLICY_OPEN
    assert dict(updated.metadata) == {"keep": "me"}


async def test_update_errors(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    mask = field_mask_pb2.FieldMask(paths=["pstn_dial_out_enabled"])
    await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, pstn_dial_out_enabled=True), update_mask=mask
        )
    )
    # A stale etag.
    error = await expect_error(
        rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id, etag=room.etag), update_mask=mask
            )
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata["room_id"] == room.room_id
    # An unknown mask path.
    error = await expect_error(
        rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id),
                update_mask=field_mask_pb2.FieldMask(paths=["create_time"]),
            )
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["update_mask.paths[0]"]
    # The window rules apply to the result.
    error = await expect_error(
        rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id, valid_until=ts(timedelta(days=200))),
                update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
            )
        ),
        INVALID,
        "INVALID_WINDOW",
    )
    assert error.metadata["rule"] == "WINDOW_TOO_LONG"
    await expect_error(
        rooms.UpdateRoom(
            rs.UpdateRoomRequest(room=room_pb2.Room(room_id="missing"), update_mask=mask)
        ),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
