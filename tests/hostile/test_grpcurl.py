"""Edge timestamps from grpcurl (a client that is not ours, learning the API through
reflection): named refusals, and the tenant stays readable."""

from __future__ import annotations

import json

import pytest

from tests.hostile.calling import Target
from tests.shared.calls import GRPCURL, grpcurl


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "9999-01-01T00:00:00Z"],
)
async def test_grpcurl_edge_timestamps_are_named_and_leave_the_tenant_readable(
    target: Target, instant: str
) -> None:
    for field in ("validFrom", "validUntil"):
        status, output = await grpcurl(
            target.port,
            target.auth,
            "rooms.v1.RoomsService/CreateRoom",
            json.dumps({"room": {field: instant}}),
        )
        assert status != 0, output
        assert '"code": 3' in output, output  # INVALID_ARGUMENT
        assert "google.rpc.ErrorInfo" in output, output
        assert f"room.{field[:5]}_{field[5:].lower()}" in output, output
    status, output = await grpcurl(
        target.port, target.auth, "rooms.v1.RoomsService/ListRooms", "{}"
    )
    assert status == 0, output
