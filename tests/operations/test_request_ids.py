"""The request id goes back to the caller: the `x-request-id` response header of every
call, and a `google.rpc.RequestInfo` in every error (the same id as in the logs)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from rooms.client import RoomsClient
from rooms.errors import RoomNotFound
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.shared.calls import Rooms, connect
from tests.shared.errors import rich_error


async def test_the_callers_request_id_comes_back_as_a_header(rooms: Rooms) -> None:
    call: Any = rooms.ListRoles(rs.ListRolesRequest(), metadata=(("x-request-id", "trace-42"),))
    await call
    assert ("x-request-id", "trace-42") in tuple(await call.initial_metadata())


async def test_a_request_id_is_made_when_the_caller_sends_none(
    rooms: Rooms,
) -> None:
    call: Any = rooms.ListRoles(rs.ListRolesRequest())
    await call
    headers = dict(await call.initial_metadata())
    assert len(headers["x-request-id"]) == 16


async def test_an_error_carries_the_request_id_of_its_header(rooms: Rooms) -> None:
    call: Any = rooms.GetRoom(rs.GetRoomRequest(room_id="no-such-room"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    header = dict(await call.initial_metadata())["x-request-id"]
    assert rich_error(caught.value).request_id == header


async def test_the_client_exposes_it(server: RunningServer) -> None:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        with pytest.raises(RoomNotFound) as caught:
            await client.get_room("no-such-room")
    assert len(caught.value.request_id) == 16
    assert caught.value.retry_delay is None


async def test_a_refused_call_carries_it_too(start: ServerFactory) -> None:
    _, entry = new_key("acme", "ids")
    running = await start(api_keys=entry.line())
    async with connect(running.port) as stubs:
        stub = stubs.rooms
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListRoles(rs.ListRolesRequest(), metadata=(("x-request-id", "no-key-1"),))
    error = rich_error(caught.value)
    assert (error.reason, error.request_id) == ("UNAUTHENTICATED", "no-key-1")
