"""The Node.js example (examples/node) against the real server: the proof that another
language can use the API from protos/ alone."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from rooms.v1 import credentials_pb2, room_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from support.database import ROOT
from tests.conftest import ServerFactory
from tests.credentials.tenants import EXPECTED_LIVEKIT
from tests.shared.calls import People, Rooms, connect

EXAMPLE = ROOT / "examples" / "node"

_WITHOUT_TOOLS = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not on PATH: the Node.js example cannot run",
)
pytestmark = [pytest.mark.examples, _WITHOUT_TOOLS]


@pytest.fixture(scope="module")
def installed() -> Path:
    """The example's dependencies, installed from package-lock.json if missing."""
    modules = EXAMPLE / "node_modules"
    wanted = json.loads((EXAMPLE / "package.json").read_text())["dependencies"]
    if not all((modules / name).is_dir() for name in wanted):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=EXAMPLE,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return EXAMPLE


async def run_example(
    directory: Path, *args: str, env: dict[str, str] | None = None, script: str = "index.js"
) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    return await asyncio.to_thread(
        subprocess.run,
        ["node", script, *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean_env, **(env or {})},
    )


def sections(stdout: str) -> dict[str, Any]:
    """The example prints `label: <JSON>` blocks."""
    parts = re.split(r"^(room|participants|decision|error): ", stdout, flags=re.MULTILINE)
    return {label: json.loads(body) for label, body in zip(parts[1::2], parts[2::2], strict=True)}


async def test_creates_a_room_adds_a_participant_and_authorizes_a_join(
    installed: Path,
    server: RunningServer,
    rooms: Rooms,
    participants: People,
) -> None:
    done = await run_example(installed, f"127.0.0.1:{server.port}")
    assert done.returncode == 0, done.stderr
    printed = sections(done.stdout)
    room_id = printed["room"]["roomId"]
    assert printed["room"]["state"] == "ROOM_STATE_OPEN"
    assert [p["userId"] for p in printed["participants"]["participants"]] == ["patient-7"]
    decision = printed["decision"]
    assert decision["allowed"] is True
    assert decision["reason"] == "JOIN_DECISION_REASON_ALLOWED"
    assert decision["role"] == "ROLE_ATTENDEE"
    assert "CAPABILITY_SPEAK" in decision["capabilities"]
    # The example decodes grpc-status-details-bin (google-proto-files + protobufjs).
    error_info = printed["error"]
    assert error_info["@type"] == "google.rpc.ErrorInfo"
    assert error_info["domain"] == "rooms.v1"
    assert error_info["reason"] == "ROOM_NOT_FOUND"
    assert error_info["metadata"]["room_id"] == f"{room_id}-gone"

    # The server really holds what the example made.
    room = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id))
    assert room.participant_count == 2
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room_id))
    assert [(p.user_id, p.role) for p in listed.participants] == [
        ("dr-house", pp.ROLE_PRESENTER),
        ("patient-7", pp.ROLE_ATTENDEE),
    ]


async def test_address_from_the_environment(installed: Path, server: RunningServer) -> None:
    done = await run_example(installed, env={"ROOMS_ADDRESS": f"127.0.0.1:{server.port}"})
    assert done.returncode == 0, done.stderr
    assert sections(done.stdout)["decision"]["allowed"] is True


async def test_a_failure_exits_non_zero_with_one_line(installed: Path) -> None:
    done = await run_example(installed, "127.0.0.1:1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: UNAVAILABLE: ")
    assert len(done.stderr.strip().splitlines()) == 1


async def test_tls_and_api_key(installed: Path, start: ServerFactory, tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    issued.cert_chain_pems[0].write_to_path(str(cert_file))
    issued.private_key_pem.write_to_path(str(key_file))
    key, entry = new_key("acme", "node-example")
    running = await start(api_keys=entry.line(), tls_cert_file=cert_file, tls_key_file=key_file)
    address = f"localhost:{running.port}"  # a name: Node warns when TLS is given an IP

    done = await run_example(
        installed, address, env={"ROOMS_TLS_CA": str(ca_file), "ROOMS_API_KEY": key}
    )
    assert done.returncode == 0, done.stderr
    assert sections(done.stdout)["decision"]["allowed"] is True

    refused = await run_example(installed, address, env={"ROOMS_TLS_CA": str(ca_file)})
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: UNAUTHENTICATED: ")


LIVEKIT_SECRET = "node-livekit-secret-" + "n" * 24


async def test_livekit_tokens_verify_with_livekits_node_sdk(
    installed: Path, start: ServerFactory, clock: ManualClock, tmp_path: Path
) -> None:
    """livekit-server-sdk's TokenVerifier (npm) accepts the tokens, with the exact
    grants of each role, with and without dial-out, and exp within the window."""
    media = tmp_path / "media.toml"
    media.write_text(
        "[tenants.default.livekit]\n"
        'url = "wss://livekit.example"\n'
        'api_key = "APInode"\n'
        f'api_secret = "{LIVEKIT_SECRET}"\n'
    )
    now = datetime.now(UTC).replace(microsecond=0)
    clock.set(now)  # LiveKit's verifier reads the wall clock
    running = await start(media_config_file=media)
    env = {"LIVEKIT_API_KEY": "APInode", "LIVEKIT_API_SECRET": LIVEKIT_SECRET}
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        for dial_out in (False, True):
            for role, (sources, subscribe, data, admin) in EXPECTED_LIVEKIT.items():
                room = await rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        room=room_pb2.Room(pstn_dial_out_enabled=dial_out),
                        participants=[pp.Participant(user_id="u1", role=pp.Role.ValueType(role))],
                    )
                )
                answer = await rooms.AuthorizeJoin(
                    rs.AuthorizeJoinRequest(
                        room_id=room.room_id,
                        user_id="u1",
                        credential_format=credentials_pb2.CREDENTIAL_FORMAT_LIVEKIT,
                        display_name="Node",
                    )
                )
                done = await run_example(
                    installed, answer.credential.token, env=env, script="verify-livekit.js"
                )
                assert done.returncode == 0, done.stderr
                claims = json.loads(done.stdout)
                assert claims["video"] == {
                    "room": room.room_id,
                    "roomJoin": True,
                    "canPublish": bool(sources),
                    "canPublishSources": sources,
                    "canSubscribe": subscribe,
                    "canPublishData": data,
                    "canUpdateOwnMetadata": False,
                    "roomAdmin": admin,
                }
                assert claims["sip"]["call"] is (dial_out and role == pp.ROLE_PRESENTER)
                assert (claims["sub"], claims["iss"], claims["name"]) == ("u1", "APInode", "Node")
                assert claims["exp"] <= room.valid_until.seconds
                assert claims["nbf"] == int(now.timestamp())

        # A token signed with another secret is refused by LiveKit's verifier.
        wrong = {**env, "LIVEKIT_API_SECRET": "another-secret-" + "w" * 24}
        refused = await run_example(
            installed, answer.credential.token, env=wrong, script="verify-livekit.js"
        )
        assert refused.returncode == 1
