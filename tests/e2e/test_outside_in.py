"""The session's new RPCs and fields attacked from outside: extreme values, unknown
enum numbers, garbage ids, webhook URL edge cases, and another tenant's ids.

Every refusal must be a precise status with an ErrorInfo of the `rooms.v1` domain
(never UNKNOWN or INTERNAL), the server must log no error, and nothing is stored:
the tenant reads afterwards as before.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import grpc
import pytest
from rooms.v1 import credentials_pb2, room_pb2
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import credentials_service_pb2_grpc as cs_grpc
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import participants_service_pb2_grpc as ps_grpc
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import rooms_service_pb2_grpc as rs_grpc
from rooms.v1 import webhooks_service_pb2 as ws
from rooms.v1 import webhooks_service_pb2_grpc as ws_grpc

from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.e2e.test_hostile_input import GRPCURL, Target, grpcurl
from tests.helpers import LoggedErrors, RichError, logged_errors, rich_error, unique

Code = grpc.StatusCode
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)


@dataclass
class Caller:
    rooms: Any
    participants: Any
    webhooks: Any
    credentials: Any
    metadata: tuple[tuple[str, str], ...]


@dataclass
class Two:
    a: Caller
    b: Caller
    port: int
    running: RunningServer


@pytest.fixture(scope="module")
async def two(start: ServerFactory) -> AsyncIterator[Two]:
    suffix = uuid.uuid4().hex[:8]
    key_a, entry_a = new_key(f"outside-a-{suffix}", "k")
    key_b, entry_b = new_key(f"outside-b-{suffix}", "k")
    running = await start(
        api_keys=f"{entry_a.line()},{entry_b.line()}",
        # Only the IPv4 loopback: "localhost" and "[::1]" are not allowed plain http.
        webhook_allowed_http_hosts="127.0.0.1",
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:

        def caller(key: str) -> Caller:
            return Caller(
                rs_grpc.RoomsServiceStub(channel),
                ps_grpc.ParticipantsServiceStub(channel),
                ws_grpc.WebhooksServiceStub(channel),
                cs_grpc.CredentialsServiceStub(channel),
                (("authorization", f"Bearer {key}"),),
            )

        yield Two(caller(key_a), caller(key_b), running.port, running)


@pytest.fixture
def server_errors() -> Iterator[LoggedErrors]:
    with logged_errors("service", "grpc", "rooms") as handler:
        yield handler


async def refused(call: Awaitable[Any], code: Code = Code.INVALID_ARGUMENT) -> RichError:
    """The call fails with `code` and an ErrorInfo of our domain."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        rich = rich_error(error)
    else:
        raise AssertionError("the call succeeded")
    assert rich.code == code, rich
    assert rich.domain == "rooms.v1", rich
    assert rich.reason, rich
    return rich


def no_errors(server_errors: LoggedErrors) -> None:
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


async def open_room(caller: Caller, **settings: Any) -> str:
    room_id = unique("outside")
    await caller.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN, **settings),
            participants=[pp.Participant(user_id="host", role=pp.ROLE_PRESENTER)],
        ),
        metadata=caller.metadata,
    )
    return room_id


# ---- capacity: extreme values ----------------------------------------------------------


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


# ---- AuthorizeJoin's new fields -----------------------------------------------------------


async def test_authorize_join_new_fields_at_their_limits(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    for display_name in ("x" * 10_000, "\x00", "a\u202eb" * 100, "\ud7ff" * 1000):
        error = await refused(
            a.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(
                    room_id=room_id, user_id="guest", display_name=display_name
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["display_name"], (display_name[:20], error)
    for number in (99, -1, INT32_MAX, INT32_MIN):
        error = await refused(
            a.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(
                    room_id=room_id,
                    user_id="host",
                    credential_format=number,  # type: ignore[arg-type]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["credential_format"], (number, error)
    # An unconfigured (but known) format is a precondition, not an internal error.
    error = await refused(
        a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(
                room_id=room_id,
                user_id="host",
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_LIVEKIT,
            ),
            metadata=a.metadata,
        ),
        Code.FAILED_PRECONDITION,
    )
    # Nothing was stored: no knock from the refused names, no seat.
    knocks = await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=a.metadata
    )
    assert list(knocks.knocks) == []
    seats = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=a.metadata
    )
    assert list(seats.seats) == []
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


# ---- webhooks: URL edge cases ------------------------------------------------------------


WEBHOOK_URLS = [
    "http://localhost/x",  # not in the allowed hosts of this server
    "http://[::1]/x",
    "http://127.0.0.1.nip.io/x",
    "http://127.0.0.1@evil.example/x",
    "https://@hooks.example.com/x",
    "https://user@hooks.example.com/x",
    "https://hooks.example.com:99999/x",
    "https://hooks.example.com:-1/x",
    "https://",
    "https:///x",
    "https://hooks.example.com/x y",
    "https://hooks.example.com/\nx",
    "https://hooks.example.com/" + "x" * 10_000,
    "javascript:alert(1)",
    "//hooks.example.com/x",
    "hooks.example.com",
    " https://hooks.example.com/x",
    "https://hooks.example.com/\x00",
    "https://[::1/x",
    "https://[zz::1]/x",
]


@pytest.mark.parametrize("url", WEBHOOK_URLS, ids=lambda url: repr(url[:40]))
async def test_webhook_urls_at_the_edges_are_refused_and_not_stored(
    two: Two, url: str, server_errors: LoggedErrors
) -> None:
    a = two.a
    error = await refused(
        a.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=url)), metadata=a.metadata
        )
    )
    assert error.fields == ["webhook.url"], (url[:40], error)
    listed = await a.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=a.metadata)
    assert url not in [w.url for w in listed.webhooks]
    no_errors(server_errors)


