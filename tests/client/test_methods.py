"""The Python client against the real server: every method, and the paging
iterators that follow every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.client import RoomsClient
from rooms.errors import (
    ParticipantNotFound,
    RoomNotFound,
)
from rooms.v1 import admission_pb2 as adm
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.client.proxy import LIST_ROOMS, Proxy
from tests.conftest import T0
from tests.shared.calls import unique


async def test_create_get_update_delete(client: RoomsClient) -> None:
    room_id = unique("visit")
    room = await client.create_room(
        room_id=room_id,
        valid_from=T0 + timedelta(hours=3),
        valid_until=T0 + timedelta(hours=4),
        join_policy="open",
        open_join_role="consumer",
        pstn_dial_out_enabled=True,
        early_entry=timedelta(minutes=15),
        metadata={"appointment": "A-17"},
        participants={"dr-house": "presenter", "patient-7": pp.ROLE_ATTENDEE},
    )
    assert room.room_id == room_id
    assert room.state == room_pb2.ROOM_STATE_SCHEDULED
    assert room.join_policy == room_pb2.JOIN_POLICY_OPEN
    assert room.open_join_role == pp.ROLE_CONSUMER
    assert room.pstn_dial_out_enabled
    assert room.early_entry_duration.ToTimedelta() == timedelta(minutes=15)
    assert dict(room.metadata) == {"appointment": "A-17"}
    assert room.participant_count == 2
    assert await client.get_room(room_id) == room

    updated = await client.update_room(
        room_id,
        valid_until=T0 + timedelta(hours=5),
        join_policy="invite-only",
        metadata={"appointment": "A-18"},
        etag=room.etag,
    )
    assert updated.valid_until.ToDatetime() == (T0 + timedelta(hours=5)).replace(tzinfo=None)
    assert updated.join_policy == room_pb2.JOIN_POLICY_INVITE_ONLY
    assert dict(updated.metadata) == {"appointment": "A-18"}
    # Only the fields given change.
    assert updated.open_join_role == pp.ROLE_CONSUMER
    assert updated.pstn_dial_out_enabled
    assert updated.etag != room.etag

    await client.delete_room(room_id, etag=updated.etag)
    await client.delete_room(room_id)  # deleting again succeeds
    with pytest.raises(RoomNotFound):
        await client.get_room(room_id)


async def test_update_needs_a_field(client: RoomsClient) -> None:
    with pytest.raises(ValueError, match="at least one field"):
        await client.update_room("anything")


async def test_unknown_role_name_is_refused_before_calling(client: RoomsClient) -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        await client.create_room(participants={"someone": "boss"})


async def test_participants_and_authorize_join(client: RoomsClient) -> None:
    room = await client.create_room(valid_from=T0 + timedelta(hours=2))
    added = await client.add_or_update_participants(
        room.room_id, {"doctor": "presenter", "patient": "attendee"}, etag=room.etag
    )
    assert [(p.user_id, p.role) for p in added.participants] == [
        ("doctor", pp.ROLE_PRESENTER),
        ("patient", pp.ROLE_ATTENDEE),
    ]
    assert added.etag != room.etag
    # Plain ids are attendees; an upsert changes a role.
    changed = await client.add_or_update_participants(room.room_id, ["nurse"])
    assert changed.participants[0].role == pp.ROLE_ATTENDEE
    await client.add_or_update_participants(room.room_id, {"nurse": "collaborator"})
    nurse = await client.get_participant(room.room_id, "nurse")
    assert nurse.role == pp.ROLE_COLLABORATOR

    decision = await client.authorize_join(room.room_id, "patient")
    assert not decision.allowed
    assert decision.reason == adm.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert decision.opens_in.ToTimedelta() == timedelta(hours=2)
    assert decision.message == "The room opens in 2 hours."
    refused = await client.authorize_join(room.room_id, "stranger")
    assert refused.reason == adm.JOIN_DECISION_REASON_NOT_INVITED

    removed = await client.remove_participants(room.room_id, ["patient", "absent"])
    assert removed.removed_count == 1
    with pytest.raises(ParticipantNotFound) as caught:
        await client.get_participant(room.room_id, "patient")
    assert caught.value.metadata == {"room_id": room.room_id, "user_id": "patient"}


async def test_authorize_join_allowed(client: RoomsClient) -> None:
    room = await client.create_room(participants={"host": "presenter"})
    decision = await client.authorize_join(room.room_id, "host")
    assert decision.allowed
    assert decision.reason == adm.JOIN_DECISION_REASON_ALLOWED
    assert decision.role == pp.ROLE_PRESENTER
    assert adm.CAPABILITY_SHARE_SCREEN in decision.capabilities


async def test_list_roles(client: RoomsClient) -> None:
    roles = {definition.role: definition for definition in await client.list_roles()}
    assert set(roles) == {
        pp.ROLE_PRESENTER,
        pp.ROLE_ATTENDEE,
        pp.ROLE_CONSUMER,
        pp.ROLE_COLLABORATOR,
    }
    assert roles[pp.ROLE_PRESENTER].name == "presenter"
    assert adm.CAPABILITY_MUTE_OTHERS in roles[pp.ROLE_PRESENTER].capabilities
    assert adm.CAPABILITY_SPEAK not in roles[pp.ROLE_CONSUMER].capabilities


async def test_list_rooms_follows_every_page(
    server: RunningServer, clean: None, clock: ManualClock, proxy: Proxy
) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as client:
        created = []
        for _ in range(7):
            created.append((await client.create_room()).room_id)
            clock.advance(timedelta(seconds=1))
        listed = [room.room_id async for room in client.list_rooms(page_size=3)]
        assert listed == created[::-1]  # newest first, each once
        assert len(proxy.of(LIST_ROOMS)) == 3  # 3 + 3 + 1: really paged

        # A filter by state, by name or by number.
        await client.create_room(valid_from=T0 + timedelta(days=1))
        scheduled = [room async for room in client.list_rooms(state="scheduled", page_size=2)]
        assert [room.state for room in scheduled] == [room_pb2.ROOM_STATE_SCHEDULED]
        opened = [r async for r in client.list_rooms(state=room_pb2.ROOM_STATE_OPEN)]
        assert {room.room_id for room in opened} == set(created)


async def test_list_participants_follows_every_page(client: RoomsClient) -> None:
    room = await client.create_room()
    people = {f"user-{index:02d}": "attendee" for index in range(7)}
    people["user-03"] = "presenter"
    await client.add_or_update_participants(room.room_id, people)
    listed = [p.user_id async for p in client.list_participants(room.room_id, page_size=2)]
    assert listed == sorted(people)
    presenters = [
        p.user_id
        async for p in client.list_participants(room.room_id, role="presenter", page_size=1)
    ]
    assert presenters == ["user-03"]


async def test_list_rooms_for_participant_follows_every_page(client: RoomsClient) -> None:
    user = unique("member")
    starts = [timedelta(hours=hours) for hours in (5, -1, 2, 9)]
    room_ids = {}
    for start in starts:
        room = await client.create_room(
            valid_from=T0 + start,
            valid_until=T0 + timedelta(days=1),
            participants={user: "collaborator"},
        )
        room_ids[start] = room.room_id
    memberships = [m async for m in client.list_rooms_for_participant(user, page_size=1)]
    assert [m.room.room_id for m in memberships] == [room_ids[s] for s in sorted(starts)]
    assert {m.role for m in memberships} == {pp.ROLE_COLLABORATOR}
    scheduled = [m async for m in client.list_rooms_for_participant(user, state="scheduled")]
    assert len(scheduled) == 3
