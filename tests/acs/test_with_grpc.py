"""A room is one room whichever API made it: a room created over the ACS API is
admitted by AuthorizeJoin over gRPC and its changes reach the change stream and the
webhooks; a room created over gRPC is read, updated and listed over the ACS API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from azure.communication.rooms import ParticipantRole
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from service.server import RunningServer
from tests.acs.conftest import endpoint_of, new_connection_string
from tests.acs.sdk_calls import client_of, member, off_loop, roster
from tests.shared.calls import Stubs, bearer, connect
from tests.shared.receivers import WebhookReceiver

pytestmark = pytest.mark.usefixtures("trust_ca")
TENANT = "acs-and-grpc"
KEY, ENTRY = new_key(TENANT, "grpc")
T = ev.RoomEventType


@pytest.fixture(scope="module")
def acs_settings() -> dict[str, Any]:
    """gRPC callers need a key of the tenant; webhooks may use plain http locally."""
    return {"api_keys": ENTRY.line(), "webhook_allowed_http_hosts": "127.0.0.1"}


@pytest.fixture
async def stubs(acs_server: RunningServer) -> AsyncIterator[Stubs]:
    async with connect(acs_server.port) as stubs:
        yield stubs


async def test_a_rest_room_is_the_grpc_room(
    acs_server: RunningServer, pool: asyncpg.Pool, stubs: Stubs
) -> None:
    metadata = bearer(KEY)
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        hook = await stubs.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=receiver.url)),
            metadata=metadata,
        )
        receiver.secret = hook.secret
        connection, key_id = await new_connection_string(pool, TENANT, endpoint_of(acs_server))
        client = client_of(connection)
        room = await off_loop(
            client.create_room, participants=[member("8:acs:doctor", ParticipantRole.PRESENTER)]
        )
        decision = await stubs.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room.id, user_id="8:acs:doctor"), metadata=metadata
        )
        assert decision.allowed and decision.role == pp.ROLE_PRESENTER
        stranger = await stubs.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room.id, user_id="8:acs:patient"), metadata=metadata
        )
        assert not stranger.allowed
        watch = stubs.rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.id), metadata=metadata)
        await off_loop(
            client.add_or_update_participants,
            room_id=room.id,
            participants=[member("8:acs:patient", ParticipantRole.ATTENDEE)],
        )
        await off_loop(
            client.remove_participants, room_id=room.id, participants=[member("8:acs:doctor")]
        )
        events: list[ev.RoomEvent] = []
        async with asyncio.timeout(10):
            async for event in watch:
                events.append(event)
                if len(events) == 4:
                    break
        watch.cancel()
        assert [(e.type, e.participant.user_id) for e in events] == [
            (T.ROOM_EVENT_TYPE_CREATED, ""),
            (T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED, "8:acs:doctor"),
            (T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED, "8:acs:patient"),
            (T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED, "8:acs:doctor"),
        ]
        assert {e.actor for e in events} == {f"acs:{key_id}"}
        admitted = await stubs.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room.id, user_id="8:acs:patient"), metadata=metadata
        )
        assert admitted.allowed and admitted.role == pp.ROLE_ATTENDEE
        await acs_server.delivery.run_once()
        await receiver.wait_for(lambda: len(receiver.deliveries) >= 4, within=10)
        assert [(d.room_id, d.payload["type"]) for d in receiver.deliveries] == [
            (room.id, "room.created"),
            (room.id, "room.participant_added"),
            (room.id, "room.participant_added"),
            (room.id, "room.participant_removed"),
        ]
    finally:
        await receiver.stop()


async def test_a_grpc_room_is_served_over_rest(
    acs_server: RunningServer, pool: asyncpg.Pool, stubs: Stubs
) -> None:
    metadata = bearer(KEY)
    await stubs.rooms.CreateRoom(rs.CreateRoomRequest(room_id="made-over-grpc"), metadata=metadata)
    await stubs.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id="made-over-grpc",
            participants=[pp.Participant(user_id="dr-house", role=pp.ROLE_COLLABORATOR)],
        ),
        metadata=metadata,
    )
    connection, _ = await new_connection_string(pool, TENANT, endpoint_of(acs_server))
    client = client_of(connection)
    got = await off_loop(client.get_room, "made-over-grpc")
    assert got.id == "made-over-grpc" and got.pstn_dial_out_enabled is False
    assert "made-over-grpc" in await off_loop(lambda: [r.id for r in client.list_rooms()])
    listed = roster(await off_loop(lambda: list(client.list_participants("made-over-grpc"))))
    assert listed == {"dr-house": "Collaborator"}
    await off_loop(client.update_room, room_id="made-over-grpc", pstn_dial_out_enabled=True)
    room = await stubs.rooms.GetRoom(rs.GetRoomRequest(room_id="made-over-grpc"), metadata=metadata)
    assert room.pstn_dial_out_enabled
