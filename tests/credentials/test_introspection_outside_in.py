"""IntrospectCredential from outside: garbage is inactive, never an error; the
README's claims of one database round trip, and of another tenant's token being
invalid exactly like a forged one."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
import pytest
from rooms.v1 import credentials_pb2
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.errors import LoggedErrors, rich_error
from tests.shared.outside_in import Code, Two, no_errors, open_room, refused


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
