"""Two real `python -m service` processes on one database drive one Janus as one
would."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import (
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
)
from rooms.v1 import rooms_service_pb2 as rs

from service.media.janus import tokens as derive
from service.media.janus.videoroom import JanusVideoRooms
from service.security.keys import new_key
from tests.janus.conftest import Signalling, janus_config
from tests.janus.drive.deployment import (
    JANUS,
    NOT_ALLOWED,
    join_checked,
    own_leaving,
    write_media_config,
)
from tests.janus.harness import JanusServer
from tests.shared.calls import bearer, timestamp
from tests.shared.processes import replicas

pytestmark = pytest.mark.processes


async def test_two_server_processes_drive_janus_as_one_would(
    database_url: str, janus: JanusServer, tmp_path: Path
) -> None:
    """Two real `python -m service` processes on one database and one Janus, each with
    its own delivery engine: every change, through either, reaches Janus once and in
    order, exactly as with one process."""
    tenant = f"jp-{secrets.token_hex(3)}"
    config = janus_config(janus)
    media = write_media_config(tmp_path, tenant, config)
    key, entry = new_key(tenant, "tests")
    metadata = bearer(key)
    async with replicas(
        database_url,
        ROOMS_API_KEYS=entry.line(),
        ROOMS_MEDIA_CONFIG_FILE=str(media),
        ROOMS_DELIVERY_POLL_SECONDS="0.2",
        # No restart checks: Janus changes only through deliveries and
        # AuthorizeJoin here, so its state is exactly predictable.
        ROOMS_JANUS_CHECK_SECONDS="0",
        ROOMS_ACCESS_LOG="off",
    ) as ports:
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        adapter = JanusVideoRooms(config)
        clients: list[Signalling] = []
        try:
            rooms = [rooms_service_pb2_grpc.RoomsServiceStub(c) for c in channels]
            people = [participants_service_pb2_grpc.ParticipantsServiceStub(c) for c in channels]
            a, b = 0, 1

            room_id = f"r-{secrets.token_hex(4)}"
            now = datetime.now(UTC)
            roster = {
                "alice": pp.ROLE_PRESENTER,
                "bob": pp.ROLE_ATTENDEE,
                "carol": pp.ROLE_ATTENDEE,
                "dave": pp.ROLE_ATTENDEE,
            }
            await rooms[a].CreateRoom(
                rs.CreateRoomRequest(
                    room_id=room_id,
                    room=room_pb2.Room(valid_until=timestamp(now + timedelta(hours=1))),
                    participants=[pp.Participant(user_id=u, role=r) for u, r in roster.items()],
                ),
                metadata=metadata,
            )
            credentials = {}
            joined = {}
            for index, user in enumerate(roster):
                answer = await rooms[index % 2].AuthorizeJoin(
                    rs.AuthorizeJoinRequest(room_id=room_id, user_id=user, credential_format=JANUS),
                    metadata=metadata,
                )
                credentials[user] = answer.credential
                joined[user] = await join_checked(answer.credential, clients)

            # Changes through both processes: a removal, a ban, a role change that takes
            # publishing away, and one that does not concern Janus.
            await people[b].RemoveParticipants(
                ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["bob"]), metadata=metadata
            )
            await people[a].RemoveParticipants(
                ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["carol"], ban=True),
                metadata=metadata,
            )
            await people[b].AddOrUpdateParticipants(
                ps.AddOrUpdateParticipantsRequest(
                    room_id=room_id,
                    participants=[
                        pp.Participant(user_id="alice", role=pp.ROLE_CONSUMER),
                        pp.Participant(user_id="erin", role=pp.ROLE_ATTENDEE),
                    ],
                ),
                metadata=metadata,
            )

            # Janus tells each evicted participant; dave stays.
            async with asyncio.timeout(60):
                for user in ("bob", "carol", "alice"):
                    left = await own_leaving(joined[user])
                    assert left.get("reason") == "kicked", (user, left)
            number = derive.room_number(tenant, room_id)
            room_key = config.room_secret.get_secret_value().encode()
            participants = await adapter.participants(number)
            assert [p.id for p in participants] == [derive.participant_id(tenant, room_id, "dave")]
            allowed = await adapter.allowed_tokens(
                number, derive.room_secret(room_key, tenant, room_id)
            )
            assert allowed == {credentials["dave"].janus.join_token}
            for user in ("alice", "bob", "carol"):
                again = Signalling(credentials[user].server_url, credentials[user].token)
                clients.append(again)
                await again.attach()
                refused = await again.join(
                    credentials[user].janus.room,
                    credentials[user].janus.join_token,
                    credentials[user].janus.participant_id,
                )
                assert refused.get("error_code") == NOT_ALLOWED, (user, refused)
        finally:
            for client in clients:
                await client.aclose()
            await adapter.aclose()
            for channel in channels:
                await channel.close()
