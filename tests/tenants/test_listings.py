"""Listings and their page tokens never cross tenants."""

from __future__ import annotations

from rooms.v1 import (
    participant_pb2,
    room_pb2,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import every_page, unique
from tests.shared.errors import expect_error
from tests.tenants.observe import CONSUMER, INVALID, Tenants


async def test_listings_never_show_another_tenants_rooms(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    shared_user = unique("user")
    a_ids = []
    for index in range(5):
        room = await a.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=unique(f"a{index}"),
                participants=[participant_pb2.Participant(user_id=shared_user)],
            ),
            metadata=a.metadata,
        )
        a_ids.append(room.room_id)
    b_ids = []
    for index in range(3):
        room = await b.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=unique(f"b{index}"),
                participants=[participant_pb2.Participant(user_id=shared_user, role=CONSUMER)],
            ),
            metadata=b.metadata,
        )
        b_ids.append(room.room_id)

    # ListRooms: every state filter, paging one by one through everything B has.
    async def listed_by_b(state: room_pb2.RoomState.ValueType) -> list[str]:
        pages = await every_page(
            lambda token: b.rooms.ListRooms(
                rs.ListRoomsRequest(page_size=1, page_token=token, state=state),
                metadata=b.metadata,
            )
        )
        return [room.room_id for page in pages for room in page.rooms]

    for state in (
        room_pb2.ROOM_STATE_UNSPECIFIED,
        room_pb2.ROOM_STATE_OPEN,
        room_pb2.ROOM_STATE_SCHEDULED,
        room_pb2.ROOM_STATE_ENDED,
    ):
        seen = await listed_by_b(state)
        assert not set(seen) & set(a_ids), state
        if state in (room_pb2.ROOM_STATE_UNSPECIFIED, room_pb2.ROOM_STATE_OPEN):
            assert set(b_ids) <= set(seen)

    # ListRoomsForParticipant: the same identity is in rooms of both tenants.
    memberships = [
        m
        for found in await every_page(
            lambda token: b.participants.ListRoomsForParticipant(
                ps.ListRoomsForParticipantRequest(
                    user_id=shared_user, page_size=1, page_token=token
                ),
                metadata=b.metadata,
            )
        )
        for m in found.memberships
    ]
    assert all(m.role == CONSUMER for m in memberships)
    seen = [m.room.room_id for m in memberships]
    assert sorted(seen) == sorted(b_ids)
    found_a = await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=shared_user, page_size=500), metadata=a.metadata
    )
    assert sorted(m.room.room_id for m in found_a.memberships) == sorted(a_ids)


async def test_page_tokens_do_not_cross_tenants(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    user = unique("paged")
    room_id = unique("paged-room")
    for index in range(3):
        await a.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=room_id if index == 0 else unique("paged-more"),
                participants=[
                    participant_pb2.Participant(user_id=user),
                    participant_pb2.Participant(user_id=f"{user}-{index}"),
                ],
            ),
            metadata=a.metadata,
        )
    # B has the same room id and the same identity, so only the token's tenant differs.
    await b.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            participants=[
                participant_pb2.Participant(user_id=user),
                participant_pb2.Participant(user_id=f"{user}-0"),
                participant_pb2.Participant(user_id=f"{user}-9"),
            ],
        ),
        metadata=b.metadata,
    )

    rooms_page = await a.rooms.ListRooms(rs.ListRoomsRequest(page_size=1), metadata=a.metadata)
    roster_page = await a.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=1), metadata=a.metadata
    )
    memberships_page = await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=user, page_size=1), metadata=a.metadata
    )
    for token in (
        rooms_page.next_page_token,
        roster_page.next_page_token,
        memberships_page.next_page_token,
    ):
        assert token

    for call in (
        lambda: b.rooms.ListRooms(
            rs.ListRoomsRequest(page_size=1, page_token=rooms_page.next_page_token),
            metadata=b.metadata,
        ),
        lambda: b.participants.ListParticipants(
            ps.ListParticipantsRequest(
                room_id=room_id, page_size=1, page_token=roster_page.next_page_token
            ),
            metadata=b.metadata,
        ),
        lambda: b.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(
                user_id=user, page_size=1, page_token=memberships_page.next_page_token
            ),
            metadata=b.metadata,
        ),
    ):
        error = await expect_error(call(), INVALID, "INVALID_PAGE_TOKEN")
        assert error.metadata == {"field": "page_token"}

    # The tokens still work for A, which proves they were valid tokens.
    second = await a.participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room_id, page_size=1, page_token=roster_page.next_page_token
        ),
        metadata=a.metadata,
    )
    assert [p.user_id for p in second.participants] == [f"{user}-0"]
    await a.rooms.ListRooms(
        rs.ListRoomsRequest(page_size=1, page_token=rooms_page.next_page_token),
        metadata=a.metadata,
    )
    await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(
            user_id=user, page_size=1, page_token=memberships_page.next_page_token
        ),
        metadata=a.metadata,
    )
