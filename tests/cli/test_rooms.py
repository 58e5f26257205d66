"""`rooms create|show|list|update|delete|watch|events` against the real server: tables
and JSON, idempotent creates, errors as one line, times and durations."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from rooms.cli import parse_duration, parse_time

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.cli.in_process import Cli, fields, invoke, rows
from tests.conftest import T0
from tests.shared.calls import iso, unique
from tests.shared.waiting import eventually, subscribed


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