async def test_webhook_ipv6_and_event_type_numbers(two: Two, server_errors: LoggedErrors) -> None:
    a = two.a
    created = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://[2001:db8::1]:8443/hook")),
        metadata=a.metadata,
    )
    assert created.url == "https://[2001:db8::1]:8443/hook"
    for number in (-1, 999, INT32_MAX, INT32_MIN):
        error = await refused(
            a.webhooks.CreateWebhook(
                ws.CreateWebhookRequest(
                    webhook=ws.Webhook(url="https://ok.example", event_types=[number])  # type: ignore[list-item]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["webhook.event_types[0]"], (number, error)
    # A set of types: one type 50,000 times is refused, not stored 50,000 times.
    for event_types in ([1] * 50_000, [1, 2, 1]):
        error = await refused(
            a.webhooks.CreateWebhook(
                ws.CreateWebhookRequest(
                    webhook=ws.Webhook(url="https://ok.example", event_types=event_types)  # type: ignore[arg-type]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["webhook.event_types"], error
    twice = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=created.webhook_id, event_types=[1, 1])  # type: ignore[list-item]
    )
    twice.update_mask.paths.append("event_types")
    await refused(a.webhooks.UpdateWebhook(twice, metadata=a.metadata))
    # Unspecified is documented as "every type" in a filter: stored as no filter.
    every = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://ok.example", event_types=[0])),  # type: ignore[list-item]
        metadata=a.metadata,
    )
    assert list(every.event_types) == []
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=every.webhook_id), metadata=a.metadata
    )
    update = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=created.webhook_id, event_types=[999])  # type: ignore[list-item]
    )
    update.update_mask.paths.append("event_types")
    await refused(a.webhooks.UpdateWebhook(update, metadata=a.metadata))
    bad_mask = ws.UpdateWebhookRequest(webhook=ws.Webhook(webhook_id=created.webhook_id))
    bad_mask.update_mask.paths.extend(["secret"])
    await refused(a.webhooks.UpdateWebhook(bad_mask, metadata=a.metadata))
    got = await a.webhooks.GetWebhook(
        ws.GetWebhookRequest(webhook_id=created.webhook_id), metadata=a.metadata
    )
    assert list(got.event_types) == [] and got.etag == created.etag
    for webhook_id in ("", "x" * 10_000, "../x", "\x00"):
        await refused(
            a.webhooks.GetWebhook(ws.GetWebhookRequest(webhook_id=webhook_id), metadata=a.metadata)
        )
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=created.webhook_id), metadata=a.metadata
    )
    no_errors(server_errors)


# ---- another tenant's ids --------------------------------------------------------------------


