"""A client that learns the API through reflection (grpcurl) reads the annotations."""

from __future__ import annotations

import pytest

from tests.protos.conftest import Api
from tests.shared.calls import GRPCURL
from tests.shared.commands import run


async def _describe(api: Api, symbol: str) -> str:
    assert GRPCURL is not None
    headers = [arg for key, value in api.metadata for arg in ("-H", f"{key}: {value}")]
    status, output = await run(
        GRPCURL, "-plaintext", *headers, f"127.0.0.1:{api.running.port}", "describe", symbol
    )
    assert status == 0, output
    return output


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
async def test_grpcurl_describe_shows_the_field_behaviors(api: Api) -> None:
    room = await _describe(api, "rooms.v1.Room")
    assert "string room_id = 1 [(.google.api.field_behavior) = IDENTIFIER];" in room, room
    assert "RoomState state = 8 [(.google.api.field_behavior) = OUTPUT_ONLY];" in room, room
    request = await _describe(api, "rooms.v1.GetRoomRequest")
    assert "string room_id = 1 [(.google.api.field_behavior) = REQUIRED];" in request, request
