"""The waiting room end to end: knocks recorded by AuthorizeJoin, a host's ListKnocks,
AdmitParticipant and DenyParticipant, the etag, the change stream, and removal.
The real server, the real generated client (through `rooms.client`), real PostgreSQL
and the shared manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from rooms.client import RoomsClient
from rooms.errors import EtagMismatch, InvalidArgument, RoomNotFound
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import waiting_room_pb2 as wr

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.conftest import T0
from tests.shared.calls import connect
from tests.shared.errors import rich_error

WAITING = ad.JOIN_DECISION_REASON_WAITING_FOR_ADMISSION
DENIED = ad.JOIN_DECISION_REASON_DENIED
ALLOWED = ad.JOIN_DECISION_REASON_ALLOWED
T = ev.RoomEventType


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        yield client


async def open_room(client: RoomsClient, **settings: Any) -> str:
    room = await client.create_room(
        join_policy="open",
        waiting_room_enabled=True,
        participants={"host": "presenter", "guest": "attendee"},
        **settings,
    )
    assert room.waiting_room_enabled
    return room.room_id


async def knocks(client: RoomsClient, room_id: str, **kw: Any) -> list[wr.Knock]:
    return [k async for k in client.list_knocks(room_id, **kw)]


async def test_presenters_walk_in_everyone_else_knocks(client: RoomsClient) -> None:
    room_id = await open_room(client)
    host = await client.authorize_join(room_id, "host")
    assert host.allowed and host.reason == ALLOWED
    assert ad.CAPABILITY_ADMIT_PARTICIPANTS in host.capabilities
    for user in ("guest", "walk-in"):
        answer = await client.authorize_join(room_id, user, display_name=f"{user} name")
        assert (answer.allowed, answer.reason) == (False, WAITING)
        assert answer.role == pp.ROLE_ATTENDEE
        assert list(answer.capabilities) == []
    queue = await knocks(client, room_id, state="waiting")
    assert [(k.user_id, k.display_name, k.state) for k in queue] == [
        ("guest", "guest name", wr.KNOCK_STATE_WAITING),
        ("walk-in", "walk-in name", wr.KNOCK_STATE_WAITING),
    ]
    assert queue[0].first_knock_time.ToDatetime().replace(tzinfo=T0.tzinfo) == T0
    assert not queue[0].HasField("decide_time")


async def test_a_second_knock_keeps_the_first_time_and_adds_no_event(
    client: RoomsClient, clock: ManualClock
) -> None:
    room_id = await open_room(client)
    await client.authorize_join(room_id, "guest", display_name="Guest")
    before = (await client.get_room(room_id)).last_event_revision
    clock.advance(timedelta(minutes=2))
    await client.authorize_join(room_id, "guest")  # no name this time: the name is kept
    (knock,) = await knocks(client, room_id)
    assert knock.display_name == "Guest"
    assert knock.last_knock_time.ToDatetime() - knock.first_knock_time.ToDatetime() == timedelta(
        minutes=2
    )
    room = await client.get_room(room_id)
    assert room.last_event_revision == before
    types = [e.type async for e in client.list_room_events(room_id)]
    assert types.count(T.ROOM_EVENT_TYPE_PARTICIPANT_KNOCKED) == 1


async def test_admit_lets_in_with_the_chosen_role_and_changes_the_etag(
    client: RoomsClient,
) -> None:
    room_id = await open_room(client)
    await client.authorize_join(room_id, "guest")
    etag = (await client.get_room(room_id)).etag
    admitted = await client.admit_participant(room_id, "guest", role="collaborator", etag=etag)
    assert admitted.knock.state == wr.KNOCK_STATE_ADMITTED
    assert admitted.knock.role == pp.ROLE_COLLABORATOR
    assert admitted.knock.HasField("decide_time")
    assert admitted.etag != etag
    answer = await client.authorize_join(room_id, "guest")
    assert (answer.allowed, answer.role) == (True, pp.ROLE_COLLABORATOR)
    assert ad.CAPABILITY_SHARE_SCREEN in answer.capabilities
    # The same decision again changes nothing, not even the etag.
    again = await client.admit_participant(room_id, "guest", role="collaborator")
    assert again.etag == admitted.etag
    # An etag from before the admission is refused.
    with pytest.raises(EtagMismatch) as caught:
        await client.deny_participant(room_id, "guest", etag=etag)
    assert caught.value.metadata["etag"] == admitted.etag


async def test_admit_without_a_role_gives_the_role_they_would_have_had(
    client: RoomsClient,
) -> None:
    room_id = await open_room(client, open_join_role="consumer")
    admitted = await client.admit_participant(room_id, "early-bird")  # never knocked
    assert admitted.knock.role == pp.ROLE_CONSUMER
    assert not admitted.knock.HasField("first_knock_time")
    answer = await client.authorize_join(room_id, "early-bird")
    assert (answer.allowed, answer.role) == (True, pp.ROLE_CONSUMER)


async def test_deny_until_admitted_later(client: RoomsClient) -> None:
    room_id = await open_room(client)
    await client.authorize_join(room_id, "guest")
    denied = await client.deny_participant(room_id, "guest")
    assert denied.knock.state == wr.KNOCK_STATE_DENIED
    answer = await client.authorize_join(room_id, "guest")
    assert (answer.allowed, answer.reason) == (False, DENIED)
    assert [k.user_id for k in await knocks(client, room_id, state="waiting")] == []
    assert [k.user_id for k in await knocks(client, room_id, state="denied")] == ["guest"]
    await client.admit_participant(room_id, "guest")
    assert (await client.authorize_join(room_id, "guest")).allowed


async def test_the_window_and_the_policy_come_first(
    client: RoomsClient, clock: ManualClock
) -> None:
    invite_only = await client.create_room(
        waiting_room_enabled=True, participants={"guest": "attendee"}
    )
    stranger = await client.authorize_join(invite_only.room_id, "stranger")
    assert stranger.reason == ad.JOIN_DECISION_REASON_NOT_INVITED
    assert (await client.authorize_join(invite_only.room_id, "guest")).reason == WAITING
    assert [k.user_id for k in await knocks(client, invite_only.room_id)] == ["guest"]

    later = await client.create_room(
        join_policy="open",
        waiting_room_enabled=True,
        valid_from=T0 + timedelta(hours=1),
        valid_until=T0 + timedelta(hours=2),
    )
    early = await client.authorize_join(later.room_id, "guest")
    assert early.reason == ad.JOIN_DECISION_REASON_NOT_YET_OPEN
    clock.advance(timedelta(hours=3))
    assert (await client.authorize_join(later.room_id, "guest")).reason == (
        ad.JOIN_DECISION_REASON_ENDED
    )
    assert await knocks(client, later.room_id) == []


async def test_a_room_without_waiting_room_records_nothing(client: RoomsClient) -> None:
    room = await client.create_room(join_policy="open")
    assert (await client.authorize_join(room.room_id, "guest")).allowed
    assert await knocks(client, room.room_id) == []
    # Turning it on makes the next guest knock.
    await client.update_room(room.room_id, waiting_room_enabled=True)
    assert (await client.authorize_join(room.room_id, "guest")).reason == WAITING


async def test_a_watcher_sees_a_knock_arrive_live_then_the_decision(
    client: RoomsClient,
) -> None:
    room_id = await open_room(client)
    start = (await client.get_room(room_id)).last_event_revision
    stream = client.watch_room(room_id, after_revision=start)

    async def next_event() -> ev.RoomEvent:
        async with asyncio.timeout(20):
            return await anext(stream)

    pending = asyncio.ensure_future(next_event())
    await client.authorize_join(room_id, "guest", display_name="Ms Guest")
    knocked = await pending
    assert knocked.type == T.ROOM_EVENT_TYPE_PARTICIPANT_KNOCKED
    assert (knocked.participant.user_id, knocked.participant.role) == ("guest", pp.ROLE_ATTENDEE)
    assert knocked.display_name == "Ms Guest"
    await client.admit_participant(room_id, "guest")
    admitted = await next_event()
    assert admitted.type == T.ROOM_EVENT_TYPE_PARTICIPANT_ADMITTED
    assert admitted.participant.role == pp.ROLE_ATTENDEE
    await client.deny_participant(room_id, "walk-in")
    assert (await next_event()).type == T.ROOM_EVENT_TYPE_PARTICIPANT_DENIED
    await stream.aclose()  # type: ignore[attr-defined]


async def test_removal_withdraws_an_admission(client: RoomsClient) -> None:
    room_id = await open_room(client)
    await client.admit_participant(room_id, "walk-in")
    await client.admit_participant(room_id, "guest")
    before = (await client.get_room(room_id)).etag
    # walk-in is not on the roster: nothing is removed from it, yet its admission goes.
    removed = await client.remove_participants(room_id, ["walk-in", "guest"])
    assert removed.removed_count == 1
    assert removed.etag != before
    assert (await client.authorize_join(room_id, "walk-in")).reason == WAITING
    events = [e async for e in client.list_room_events(room_id, newest_first=True)]
    revoked = [
        e.participant.user_id for e in events if e.type == T.ROOM_EVENT_TYPE_ADMISSION_REVOKED
    ]
    assert sorted(revoked) == ["guest", "walk-in"]


async def test_list_knocks_pages_oldest_first_with_signed_tokens(
    client: RoomsClient, clock: ManualClock, server: RunningServer
) -> None:
    room_id = await open_room(client)
    for index in range(5):
        clock.advance(timedelta(seconds=1))
        await client.authorize_join(room_id, f"g{4 - index}")
    listed = await knocks(client, room_id, page_size=2)
    assert [k.user_id for k in listed] == ["g4", "g3", "g2", "g1", "g0"]
    async with connect(server.port) as stubs:
        from rooms.v1 import participants_service_pb2 as ps

        stub = stubs.participants
        page = await stub.ListKnocks(ps.ListKnocksRequest(room_id=room_id, page_size=2))
        assert page.etag == (await client.get_room(room_id)).etag
        other = await client.create_room(join_policy="open", waiting_room_enabled=True)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListKnocks(
                ps.ListKnocksRequest(
                    room_id=other.room_id, page_size=2, page_token=page.next_page_token
                )
            )
        error = rich_error(caught.value)
        assert (error.code, error.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PAGE_TOKEN",
        )


async def test_bad_input_names_the_field(client: RoomsClient) -> None:
    room_id = await open_room(client)
    with pytest.raises(InvalidArgument) as caught:
        await client.authorize_join(room_id, "guest", display_name="bad\nname")
    assert caught.value.fields == ["display_name"]
    with pytest.raises(InvalidArgument) as caught:
        await client.admit_participant(room_id, "bad user")
    assert caught.value.fields == ["user_id"]
    with pytest.raises(InvalidArgument) as caught:
        await client.admit_participant(room_id, "guest", role=9)
    assert caught.value.fields == ["role"]
    with pytest.raises(RoomNotFound):
        await client.deny_participant("no-such-room", "guest")
    with pytest.raises(RoomNotFound):
        await anext(aiter(client.list_knocks("no-such-room")))


async def test_authorize_join_knocks_with_the_raw_stub_too(
    client: RoomsClient, server: RunningServer
) -> None:
    """display_name is an optional field: absent and empty differ on the wire."""
    room_id = await open_room(client)
    async with connect(server.port) as stubs:
        stub = stubs.rooms
        answer = await stub.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="raw", display_name="")
        )
        assert answer.reason == WAITING
    (knock,) = await knocks(client, room_id)
    assert knock.display_name == ""