async def test_another_tenants_webhook_cannot_be_changed_or_deleted(
    two: Two, server_errors: LoggedErrors
) -> None:
    a, b = two.a, two.b
    theirs = await b.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://b.example/hook")),
        metadata=b.metadata,
    )
    update = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=theirs.webhook_id, url="https://a.example/stolen")
    )
    update.update_mask.paths.append("url")
    for call in (
        a.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=theirs.webhook_id), metadata=a.metadata
        ),
        a.webhooks.UpdateWebhook(update, metadata=a.metadata),
        a.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=theirs.webhook_id), metadata=a.metadata
        ),
        a.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=theirs.webhook_id, etag=theirs.etag),
            metadata=a.metadata,
        ),
    ):
        error = await refused(call, Code.NOT_FOUND)
        assert error.reason == "WEBHOOK_NOT_FOUND", error
    # B's page token means nothing to A.
    for _ in range(2):
        await b.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://b.example/more")),
            metadata=b.metadata,
        )
    page = await b.webhooks.ListWebhooks(ws.ListWebhooksRequest(page_size=1), metadata=b.metadata)
    assert page.next_page_token
    error = await refused(
        a.webhooks.ListWebhooks(
            ws.ListWebhooksRequest(page_size=1, page_token=page.next_page_token),
            metadata=a.metadata,
        )
    )
    assert error.fields == ["page_token"], error
    # B's webhook is untouched.
    got = await b.webhooks.GetWebhook(
        ws.GetWebhookRequest(webhook_id=theirs.webhook_id), metadata=b.metadata
    )
    assert (got.url, got.etag) == ("https://b.example/hook", theirs.etag)
    listed = await a.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=a.metadata)
    assert theirs.webhook_id not in [w.webhook_id for w in listed.webhooks]
    # Nothing of B's is left to deliver (later tests run delivery passes).
    for hook in (
        await b.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=b.metadata)
    ).webhooks:
        await b.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=hook.webhook_id), metadata=b.metadata
        )
    no_errors(server_errors)


async def test_another_tenants_seat_is_never_renewed_or_released(
    two: Two, server_errors: LoggedErrors
) -> None:
    a, b = two.a, two.b
    room_id = await open_room(b)
    seat = (
        await b.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
            metadata=b.metadata,
        )
    ).seat
    error = await refused(
        a.participants.RenewSeat(ps.RenewSeatRequest(seat_id=seat.seat_id), metadata=a.metadata),
        Code.NOT_FOUND,
    )
    assert error.reason == "SEAT_NOT_FOUND"
    await a.participants.ReleaseSeat(
        ps.ReleaseSeatRequest(seat_id=seat.seat_id), metadata=a.metadata
    )
    # B's seat is still held, with its expiry unchanged.
    seats = await b.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=b.metadata
    )
    assert [(s.seat_id, s.expire_time) for s in seats.seats] == [(seat.seat_id, seat.expire_time)]
    # B's ban of a user in B's room does not follow the same user into A's same-named room.
    await b.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["guest"], ban=True),
        metadata=b.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id, room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN)
        ),
        metadata=a.metadata,
    )
    decision = await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest"), metadata=a.metadata
    )
    assert decision.allowed
    no_errors(server_errors)


async def test_introspection_of_garbage_is_inactive_never_an_error(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    for token in (
        "x" * 100_000,
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # alg none
        "eyJ" + "A" * 5000 + ".e30.",
        "....",
    ):
        try:
            seen = await a.credentials.IntrospectCredential(
                cs.IntrospectCredentialRequest(token=token), metadata=a.metadata
            )
        except grpc.aio.AioRpcError as failure:
            rich = rich_error(failure)
            assert rich.code == Code.INVALID_ARGUMENT and rich.domain == "rooms.v1", rich
        else:
            assert not seen.active and seen.reason == cs.CREDENTIAL_STATUS_REASON_INVALID
    for number in (99, -1):
        await refused(
            a.credentials.IntrospectCredential(
                cs.IntrospectCredentialRequest(token="a.b.c", format=number),  # type: ignore[arg-type]
                metadata=a.metadata,
            )
        )
    no_errors(server_errors)


# ---- a client that is not ours -------------------------------------------------------------


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
async def test_grpcurl_on_the_new_rpcs_gets_named_refusals(two: Two) -> None:
    a = two.a
    room_id = await open_room(two.b)  # B's room: A must not see it
    own_room = await open_room(a, waiting_room_enabled=True)
    target = Target(cast(Any, None), a.metadata, own_room, two.port)
    cases = [
        (
            "rooms.v1.RoomsService/AuthorizeJoin",
            {"roomId": own_room, "userId": "host", "credentialFormat": 99},
            3,
            "credential_format",
        ),
        (
            "rooms.v1.RoomsService/AuthorizeJoin",
            {"roomId": own_room, "userId": "guest", "displayName": "x" * 10_000},
            3,
            "display_name",
        ),
        (
            "rooms.v1.RoomsService/CreateRoom",
            {"room": {"maxParticipants": INT32_MAX}},
            3,
            "INVALID_CAPACITY",
        ),
        (
            "rooms.v1.WebhooksService/CreateWebhook",
            {"webhook": {"url": "http://localhost/x"}},
            3,
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        ("rooms.v1.ParticipantsService/RenewSeat", {"seatId": "x" * 10_000}, 3, "seat_id"),
        ("rooms.v1.ParticipantsService/ListKnocks", {"roomId": room_id}, 5, "ROOM_NOT_FOUND"),
        ("rooms.v1.ParticipantsService/ListSeats", {"roomId": room_id}, 5, "ROOM_NOT_FOUND"),
        (
            "rooms.v1.ParticipantsService/RemoveParticipants",
            {"roomId": room_id, "userIds": ["guest"], "ban": True},
            5,
            "ROOM_NOT_FOUND",
        ),
    ]
    for method, body, code, named in cases:
        status, output = await grpcurl(target, method, json.dumps(body))
        assert status != 0, (method, output[:500])
        assert f'"code": {code}' in output, (method, output[:500])
        assert "google.rpc.ErrorInfo" in output and '"domain":"rooms.v1"' in output, output[:500]
        assert named in output, (method, output[:500])
    # B's room saw no ban and no knock.
    b = two.b
    knocks = await b.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=b.metadata
    )
    assert list(knocks.knocks) == []
    decision = await b.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest"), metadata=b.metadata
    )
    assert decision.allowed


