"""A rooms server whose tenant drives a real Janus (`Deployment`), its media
configuration, and what a participant's client does with a Janus credential.

The server's clock is set to the wall clock here: Janus checks a core token's expiry
against its own clock."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rooms.v1 import (
    credentials_pb2,
    room_pb2,
)
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.media.janus import tokens as derive
from service.media.janus.config import JanusConfig
from service.media.janus.videoroom import JanusVideoRooms
from service.security.keys import new_key
from service.server import RunningServer
from service.storage import delivery as delivery_sql
from tests.conftest import ServerFactory
from tests.janus.conftest import Signalling, janus_config
from tests.janus.harness import JanusServer
from tests.shared.calls import Metadata, bearer, connect

NOT_ALLOWED = 433
FORBIDDEN = 403
JANUS = credentials_pb2.CREDENTIAL_FORMAT_JANUS


def write_media_config(tmp: Path, tenant: str, config: JanusConfig) -> Path:
    """The tenant's `janus` table, its secrets in files beside it."""
    assert config.admin_key is not None
    for name, value in (
        ("token", config.token_auth_secret),
        ("rooms", config.room_secret),
        ("admin", config.admin_key),
    ):
        (tmp / f"janus-{name}.secret").write_text(value.get_secret_value() + "\n")
    path = tmp / "media.toml"
    path.write_text(
        f"""
[tenants.{tenant}.janus]
url = "{config.url}"
token_auth_secret_file = "janus-token.secret"
room_secret_file = "janus-rooms.secret"
admin_key_file = "janus-admin.secret"
"""
    )
    return path


@dataclasses.dataclass
class Deployment:
    """A rooms server whose tenant drives `janus`, and a client of the tenant."""

    running: RunningServer
    janus: JanusServer
    config: JanusConfig
    tenant: str
    rooms: Any
    people: Any
    metadata: Metadata
    adapter: JanusVideoRooms  # rooms' own view of Janus, for assertions

    async def make_room(self, roster: dict[str, pp.Role.ValueType], **room: Any) -> str:
        room_id = f"r-{secrets.token_hex(4)}"
        await self.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=room_id,
                room=room_pb2.Room(**room),
                participants=[pp.Participant(user_id=u, role=r) for u, r in roster.items()],
            ),
            metadata=self.metadata,
        )
        return room_id

    async def authorize(self, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
        answer: rs.AuthorizeJoinResponse = await self.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id, credential_format=JANUS),
            metadata=self.metadata,
        )
        return answer

    async def remove(self, room_id: str, *user_ids: str, ban: bool = False) -> None:
        await self.people.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=list(user_ids), ban=ban),
            metadata=self.metadata,
        )

    async def roster(self, room_id: str, **roles: pp.Role.ValueType) -> None:
        await self.people.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id,
                participants=[pp.Participant(user_id=u, role=r) for u, r in roles.items()],
            ),
            metadata=self.metadata,
        )

    async def deliver(self) -> None:
        """Delivery passes until nothing is due; then nothing of this tenant's Janus
        destination is pending (other tests' destinations may fail meanwhile)."""
        for _ in range(20):
            if not (await self.running.delivery.run_once()).claimed:
                break
        async with self.running.pool.acquire() as connection:
            state = await delivery_sql.destination_state(connection, self.tenant, "janus")
        assert state is not None and state.pending_events == 0, state

    def number(self, room_id: str) -> int:
        return derive.room_number(self.tenant, room_id)

    def secret(self, room_id: str) -> str:
        key = self.config.room_secret.get_secret_value().encode()
        return derive.room_secret(key, self.tenant, room_id)


async def deploy(
    start: ServerFactory, janus: JanusServer, tmp: Path, clock: ManualClock, **settings: Any
) -> AsyncIterator[Deployment]:
    clock.set(datetime.now(UTC))
    tenant = f"jt-{secrets.token_hex(3)}"
    config = janus_config(janus)
    key, entry = new_key(tenant, "tests")
    running = await start(
        api_keys=entry.line(),
        media_config_file=str(write_media_config(tmp, tenant, config)),
        janus_check_seconds=0,
        **settings,
    )
    adapter = JanusVideoRooms(config)
    async with connect(running.port) as stubs:
        yield Deployment(
            running, janus, config, tenant, stubs.rooms, stubs.participants, bearer(key), adapter
        )
    await adapter.aclose()
    if settings.get("delivery_poll_seconds") or settings.get("lifecycle_interval_seconds"):
        # Its background engine would claim other tests' deliveries: stop it now.
        await running.stop(0)


async def join_with(
    deployment: Deployment, credential: credentials_pb2.JoinCredential
) -> tuple[Signalling, dict[str, Any]]:
    """What a client does with a Janus credential: every request carries `token`; the
    VideoRoom join carries `janus.room`, `janus.participant_id` and `janus.join_token`."""
    client = Signalling(credential.server_url, credential.token)
    attached = await client.attach()
    if attached["janus"] != "success":
        return client, attached
    answer = await client.join(
        credential.janus.room, credential.janus.join_token, credential.janus.participant_id
    )
    return client, answer


async def join_checked(
    credential: credentials_pb2.JoinCredential, clients: list[Signalling]
) -> Signalling:
    """A client that joined with `credential`, checked joined; kept in `clients` for
    the caller to close."""
    client = Signalling(credential.server_url, credential.token)
    clients.append(client)
    await client.attach()
    reply = await client.join(
        credential.janus.room,
        credential.janus.join_token,
        credential.janus.participant_id,
    )
    assert reply.get("videoroom") == "joined", reply
    return client


async def own_leaving(client: Signalling) -> dict[str, Any]:
    """The participant's own `leaving` event, past notifications about others (a
    participant also hears `{"kicked": <id>}` when someone else is kicked)."""
    for _ in range(10):
        event = await client.event()
        if "leaving" in event or event.get("videoroom") == "destroyed":
            return event
    raise AssertionError("no leaving event")


def core(d: Deployment) -> str:
    """A core token of the deployment's Janus, valid for an hour (what any credential of
    any room carries: core tokens name no room)."""
    return derive.core_token(d.config.token_auth_key, datetime.now(UTC) + timedelta(hours=1))


@contextlib.asynccontextmanager
async def looking(d: Deployment) -> AsyncIterator[Signalling]:
    """A client of the deployment's Janus with a core token only (no room's credential),
    attached, closed on the way out."""
    client = Signalling(d.janus.url, core(d))
    await client.attach()
    try:
        yield client
    finally:
        await client.aclose()


async def remote_feed(d: Deployment, room_id: str, feed: int) -> None:
    """A publisher `feed` with an audio (mid "0") and a video (mid "1") stream, made with
    Janus's `add_remote_publisher`: the tests send no WebRTC media, and a remote publisher
    is a feed Janus lets subscribers attach to and moderators `moderate`."""
    admin = Signalling(d.janus.url, core(d))
    await admin.attach()
    added = await admin.request(
        {
            "request": "add_remote_publisher",
            "room": d.number(room_id),
            "secret": d.secret(room_id),
            "id": feed,
            "iface": "127.0.0.1",
            "streams": [
                {"type": "audio", "mid": "0", "mindex": 0, "codec": "opus"},
                {"type": "video", "mid": "1", "mindex": 1, "codec": "vp8"},
            ],
        }
    )
    assert added.get("videoroom") == "success", added
    await admin.aclose()
