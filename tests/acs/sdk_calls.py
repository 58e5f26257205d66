"""The official Python client (azure-communication-rooms 1.2.0) as our tests use it:
a tenant of its own per test, sync calls run in a thread (the server shares the test's
event loop), identities and helpers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
from azure.communication.rooms import ParticipantRole, RoomParticipant, RoomsClient
from azure.communication.rooms._shared.models import CommunicationUserIdentifier
from azure.core.exceptions import HttpResponseError

from service.server import RunningServer
from tests.acs.conftest import endpoint_of, new_connection_string

T = TypeVar("T")
_tenants = itertools.count()


async def off_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking SDK call, in a thread, so that the server keeps serving."""
    return await asyncio.to_thread(call, *args, **kwargs)


async def new_tenant(pool: asyncpg.Pool, server: RunningServer, prefix: str = "acs") -> str:
    """A connection string of a tenant no other test uses."""
    connection, _ = await new_connection_string(
        pool, f"{prefix}-{next(_tenants)}", endpoint_of(server)
    )
    return connection


def client_of(connection: str, **options: Any) -> RoomsClient:
    return RoomsClient.from_connection_string(connection, **options)


def member(user_id: str, role: ParticipantRole | str | None = None) -> RoomParticipant:
    return RoomParticipant(communication_identifier=CommunicationUserIdentifier(user_id), role=role)


def roster(participants: Any) -> dict[str, str]:
    return {p.communication_identifier.raw_id: str(p.role) for p in participants}


async def failure(call: Callable[..., Any], *args: Any, **kwargs: Any) -> HttpResponseError:
    """The HttpResponseError a call raises (fails the test if it succeeds)."""
    try:
        await off_loop(call, *args, **kwargs)
    except HttpResponseError as error:
        return error
    raise AssertionError(f"{call.__name__} succeeded")


def error_body(error: HttpResponseError) -> tuple[int | None, str | None, Any]:
    """Status, x-ms-error-code and body of a failure, to compare two of them."""
    response = error.response
    assert response is not None
    return response.status_code, response.headers.get("x-ms-error-code"), response.json()
