"""rooms drives a real Janus end to end: the credential AuthorizeJoin hands out is what a
participant's client sends to Janus (plain HTTP signalling, `Signalling`), and Janus
itself admits, refuses, kicks and forgets, following the room's history through the
delivery engine.

The server's clock is set to the wall clock here: Janus checks a core token's expiry
against its own clock."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from rooms.v1 import (
    credentials_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
)
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain import janus as derive
from service.domain.clock import ManualClock
from service.janus.config import JanusConfig
from service.janus.videoroom import JanusVideoRooms
from service.security.keys import new_key
from service.server import RunningServer
from service.storage import delivery as delivery_sql
from tests.conftest import ServerFactory
from tests.helpers import expect_error
from tests.janus.conftest import Signalling, janus_config, started
from tests.janus.harness import JanusServer
from tests.processes import free_port, spawn_server

NOT_ALLOWED = 433
FORBIDDEN = 403
JANUS = credentials_pb2.CREDENTIAL_FORMAT_JANUS


def ts(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


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
    metadata: tuple[tuple[str, str]]
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
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield Deployment(
            running,
            janus,
            config,
            tenant,
            rooms_service_pb2_grpc.RoomsServiceStub(channel),
            participants_service_pb2_grpc.ParticipantsServiceStub(channel),
            (("authorization", f"Bearer {key}"),),
            adapter,
        )
    await adapter.aclose()


@pytest.fixture
async def rooms_and_janus(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Deployment]:
    async for deployment in deploy(start, janus, tmp_path, clock):
        yield deployment


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


async def own_leaving(client: Signalling) -> dict[str, Any]:
    """The participant's own `leaving` event, past notifications about others (a
    participant also hears `{"kicked": <id>}` when someone else is kicked)."""
    for _ in range(10):
        event = await client.event()
        if "leaving" in event or event.get("videoroom") == "destroyed":
            return event
    raise AssertionError("no leaving event")


async def test_a_rostered_identity_joins_and_one_off_the_roster_cannot(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"alice": pp.ROLE_ATTENDEE, "carol": pp.ROLE_CONSUMER},
        valid_until=ts(clock.now() + timedelta(hours=1)),
    )
    await d.running.lifecycle.run_once()  # OPENED
    await d.deliver()
    # The room opened: its VideoRoom exists, admitting the roster's join tokens.
    assert await d.adapter.exists(d.number(room_id))

    answer = await d.authorize(room_id, "alice")
    assert answer.allowed
    credential = answer.credential
    assert credential.format == JANUS
    assert credential.server_url == d.janus.url
    assert credential.janus.room == d.number(room_id)
    assert credential.janus.participant_id == derive.participant_id(d.tenant, room_id, "alice")
    assert credential.janus.may_publish
    # The core token's expiry is the credential's.
    assert int(credential.token.split(",")[0]) == credential.expire_time.seconds

    alice, joined = await join_with(d, credential)
    assert joined.get("videoroom") == "joined", joined
    assert joined["id"] == credential.janus.participant_id
    await alice.aclose()

    # A Consumer's credential says it subscribes only.
    carol = await d.authorize(room_id, "carol")
    assert carol.allowed and not carol.credential.janus.may_publish

    # Off the roster: no credential, and the token rooms would derive is refused.
    bob = await d.authorize(room_id, "bob")
    assert not bob.allowed and not bob.HasField("credential")
    stranger = Signalling(d.janus.url, credential.token)  # even with a good core token
    await stranger.attach()
    key = d.config.room_secret.get_secret_value().encode()
    refused = await stranger.join(
        d.number(room_id), derive.join_token(key, d.tenant, room_id, "bob", 0)
    )
    assert refused.get("error_code") == NOT_ALLOWED, refused
    await stranger.aclose()


@pytest.mark.parametrize("ban", [False, True], ids=["removed", "banned"])
async def test_a_removed_or_banned_participant_is_kicked_and_cannot_rejoin(
    rooms_and_janus: Deployment, clock: ManualClock, ban: bool
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"alice": pp.ROLE_PRESENTER, "dave": pp.ROLE_ATTENDEE},
        valid_until=ts(clock.now() + timedelta(hours=1)),
    )
    # No OPENED delivered yet: AuthorizeJoin creates the VideoRoom on demand.
    old = (await d.authorize(room_id, "alice")).credential
    alice, joined = await join_with(d, old)
    assert joined.get("videoroom") == "joined", joined
    dave, joined = await join_with(d, (await d.authorize(room_id, "dave")).credential)
    assert joined.get("videoroom") == "joined", joined

    await d.remove(room_id, "alice", ban=ban)
    await d.running.lifecycle.run_once()
    await d.deliver()

    left = await own_leaving(alice)
    assert left.get("leaving") == "ok" and left.get("reason") == "kicked", left
    participants = await d.adapter.participants(d.number(room_id))
    assert [p.id for p in participants] == [derive.participant_id(d.tenant, room_id, "dave")]
    again, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    for client in (alice, dave, again):
        await client.aclose()

    # Added back: a new credential with a new join token; the old one stays dead.
    await d.roster(room_id, alice=pp.ROLE_PRESENTER)
    new = (await d.authorize(room_id, "alice")).credential
    assert new.janus.join_token != old.janus.join_token
    back, joined = await join_with(d, new)
    assert joined.get("videoroom") == "joined", joined
    await back.aclose()
    stale, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    await stale.aclose()


async def test_a_role_change_that_forbids_publishing_kicks_and_changes_the_token(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"erin": pp.ROLE_ATTENDEE}, valid_until=ts(clock.now() + timedelta(hours=1))
    )
    old = (await d.authorize(room_id, "erin")).credential
    erin, joined = await join_with(d, old)
    assert joined.get("videoroom") == "joined", joined

    await d.roster(room_id, erin=pp.ROLE_CONSUMER)
    await d.deliver()

    left = await own_leaving(erin)
    assert left.get("reason") == "kicked", left
    again, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    new = (await d.authorize(room_id, "erin")).credential
    assert not new.janus.may_publish and new.janus.join_token != old.janus.join_token
    for client in (erin, again):
        await client.aclose()


async def test_a_credential_past_its_expiry_is_refused_by_janus(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> None:
    async for d in deploy(start, janus, tmp_path, clock, credential_ttl_seconds=60):
        # Issued as of two minutes ago: its one-minute lifetime is over by Janus's clock.
        clock.set(datetime.now(UTC) - timedelta(minutes=2))
        room_id = await d.make_room(
            {"frank": pp.ROLE_ATTENDEE}, valid_until=ts(clock.now() + timedelta(hours=1))
        )
        answer = await d.authorize(room_id, "frank")
        assert answer.credential.expire_time.ToDatetime(UTC) < datetime.now(UTC)
        client, refused = await join_with(d, answer.credential)
        assert refused["janus"] == "error" and refused["error"]["code"] == FORBIDDEN, refused
        await client.aclose()


async def test_when_the_window_ends_the_videoroom_is_gone(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    until = clock.now() + timedelta(minutes=30)
    room_id = await d.make_room({"gina": pp.ROLE_ATTENDEE}, valid_until=ts(until))
    credential = (await d.authorize(room_id, "gina")).credential
    # Never past the window's end.
    assert credential.expire_time.ToDatetime(UTC) <= until
    gina, joined = await join_with(d, credential)
    assert joined.get("videoroom") == "joined", joined

    clock.set(until + timedelta(seconds=1))
    await d.running.lifecycle.run_once()  # OPENED and ENDED
    await d.deliver()

    assert (await own_leaving(gina)).get("videoroom") == "destroyed"
    assert not await d.adapter.exists(d.number(room_id))
    await gina.aclose()
    # Asking again: the room has ended, no credential.
    assert not (await d.authorize(room_id, "gina")).allowed


async def test_janus_restarted_in_the_middle_gets_its_rooms_back(
    start: ServerFactory, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    own = await started(tmp_path / "janus")  # restarted here: not the shared one
    try:
        async for d in deploy(start, own, tmp_path, clock):
            room_id = await d.make_room(
                {"hank": pp.ROLE_PRESENTER, "ivy": pp.ROLE_ATTENDEE},
                valid_until=ts(clock.now() + timedelta(hours=1)),
            )
            await d.running.lifecycle.run_once()
            await d.deliver()
            control = d.running.janus
            assert control is not None
            assert await control.check_once() >= 1  # first check: reconciled
            assert await control.check_once() == 0  # Janus holds its rooms
            hank = (await d.authorize(room_id, "hank")).credential
            ivy = (await d.authorize(room_id, "ivy")).credential

            await own.stop()
            # Janus is away: AuthorizeJoin cannot admit anyone there, and says so.
            await expect_error(
                d.authorize(room_id, "hank"),
                grpc.StatusCode.UNAVAILABLE,
                "MEDIA_SERVER_UNAVAILABLE",
            )
            # Changes made meanwhile: the removal's delivery fails and is retried.
            await d.remove(room_id, "ivy")
            await d.roster(room_id, jack=pp.ROLE_ATTENDEE)
            assert (await d.running.delivery.run_once()).failed >= 1
            async with d.running.pool.acquire() as connection:
                state = await delivery_sql.destination_state(connection, d.tenant, "janus")
            assert state is not None and state.pending_events > 0
            assert state.last_error == "Janus is unreachable"
            assert await control.check_once() == 0  # unreachable

            await own.start()  # a new Janus process: it remembers no room
            assert not await d.adapter.exists(d.number(room_id))
            assert await control.check_once() == 1

            # Restored from the database: hank's credential works again, ivy's does not.
            allowed = await d.adapter.allowed_tokens(d.number(room_id), d.secret(room_id))
            key = d.config.room_secret.get_secret_value().encode()
            expected = {
                derive.join_token(key, d.tenant, room_id, user, 0) for user in ("hank", "jack")
            }
            assert allowed == expected
            client, joined = await join_with(d, hank)
            assert joined.get("videoroom") == "joined", joined
            other, refused = await join_with(d, ivy)
            assert refused.get("error_code") == NOT_ALLOWED, refused
            for made in (client, other):
                await made.aclose()

            # The failed delivery, retried once due, finds its work done.
            clock.advance(timedelta(seconds=30))
            await d.deliver()
            participants = await d.adapter.participants(d.number(room_id))
            assert [p.id for p in participants] == [
                derive.participant_id(d.tenant, room_id, "hank")
            ]

            # Janus's secrets, the room's secret and the join tokens stay out of the logs
            # (of the failures above too).
            assert "Janus of tenant" in caplog.text  # the outage was logged
            for secret in (
                d.config.token_auth_secret.get_secret_value(),
                d.config.room_secret.get_secret_value(),
                own.admin_key,
                d.secret(room_id),
                hank.janus.join_token,
                ivy.janus.join_token,
                hank.token.rsplit(":", 1)[1],
            ):
                assert secret not in caplog.text
    finally:
        await own.stop()


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
    metadata = (("authorization", f"Bearer {key}"),)
    processes = []
    channels = []
    adapter = JanusVideoRooms(config)
    clients: list[Signalling] = []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                await spawn_server(
                    database_url,
                    port,
                    output=asyncio.subprocess.DEVNULL,
                    ROOMS_API_KEYS=entry.line(),
                    ROOMS_MEDIA_CONFIG_FILE=str(media),
                    ROOMS_DELIVERY_POLL_SECONDS="0.2",
                    # No restart checks: Janus changes only through deliveries and
                    # AuthorizeJoin here, so its state is exactly predictable.
                    ROOMS_JANUS_CHECK_SECONDS="0",
                    ROOMS_ACCESS_LOG="off",
                )
            )
            channels.append(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 60)
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
                room=room_pb2.Room(valid_until=ts(now + timedelta(hours=1))),
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
            client = Signalling(answer.credential.server_url, answer.credential.token)
            clients.append(client)
            await client.attach()
            reply = await client.join(
                answer.credential.janus.room,
                answer.credential.janus.join_token,
                answer.credential.janus.participant_id,
            )
            assert reply.get("videoroom") == "joined", reply
            joined[user] = client

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
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()
