"""The `rooms` command line tool against the real server.

Commands run in-process with click's CliRunner, in a worker thread (each invocation
runs its own event loop while the server keeps serving on the test's loop); one test
runs the installed console script as a real process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from rooms.cli import parse_duration, parse_time

from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import T0, ServerFactory
from tests.helpers import Cli, eventually, fields, invoke, iso, rows, subscribed, unique


@pytest.fixture
def rooms_cli(server: RunningServer) -> Cli:
    return Cli(server.port)


# ---- rooms -------------------------------------------------------------------------


async def test_create_and_show_as_a_table_and_as_json(rooms_cli: Cli) -> None:
    room_id = unique("visit")
    created = fields(
        await rooms_cli.ok(
            "create", "--id", room_id, "--from", iso(timedelta(hours=3)),
            "--until", iso(timedelta(hours=4)), "--policy", "open", "--open-role", "consumer",
            "--early-entry", "15m", "--dial-out", "--meta", "appointment=A-17",
            "--presenter", "dr-house", "--attendee", "patient-7", "--attendee", "patient-8",
        )
    )  # fmt: skip
    assert created["room_id"] == room_id
    assert created["state"] == "scheduled"
    assert created["valid_from"] == iso(timedelta(hours=3))
    assert created["valid_until"] == iso(timedelta(hours=4))
    assert created["join_policy"] == "open"
    assert created["open_join_role"] == "consumer"
    assert created["early_entry"] == "15m"
    assert created["pstn_dial_out"] == "yes"
    assert created["participants"] == "3"
    assert created["metadata"] == "appointment=A-17"
    assert created["etag"]

    assert fields(await rooms_cli.ok("show", room_id)) == created
    shown = await rooms_cli.json("show", room_id)
    assert shown["roomId"] == room_id
    assert shown["state"] == "ROOM_STATE_SCHEDULED"
    assert shown["participantCount"] == 3
    assert shown["metadata"] == {"appointment": "A-17"}
    assert shown["earlyEntryDuration"] == "900s"
    assert shown["etag"] == created["etag"]


async def test_create_with_the_defaults(rooms_cli: Cli) -> None:
    created = await rooms_cli.json("create")
    assert len(created["roomId"]) == 26
    assert created["state"] == "ROOM_STATE_OPEN"
    assert created["joinPolicy"] == "JOIN_POLICY_INVITE_ONLY"
    assert created["participantCount"] == 0  # defaults are printed too
    assert created["pstnDialOutEnabled"] is False


async def test_create_with_a_request_id_is_idempotent(rooms_cli: Cli) -> None:
    request_id = str(uuid.uuid4())
    first = await rooms_cli.json("create", "--request-id", request_id)
    again = await rooms_cli.json("create", "--request-id", request_id)
    assert again["roomId"] == first["roomId"]
    line = await rooms_cli.fails("create", "--request-id", request_id, "--dial-out")
    assert line.startswith("error: REQUEST_ID_REUSED (INVALID_ARGUMENT): ")
    assert f"request_id={request_id}" in line


async def test_list_as_a_table_and_as_json(clean: None, clock: ManualClock, rooms_cli: Cli) -> None:
    created = []
    for _ in range(3):
        created.append((await rooms_cli.json("create"))["roomId"])
        clock.advance(timedelta(seconds=1))
    later = (await rooms_cli.json("create", "--from", iso(timedelta(days=1))))["roomId"]

    table = rows(await rooms_cli.ok("list"))
    assert table[0] == ["ROOM_ID", "STATE", "VALID_FROM", "VALID_UNTIL", "POLICY", "PARTICIPANTS"]
    assert [row[0] for row in table[1:]] == [later, *created[::-1]]
    assert table[1][1:3] == ["scheduled", iso(timedelta(days=1))]

    listed = await rooms_cli.json("list")
    assert [room["roomId"] for room in listed] == [later, *created[::-1]]
    assert [r["roomId"] for r in await rooms_cli.json("list", "--limit", "2")] == [
        later,
        created[-1],
    ]
    scheduled = await rooms_cli.json("list", "--state", "scheduled")
    assert [room["roomId"] for room in scheduled] == [later]
    assert rows(await rooms_cli.ok("list", "--state", "ended")) == [table[0]]


async def test_list_the_rooms_of_a_participant(rooms_cli: Cli) -> None:
    user = unique("member")
    soon = (await rooms_cli.json("create", "--presenter", user))["roomId"]
    later = (await rooms_cli.json("create", "--from", iso(timedelta(hours=2)), "--consumer", user))[
        "roomId"
    ]
    table = rows(await rooms_cli.ok("list", "--user", user))
    assert table[0][-1] == "ROLE"
    assert [(row[0], row[-1]) for row in table[1:]] == [(soon, "presenter"), (later, "consumer")]
    memberships = await rooms_cli.json("list", "--user", user, "--state", "scheduled")
    assert [(m["room"]["roomId"], m["role"]) for m in memberships] == [(later, "ROLE_CONSUMER")]


async def test_update(rooms_cli: Cli) -> None:
    room = await rooms_cli.json("create", "--meta", "a=1")
    room_id = room["roomId"]
    updated = fields(
        await rooms_cli.ok(
            "update", room_id, "--until", iso(timedelta(days=2)), "--policy", "open",
            "--meta", "b=2", "--etag", room["etag"],
        )
    )  # fmt: skip
    assert updated["valid_until"] == iso(timedelta(days=2))
    assert updated["join_policy"] == "open"
    assert updated["metadata"] == "b=2"
    assert updated["etag"] != room["etag"]
    cleared = await rooms_cli.json("update", room_id, "--clear-meta", "--dial-out")
    assert cleared["metadata"] == {}
    assert cleared["pstnDialOutEnabled"] is True
    assert cleared["joinPolicy"] == "JOIN_POLICY_OPEN"  # untouched

    stale = await rooms_cli.fails("update", room_id, "--no-dial-out", "--etag", room["etag"])
    assert stale.startswith("error: ETAG_MISMATCH (ABORTED): ")
    assert f"etag={cleared['etag']}" in stale
    nothing = await rooms_cli("update", room_id)
    assert nothing.exit_code == 2  # a usage error, in click's words
    assert "nothing to change" in nothing.stderr


async def test_delete_then_show_is_one_error_line(rooms_cli: Cli) -> None:
    room_id = (await rooms_cli.json("create"))["roomId"]
    assert await rooms_cli.ok("delete", room_id) == f"deleted {room_id}\n"
    assert await rooms_cli.json("delete", room_id) == {"roomId": room_id, "deleted": True}
    line = await rooms_cli.fails("show", room_id)
    assert line.startswith("error: ROOM_NOT_FOUND (NOT_FOUND): ")
    assert line.endswith(f"[room_id={room_id}]")


async def test_a_window_error_names_the_field_and_rule(rooms_cli: Cli) -> None:
    line = await rooms_cli.fails("create", "--from", iso(), "--until", iso(timedelta(days=181)))
    assert line.startswith("error: INVALID_WINDOW (INVALID_ARGUMENT): ")
    assert "rule=WINDOW_TOO_LONG" in line
    assert "room.valid_until: " in line


async def test_bad_input_is_a_usage_error(rooms_cli: Cli) -> None:
    result = await rooms_cli("create", "--from", "next tuesday")
    assert result.exit_code == 2
    assert "not a time" in result.stderr
    result = await rooms_cli("participants", "add", "room", "someone", "--role", "boss")
    assert result.exit_code == 2
    assert "'boss' is not one of" in result.stderr


def test_time_and_duration_parsing() -> None:
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_time("+2h", now=T0) == T0 + timedelta(hours=2)
    assert parse_time("2026-06-01T12:00") == T0  # naive means UTC
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


# ---- participants and admission -------------------------------------------------


async def test_participants_add_change_remove_list_show(rooms_cli: Cli) -> None:
    room_id = (await rooms_cli.json("create"))["roomId"]
    added = rows(await rooms_cli.ok("participants", "add", room_id, "bob", "alice"))
    assert added[0] == ["USER_ID", "ROLE", "ADDED", "ROLE_CHANGED"]
    assert [row[:2] for row in added[1:-1]] == [["bob", "attendee"], ["alice", "attendee"]]
    assert added[-1][0] == "etag"

    changed = await rooms_cli.json("participants", "change", room_id, "bob", "--role", "presenter")
    assert [(p["userId"], p["role"]) for p in changed["participants"]] == [
        ("bob", "ROLE_PRESENTER")
    ]
    missing = await rooms_cli.fails(
        "participants", "change", room_id, "carol", "--role", "consumer"
    )
    assert missing.startswith("error: PARTICIPANT_NOT_FOUND (NOT_FOUND): ")
    assert "user_id=carol" in missing

    listed = rows(await rooms_cli.ok("participants", "list", room_id))
    assert [row[:2] for row in listed[1:]] == [["alice", "attendee"], ["bob", "presenter"]]
    presenters = await rooms_cli.json("participants", "list", room_id, "--role", "presenter")
    assert [p["userId"] for p in presenters] == ["bob"]
    shown = rows(await rooms_cli.ok("participants", "show", room_id, "bob"))
    assert shown[1][:2] == ["bob", "presenter"]

    removed = await rooms_cli.ok("participants", "remove", room_id, "alice", "nobody")
    assert removed.startswith("removed 1 of 2; etag ")
    assert [p["userId"] for p in await rooms_cli.json("participants", "list", room_id)] == ["bob"]


async def test_authorize(rooms_cli: Cli) -> None:
    room_id = (
        await rooms_cli.json("create", "--from", iso(timedelta(hours=3)), "--attendee", "pat")
    )["roomId"]
    refused = await rooms_cli("authorize", room_id, "pat")
    assert refused.exit_code == 3, "a refusal exits with status 3, for scripts"
    assert refused.stderr == ""
    waiting = fields(refused.stdout)
    assert waiting["allowed"] == "no"
    assert waiting["reason"] == "not-yet-open"
    assert waiting["role"] == "attendee"
    assert waiting["opens_at"] == iso(timedelta(hours=3))
    assert waiting["opens_in"] == "3h"
    assert waiting["message"] == "The room opens in 3 hours."
    as_json_ = await rooms_cli("authorize", room_id, "pat", "--json")
    assert as_json_.exit_code == 3
    assert json.loads(as_json_.stdout)["reason"] == "JOIN_DECISION_REASON_NOT_YET_OPEN"

    open_id = (await rooms_cli.json("create", "--presenter", "host"))["roomId"]
    decision = await rooms_cli.json("authorize", open_id, "host")
    assert decision["allowed"] is True
    assert decision["reason"] == "JOIN_DECISION_REASON_ALLOWED"
    assert "CAPABILITY_SHARE_SCREEN" in decision["capabilities"]
    allowed = fields(await rooms_cli.ok("authorize", open_id, "host"))
    assert allowed["allowed"] == "yes"
    assert "share-screen" in allowed["capabilities"]


async def test_etag_as_printed_with_or_without_quotes(rooms_cli: Cli) -> None:
    room_id = (await rooms_cli.json("create"))["roomId"]
    printed = fields(await rooms_cli.ok("show", room_id))["etag"]
    assert printed.startswith('"') and printed.endswith('"')
    await rooms_cli.ok("update", room_id, "--dial-out", "--etag", printed)
    bare = fields(await rooms_cli.ok("show", room_id))["etag"].strip('"')
    await rooms_cli.ok("update", room_id, "--meta", "a=b", "--etag", bare)
    stale = await rooms_cli.fails("update", room_id, "--meta", "a=c", "--etag", bare)
    assert stale.startswith("error: ETAG_MISMATCH (ABORTED)")


async def test_usage_errors_are_one_line_with_status_2(rooms_cli: Cli) -> None:
    for args in (("create", "--from", "tomorrow-ish"), ("show",), ("no-such-command",)):
        result = await rooms_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "--help" in lines[0]
    helped = await rooms_cli("--help")
    assert helped.exit_code == 0 and "Usage:" in helped.stdout


async def test_roles(rooms_cli: Cli) -> None:
    table = rows(await rooms_cli.ok("roles"))
    assert table[0] == ["ROLE", "CAPABILITIES"]
    assert [row[0] for row in table[1:]] == ["presenter", "attendee", "consumer", "collaborator"]
    definitions = await rooms_cli.json("roles")
    assert {d["name"] for d in definitions} == {"presenter", "attendee", "consumer", "collaborator"}


# ---- where and how to connect ----------------------------------------------------


async def test_the_address_from_the_environment(server: RunningServer) -> None:
    result = await invoke("roles", env={"ROOMS_ADDRESS": f"127.0.0.1:{server.port}"})
    assert result.exit_code == 0, result.stderr
    unreachable = await invoke("--timeout", "2", "roles", env={"ROOMS_ADDRESS": "127.0.0.1:1"})
    assert unreachable.exit_code == 1
    assert unreachable.stderr.startswith("error: UNAVAILABLE: ")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli-tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("cli.rooms.test")
    files = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key", "ccert", "ckey")}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    client.cert_chain_pems[0].write_to_path(str(files["ccert"]))
    client.private_key_pem.write_to_path(str(files["ckey"]))
    return files


async def test_mutual_tls_and_api_key_from_the_environment_or_flags(
    start: ServerFactory, tls_files: dict[str, Path]
) -> None:
    key, entry = new_key("acme", "cli-tests")
    running = await start(
        api_keys=entry.line(),
        tls_cert_file=tls_files["cert"],
        tls_key_file=tls_files["key"],
        tls_client_ca_file=tls_files["ca"],
    )
    env = {
        "ROOMS_ADDRESS": f"127.0.0.1:{running.port}",
        "ROOMS_API_KEY": key,
        "ROOMS_TLS_CA": str(tls_files["ca"]),
        "ROOMS_TLS_CERT": str(tls_files["ccert"]),
        "ROOMS_TLS_KEY": str(tls_files["ckey"]),
    }
    created = await invoke("create", "--json", env=env)
    assert created.exit_code == 0, created.stderr
    room_id = json.loads(created.stdout)["roomId"]

    flags = [
        "--address", f"127.0.0.1:{running.port}", "--api-key", key,
        "--tls-ca", str(tls_files["ca"]), "--tls-cert", str(tls_files["ccert"]),
        "--tls-key", str(tls_files["ckey"]),
    ]  # fmt: skip
    shown = await invoke(*flags, "show", room_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["roomId"] == room_id

    no_key = await invoke("show", room_id, env={**env, "ROOMS_API_KEY": None})
    assert no_key.exit_code == 1
    assert no_key.stderr.startswith("error: UNAUTHENTICATED (UNAUTHENTICATED): ")
    no_cert = await invoke(
        "--timeout",
        "3",
        "show",
        room_id,
        env={**env, "ROOMS_TLS_CERT": None, "ROOMS_TLS_KEY": None},
    )
    assert no_cert.exit_code == 1
    assert no_cert.stderr.startswith("error: UNAVAILABLE: ")
    half = await invoke("show", room_id, env={**env, "ROOMS_TLS_KEY": None})
    assert half.exit_code == 1
    assert "both a client certificate and its private key" in half.stderr


async def test_the_console_script(server: RunningServer) -> None:
    script = Path(sys.executable).parent / "rooms"
    assert script.exists(), "the rooms console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    env["ROOMS_ADDRESS"] = f"127.0.0.1:{server.port}"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(script), "create", "--attendee", "someone", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    room = json.loads(done.stdout)
    assert room["participantCount"] == 1
    failed = await asyncio.to_thread(
        subprocess.run,
        [str(script), "show", "no-such-room"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: ROOM_NOT_FOUND (NOT_FOUND): ")


async def test_watch_and_events_commands(
    server: RunningServer, rooms: Any, participants: Any
) -> None:
    from rooms.v1 import participant_pb2 as pp
    from rooms.v1 import participants_service_pb2 as ps
    from rooms.v1 import rooms_service_pb2 as rs

    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room.room_id, participants=[pp.Participant(user_id="ann")]
        )
    )
    address = f"127.0.0.1:{server.port}"
    watching = asyncio.ensure_future(invoke("--address", address, "watch", room.room_id))
    await eventually(subscribed(server.hub, "default", room.room_id), what="the watch")
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    watched = await asyncio.wait_for(watching, 20)
    assert watched.exit_code == 0, watched.output
    lines = watched.output.splitlines()
    assert [line.split()[0] for line in lines] == ["#1", "#2", "#3"]
    assert "participant_added ann as attendee" in lines[1]
    assert "deleted" in lines[2]

    history = await invoke("--address", address, "events", room.room_id, "--json")
    assert history.exit_code == 0, history.output
    assert [e["type"] for e in json.loads(history.output)] == [
        "ROOM_EVENT_TYPE_CREATED",
        "ROOM_EVENT_TYPE_PARTICIPANT_ADDED",
        "ROOM_EVENT_TYPE_DELETED",
    ]
    newest = await invoke("--address", address, "events", room.room_id, "--newest-first")
    assert newest.output.splitlines()[0].startswith("#3 ")
    missing = await invoke("--address", address, "watch", "no-such-room")
    assert missing.exit_code == 1
    assert "ROOM_NOT_FOUND" in missing.output


async def test_waiting_room_and_seats(rooms_cli: Cli) -> None:
    room_id = unique("lobby")
    created = fields(
        await rooms_cli.ok(
            "create", "--id", room_id, "--policy", "open", "--waiting-room",
            "--max-participants", "2", "--reserve", "presenter=1", "--presenter", "dr-house",
        )
    )  # fmt: skip
    assert created["waiting_room"] == "yes"
    assert created["max_participants"] == "2"
    assert created["role_capacity"] == "presenter max - reserved 1"
    waiting = fields(await rooms_cli.refused("authorize", room_id, "guest", "--name", "Guest"))
    assert (waiting["allowed"], waiting["reason"]) == ("no", "waiting-for-admission")
    assert rows(await rooms_cli.ok("knocks", room_id))[1][:4] == [
        "guest",
        "Guest",
        "waiting",
        "attendee",
    ]
    admitted = await rooms_cli.ok("admit", room_id, "guest")
    assert admitted.splitlines()[0] == "admitted guest as attendee"
    await rooms_cli.ok("deny", room_id, "walk-in")
    assert [row[0] for row in rows(await rooms_cli.ok("knocks", room_id, "--all"))[1:]] == [
        "guest",
        "walk-in",
    ]
    seated = fields(await rooms_cli.ok("authorize", room_id, "guest", "--claim-seat"))
    assert seated["allowed"] == "yes" and seated["seat_id"]
    await rooms_cli.ok("admit", room_id, "other")
    full = fields(await rooms_cli.refused("authorize", room_id, "other", "--claim-seat"))
    assert (full["reason"], full["capacity"]) == ("room-full", "reserved 1")
    listed = await rooms_cli.json("seats", room_id)
    assert [(s["userId"], s["seatId"]) for s in listed] == [("guest", seated["seat_id"])]
    await rooms_cli.ok("release-seat", seated["seat_id"])
    assert rows(await rooms_cli.ok("seats", room_id)) == [
        ["USER_ID", "ROLE", "SINCE", "EXPIRES", "SEAT_ID"]
    ]
    events = await rooms_cli.ok("events", room_id)
    assert "participant_knocked guest as attendee (Guest)" in events
    assert f"seat_released guest as attendee seat {seated['seat_id']}" in events
