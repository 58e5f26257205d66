"""`rooms participant ...`, `rooms authorize`, `rooms roles` and the waiting room and
seats commands against the real server."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.cli.in_process import Cli, fields, rows
from tests.shared.calls import iso, unique


async def test_participants_add_change_remove_list_show(rooms_cli: Cli) -> None:
    room_id = (await rooms_cli.json("create"))["roomId"]
    added = rows(await rooms_cli.ok("participants", "add", room_id, "bob", "alice"))
    assert added[0] == ["USER_ID", "ROLE", "ADDED", "CHANGED", "FROM", "UNTIL"]
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


async def test_participants_with_their_own_window_and_moderation(rooms_cli: Cli) -> None:
    room_id = (await rooms_cli.json("create", "--presenter", "host"))["roomId"]
    opens, ends = iso(timedelta(hours=1)), iso(timedelta(hours=2))
    added = rows(
        await rooms_cli.ok("participants", "add", room_id, "gus", "--from", opens, "--until", ends)
    )
    assert added[1][:2] == ["gus", "attendee"] and added[1][4:] == [opens, ends]
    listed = {p["userId"]: p for p in await rooms_cli.json("participants", "list", room_id)}
    assert (listed["gus"]["validFrom"], listed["gus"]["validUntil"]) == (opens, ends)
    assert "validUntil" not in listed["host"]
    refused = await rooms_cli("authorize", room_id, "gus")
    assert refused.exit_code == 3
    assert fields(refused.stdout)["message"] == "Your access to the room opens in 1 hour."

    said = await rooms_cli.ok("participants", "moderate", room_id, "gus", "--actor", "host")
    assert said.startswith("gus muted (audio) by host; event ")
    lifted = await rooms_cli.json(
        "participants", "moderate", room_id, "gus", "--actor", "host", "--unmute", "--video"
    )
    assert lifted["moderation"] == {"actorUserId": "host", "muted": False, "video": True}
    denied = await rooms_cli.fails("participants", "moderate", room_id, "host", "--actor", "gus")
    assert denied.startswith("error: MODERATION_NOT_ALLOWED (PERMISSION_DENIED): ")