# ---- README claims that no other test ran ------------------------------------------------


async def test_readme_introspection_is_one_database_round_trip(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README, "Introspection": '... reading the room, the roster and the bans as they
    are now, in one database round trip'."""
    a = two.a
    room_id = await open_room(a)
    decision = await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(
            room_id=room_id,
            user_id="host",
            credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
        ),
        metadata=a.metadata,
    )
    token = decision.credential.token
    assert token
    calls: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute", "acquire"):
        original: Any = getattr(asyncpg.Pool, name)

        def counting(
            self: Any, *args: Any, _name: str = name, _original: Any = original, **kw: Any
        ) -> Any:
            if self is two.running.pool:
                calls.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(asyncpg.Pool, name, counting)
    seen = await a.credentials.IntrospectCredential(
        cs.IntrospectCredentialRequest(token=token), metadata=a.metadata
    )
    assert seen.active and seen.room_id == room_id
    # One statement (Pool.fetchrow takes its connection with Pool.acquire itself).
    assert calls == ["fetchrow", "acquire"]


async def test_readme_another_tenants_token_is_invalid_exactly_like_a_forged_one(two: Two) -> None:
    """README, "Introspection": 'A token of another tenant is INVALID, exactly like a
    forged one.' The whole answer is the same, not only the reason."""
    a, b = two.a, two.b
    room_id = await open_room(b)
    token = (
        await b.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(
                room_id=room_id,
                user_id="host",
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
            ),
            metadata=b.metadata,
        )
    ).credential.token
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-4]}AAAA"
    foreign = await a.credentials.IntrospectCredential(
        cs.IntrospectCredentialRequest(token=token), metadata=a.metadata
    )
    fake = await b.credentials.IntrospectCredential(
        cs.IntrospectCredentialRequest(token=forged), metadata=b.metadata
    )
    assert foreign.reason == cs.CREDENTIAL_STATUS_REASON_INVALID
    assert foreign == fake
    assert (
        await b.credentials.IntrospectCredential(
            cs.IntrospectCredentialRequest(token=token), metadata=b.metadata
        )
    ).active


async def test_readme_last_error_never_holds_the_url_or_a_secret(two: Two) -> None:
    """README, webhook "State": 'last_error (an HTTP status, a timeout or a connection
    failure; never the URL or a secret)'."""
    a = two.a
    url = "http://127.0.0.1:9/path-marker?token=query-secret"  # port 9: nothing listens
    webhook = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url=url)), metadata=a.metadata
    )
    for caller in (a, two.b):  # only this webhook is delivered to
        listed = await caller.webhooks.ListWebhooks(
            ws.ListWebhooksRequest(), metadata=caller.metadata
        )
        for hook in listed.webhooks:
            if hook.webhook_id != webhook.webhook_id:
                await caller.webhooks.DeleteWebhook(
                    ws.DeleteWebhookRequest(webhook_id=hook.webhook_id), metadata=caller.metadata
                )
    await open_room(a)
    await two.running.delivery.run_once()
    state = (
        await a.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=webhook.webhook_id), metadata=a.metadata
        )
    ).delivery
    assert state.last_error, state
    for leak in ("path-marker", "query-secret", "127.0.0.1", ":9", webhook.secret):
        assert leak not in state.last_error, (leak, state.last_error)
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=webhook.webhook_id), metadata=a.metadata
    )
