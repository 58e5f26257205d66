"""Room capacities, seat ids and knock arguments attacked from outside: extreme values,
unknown enum numbers and garbage ids are refused by name and store nothing."""

from __future__ import annotations

from typing import Any

import grpc
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import unique
from tests.shared.errors import LoggedErrors, rich_error
from tests.shared.outside_in import INT32_MAX, INT32_MIN, Code, Two, no_errors, open_room, refused


async def test_extreme_capacities_are_named_and_store_nothing(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    presenter = pp.ROLE_PRESENTER
    cap = room_pb2.RoleCapacity
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"max_participants": INT32_MAX}, "room.max_participants", "ABOVE_CEILING"),
        ({"max_participants": INT32_MIN}, "room.max_participants", "NEGATIVE"),
        (
            {"role_capacity": [cap(role=presenter, reserved=INT32_MAX)]},
            "room.role_capacity",
            "RESERVED_ABOVE_ROOM",
        ),
        (
            {
                "role_capacity": [
                    cap(role=presenter, max_participants=INT32_MAX, reserved=INT32_MAX)
                ]
            },
            "room.role_capacity[0].max_participants",
            "ABOVE_CEILING",
        ),
        (
            {"role_capacity": [cap(role=presenter, reserved=-1)]},
            "room.role_capacity[0].reserved",
            "NEGATIVE",
        ),
        (
            {"role_capacity": [cap(role=presenter, max_participants=INT32_MIN)]},
            "room.role_capacity[0].max_participants",
            "NEGATIVE",
        ),
        (
            {"role_capacity": [cap(role=99, max_participants=1)]},  # type: ignore[arg-type]
            "room.role_capacity[0].role",
            "",
        ),
        (
            {"role_capacity": [cap(role=-5, max_participants=1)]},  # type: ignore[arg-type]
            "room.role_capacity[0].role",
            "",
        ),
        (
            # Unspecified is Attendee on input, so this lists Attendee twice.
            {
                "role_capacity": [
                    cap(role=pp.ROLE_ATTENDEE, max_participants=1),
                    cap(max_participants=2),
                ]
            },
            "room.role_capacity[1].role",
            "DUPLICATE_ROLE",
        ),
    ]
    for settings, field, rule in cases:
        room_id = unique("extreme")
        error = await refused(
            a.rooms.CreateRoom(
                rs.CreateRoomRequest(room_id=room_id, room=room_pb2.Room(**settings)),
                metadata=a.metadata,
            )
        )
        assert error.fields[0] == field, (settings, error)
        assert error.metadata.get("rule", "") == rule, (settings, error)
        await refused(
            a.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=a.metadata),
            Code.NOT_FOUND,
        )
    # The same values through UpdateRoom leave the room as it was.
    room_id = await open_room(a)
    before = await a.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=a.metadata)
    for settings, field, _ in cases:
        update = rs.UpdateRoomRequest(room=room_pb2.Room(room_id=room_id, **settings))
        update.update_mask.paths.extend(settings)
        error = await refused(a.rooms.UpdateRoom(update, metadata=a.metadata))
        assert error.fields[0] == field, (settings, error)
    after = await a.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=a.metadata)
    assert after == before
    no_errors(server_errors)


async def test_garbage_seat_ids_and_knock_arguments(two: Two, server_errors: LoggedErrors) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    for seat_id in ("", "x" * 10_000, "../../etc", "é" * 26, "0" * 26, "' OR 1=1 --", "\x00" * 26):
        for call in (
            a.participants.RenewSeat(ps.RenewSeatRequest(seat_id=seat_id), metadata=a.metadata),
            a.participants.ReleaseSeat(ps.ReleaseSeatRequest(seat_id=seat_id), metadata=a.metadata),
        ):
            try:
                await call
            except grpc.aio.AioRpcError as failure:
                rich = rich_error(failure)
                assert rich.code in (Code.INVALID_ARGUMENT, Code.NOT_FOUND), (seat_id[:20], rich)
                assert rich.domain == "rooms.v1" and rich.reason, rich
    for role in (99, -1, INT32_MAX):
        error = await refused(
            a.participants.AdmitParticipant(
                ps.AdmitParticipantRequest(room_id=room_id, user_id="guest", role=role),  # type: ignore[arg-type]
                metadata=a.metadata,
            )
        )
        assert error.fields == ["role"], (role, error)
    for page_size in (-1, INT32_MIN):
        for list_call in (
            a.participants.ListKnocks(
                ps.ListKnocksRequest(room_id=room_id, page_size=page_size), metadata=a.metadata
            ),
            a.participants.ListSeats(
                ps.ListSeatsRequest(room_id=room_id, page_size=page_size), metadata=a.metadata
            ),
        ):
            error = await refused(list_call)
            assert error.fields == ["page_size"], error
    for list_call in (
        a.participants.ListKnocks(
            ps.ListKnocksRequest(room_id=room_id, page_token="garbage" * 100), metadata=a.metadata
        ),
        a.participants.ListSeats(
            ps.ListSeatsRequest(room_id=room_id, page_token="garbage"), metadata=a.metadata
        ),
    ):
        error = await refused(list_call)
        assert error.fields == ["page_token"], error
    # INT32_MAX page sizes are clamped, not refused.
    await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id, page_size=INT32_MAX), metadata=a.metadata
    )
    # A ban of a garbage identity is named, and bans no one.
    error = await refused(
        a.participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["bad id"], ban=True),
            metadata=a.metadata,
        )
    )
    assert error.fields == ["user_ids[0]"], error
    no_errors(server_errors)
