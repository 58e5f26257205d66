"""The Python client (`rooms.client.RoomsClient`) against the real server.

Some tests put a small gRPC proxy between the client and the real server: it records
each attempt (method, metadata, deadline, request bytes) and can fail chosen attempts
with UNAVAILABLE before or after forwarding them. API keys, TLS and mutual TLS are
tested against real servers configured for them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
import trustme
from rooms.client import IDEMPOTENT_METHODS, TLS, RetryPolicy, RoomsClient, service_config
from rooms.errors import (
    DuplicateUserId,
    EtagMismatch,
    InvalidArgument,
    InvalidWindow,
    ParticipantNotFound,
    RequestIdReused,
    RoomAlreadyExists,
    RoomNotFound,
    RoomsError,
    Unauthenticated,
)
from rooms.v1 import admission_pb2 as adm
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import T0, ServerFactory
from tests.helpers import unique

CREATE = "/rooms.v1.RoomsService/CreateRoom"
GET = "/rooms.v1.RoomsService/GetRoom"
LIST_ROOMS = "/rooms.v1.RoomsService/ListRooms"
UPDATE = "/rooms.v1.RoomsService/UpdateRoom"
ADD = "/rooms.v1.ParticipantsService/AddOrUpdateParticipants"

# Retries quickly, so the tests that provoke them stay fast.
FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05)


# ---- a recording, failure-injecting proxy in front of the real server -------------


@dataclass
class Attempt:
    method: str
    metadata: dict[str, str]
    time_remaining: float | None
    request: bytes


@dataclass
class Proxy:
    """A grpc.aio server that forwards every unary call to `upstream` as raw bytes."""

    upstream: str
    attempts: list[Attempt] = field(default_factory=list)
    # method -> what to do with its next attempts: "before" fails without forwarding,
    # "after" forwards (the work is done) and then fails as if the answer was lost.
    failures: dict[str, list[str]] = field(default_factory=dict)
    port: int = 0

    def of(self, method: str) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.method == method]

    async def __aenter__(self) -> Proxy:
        self._channel = grpc.aio.insecure_channel(self.upstream)
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers((_Forward(self),))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.stop(0)
        await self._channel.close()

    async def forward(
        self, method: str, request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        metadata = {item[0]: str(item[1]) for item in context.invocation_metadata() or ()}
        self.attempts.append(Attempt(method, metadata, context.time_remaining(), request))
        plan = self.failures.get(method) or []
        step = plan.pop(0) if plan else None
        if step == "before":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: not forwarded")
        passed = tuple((k, v) for k, v in metadata.items() if k == "authorization")
        call: Callable[..., Awaitable[bytes]] = self._channel.unary_unary(method)
        try:
            response = await call(request, metadata=passed, timeout=context.time_remaining())
        except grpc.aio.AioRpcError as error:
            await context.abort(
                error.code(), error.details() or "", trailing_metadata=error.trailing_metadata()
            )
        if step == "after":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: done, answer lost")
        return response


class _Forward(grpc.GenericRpcHandler):
    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = details.method

        async def behavior(
            request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
        ) -> bytes:
            return await self.proxy.forward(method, request, context)

        return grpc.unary_unary_rpc_method_handler(cast(Any, behavior))


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        yield client


@pytest.fixture
async def proxy(server: RunningServer) -> AsyncIterator[Proxy]:
    async with Proxy(f"127.0.0.1:{server.port}") as proxy:
        yield proxy


# ---- every method ----------------------------------------------------------------


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


# ---- paging iterators --------------------------------------------------------------


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


# ---- typed exceptions -------------------------------------------------------------


async def test_room_not_found(client: RoomsClient) -> None:
    with pytest.raises(RoomNotFound) as caught:
        await client.get_room("nope")
    error = caught.value
    assert isinstance(error, RoomsError)
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == "ROOM_NOT_FOUND"
    assert error.domain == "rooms.v1"
    assert error.metadata == {"room_id": "nope"}
    assert str(error).startswith("ROOM_NOT_FOUND (NOT_FOUND): ")
    assert isinstance(error.__cause__, grpc.aio.AioRpcError)


async def test_invalid_window_carries_the_field_and_rule(client: RoomsClient) -> None:
    with pytest.raises(InvalidWindow) as caught:
        await client.create_room(valid_from=T0, valid_until=T0 + timedelta(days=181))
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["rule"] == "WINDOW_TOO_LONG"
    assert error.fields == ["room.valid_until"]
    description = error.field_violations[0].description
    assert description
    line = error.one_line()
    assert line.startswith("INVALID_WINDOW (INVALID_ARGUMENT): ")
    assert "rule=WINDOW_TOO_LONG" in line
    assert line.count(description) == 1  # said once, not repeated from the details


async def test_invalid_argument_names_every_field(client: RoomsClient) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await client.create_room(room_id="-bad", participants=["a b"], metadata={"ok": "\x00"})
    assert set(caught.value.fields) == {"room_id", "participants[0].user_id", "room.metadata['ok']"}
    line = caught.value.one_line()
    assert line.startswith("INVALID_ARGUMENT (INVALID_ARGUMENT): ")
    assert "room_id: " in line and "\n" not in line


async def test_etag_mismatch_carries_the_current_etag(client: RoomsClient) -> None:
    room = await client.create_room()
    current = (await client.add_or_update_participants(room.room_id, ["someone"])).etag
    with pytest.raises(EtagMismatch) as caught:
        await client.update_room(room.room_id, pstn_dial_out_enabled=True, etag=room.etag)
    error = caught.value
    assert error.code == grpc.StatusCode.ABORTED
    assert error.metadata == {"room_id": room.room_id, "etag": current}
    assert error.precondition_violations
    with pytest.raises(EtagMismatch):
        await client.remove_participants(room.room_id, ["someone"], etag=room.etag)
    assert not (await client.get_room(room.room_id)).pstn_dial_out_enabled


async def test_room_already_exists_and_duplicate_user_id(client: RoomsClient) -> None:
    room_id = unique("taken")
    await client.create_room(room_id=room_id)
    with pytest.raises(RoomAlreadyExists) as taken:
        await client.create_room(room_id=room_id)
    assert taken.value.code == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(DuplicateUserId) as twice:
        await client.add_or_update_participants(room_id, ["same", "same"])
    assert twice.value.metadata["user_id"] == "same"


async def test_unreachable_server_is_a_rooms_error_without_reason() -> None:
    async with RoomsClient("127.0.0.1:1", timeout=2, retry=None) as client:
        with pytest.raises(RoomsError) as caught:
            await client.get_room("x")
    assert type(caught.value) is RoomsError
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert caught.value.reason == ""


# ---- request_id, deadlines and retries -------------------------------------------


async def test_request_id_is_generated_and_reuse_is_typed(
    client: RoomsClient, proxy: Proxy
) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as through:
        first = await through.create_room()
        second = await through.create_room()
    assert first.room_id != second.room_id
    ids = [rs.CreateRoomRequest.FromString(a.request).request_id for a in proxy.of(CREATE)]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(uuid.UUID(request_id) for request_id in ids)

    # The same explicit request_id returns the same room; a different request is typed.
    request_id = str(uuid.uuid4())
    again = [await client.create_room(request_id=request_id) for _ in range(2)]
    assert again[0] == again[1]
    with pytest.raises(RequestIdReused) as caught:
        await client.create_room(request_id=request_id, pstn_dial_out_enabled=True)
    assert caught.value.metadata["request_id"] == request_id
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_service_config_retries_only_idempotent_calls_on_unavailable() -> None:
    client_options = dict(RoomsClient("127.0.0.1:1").channel_options)
    assert client_options["grpc.enable_retries"] == 1
    config = json.loads(client_options["grpc.service_config"])
    assert config == service_config()
    (method_config,) = config["methodConfig"]
    names = {(name["service"], name["method"]) for name in method_config["name"]}
    assert names == {(s, m) for s, methods in IDEMPOTENT_METHODS.items() for m in methods}
    assert ("rooms.v1.RoomsService", "CreateRoom") in names
    assert ("rooms.v1.RoomsService", "UpdateRoom") not in names
    assert ("rooms.v1.ParticipantsService", "AddOrUpdateParticipants") not in names
    assert ("rooms.v1.ParticipantsService", "RemoveParticipants") not in names
    assert {("rooms.v1.WebhooksService", m) for m in ("GetWebhook", "ListWebhooks")} <= names
    for method in ("CreateWebhook", "UpdateWebhook", "DeleteWebhook"):
        assert ("rooms.v1.WebhooksService", method) not in names
    policy = method_config["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["maxAttempts"] == 4
    assert policy["initialBackoff"] == "0.2s" and policy["maxBackoff"] == "5s"
    # retry=None: no service config, retries off.
    off = dict(RoomsClient("127.0.0.1:1", retry=None).channel_options)
    assert "grpc.service_config" not in off
    assert off["grpc.enable_retries"] == 0


async def test_a_lost_create_answer_is_retried_and_returns_the_same_room(
    server: RunningServer, clean: None, proxy: Proxy
) -> None:
    proxy.failures[CREATE] = ["after"]  # the server creates the room, the answer is lost
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        room = await client.create_room(room_id=unique("retried"))
        attempts = proxy.of(CREATE)
        assert len(attempts) == 2
        first, second = (rs.CreateRoomRequest.FromString(a.request) for a in attempts)
        assert first == second and first.request_id
        assert [r.room_id async for r in client.list_rooms()] == [room.room_id]


async def test_reads_are_retried_on_unavailable(server: RunningServer, proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{server.port}") as direct:
        room = await direct.create_room()
    proxy.failures[GET] = ["before", "before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        assert (await client.get_room(room.room_id)).room_id == room.room_id
    assert len(proxy.of(GET)) == 3


async def test_non_idempotent_calls_and_disabled_retries_fail_at_once(
    server: RunningServer, proxy: Proxy
) -> None:
    async with RoomsClient(f"127.0.0.1:{server.port}") as direct:
        room = await direct.create_room()
    proxy.failures[UPDATE] = ["before"]
    proxy.failures[ADD] = ["before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        with pytest.raises(RoomsError) as update:
            await client.update_room(room.room_id, pstn_dial_out_enabled=True)
        with pytest.raises(RoomsError) as add:
            await client.add_or_update_participants(room.room_id, ["x"])
    assert update.value.code == add.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(proxy.of(UPDATE)) == len(proxy.of(ADD)) == 1

    proxy.failures[GET] = ["before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=None) as client:
        with pytest.raises(RoomsError):
            await client.get_room(room.room_id)
    assert len(proxy.of(GET)) == 1


async def test_every_call_has_a_deadline(server: RunningServer, proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as client:
        room = await client.create_room()
        await client.get_room(room.room_id, timeout=1.5)
    async with RoomsClient(f"127.0.0.1:{proxy.port}", timeout=3) as client:
        await client.authorize_join(room.room_id, "someone")
    remaining = [attempt.time_remaining for attempt in proxy.attempts]
    assert all(value is not None for value in remaining)
    default, override, configured = cast(list[float], remaining)
    # The server rounds deadlines a little, so allow a small excess.
    assert 9 < default <= 10.2
    assert 0.5 < override <= 1.6
    assert 2 < configured <= 3.1


# ---- API key, TLS and mutual TLS ---------------------------------------------------


async def test_api_key_is_sent_as_a_bearer_token(proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}", api_key="rk_secret") as client:
        await client.list_roles()
        await client.create_room()
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as anonymous:
        await anonymous.list_roles()
    keyed, _, plain = proxy.attempts
    assert keyed.metadata["authorization"] == "Bearer rk_secret"
    assert proxy.of(CREATE)[0].metadata["authorization"] == "Bearer rk_secret"
    assert "authorization" not in plain.metadata


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_ca: Path


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signs, and
    a CA that signed nothing here."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("client.rooms.test")
    files = Certificates(*(folder / name for name in ("ca", "sc", "sk", "cc", "ck", "other")))
    ca.cert_pem.write_to_path(str(files.ca))
    server_cert.cert_chain_pems[0].write_to_path(str(files.server_cert))
    server_cert.private_key_pem.write_to_path(str(files.server_key))
    client_cert.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client_cert.private_key_pem.write_to_path(str(files.client_key))
    trustme.CA().cert_pem.write_to_path(str(files.stranger_ca))
    return files


async def test_api_key_on_a_server_that_requires_keys(start: ServerFactory) -> None:
    key, entry = new_key("acme", "client-tests")
    running = await start(api_keys=entry.line())
    address = f"127.0.0.1:{running.port}"
    async with RoomsClient(address, api_key=key) as client:
        room = await client.create_room(participants=["guest"])
        assert [r.room_id async for r in client.list_rooms()] == [room.room_id]  # acme's own
    for wrong in (None, "rk_wrong"):
        async with RoomsClient(address, api_key=wrong) as client:
            with pytest.raises(Unauthenticated) as caught:
                await client.get_room(room.room_id)
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


async def test_tls_with_a_ca_file_and_a_key(
    start: ServerFactory, certificates: Certificates
) -> None:
    key, entry = new_key("acme", "tls-tests")
    running = await start(
        api_keys=entry.line(),
        tls_cert_file=certificates.server_cert,
        tls_key_file=certificates.server_key,
    )
    address = f"127.0.0.1:{running.port}"
    tls = TLS.from_files(ca=certificates.ca)
    async with RoomsClient(address, tls=tls, api_key=key) as client:
        room = await client.create_room()
        assert (await client.get_room(room.room_id)).room_id == room.room_id

    # A server whose certificate the client does not trust, or plaintext: refused.
    untrusting = TLS.from_files(ca=certificates.stranger_ca)
    for tls_or_not in (untrusting, False):
        async with RoomsClient(address, api_key=key, tls=tls_or_not, timeout=3, retry=None) as c:
            with pytest.raises(RoomsError) as caught:
                await c.list_roles()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls(start: ServerFactory, certificates: Certificates) -> None:
    running = await start(
        tls_cert_file=certificates.server_cert,
        tls_key_file=certificates.server_key,
        tls_client_ca_file=certificates.ca,
    )
    address = f"127.0.0.1:{running.port}"
    mutual = TLS.from_files(certificates.ca, certificates.client_cert, certificates.client_key)
    async with RoomsClient(address, tls=mutual) as client:
        assert len(await client.list_roles()) == 4
    # Without a client certificate the server ends the handshake.
    async with RoomsClient(
        address, tls=TLS.from_files(ca=certificates.ca), timeout=3, retry=None
    ) as client:
        with pytest.raises(RoomsError) as caught:
            await client.list_roles()
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_tls_server_name_override_is_a_channel_option() -> None:
    client = RoomsClient("10.0.0.1:443", tls=TLS(server_name="rooms.example"))
    assert ("grpc.ssl_target_name_override", "rooms.example") in client.channel_options


def test_mutual_tls_needs_both_certificate_and_key() -> None:
    with pytest.raises(ValueError, match="both a client certificate and its private key"):
        TLS(certificate_chain=b"cert")


async def test_watch_room_follows_until_delete_and_lists_history(server: Any) -> None:
    from rooms.v1 import events_pb2

    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        room = await client.create_room(participants={"ann": "presenter"})
        seen: list[events_pb2.RoomEvent] = []
        caught_up = asyncio.Event()

        async def follow() -> None:
            async for event in client.watch_room(room.room_id):
                seen.append(event)
                if len(seen) == 2:  # the history: created, ann added
                    caught_up.set()

        watching = asyncio.ensure_future(follow())
        await asyncio.wait_for(caught_up.wait(), 10)  # the watch is live: delete now
        await client.delete_room(room.room_id)
        await asyncio.wait_for(watching, 10)
        assert [e.revision for e in seen] == [1, 2, 3]
        assert seen[-1].type == events_pb2.ROOM_EVENT_TYPE_DELETED
        history = [e async for e in client.list_room_events(room.room_id, newest_first=True)]
        assert [e.revision for e in history] == [3, 2, 1]


async def test_watch_room_reports_each_resume(start: Any) -> None:
    """The stream breaks when its server stops; the watcher is told (the CLI prints it),
    resumes from its last revision on the restarted server, and misses nothing."""
    from rooms.v1 import events_pb2

    from tests.processes import free_port

    address = f"127.0.0.1:{free_port()}"
    first = await start(listen_address=address)
    resumes: list[tuple[str, int]] = []

    def resumed(error: RoomsError, last: int) -> None:
        resumes.append((error.code.name, last))

    async with RoomsClient(address) as client:
        room = await client.create_room(participants={"ann": "presenter"})
        events = client.watch_room(room.room_id, resume_delay=0.05, on_resume=resumed)
        assert (await anext(events)).type == events_pb2.ROOM_EVENT_TYPE_CREATED
        assert (await anext(events)).revision == 2
        await first.stop(0)
        await start(listen_address=address)
        await client.delete_room(room.room_id)
        rest = [event async for event in events]
        assert [e.revision for e in rest] == [3]
        assert resumes and resumes[0] == ("UNAVAILABLE", 2)
