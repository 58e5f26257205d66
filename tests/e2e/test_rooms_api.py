"""RoomsService end to end: the real server, the real generated client, real PostgreSQL."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0
from tests.helpers import expect_error, ts

INVALID = grpc.StatusCode.INVALID_ARGUMENT

if TYPE_CHECKING:
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub as Stub


def window(start: timedelta, end: timedelta) -> room_pb2.Room:
    return room_pb2.Room(valid_from=ts(start), valid_until=ts(end))


# ---- CreateRoom -------------------------------------------------------------


async def test_create_applies_the_defaults(rooms: Stub) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    assert len(room.room_id) == 26
    assert room.valid_from.ToDatetime() == T0.replace(tzinfo=None)
    # valid_until defaults to now + 180 days (not valid_from + 180 days).
    assert room.valid_until == ts(timedelta(days=180))
    assert room.create_time == room.update_time == ts()
    assert room.join_policy == room_pb2.JOIN_POLICY_INVITE_ONLY
    assert room.open_join_role == pp.ROLE_ATTENDEE
    assert room.state == room_pb2.ROOM_STATE_OPEN
    assert not room.pstn_dial_out_enabled
    assert room.etag
    assert room.participant_count == 0


async def test_create_with_everything(rooms: Stub) -> None:
    room_id = f"visit-{uuid.uuid4().hex[:8]}"
    request = rs.CreateRoomRequest(
        room_id=room_id,
        room=room_pb2.Room(
            valid_from=ts(timedelta(hours=3)),
            valid_until=ts(timedelta(hours=4)),
            pstn_dial_out_enabled=True,
            join_policy=room_pb2.JOIN_POLICY_OPEN,
            open_join_role=pp.ROLE_CONSUMER,
            metadata={"appointment": "A-17", "clinic/site": "north"},
        ),
        participants=[
            pp.Participant(user_id="doctor", role=pp.ROLE_PRESENTER),
            pp.Participant(user_id="patient"),
        ],
    )
    request.room.early_entry_duration.FromTimedelta(timedelta(minutes=15))
    room = await rooms.CreateRoom(request)
    assert room.room_id == room_id
    assert room.state == room_pb2.ROOM_STATE_SCHEDULED
    assert room.participant_count == 2
    assert dict(room.metadata) == {"appointment": "A-17", "clinic/site": "north"}
    assert room.early_entry_duration.ToTimedelta() == timedelta(minutes=15)
    assert room.open_join_role == pp.ROLE_CONSUMER
    assert await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id)) == room


async def test_create_is_idempotent_with_a_request_id(rooms: Stub, clock: ManualClock) -> None:
    request = rs.CreateRoomRequest(
        request_id=str(uuid.uuid4()), room=window(timedelta(0), timedelta(days=1))
    )
    first = await rooms.CreateRoom(request)
    clock.advance(timedelta(seconds=5))
    again = await rooms.CreateRoom(request)
    assert again.room_id == first.room_id
    assert again.create_time == first.create_time

    different = rs.CreateRoomRequest()
    different.CopyFrom(request)
    different.room.pstn_dial_out_enabled = True
    error = await expect_error(rooms.CreateRoom(different), INVALID, "REQUEST_ID_REUSED")
    assert error.metadata["request_id"] == request.request_id
    # Like every other bad input, it names the field in a BadRequest.
    assert error.fields == ["request_id"]


async def test_caller_chosen_id_taken(rooms: Stub) -> None:
    room_id = f"taken-{uuid.uuid4().hex[:8]}"
    await rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id))
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id)),
        grpc.StatusCode.ALREADY_EXISTS,
        "ROOM_ALREADY_EXISTS",
    )
    assert error.metadata == {"room_id": room_id}


@pytest.mark.parametrize(
    ("room", "field", "rule"),
    [
        (window(timedelta(0), timedelta(days=181)), "room.valid_until", "WINDOW_TOO_LONG"),
        (window(-timedelta(days=2), -timedelta(days=1)), "room.valid_until", "ENDS_IN_PAST"),
        (window(timedelta(days=181), timedelta(days=182)), "room.valid_from", "STARTS_TOO_LATE"),
        (window(timedelta(days=2), timedelta(days=1)), "room.valid_until", "ENDS_BEFORE_START"),
    ],
)
async def test_window_rules(rooms: Stub, room: room_pb2.Room, field: str, rule: str) -> None:
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(room=room)), INVALID, "INVALID_WINDOW"
    )
    assert field in error.fields
    assert error.metadata["field"] == field
    assert error.metadata["rule"] == rule


async def test_a_180_day_window_and_a_slightly_past_start_are_accepted(rooms: Stub) -> None:
    room = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room=window(-timedelta(seconds=30), timedelta(days=180) - timedelta(seconds=30))
        )
    )
    assert room.state == room_pb2.ROOM_STATE_OPEN


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (rs.CreateRoomRequest(room_id="-bad"), "room_id"),
        (rs.CreateRoomRequest(room_id="x" * 129), "room_id"),
        (rs.CreateRoomRequest(room_id="has space"), "room_id"),
        (rs.CreateRoomRequest(request_id="a b"), "request_id"),
        (rs.CreateRoomRequest(room=room_pb2.Room(join_policy=7)), "room.join_policy"),  # type: ignore[arg-type]
        (rs.CreateRoomRequest(room=room_pb2.Room(open_join_role=42)), "room.open_join_role"),  # type: ignore[arg-type]
        (rs.CreateRoomRequest(room=room_pb2.Room(metadata={"": "x"})), "room.metadata['']"),
        (
            rs.CreateRoomRequest(participants=[pp.Participant(user_id="a b")]),
            "participants[0].user_id",
        ),
        (
            rs.CreateRoomRequest(
                room=room_pb2.Room(valid_from=timestamp_pb2.Timestamp(seconds=-(10**12)))
            ),
            "room.valid_from",
        ),
    ],
)
async def test_bad_input_names_the_field(
    rooms: Stub, request_: rs.CreateRoomRequest, field: str
) -> None:
    error = await expect_error(rooms.CreateRoom(request_), INVALID, "INVALID_ARGUMENT")
    assert field in error.fields, error


async def test_every_bad_field_is_reported_at_once(rooms: Stub) -> None:
    request = rs.CreateRoomRequest(
        room_id="-bad",
        room=room_pb2.Room(metadata={"ok": "\x00"}),
        participants=[pp.Participant(user_id="")],
    )
    error = await expect_error(rooms.CreateRoom(request), INVALID, "INVALID_ARGUMENT")
    assert set(error.fields) == {"room_id", "room.metadata['ok']", "participants[0].user_id"}


# ---- GetRoom / DeleteRoom --------------------------------------------------


async def test_get_unknown_room(rooms: Stub) -> None:
    error = await expect_error(
        rooms.GetRoom(rs.GetRoomRequest(room_id="nope")),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": "nope"}
    await expect_error(rooms.GetRoom(rs.GetRoomRequest(room_id="")), INVALID, "INVALID_ARGUMENT")


async def test_delete_twice_succeeds_and_unknown_is_not_found(rooms: Stub) -> None:
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


async def test_delete_with_etag(rooms: Stub) -> None:
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


async def test_update_with_a_mask(rooms: Stub, clock: ManualClock) -> None:
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


async def test_update_without_mask_changes_populated_fields(rooms: Stub) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest(room=room_pb2.Room(metadata={"keep": "me"})))
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, join_policy=room_pb2.JOIN_POLICY_OPEN)
        )
    )
    assert updated.join_policy == room_pb2.JOIN_POLICY_OPEN
    assert dict(updated.metadata) == {"keep": "me"}


async def test_update_errors(rooms: Stub) -> None:
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


# ---- ListRooms -------------------------------------------------------------


async def _make_rooms(rooms: Stub, clock: ManualClock, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        clock.advance(timedelta(seconds=1))
        ids.append((await rooms.CreateRoom(rs.CreateRoomRequest())).room_id)
    return ids


@pytest.mark.usefixtures("clean")
async def test_list_newest_first_across_pages(rooms: Stub, clock: ManualClock) -> None:
    ids = await _make_rooms(rooms, clock, 7)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await rooms.ListRooms(rs.ListRoomsRequest(page_size=3, page_token=token))
        seen += [room.room_id for room in page.rooms]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


@pytest.mark.usefixtures("clean")
async def test_list_page_sizes(rooms: Stub, clock: ManualClock) -> None:
    await _make_rooms(rooms, clock, 3)
    page = await rooms.ListRooms(rs.ListRoomsRequest())
    assert len(page.rooms) == 3 and not page.next_page_token
    page = await rooms.ListRooms(rs.ListRoomsRequest(page_size=100_000))
    assert len(page.rooms) == 3
    error = await expect_error(
        rooms.ListRooms(rs.ListRoomsRequest(page_size=-1)), INVALID, "INVALID_ARGUMENT"
    )
    assert error.fields == ["page_size"]


@pytest.mark.usefixtures("clean")
async def test_list_by_state(rooms: Stub, clock: ManualClock) -> None:
    scheduled = await rooms.CreateRoom(
        rs.CreateRoomRequest(room=window(timedelta(hours=1), timedelta(hours=2)))
    )
    open_now = await rooms.CreateRoom(
        rs.CreateRoomRequest(room=window(timedelta(0), timedelta(hours=1)))
    )
    ending = await rooms.CreateRoom(
        rs.CreateRoomRequest(room=window(timedelta(0), timedelta(minutes=30)))
    )
    clock.advance(timedelta(minutes=45))

    async def ids(state: room_pb2.RoomState.ValueType) -> set[str]:
        page = await rooms.ListRooms(rs.ListRoomsRequest(state=state))
        return {room.room_id for room in page.rooms}

    assert await ids(room_pb2.ROOM_STATE_SCHEDULED) == {scheduled.room_id}
    assert await ids(room_pb2.ROOM_STATE_OPEN) == {open_now.room_id}
    assert await ids(room_pb2.ROOM_STATE_ENDED) == {ending.room_id}
    await expect_error(rooms.ListRooms(rs.ListRoomsRequest(state=9)), INVALID, "INVALID_ARGUMENT")  # type: ignore[arg-type]


@pytest.mark.usefixtures("clean")
async def test_page_tokens_are_tamper_evident_and_bound_to_their_call(
    rooms: Stub, clock: ManualClock
) -> None:
    await _make_rooms(rooms, clock, 3)
    token = (await rooms.ListRooms(rs.ListRoomsRequest(page_size=1))).next_page_token
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[5] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (tampered, "garbage", token[:-3], "%%%"):
        error = await expect_error(
            rooms.ListRooms(rs.ListRoomsRequest(page_size=1, page_token=bad)),
            INVALID,
            "INVALID_PAGE_TOKEN",
        )
        assert error.fields == ["page_token"]
    # Another filter: the token belongs to the unfiltered list.
    await expect_error(
        rooms.ListRooms(rs.ListRoomsRequest(page_token=token, state=room_pb2.ROOM_STATE_OPEN)),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )


# ---- ListRoles -------------------------------------------------------------


async def test_list_roles_covers_every_role(rooms: Stub) -> None:
    roles = (await rooms.ListRoles(rs.ListRolesRequest())).roles
    assert {r.role for r in roles} == {
        pp.ROLE_PRESENTER,
        pp.ROLE_ATTENDEE,
        pp.ROLE_CONSUMER,
        pp.ROLE_COLLABORATOR,
    }
