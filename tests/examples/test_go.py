"""The Go example (examples/go) against the real server: stubs generated from protos/
with protoc-gen-go and protoc-gen-go-grpc, built offline with Debian's Go packages
(.ci/run installs them), a room created, and an error's ErrorInfo decoded."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rooms.v1 import rooms_service_pb2 as rs

from service.server import RunningServer
from support.database import ROOT

EXAMPLE = ROOT / "examples" / "go"
TOOLS = ("go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc")

# Skipped on a machine without them; never in CI, where .ci/run installs them.
_WITHOUT_TOOLS = pytest.mark.skipif(
    os.environ.get("CI") != "true"
    and (
        any(shutil.which(tool) is None for tool in TOOLS) or not Path("/usr/share/gocode").is_dir()
    ),
    reason="Debian's Go toolchain and protobuf/gRPC packages are not installed (.ci/run does)",
)
pytestmark = [pytest.mark.examples, _WITHOUT_TOOLS]


@pytest.fixture(scope="module")
def binary() -> Path:
    subprocess.run(
        ["bash", str(EXAMPLE / "build.sh")], check=True, capture_output=True, timeout=600
    )
    return EXAMPLE / "bin" / "rooms-go-example"


async def test_the_go_client_creates_a_room_and_decodes_an_error(
    binary: Path, server: RunningServer, rooms: object
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    done = await asyncio.to_thread(
        subprocess.run,
        [str(binary), f"127.0.0.1:{server.port}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    room_id, state = lines["room"].split()
    assert state == "ROOM_STATE_OPEN"
    assert lines["participants"].startswith("1 etag ")
    assert lines["decision"] == "true JOIN_DECISION_REASON_ALLOWED ROLE_ATTENDEE"
    assert lines["error"] == f"ROOM_NOT_FOUND rooms.v1 {room_id}-gone"
    assert len(lines["request_id"]) == 16
    room = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id))  # type: ignore[attr-defined]
    assert room.participant_count == 2
