"""The Python client's typed exceptions, each with its reason's metadata."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from rooms.client import RoomsClient
from rooms.errors import (
    DuplicateUserId,
    EtagMismatch,
    InvalidArgument,
    InvalidWindow,
    RoomAlreadyExists,
    RoomNotFound,
    RoomsError,
)

from tests.conftest import T0
from tests.shared.calls import unique


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
