"""ListRooms and ListRoles end to end: newest first across pages, page sizes, the state
filter, page tokens that are tamper-evident and bound to their call, and every role."""

from __future__ import annotations

import base64
from datetime import timedelta

import grpc
import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.shared.calls import Rooms, every_page, window
from tests.shared.errors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


# ---- ListRooms -------------------------------------------------------------


async def _make_rooms(rooms: Rooms, clock: ManualClock, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        clock.advance(timedelta(seconds=1))
        ids.append((await rooms.CreateRoom(rs.CreateRoomRequest())).room_id)
    return ids


@pytest.mark.usefixtures("clean")
async def test_list_newest_first_across_pages(rooms: Rooms, clock: ManualClock) -> None:
    ids = await _make_rooms(rooms, clock, 7)
    pages = await every_page(
        lambda token: rooms.ListRooms(rs.ListRoomsRequest(page_size=3, page_token=token))
    )
    seen = [room.room_id for page in pages for room in page.rooms]
    assert seen == list(reversed(ids))
    assert len(pages) == 3


@pytest.mark.usefixtures("clean")
async def test_list_page_sizes(rooms: Rooms, clock: ManualClock) -> None:
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
async def test_list_by_state(rooms: Rooms, clock: ManualClock) -> None:
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
    rooms: Rooms, clock: ManualClock
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


async def test_list_roles_covers_every_role(rooms: Rooms) -> None:
    roles = (await rooms.ListRoles(rs.ListRolesRequest())).roles
    assert {r.role for r in roles} == {
        pp.ROLE_PRESENTER,
        pp.ROLE_ATTENDEE,
        pp.ROLE_CONSUMER,
        pp.ROLE_COLLABORATOR,
    }
